"""The job state machine: create, claim, transition, cancel, delete, recover.

Every change of state goes through `transition`, which updates the job row and writes its
event in one transaction, so each API view (a projection of jobs and events) is consistent.
"""

import enum
import logging
import os
import shutil
import socket
import time
from pathlib import Path

from . import crashes, events
from .db import Job, database
from .errors import Conflict, IllegalTransition, NotFound

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


class State(str, enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


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

# Called with the job, inside the transaction that finishes it (create_app installs them).
finish_hooks = []

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


def get(job_id, owner=None) -> Job:
    """Return the job, or raise NotFound; with an owner, another owner's job is not found either."""
    query = Job.select().where(Job.id == str(job_id))
    if owner is not None:
        query = query.where(Job.owner == owner)
    job = query.first()
    if job is None:
        raise NotFound("Job not found.", details={"job_id": str(job_id)})
    return job


def transition(job_id, target: State, *, message=None, level=None, payload=None, **changes) -> Job:
    """Move a job to `target`, writing its event in the same transaction.

    Raises IllegalTransition when the state machine does not connect the two states.
    """
    target = State(target)
    now = time.time()
    with database.atomic():
        job = get(job_id)
        current = State(job.state)
        if (current, target) not in TRANSITIONS:
            raise IllegalTransition(
                f"Job is {current.value}; it cannot become {target.value}.",
                details={"job_id": job.id, "state": current.value, "target": target.value},
            )
        fields = {"state": target.value, "updated_at": now, **changes}
        if target is State.RUNNING:
            fields["started_at"] = now
        elif target is State.QUEUED:
            fields.update(started_at=None, completed_at=None, claimed_by=None, cancel_requested=False, error=None)
        elif target in FINISHED:
            fields["completed_at"] = now
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
        if target in FINISHED:
            for hook in finish_hooks:
                hook(job)
    events.notify()
    return job


def claim(worker_name) -> Job | None:
    """Atomically take the oldest queued job and mark it running; None when there is none."""
    with database.atomic():
        job = (
            Job.select(Job.id, Job.attempts)
            .where(Job.state == State.QUEUED.value)
            .order_by(Job.created_at, Job.id)
            .first()
        )
        if job is None:
            return None
        # The IMMEDIATE transaction holds the write lock, so no other claimer sees this job queued.
        return transition(job.id, State.RUNNING, attempts=job.attempts + 1, claimed_by=worker_name)


def cancel_requested(job_id) -> bool:
    row = Job.select(Job.cancel_requested).where(Job.id == job_id).first()
    return bool(row and row.cancel_requested)


def request_cancel(job_id, owner=None) -> Job:
    """Cancel a queued job now, or ask a running one to stop at its next checkpoint."""
    with database.atomic():
        job = get(job_id, owner)
        state = State(job.state)
        if state in FINISHED:
            raise Conflict(f"Job is already {state.value}.", details={"job_id": job.id, "state": state.value})
        if state is State.QUEUED:
            # cancel_requested stays true: MoneyPrinter's clients read it to confirm the request.
            job = transition(job.id, State.CANCELLED, message="Job cancelled before it started.",
                             cancel_requested=True)
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


def delete(job_id, jobs_dir, owner=None):
    """Delete a finished job, its events and its files."""
    with database.atomic():
        job = get(job_id, owner)
        if State(job.state) in ACTIVE:
            raise Conflict(f"Job is {job.state}; cancel it before deleting it.", details={"job_id": job.id})
        Job.delete().where(Job.id == job.id).execute()
    # Files go after the commit: a crash in between leaves an orphan folder that
    # sweep_orphans removes, never a job row whose files are gone.
    shutil.rmtree(job_dir(jobs_dir, job.id), ignore_errors=True)


def prune(max_jobs, jobs_dir):
    """Delete the oldest finished jobs beyond max_jobs (0 keeps every job)."""
    if not max_jobs:
        return
    finished = [state.value for state in FINISHED]
    excess = Job.select().count() - max_jobs
    if excess <= 0:
        return
    oldest = Job.select(Job.id).where(Job.state.in_(finished)).order_by(Job.created_at).limit(excess)
    for job in oldest:
        delete(job.id, jobs_dir)


def worker_identity(thread_name) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{thread_name}"


def _owner_alive(claimed_by) -> bool:
    """Whether the process that claimed a job still runs (it never is, when it is us at start-up)."""
    host, _, rest = (claimed_by or "").partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    return crashes.running(int(pid_text))


def recover(crash_report=lambda claimed_by: None) -> list[Job]:
    """Requeue, cancel or fail the jobs a dead process left running; return them.

    crash_report(claimed_by) gives the fatal-signal report of the process that held a job, if it
    crashed: that job is quarantined (failed) at once instead of being run into the same crash.
    """
    recovered = []
    for job in Job.select().where(Job.state == State.RUNNING.value):
        if _owner_alive(job.claimed_by):
            continue
        report = crash_report(job.claimed_by)
        if job.cancel_requested:
            job = transition(job.id, State.CANCELLED, message="Job cancelled: the server stopped while it ran.")
        elif report:
            log.error("job %s crashed its worker process; quarantined. Crash report:\n%s", job.id, report)
            reason = report.splitlines()[0]
            job = transition(
                job.id,
                State.FAILED,
                message=f"Job failed: the worker process crashed while running it ({reason}); it is not run again.",
                error={
                    "code": "worker_crashed",
                    "message": "The worker process crashed while running this job, so it is not run again: "
                               "running it again would most likely crash the server again.",
                    "details": {"reason": reason, "attempts": job.attempts},
                },
            )
        elif job.attempts >= MAX_ATTEMPTS:
            job = transition(
                job.id,
                State.FAILED,
                message=f"Job failed: the server stopped while it ran, {job.attempts} times.",
                error={
                    "code": "interrupted",
                    "message": f"The server stopped while this job ran, {job.attempts} times; giving up.",
                    "details": {"attempts": job.attempts},
                },
            )
        else:
            job = transition(
                job.id, State.QUEUED, message="The server stopped while this job ran; it is queued to run again.",
                level="warning",
            )
        log.warning("recovered job %s left running: now %s", job.id, job.state)
        recovered.append(job)
    return recovered


def sweep_orphans(jobs_dir) -> list[Path]:
    """Remove job folders whose job row no longer exists."""
    root = Path(jobs_dir)
    if not root.is_dir():
        return []
    folders = {path.name: path for path in root.iterdir() if path.is_dir()}
    known = {job.id for job in Job.select(Job.id).where(Job.id.in_(list(folders)))}
    orphans = [path for name, path in folders.items() if name not in known]
    for path in orphans:
        shutil.rmtree(path, ignore_errors=True)
    return orphans
