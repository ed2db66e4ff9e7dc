"""The job state machine: create, claim, transition, cancel, delete, recover.

Every change of state goes through `transition`, which updates the job row and writes its
event in one transaction, so each API view (a projection of jobs and events) is consistent.

DESIGN: a running job is held by a lease (`lease_owner`, `lease_expires_at`), not by a process id.
A worker claims a job with a lease and renews it while it works (`renew`); any process may take
back a job whose lease expired (`recover`); and every write a worker makes to its job checks,
inside its transaction, that the worker still holds the lease (`holding`), so a worker that lost
its lease (paused, partitioned, presumed dead) cannot overwrite the worker that took over. A
process id says nothing after a reboot (a live process may reuse the PID, keeping the job
`running` forever) nor on another machine; an expiry time read from the shared database means
the same to every process on every host.

On PostgreSQL, every transaction that changes a job first locks its row (`get(..., lock=True)`,
SELECT ... FOR UPDATE), and claims pass over the rows another claimer holds (SKIP LOCKED); on
SQLite the IMMEDIATE transaction's one write lock does both.
"""

import contextlib
import logging
import os
import shutil
import socket
import time
import uuid
from pathlib import Path

from . import events
from .db import Delivery, Job, database, locked
from .errors import Conflict, IllegalTransition, LeaseLost, NotFound
from .states import JobState as State

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


ACTIVE = (State.QUEUED, State.RUNNING)
FINISHED = (State.COMPLETED, State.FAILED, State.CANCELLED)

TRANSITIONS = {
    (State.QUEUED, State.RUNNING),
    (State.QUEUED, State.CANCELLED),
    (State.RUNNING, State.COMPLETED),
    (State.RUNNING, State.FAILED),
    (State.RUNNING, State.CANCELLED),
    # A shutdown or a crash interrupted it: it runs again.
    (State.RUNNING, State.QUEUED),
    # Retry: resume from the first unfinished stage.
    (State.FAILED, State.QUEUED),
    (State.CANCELLED, State.QUEUED),
}

STATE_MESSAGES = {
    State.QUEUED: "Job queued.",
    State.RUNNING: "Job started.",
    State.COMPLETED: "Job completed.",
    State.FAILED: "Job failed.",
    State.CANCELLED: "Job cancelled.",
}


def job_dir(jobs_dir, job_id) -> Path:
    return Path(jobs_dir) / job_id


def create(kind, request, *, owner="", idempotency_key=None, request_hash=None, **fields) -> Job:
    """Queue a new job and write its first event."""
    with database.atomic():
        job = Job.create(
            kind=kind,
            state=State.QUEUED.value,
            request=request,
            owner=owner,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            **fields,
        )
        events.append(job.id, "status", STATE_MESSAGES[State.QUEUED], payload={"state": State.QUEUED.value})
    events.notify()
    return job


def get(job_id, owner=None, lock=False) -> Job:
    """Return the job, or raise NotFound; with an owner, another owner's job is not found either.

    With lock, its row stays locked to the end of the transaction: no other process changes it meanwhile.
    """
    query = Job.select().where(Job.id == str(job_id))
    if owner is not None:
        query = query.where(Job.owner == owner)
    job = (locked(query) if lock else query).first()
    if job is None:
        raise NotFound("Job not found.", details={"job_id": str(job_id)})
    return job


def transition(job_id, target: State, *, message=None, level=None, payload=None, lease=None, on_finished=None,
               **changes) -> Job:
    """Move a job to `target`, writing its event in the same transaction.

    With `lease`, only while that lease owner still holds the running job (else LeaseLost).
    on_finished(job) runs inside the transaction when the job ends (kinds.finished: its webhook...).
    Raises IllegalTransition when the state machine does not connect the two states.
    """
    target = State(target)
    now = time.time()
    with database.atomic():
        job = get(job_id, lock=True)
        current = job.state
        if lease is not None and not (current is State.RUNNING and job.lease_owner == lease):
            raise LeaseLost()
        if (current, target) not in TRANSITIONS:
            raise IllegalTransition(
                f"Job is {current.value}; it cannot become {target.value}.",
                details={"job_id": job.id, "state": current.value, "target": target.value},
            )
        fields = {"state": target.value, "updated_at": now, **changes}
        if target is State.RUNNING:
            fields["started_at"] = now
        elif target is State.QUEUED:
            fields.update(started_at=None, completed_at=None, lease_owner=None, lease_expires_at=None,
                          cancel_requested=False, error=None)
        elif target in FINISHED:
            fields.update(completed_at=now, lease_owner=None, lease_expires_at=None)
        Job.update(**fields).where(Job.id == job.id).execute()
        event_level = level or ("error" if target is State.FAILED else "success" if target is State.COMPLETED else "info")
        events.append(
            job.id,
            "status",
            message or STATE_MESSAGES[target],
            level=event_level,
            payload={"state": target.value, "from": current.value, **(payload or {})},
        )
        job = get(job_id)
        if target in FINISHED and on_finished is not None:
            on_finished(job)
    events.notify()
    return job


