"""Run a drawing job over a list in two processes: this one and a forked copy of it.

Drawing caption moments is bound by Python (Pillow's calls on small images hold the GIL), so
threads do not help, and until ffmpeg starts the second core would sit idle. A fork starts in a
few milliseconds with everything already loaded (fonts, layouts, the drawers themselves), so only
the results travel back, pickled through a pipe.

Forking a threaded server is safe here because the child runs nothing but the job (Pillow and
file writes, with savers it starts itself), takes no lock another thread may hold, and leaves
with os._exit: no atexit hooks, no buffered output flushed twice, no database connection closed.
"""

import os
import pickle
import signal
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


class ChildFailed(RuntimeError):
    """The forked half died, or raised something that cannot be pickled."""


def in_halves(job: Callable[[Sequence[T]], list[R]], items: Sequence[T]) -> list[R]:
    """Return job(items), computed as job(items[0::2]) here and job(items[1::2]) in a forked child.

    job must return one result per item, in order; the halves are interleaved back into that
    order. Where fork is missing (Windows) or there is one item, job runs here on all of them.
    """
    if len(items) < 2 or not hasattr(os, "fork"):
        return job(items)
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(reader)
        _serve(job, items[1::2], writer)
    os.close(writer)
    try:
        mine = job(items[0::2])
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        raise
    finally:
        with os.fdopen(reader, "rb") as pipe:
            payload = pipe.read()
        _, status = os.waitpid(pid, 0)
    theirs = _result(payload, status)
    merged = [None] * len(items)
    merged[0::2], merged[1::2] = mine, theirs
    return merged


def _serve(job, items, writer: int):
    """Run job in the child, send back (True, results) or (False, exception) and exit."""
    try:
        try:
            payload = pickle.dumps((True, job(items)))
        except BaseException as exc:  # noqa: BLE001 (everything goes back to the parent)
            try:
                payload = pickle.dumps((False, exc))
            except Exception:  # noqa: BLE001
                payload = pickle.dumps((False, ChildFailed(f"drawing failed: {exc!r}")))
        with os.fdopen(writer, "wb") as pipe:
            pipe.write(payload)
    finally:
        os._exit(0)


def _result(payload: bytes, status: int) -> list:
    if not payload:
        how = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"status {os.WEXITSTATUS(status)}"
        raise ChildFailed(f"the drawing process died ({how})")
    ok, value = pickle.loads(payload)
    if not ok:
        raise value
    return value
