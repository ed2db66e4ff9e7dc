"""The `render` job kind: a Reel Forge manifest rendered to the job's final.mp4 (.gif, .mp3; poster final.jpg)."""

from pathlib import Path

from .. import jobs, webhooks
from ..jobs import State
from ..manifest import Manifest
from ..render.job import POSTER_NAME, output_name, render_into

KIND = "render"

CANCELLED_ERROR = {"code": "cancelled", "message": "The render was cancelled.", "details": {}}


def create(manifest: Manifest, *, metadata, webhook, base_url, owner="", idempotency_key=None,
           request_hash=None) -> jobs.Job:
    """Queue a render of `manifest`; `webhook` ({url, headers, secret}) is told when it ends."""
    stored = {
        "manifest": manifest.model_dump(mode="json", exclude_unset=True),
        "metadata": metadata or {},
        "webhook": webhook,
        "base_url": base_url,
    }
    return jobs.create(KIND, stored, owner=owner, idempotency_key=idempotency_key, request_hash=request_hash)


def run(ctx):
    """Render the stored manifest to the job's final.<format>."""
    manifest = Manifest.model_validate(ctx.job.request["manifest"])
    result = render_into(ctx.dir, manifest, ctx.settings, owner=ctx.job.owner, on_progress=ctx.progress,
                         checkpoint=ctx.checkpoint)
    for warning in result.warnings:
        ctx.log(warning, level="warning")
    ctx.save(total_duration_seconds=round(result.duration_seconds, 3), warnings=result.warnings)
    return ctx.dir / output_name(manifest.output.format)


def output_url(job):
    """Where the finished video is served, under the base URL the job was submitted to."""
    if job.state != State.COMPLETED or not job.result_path:
        return None
    return f"{job.request.get('base_url', '').rstrip('/')}/v1/files/{job.id}/{Path(job.result_path).name}"


def poster_url(job):
    """Where the manifest's poster frame (output.poster) is served once the render completed; else None."""
    if output_url(job) is None or not poster_requested(job):
        return None
    return f"{job.request.get('base_url', '').rstrip('/')}/v1/files/{job.id}/{POSTER_NAME}"


def poster_requested(job) -> bool:
    """Whether the job's manifest asked for output.poster (a generate job's reel has no manifest of its own here)."""
    return bool((job.request.get("manifest") or {}).get("output", {}).get("poster"))


def error_of(job):
    """The job's error; a cancelled render has one too (Reel Forge has no cancelled state)."""
    if job.state == State.CANCELLED:
        return CANCELLED_ERROR
    return job.error if job.state == State.FAILED else None


def finished(job):
    """Schedule the job's webhook, if it asked for one."""
    if job.request.get("webhook"):
        webhooks.schedule_render_event(job, output_url(job), error_of(job), poster_url(job))
