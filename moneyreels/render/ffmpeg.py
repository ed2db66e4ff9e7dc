"""Run one ffmpeg process: report its progress, stop it on cancel, report its crash."""

import collections
import logging
import os
import re
import signal
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

from moneyreels.errors import RenderError

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2
STDERR_LINES = 20
_OUT_OF_MEMORY = re.compile(r"Cannot allocate memory|out of memory|malloc of size \d+ failed", re.IGNORECASE)


def run_ffmpeg(
    args: list[str],
    *,
    duration: float,
    on_progress: Callable[[float], None],
    checkpoint: Callable[[], None],
    memory_bytes: int | None = None,
) -> None:
    """Run ffmpeg with args (its path first); raise worker_crash on failure.

    on_progress gets the fraction of `duration` written so far. checkpoint() is polled while
    ffmpeg runs; whatever it raises (JobCancelled) terminates this ffmpeg and propagates.
    memory_bytes caps its resident memory, sampled at every poll: past it, ffmpeg is stopped and the
    render fails as render_out_of_memory, before the machine swaps or the OOM killer picks a victim.
    (Not an address-space rlimit: ffmpeg runs a thread per input and decoder, and their reserved
    stacks and malloc arenas would count against it long before real memory runs short.)
    """
    command = [args[0], "-hide_banner", "-nostdin", "-loglevel", "error", "-progress", "pipe:1", "-nostats", *args[1:]]
    log.debug("ffmpeg command: %s", command)
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, errors="replace")
    stderr_tail = collections.deque(maxlen=STDERR_LINES)
    written = [0.0]  # seconds of output so far, updated by the reader thread
    readers = [
        threading.Thread(target=_read_progress, args=(process.stdout, written), daemon=True),
        threading.Thread(target=stderr_tail.extend, args=(process.stderr,), daemon=True),
    ]
    for reader in readers:
        reader.start()
    reported = 0.0
    try:
        while process.poll() is None:
            checkpoint()
            if memory_bytes and _resident_bytes(process.pid) > memory_bytes:
                raise _out_of_memory(memory_bytes, None)  # the handler below stops it
            # Report from this thread: callers may write progress to a thread-bound database.
            if written[0] != reported and duration > 0:
                reported = written[0]
                on_progress(min(1.0, reported / duration))
            try:
                process.wait(POLL_SECONDS)
            except subprocess.TimeoutExpired:
                pass
    except BaseException:
        _stop(process)
        raise
    finally:
        for reader in readers:
            reader.join(timeout=1)
    if process.returncode != 0:
        lines = [line.rstrip() for line in stderr_tail]
        if any(_OUT_OF_MEMORY.search(line) for line in lines):
            raise _out_of_memory(memory_bytes, process.returncode, lines)
        raise RenderError(
            f"ffmpeg exited with status {process.returncode}: {lines[-1] if lines else 'no output'}",
            code="worker_crash",
            details={"returncode": process.returncode, "stderr": lines},
        )


def _resident_bytes(pid: int) -> int:
    """Return a process's resident memory (0 when it is gone or /proc cannot tell)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    return int(match.group(1)) * 1024 if match else 0


def _out_of_memory(limit: int | None, returncode, stderr=()) -> RenderError:
    size = f"its {limit / 2**20:.0f} MB of memory (MONEYREELS_RENDER_MEMORY_MB)" if limit else "the memory it could get"
    return RenderError(
        f"The render needed more than {size}: use a smaller output, fewer layers or shorter media",
        code="render_out_of_memory",
        details={"returncode": returncode, "limit_bytes": limit, "stderr": list(stderr)},
    )


def _read_progress(stream, written: list[float]):
    """Parse `-progress` key=value lines into written[0], the seconds of output so far."""
    for line in stream:
        key, _, value = line.strip().partition("=")
        if key == "out_time_us" and value.isdigit():
            written[0] = int(value) / 1e6


def _stop(process: subprocess.Popen):
    """Terminate our ffmpeg (only it), killing it if it does not exit within half a second."""
    process.terminate()
    try:
        process.wait(0.5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()



def stop_renders_into(folders) -> int:
    """Kill ffmpegs still writing a partial file into these job folders, and remove those files.

    Called at start-up for the jobs a dead server left running: their ffmpeg may outlive it
    (reparented to init or to a subreaper), and no live job writes into those folders yet.
    Returns how many were killed.
    """
    roots = [Path(folder).resolve() for folder in folders]
    killed = 0
    for proc in Path("/proc").glob("[0-9]*") if roots else ():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            cwd = Path(os.readlink(proc / "cwd"))
        except OSError:
            continue
        if "ffmpeg" not in Path(argv[0].decode(errors="replace")).name:
            continue
        # Relative outputs are relative to the process's own working folder.
        outputs = [(cwd / arg.decode(errors="replace")).resolve() for arg in argv if arg.endswith(b".part")]
        if any(output.is_relative_to(root) for output in outputs for root in roots):
            try:
                os.kill(int(proc.name), signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
    for root in roots:
        for partial in root.glob(".*.part"):
            partial.unlink(missing_ok=True)
    return killed
