"""The event log: append numbered events, read them back, and wait for new ones.

Waiting blocks on an in-process condition that every append notifies. On SQLite it re-checks
the database every RECHECK_SECONDS so writes from another process (a separate worker) are seen;
on PostgreSQL a listener (listener.py) hears other processes' commits through LISTEN/NOTIFY and
notifies the same condition, so the database is re-read only every LISTENING_RECHECK_SECONDS,
in case the listener's connection was down.
"""

import threading
import time

from .db import Event, Job, database, is_postgres, locked
from .listener import CHANNEL, Listener

# How often a wait checks stop() (a client that hung up), and re-reads the database on SQLite.
RECHECK_SECONDS = 0.5
LISTENING_RECHECK_SECONDS = 5.0

_changed = threading.Condition()
_version = 0
# Set when the server stops: long-polls and SSE streams end instead of holding their threads.
stopping = threading.Event()
_listener = None
_listener_lock = threading.Lock()


def append(job_id, type="log", message="", *, level="info", payload=None) -> Event:
    """Write one event. Inside a transaction, the caller calls notify() after commit."""
    with database.atomic():
        if is_postgres():
            # A sequence hands out ids at insert time, but readers see them at commit: a transaction
            # that drew id 10 may commit after one that drew 11, and a reader polling after=11 would
            # miss 10 forever. Locking the job's row first makes the transactions that append to one
            # job draw their ids and commit one at a time, so a job's ids become visible in order;
            # readers read one job at a time (after(job_id, ...)), so that is the order they need. A
            # global lock (pg_advisory_xact_lock) would also order different jobs, but would make
            # every writer of every job wait for each other.
            locked(Job.select(Job.id).where(Job.id == job_id)).first()
            # Delivered to every listening process when this transaction commits, not before.
            database.execute_sql("SELECT pg_notify(%s, %s)", (CHANNEL, str(job_id)))
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


def listening() -> bool:
    """Whether other processes' events wake this one: on PostgreSQL, start the listener if need be."""
    global _listener
    if not is_postgres():
        return False
    with _listener_lock:
        if _listener is None or not _listener.wanted():
            _listener = Listener(notify).start()
        return _listener.ready.is_set()


def wait(predicate, timeout: float, stop=lambda: False):
    """Block until predicate() is truthy, timeout seconds pass, stop() is true or the server stops.

    Return predicate's last value. stop is checked every RECHECK_SECONDS (a client that hung up);
    predicate runs on every notification, and at least every RECHECK_SECONDS when no listener
    hears other processes (LISTENING_RECHECK_SECONDS when one does).
    """
    reread = LISTENING_RECHECK_SECONDS if listening() else RECHECK_SECONDS
    deadline = time.monotonic() + timeout
    seen, read_at = None, 0.0
    while True:
        with _changed:
            version = _version
        now = time.monotonic()
        if version != seen or now - read_at >= reread:
            seen, read_at = version, now
            result = predicate()
        remaining = deadline - now
        if result or remaining <= 0 or stopping.is_set() or stop():
            return result
        with _changed:
            if _version == seen:
                _changed.wait(min(RECHECK_SECONDS, remaining))