def claim(owner, lease_seconds) -> Job | None:
    """Atomically take the oldest queued job, leased to `owner`, and mark it running; None when there is none."""
    with database.atomic():
        oldest = Job.select(Job.id, Job.attempts).where(Job.state == State.QUEUED.value).order_by(Job.created_at, Job.id)
        # SQLite: the IMMEDIATE transaction holds the write lock, so no other claimer sees this job
        # queued. PostgreSQL: the row stays locked until commit, and other claimers skip it for the next.
        job = locked(oldest, skip_locked=True).first()
        if job is None:
            return None
        return transition(job.id, State.RUNNING, attempts=job.attempts + 1, lease_owner=owner,
                          lease_expires_at=time.time() + lease_seconds)


def queued_exists() -> bool:
    """Whether any job waits to be claimed."""
    return Job.select(Job.id).where(Job.state == State.QUEUED.value).exists()


def _held(job_id, owner):
    return (Job.id == job_id) & (Job.state == State.RUNNING.value) & (Job.lease_owner == owner)


@contextlib.contextmanager
def holding(job_id, owner):
    """A transaction that goes on only while `owner` holds the job's lease; LeaseLost otherwise.

    The transaction takes the write lock at BEGIN (SQLite) or the job's row lock (PostgreSQL), so no
    other process takes the lease over between the check and the writes inside it.
    """
    with database.atomic():
        if locked(Job.select(Job.id).where(_held(job_id, owner))).first() is None:
            raise LeaseLost()
        yield


def renew(job_id, owner, lease_seconds):
    """Extend `owner`'s lease by lease_seconds from now; LeaseLost when it no longer holds it."""
    renewed = Job.update(lease_expires_at=time.time() + lease_seconds).where(_held(job_id, owner)).execute()
    if not renewed:
        raise LeaseLost()


def cancel_requested(job_id) -> bool:
    row = Job.select(Job.cancel_requested).where(Job.id == job_id).first()
    return bool(row and row.cancel_requested)


def request_cancel(job_id, owner=None, on_finished=None) -> Job:
    """Cancel a queued job now (on_finished as in transition), or ask a running one to stop at its next checkpoint."""
    with database.atomic():
        job = get(job_id, owner, lock=True)
        state = job.state
        if state in FINISHED:
            raise Conflict(f"Job is already {state.value}.", details={"job_id": job.id, "state": state.value})
        if state is State.QUEUED:
            # cancel_requested stays true: MoneyPrinter's clients read it to confirm the request.
            job = transition(job.id, State.CANCELLED, message="Job cancelled before it started.",
                             cancel_requested=True, on_finished=on_finished)
        elif not job.cancel_requested:
            Job.update(cancel_requested=True, updated_at=time.time()).where(Job.id == job.id).execute()
            events.append(job.id, "log", "Cancellation requested.", level="warning")
            job = get(job.id)
    events.notify()
    return job


def latest_active(owner=None) -> Job:
    """Return the running job started last, else the newest queued one."""
    query = Job.select()
    if owner is not None:
        query = query.where(Job.owner == owner)
    running = query.where(Job.state == State.RUNNING.value).order_by(Job.started_at.desc()).first()
    job = running or query.where(Job.state == State.QUEUED.value).order_by(Job.created_at.desc()).first()
    if job is None:
        raise NotFound("No active job found.")
    return job


def delete(job_id, jobs_dir, owner=None, store=None):
    """Delete a finished job, its events and its files (in jobs_dir, and in the store when given)."""
    with database.atomic():
        # The delete cascades to the job's deliveries. A webhook attempt locks its delivery, then
        # the job (to append its event): taking the deliveries first, in that order too, means the
        # two wait for each other instead of deadlocking (PostgreSQL).
        locked(Delivery.select(Delivery.id).where(Delivery.job == str(job_id))).execute()
        job = get(job_id, owner, lock=True)
        if job.state in ACTIVE:
            raise Conflict(f"Job is {job.state}; cancel it before deleting it.", details={"job_id": job.id})
        Job.delete().where(Job.id == job.id).execute()
    # Files go after the commit: a crash in between leaves an orphan folder that
    # sweep_orphans removes, never a job row whose files are gone.
    shutil.rmtree(job_dir(jobs_dir, job.id), ignore_errors=True)
    if store is not None:
        try:
            store.delete_prefix(job.id)
        except Exception:
            # As a crash would: the next worker start sweeps the objects of jobs that are gone.
            log.exception("job %s: its stored files could not be deleted now", job.id)


