"""The event log: append numbered events, read them back, and wait for new ones.

Waiting blocks on an in-process condition that every append notifies, and re-checks the
database every RECHECK_SECONDS so writes from another process (a separate worker) are seen.
"""

import threading
import time

from .db import Event, database

RECHECK_SECONDS = 0.5

_changed = threading.Condition()
_version = 0
# Set when the server stops: long-polls and SSE streams end instead of holding their threads.
stopping = threading.Event()


def append(job_id, type="log", message="", *, level="info", payload=None) -> Event:
    """Write one event. Inside a transaction, the caller calls notify() after commit."""
    with database.atomic():
        event = Event.create(
            job=job_id, type=type, level=level, message=message, payload=payload, timestamp=time.time()
        )
    if database.transaction_depth() == 0:
        notify()
    return event


def notify():
    """Wake every waiter; call after a commit that added events or changed a job."""
    global _version
    with _changed:
        _version += 1
        _changed.notify_all()


def after(job_id, after_id=0, limit=500) -> list[Event]:
    """Return the job's events with ids above after_id, oldest first."""
    return list(
        Event.select()
        .where((Event.job == job_id) & (Event.id > after_id))
        .order_by(Event.id)
        .limit(limit)
    )


def latest_id(job_id) -> int:
    """The job's newest event id, 0 when it has none."""
    row = Event.select(Event.id).where(Event.job == job_id).order_by(Event.id.desc()).first()
    return row.id if row else 0


def shut_down():
    """End every wait now: the server is stopping."""
    stopping.set()
    notify()


def wait(predicate, timeout: float, stop=lambda: False):
    """Block until predicate() is truthy, timeout seconds pass, stop() is true or the server stops.

    Return predicate's last value. stop is checked every RECHECK_SECONDS (a client that hung up).
    """
    deadline = time.monotonic() + timeout
    while True:
        with _changed:
            seen = _version
        result = predicate()
        remaining = deadline - time.monotonic()
        if result or remaining <= 0 or stopping.is_set() or stop():
            return result
        with _changed:
            if _version == seen:
                _changed.wait(min(RECHECK_SECONDS, remaining))
