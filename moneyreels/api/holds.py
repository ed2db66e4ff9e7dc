"""Bound the requests that hold a thread while they wait (long-polls, SSE streams), per client and in all.

Each waiting request holds one of the THREADS waitress threads; enough of them, from one
client or many, and nothing else gets answered. A request past its client's share or the
server's is answered at once instead: a long-poll without waiting, an SSE stream with its
snapshot and a `retry:` hint. A client that hangs up frees its slot within a recheck.
"""

import collections
import threading
from collections.abc import Callable, Iterator

from flask import current_app, g, request

from .. import events


class Slot:
    """One waiting request's place; release() is safe to call more than once."""

    def __init__(self, holds: "Holds", client: str):
        self._holds, self._client = holds, client
        self._released = False

    def release(self) -> None:
        with self._holds.lock:
            if self._released:
                return
            self._released = True
            self._holds.count[self._client] -= 1
            if not self._holds.count[self._client]:
                del self._holds.count[self._client]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


class Holds:
    """Count waiting requests per client; refuse past per_client for one client or total for all."""

    def __init__(self, per_client: int, total: int):
        self.per_client, self.total = per_client, total
        self.count: collections.Counter = collections.Counter()
        self.lock = threading.Lock()

    def take(self, client: str) -> Slot | None:
        with self.lock:
            if self.count[client] >= self.per_client or sum(self.count.values()) >= self.total:
                return None
            self.count[client] += 1
        return Slot(self, client)


def limits(settings) -> tuple[int, int]:
    """(per client, total): the settings, else an eighth of THREADS per client and half of them in all."""
    total = settings.max_waiting or max(1, settings.threads // 2)
    per_client = settings.max_waiting_per_client or max(1, settings.threads // 8)
    return min(per_client, total), total


def take() -> Slot | None:
    """A waiting slot for this request's client (its key, else its address), or None when none is free."""
    holds = current_app.extensions.get("moneyreels.holds")
    if holds is None:
        holds = current_app.extensions.setdefault("moneyreels.holds", Holds(*limits(current_app.config["SETTINGS"])))
    return holds.take(g.get("owner") or request.remote_addr or "")


def disconnected() -> Callable[[], bool]:
    """A check of whether this request's client hung up (waitress notices; elsewhere never)."""
    return request.environ.get("waitress.client_disconnected") or (lambda: False)


def wait(predicate, seconds: float):
    """Wait like events.wait, if a slot is free and while the client stays; else answer predicate() now."""
    slot = take()
    if slot is None:
        return predicate()
    with slot:
        return events.wait(predicate, seconds, stop=disconnected())


def releasing(slot: Slot, frames: Iterator[str]) -> Iterator[str]:
    """Yield frames, releasing slot when the stream ends however it ends."""
    try:
        yield from frames
    finally:
        slot.release()
