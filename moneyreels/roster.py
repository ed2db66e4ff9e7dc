"""Who works: each worker thread records a heartbeat and its current job in the shared database.

A worker on any machine writes its row (`WorkerBeat`) when it starts, when it claims or finishes
a job, and at every lease renewal or idle pass (at most every LEASE_RENEW_SECONDS); a clean stop
removes it. The health endpoint lists the rows: a row whose heartbeat is older than a lease is
stale, its process dead, hung or cut off from the database (its job is taken back when the
lease runs out). Stale rows are kept FORGET_SECONDS for the operator to see, then removed.
"""

import os
import socket
import time

from .db import WorkerBeat

FORGET_SECONDS = 3600.0


class Beats:
    """The heartbeat of one worker: writes its row, at most every `interval` unless its job changes."""

    def __init__(self, name, interval, clock=time.time):
        self.name = name
        self.interval = interval
        self.clock = clock
        self.job = None
        self.last = None

    def beat(self, job=None, force=False):
        """Record that the worker is alive and runs `job` (None: idle)."""
        now = self.clock()
        if not force and job == self.job and self.last is not None and now - self.last < self.interval:
            return
        (WorkerBeat.insert(name=self.name, host=socket.gethostname(), pid=os.getpid(), started_at=now,
                           heartbeat_at=now, job=job)
         .on_conflict(conflict_target=[WorkerBeat.name],
                      update={WorkerBeat.heartbeat_at: now, WorkerBeat.job: job})
         .execute())
        self.job, self.last = job, now

    def retire(self):
        """Remove the row: the worker stopped cleanly."""
        WorkerBeat.delete().where(WorkerBeat.name == self.name).execute()


def listing(stale_after, now=None) -> list[dict]:
    """Every worker seen in the last FORGET_SECONDS, oldest first, with its heartbeat's age and staleness."""
    now = time.time() if now is None else now
    WorkerBeat.delete().where(WorkerBeat.heartbeat_at < now - FORGET_SECONDS).execute()
    rows = WorkerBeat.select().order_by(WorkerBeat.started_at, WorkerBeat.name)
    return [
        {"name": row.name, "host": row.host, "pid": row.pid, "job": row.job,
         "startedAt": row.started_at, "heartbeatAgeSeconds": round(max(0.0, now - row.heartbeat_at), 3),
         "stale": now - row.heartbeat_at > stale_after}
        for row in rows
    ]