def prune(max_jobs, jobs_dir, store=None):
    """Delete the oldest finished jobs beyond max_jobs (0 keeps every job)."""
    if not max_jobs:
        return
    finished = [state.value for state in FINISHED]
    excess = Job.select().count() - max_jobs
    if excess <= 0:
        return
    oldest = Job.select(Job.id).where(Job.state.in_(finished)).order_by(Job.created_at).limit(excess)
    for job in oldest:
        delete(job.id, jobs_dir, store=store)


def held_by() -> list[str]:
    """The lease owners of the running jobs."""
    return [job.lease_owner for job in Job.select(Job.lease_owner).where(Job.state == State.RUNNING.value)]


def lease_owner(thread_name) -> str:
    """A lease owner id: host and process (crash reports are found by them), thread, and a nonce.

    The nonce keeps a later process that reuses the PID from passing for the holder.
    """
    return f"{socket.gethostname()}:{os.getpid()}:{thread_name}:{uuid.uuid4().hex[:12]}"


def _expired(now):
    # A running job without a lease was claimed by a version that recorded none.
    return (Job.state == State.RUNNING.value) & (Job.lease_expires_at.is_null() | (Job.lease_expires_at < now))


def expired(now) -> list[Job]:
    """The running jobs whose lease ran out: their worker died, hung or lost the database."""
    return list(Job.select().where(_expired(now)))


def recover(crash_report=lambda lease_owner: None, release=lambda job: None, on_finished=None, now=None) -> list[Job]:
    """Requeue, cancel or fail the running jobs whose lease expired; return them.

    crash_report(lease_owner) gives the fatal-signal report of the process that held a job, if
    it crashed: that job is quarantined (failed) at once instead of being run into the same
    crash. release(job) runs first, to stop what the dead holder left working on the job;
    on_finished as in transition.
    """
    now = time.time() if now is None else now
    recovered = []
    for job in expired(now):
        release(job)
        with database.atomic():
            job = locked(Job.select().where(_expired(now) & (Job.id == job.id))).first()
            if job is None:
                continue  # renewed or recovered meanwhile
            recovered.append(recover_one(job, crash_report(job.lease_owner), on_finished))
    events.notify()
    return recovered


def recover_one(job, report, on_finished=None) -> Job:
    """Requeue, cancel or fail one job whose lease expired."""
    if job.cancel_requested:
        job = transition(job.id, State.CANCELLED, message="Job cancelled: the server stopped while it ran.",
                         on_finished=on_finished)
    elif report:
        log.error("job %s crashed its worker process; quarantined. Crash report:\n%s", job.id, report)
        reason = report.splitlines()[0]
        job = _fail(job, f"Job failed: the worker process crashed while running it ({reason}); it is not run again.",
                    "worker_crashed", "The worker process crashed while running this job, so it is not run again: "
                    "running it again would most likely crash the server again.",
                    {"reason": reason, "attempts": job.attempts}, on_finished)
    elif job.attempts >= MAX_ATTEMPTS:
        job = _fail(job, f"Job failed: the server stopped while it ran, {job.attempts} times.", "interrupted",
                    f"The server stopped while this job ran, {job.attempts} times; giving up.",
                    {"attempts": job.attempts}, on_finished)
    else:
        job = transition(
            job.id, State.QUEUED, message="The server stopped while this job ran; it is queued to run again.",
            level="warning",
        )
    log.warning("recovered job %s whose lease expired: now %s", job.id, job.state)
    return job


def _fail(job, event, code, explanation, details, on_finished) -> Job:
    return transition(job.id, State.FAILED, message=event, on_finished=on_finished,
                      error={"code": code, "message": explanation, "details": details})


def unknown(ids) -> set[str]:
    """Those of ids that name no job."""
    ids = set(ids)
    return ids - {job.id for job in Job.select(Job.id).where(Job.id.in_(list(ids)))}


def sweep_orphans(jobs_dir) -> list[Path]:
    """Remove job folders whose job row no longer exists."""
    root = Path(jobs_dir)
    if not root.is_dir():
        return []
    folders = {path.name: path for path in root.iterdir() if path.is_dir()}
    orphans = [folders[name] for name in unknown(folders)]
    for path in orphans:
        shutil.rmtree(path, ignore_errors=True)
    return orphans
