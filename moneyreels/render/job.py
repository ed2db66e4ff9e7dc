"""Render a manifest into a job folder: the one way both job kinds (render, generate) render."""

import shutil
from pathlib import Path

from moneyreels import netguard
from moneyreels.render import RenderOptions, RenderResult, render

OUTPUT_NAME = "final.mp4"
KEYED_FOLDER = ".keys"  # MEDIA_DIR/.keys/<owner>: each API key's uploads, read by that key's jobs alone


def options(settings, job_dir: Path, owner: str = "", media_dirs=()) -> RenderOptions:
    """Engine options for one job: local media from MEDIA_DIR (less other keys' uploads), the job's own folder
    and media_dirs."""
    keyed = Path(settings.media_dir).resolve() / KEYED_FOLDER
    others = [folder for folder in keyed.iterdir() if folder.name != owner] if keyed.is_dir() else []
    return RenderOptions(
        media_dirs=[Path(settings.media_dir).resolve(), job_dir.resolve(), *(Path(d).resolve() for d in media_dirs)],
        refused_dirs=others,
        work_dir=job_dir / "work",
        preset=settings.preset,
        max_asset_bytes=settings.max_asset_bytes,
        max_memory_bytes=settings.render_memory_mb << 20,
        max_duration_seconds=settings.max_duration_seconds,
        allow_private_urls=netguard.private_allowed(settings),
        max_fetch_seconds=settings.max_fetch_seconds,
    )


def render_into(job_dir: Path, manifest, settings, *, owner="", on_progress, checkpoint,
                max_duration_seconds=None, media_dirs=()) -> RenderResult:
    """Render `manifest` to job_dir/final.mp4; the scratch folder (downloads, drawn text) goes after."""
    render_options = options(settings, job_dir, owner, media_dirs)
    if max_duration_seconds is not None:
        render_options.max_duration_seconds = max_duration_seconds
    render_options.work_dir.mkdir(parents=True, exist_ok=True)
    try:
        return render(manifest, job_dir / OUTPUT_NAME, render_options, on_progress=on_progress, checkpoint=checkpoint)
    finally:
        shutil.rmtree(render_options.work_dir, ignore_errors=True)
