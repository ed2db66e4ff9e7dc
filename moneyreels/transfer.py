"""Fetch on the clock: the deadline and the cancel check fire even when no byte arrives.

A server that sends one byte a second never trips a socket read timeout, and a loop that
checks between 64 KiB chunks checks nothing while it waits. So a helper thread sends the
request (`call`) or reads the body (`chunks`) and the caller waits on a queue, at most
POLL_SECONDS at a time, between checks; on a deadline, a cancel or any other way out, the
caller hangs up the socket, which ends the helper thread.
"""

import contextlib
import contextvars
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import requests

from . import netguard

POLL_SECONDS = 0.5
CHUNK_BYTES = 1 << 16
_END = object()
T = TypeVar("T")
# The running job's checkpoint, for reads deep in provider code that is not handed one.
_checkpoint: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar("checkpoint", default=None)


class DeadlineExceeded(TimeoutError):
    """The whole body took longer than its deadline."""


@contextlib.contextmanager
def cancellable(checkpoint: Callable[[], None]):
    """Make checkpoint the one body reads in this context call (a worker sets it for its job)."""
    token = _checkpoint.set(checkpoint)
    try:
        yield
    finally:
        _checkpoint.reset(token)


def current_checkpoint() -> Callable[[], None]:
    return _checkpoint.get() or (lambda: None)


def socket_of(response: requests.Response) -> socket.socket | None:
    """The socket a streamed response's body arrives on, if it is still open."""
    connection = getattr(response.raw, "connection", None) or getattr(response.raw, "_connection", None)
    sock = getattr(connection, "sock", None)
    if sock is None:  # urllib3 drops the connection reference once the body is being read: dig
        reader = getattr(getattr(response.raw, "_fp", None), "fp", None)
        sock = getattr(getattr(reader, "raw", None), "_sock", None)
    return sock


def _shut(sock: socket.socket | None) -> None:
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def hang_up(response: requests.Response) -> None:
    """Shut the response's socket down, waking a thread blocked reading it, then close it."""
    _shut(socket_of(response))
    response.close()


def call(send: Callable[[], T], *, max_seconds: float, checkpoint: Callable[[], None] | None = None,
         poll: float = POLL_SECONDS) -> T:
    """Return send() (a request, answered up to its headers); raise DeadlineExceeded past max_seconds.

    checkpoint is called every poll seconds meanwhile; if anything ends the wait early, the
    sockets send opened (through netguard's sessions) are hung up.
    """
    check = checkpoint or current_checkpoint()
    sockets: list = []
    outcome: queue.Queue = queue.Queue(maxsize=1)

    def run():
        netguard.opened_sockets.set(sockets)  # a new thread starts with a context of its own
        try:
            outcome.put((True, send()))
        except BaseException as exc:  # handed to the caller
            outcome.put((False, exc))

    threading.Thread(target=run, daemon=True, name="request-sender").start()
    deadline = time.monotonic() + max_seconds
    try:
        succeeded, value = _await(outcome, deadline, check, poll,
                                  f"the server took longer than {max_seconds:g} s to answer")
    except BaseException:
        for sock in list(sockets):
            _shut(sock)
        raise
    if succeeded:
        return value
    raise value


def chunks(response: requests.Response, *, max_seconds: float, checkpoint: Callable[[], None] | None = None,
           poll: float = POLL_SECONDS, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Yield the body's chunks; raise DeadlineExceeded past max_seconds; call checkpoint every poll seconds.

    Whatever ends the iteration early (the deadline, what checkpoint raises, the caller's own
    break or exception) hangs the connection up.
    """
    check = checkpoint or current_checkpoint()
    received: queue.Queue = queue.Queue(maxsize=1)  # read ahead one chunk: a hang-up wastes little
    abandoned = threading.Event()
    reader = threading.Thread(target=_pump, args=(response, chunk_bytes, received, abandoned), daemon=True,
                              name="body-reader")
    deadline = time.monotonic() + max_seconds
    finished = False
    reader.start()
    try:
        while True:
            item = _await(received, deadline, check, poll, f"the download took longer than {max_seconds:g} s")
            if item is _END:
                finished = True
                return
            if isinstance(item, BaseException):
                finished = True
                raise item
            yield item
    finally:
        if not finished:
            abandoned.set()
            hang_up(response)


def _await(items: queue.Queue, deadline: float, check: Callable[[], None], poll: float, too_late: str):
    """The next of items, calling check() every poll seconds meanwhile; DeadlineExceeded(too_late) past deadline."""
    while True:
        check()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DeadlineExceeded(too_late)
        try:
            return items.get(timeout=min(poll, remaining))
        except queue.Empty:
            continue


def _pump(response, chunk_bytes: int, received: queue.Queue, abandoned: threading.Event):
    """Move the body into received until it ends, fails, or the caller walks away."""
    try:
        for chunk in response.iter_content(chunk_bytes):
            if not _hand_over(received, chunk, abandoned):
                return
        item = _END
    except BaseException as exc:  # handed to the caller, who decides what it means
        item = exc
    _hand_over(received, item, abandoned)


def _hand_over(received: queue.Queue, item, abandoned: threading.Event) -> bool:
    """Put item in received once there is room; False if the caller walked away first."""
    while not abandoned.is_set():
        try:
            received.put(item, timeout=POLL_SECONDS)
            return True
        except queue.Full:
            continue
    return False
