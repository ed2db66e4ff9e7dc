"""Hear other processes' events: one PostgreSQL LISTEN connection per process, in a thread.

events.append sends NOTIFY in the transaction that inserts the event, so PostgreSQL delivers it
when that transaction commits, to every listening process; the thread here turns each delivery
into a call of `on_notify` (events.notify, which wakes this process's waiters).
"""

import logging
import select
import threading

import psycopg2

from . import db

log = logging.getLogger(__name__)

CHANNEL = "moneyreels_events"
# How long the thread sleeps between checks that it is still wanted, and before reconnecting.
IDLE_SECONDS = 1.0
RETRY_SECONDS = 2.0


class Listener:
    """LISTEN on CHANNEL in the current PostgreSQL database, until stopped or the store moves elsewhere."""

    def __init__(self, on_notify):
        self.database = db.database.obj
        self.on_notify = on_notify
        self.ready = threading.Event()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, name="pg-listener", daemon=True)

    def start(self, timeout=5.0):
        """Start the thread and wait until it listens (or timeout seconds: it keeps trying)."""
        self.thread.start()
        self.ready.wait(timeout)
        return self

    def wanted(self) -> bool:
        return not self.stopped.is_set() and db.database.obj is self.database

    def run(self):
        while self.wanted():
            try:
                self.listen()
            except (psycopg2.Error, OSError) as exc:
                self.ready.clear()
                if self.wanted():
                    log.warning("event listener lost its connection (%s); reconnecting", type(exc).__name__)
                    self.on_notify()  # waiters re-read the database meanwhile
                    self.stopped.wait(RETRY_SECONDS)

    def listen(self):
        connection = psycopg2.connect(dbname=self.database.database, **self.database.connect_params)
        try:
            connection.autocommit = True
            connection.cursor().execute(f"LISTEN {CHANNEL}")
            self.ready.set()
            self.on_notify()  # what committed before LISTEN took effect is read again
            while self.wanted():
                if select.select([connection], [], [], IDLE_SECONDS)[0]:
                    connection.poll()
                    if connection.notifies:
                        connection.notifies.clear()
                        self.on_notify()
        finally:
            self.ready.clear()
            connection.close()

    def stop(self):
        self.stopped.set()
