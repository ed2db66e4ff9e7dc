"""OpenStory's `?wait=`: hold a read until the job changes or finishes, and say which."""

from .. import events, jobs
from . import holds
from .inputs import wait_seconds


def wait_for_change(job, owner):
    """Apply ?wait to a job read: return (job, headers) once it changed, finished or time ran out."""
    seconds = wait_seconds()
    if not seconds:
        return job, {}
    if job.state in jobs.FINISHED:
        return job, {"X-Wait-Changed": "false", "X-Wait-Done": "true"}
    seen = events.latest_id(job.id)
    changed = bool(holds.wait(lambda: events.latest_id(job.id) > seen, seconds))
    job = jobs.get(job.id, owner)
    done = job.state in jobs.FINISHED
    return job, {"X-Wait-Changed": str(changed or done).lower(), "X-Wait-Done": str(done).lower()}
