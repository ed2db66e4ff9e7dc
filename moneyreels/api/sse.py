"""OpenReels' Server-Sent Events: a snapshot, the job's events as they happen, a terminal event.

Every frame carries `id:` = the event row id, so a client reconnecting with Last-Event-ID
gets exactly what it missed. A heartbeat comment keeps proxies from closing an idle stream,
and lets the server notice a client that went away (its write fails and the stream ends).
"""

import json

from .. import events, jobs
from ..errors import NotFound
from ..jobs import State

HEARTBEAT_SECONDS = 15.0
# Milliseconds an EventSource waits before reconnecting; the spec's default is left to each client.
RETRY_MS = 3000
# The states whose stream ends with terminal() frames.
TERMINAL = {State.COMPLETED.value, State.FAILED.value, State.CANCELLED.value}


def frame(name, data, event_id=None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def terminal(job) -> list[tuple[str, dict]]:
    """The frames that end a finished job's stream.

    OpenReels documents two terminal events, so a cancelled job's stream ends with job:failed
    (after our own job:cancelled): clients closing on those stop instead of reconnecting.
    """
    if job.state == State.CANCELLED.value:
        return [("job:cancelled", {}), ("job:failed", {"error": "The job was cancelled.", "cancelled": True})]
    if job.state == State.FAILED.value:
        return [("job:failed", {"error": (job.error or {}).get("message", "failed")})]
    return [("job:completed", {})]


def translate(event) -> tuple[str, dict] | None:
    """The SSE name and data of one event row; None for rows clients need not see."""
    if event.type.startswith("stage:"):
        return event.type, event.payload or {}
    if event.type == "status":
        state = (event.payload or {}).get("state")
        return ("job:status", {"status": state}) if state not in TERMINAL else None
    if event.type in ("log", "progress", "webhook"):
        return event.type, {"level": event.level, "message": event.message, **(event.payload or {})}
    return None


def stream(job, owner, snapshot, last_event_id=None, heartbeat=HEARTBEAT_SECONDS, gone=lambda: False):
    """Yield the frames of one job's stream until it ends or gone() says the client hung up."""
    snapshot_id = events.latest_id(job.id)
    yield f"retry: {RETRY_MS}\n\n"
    yield frame("job:snapshot", snapshot(job), snapshot_id)
    after = snapshot_id if last_event_id is None else min(last_event_id, snapshot_id)
    while True:
        fresh = events.after(job.id, after)
        for event in fresh:
            after = event.id
            translated = translate(event)
            if translated:
                yield frame(*translated, event.id)
        try:
            job = jobs.get(job.id, owner)
        except NotFound:
            yield frame("job:deleted", {}, after)
            return
        if job.state in TERMINAL and not events.after(job.id, after, limit=1):
            for name, data in terminal(job):
                yield frame(name, data, after)
            return
        if events.stopping.is_set():
            # The client's EventSource reconnects with Last-Event-ID to the restarted server.
            yield ": server stopping\n\n"
            return
        if gone():
            return
        if not fresh:
            if not events.wait(lambda: events.after(job.id, after, limit=1), heartbeat, stop=gone):
                yield ": heartbeat\n\n"


def busy(job, snapshot, retry_ms):
    """A short stream for a client past its share of open streams: the snapshot, and when to reconnect."""
    yield f"retry: {retry_ms}\n" + frame("job:snapshot", snapshot(job), events.latest_id(job.id))
