"""The `render` job kind: a Reel Forge manifest rendered to the job's final.mp4."""

from pathlib import Path

from .. import jobs, media_library, webhooks
from ..jobs import State
from ..manifest import Manifest
from ..render.job import OUTPUT_NAME, render_into

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
    """Render the stored manifest to the job's final.mp4, with the uploads it names fetched from the bucket."""
    manifest = Manifest.model_validate(ctx.job.request["manifest"])
    # In the render's scratch folder: removed with it.
    uploads = media_library.fetch_named(ctx.settings, ctx.job.owner, [asset.url for asset in manifest.assets],
                                        ctx.dir / "work" / "uploads")
    result = render_into(ctx.dir, manifest, ctx.settings, owner=ctx.job.owner, on_progress=ctx.progress,
                         checkpoint=ctx.checkpoint, media_dirs=uploads)
    for warning in result.warnings:
        ctx.log(warning, level="warning")
    ctx.save(total_duration_seconds=round(result.duration_seconds, 3), warnings=result.warnings)
    return ctx.dir / OUTPUT_NAME


def output_url(job):
    """Where the finished video is served, under the base URL the job was submitted to."""
    if job.state != State.COMPLETED or not job.result_path:
        return None
    return f"{job.request.get('base_url', '').rstrip('/')}/v1/files/{job.id}/{Path(job.result_path).name}"


def error_of(job):
    """The job's error; a cancelled render has one too (Reel Forge has no cancelled state)."""
    if job.state == State.CANCELLED:
        return CANCELLED_ERROR
    return job.error if job.state == State.FAILED else None


def finished(job):
    """Schedule the job's webhook, if it asked for one."""
    if job.request.get("webhook"):
        webhooks.schedule_render_event(job, output_url(job), error_of(job))
