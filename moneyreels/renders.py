"""Render jobs: run a manifest through the engine, and describe the job as Reel Forge does."""

import math
import shutil
from pathlib import Path

from . import netguard, webhooks
from .db import Job
from .api.formats import iso
from .jobs import State
from .manifest import Manifest
from .render import RenderOptions, render

KIND = "render"
OUTPUT_NAME = "final.mp4"

# Reel Forge's job statuses; it has no "cancelled", so a cancelled render reads as failed.
STATUSES = {
    State.QUEUED: "queued",
    State.RUNNING: "processing",
    State.COMPLETED: "completed",
    State.FAILED: "failed",
    State.CANCELLED: "failed",
}

CANCELLED_ERROR = {"code": "cancelled", "message": "The render was cancelled.", "details": {}}


def options(settings, job_dir: Path) -> RenderOptions:
    """Engine options for one job: local media from MEDIA_DIR and the job's own folder."""
    return RenderOptions(
        media_dirs=[Path(settings.media_dir).resolve(), job_dir.resolve()],
        work_dir=job_dir / "work",
        preset=settings.preset,
        max_asset_bytes=settings.max_asset_bytes,
        max_memory_bytes=settings.render_memory_mb << 20,
        max_duration_seconds=settings.max_duration_seconds,
        allow_private_urls=netguard.private_allowed(settings),
        max_fetch_seconds=settings.max_fetch_seconds,
    )


def clean(render_options: RenderOptions):
    """Remove a render's scratch folder (downloads, drawn text)."""
    shutil.rmtree(render_options.work_dir, ignore_errors=True)


def run(ctx):
    """The `render` job kind: render the stored manifest to the job's final.mp4."""
    manifest = Manifest.model_validate(ctx.job.request["manifest"])
    settings = options(ctx.settings, ctx.dir)
    settings.work_dir.mkdir(parents=True, exist_ok=True)
    try:
        result = render(manifest, ctx.dir / OUTPUT_NAME, settings, on_progress=ctx.progress, checkpoint=ctx.checkpoint)
    finally:
        clean(settings)
    for warning in result.warnings:
        ctx.log(warning, level="warning")
    ctx.save(total_duration_seconds=round(result.duration_seconds, 3), warnings=result.warnings)
    return ctx.dir / OUTPUT_NAME


def output_url(job):
    if job.state != State.COMPLETED or not job.result_path:
        return None
    return f"{job.request.get('base_url', '').rstrip('/')}/v1/files/{job.id}/{Path(job.result_path).name}"


def error_of(job):
    if job.state == State.CANCELLED:
        return CANCELLED_ERROR
    return job.error if job.state == State.FAILED else None


def describe(job) -> dict:
    """The job as Reel Forge's GET /v1/jobs/:jobId `data` shows it."""
    duration = job.outputs.get("total_duration_seconds")
    error = error_of(job)
    return {
        "id": job.id,
        "status": STATUSES[State(job.state)],
        "output_url": output_url(job),
        "error_message": error["message"] if error else None,
        "created_at": iso(job.created_at),
        "updated_at": iso(job.updated_at),
        "total_duration_seconds": duration,
        # Self-hosted renders cost nothing; this is Reel Forge's formula (a credit a started second).
        "credit_cost": math.ceil(duration) if duration and job.state == State.COMPLETED else 0,
    }


def on_finished(job):
    """Schedule the job's webhook, if it asked for one; runs inside the final transaction."""
    hook = job.request.get("webhook") if job.kind == KIND else None
    if not hook:
        return
    data = {
        "job_id": job.id,
        "status": "completed" if job.state == State.COMPLETED else "failed",
        "output_url": output_url(job),
        "error": error_of(job),
        "metadata": job.request.get("metadata") or {},
    }
    webhooks.schedule(job, data, url=hook["url"], headers=hook.get("headers"), secret=hook.get("secret"),
                      created_at=iso(job.completed_at))
    # The delivery keeps the secret from here on; the job no longer needs it.
    request = {**job.request, "webhook": {key: value for key, value in hook.items() if key != "secret"}}
    Job.update(request=request).where(Job.id == job.id).execute()
