"""Render a manifest into a job folder: the one way both job kinds (render, generate) render."""

import shutil
from pathlib import Path

from moneyreels import netguard
from moneyreels.render import RenderOptions, RenderResult, render

OUTPUT_STEM = "final"
OUTPUT_NAME = f"{OUTPUT_STEM}.mp4"
POSTER_NAME = f"{OUTPUT_STEM}.jpg"  # the manifest's output.poster; poster.jpg is the list thumbnail
CONTENT_TYPES = {"mp4": "video/mp4", "gif": "image/gif", "mp3": "audio/mpeg", "jpg": "image/jpeg"}
KEYED_FOLDER = ".keys"  # MEDIA_DIR/.keys/<owner>: each API key's uploads, read by that key's jobs alone


def options(settings, job_dir: Path, owner: str = "") -> RenderOptions:
    """Engine options for one job: local media from MEDIA_DIR (less other keys' uploads) and the job's own folder."""
    keyed = Path(settings.media_dir).resolve() / KEYED_FOLDER
    others = [folder for folder in keyed.iterdir() if folder.name != owner] if keyed.is_dir() else []
    return RenderOptions(
        media_dirs=[Path(settings.media_dir).resolve(), job_dir.resolve()],
        refused_dirs=others,
        work_dir=job_dir / "work",
        preset=settings.preset,
        max_asset_bytes=settings.max_asset_bytes,
        max_memory_bytes=settings.render_memory_mb << 20,
        max_duration_seconds=settings.max_duration_seconds,
        allow_private_urls=netguard.private_allowed(settings),
        max_fetch_seconds=settings.max_fetch_seconds,
    )


def output_name(output_format: str = "mp4") -> str:
    """The rendered file's name in the job folder: final.mp4, final.gif or final.mp3."""
    return f"{OUTPUT_STEM}.{output_format}"


def content_type(name: str) -> str | None:
    """The Content-Type a job's output or poster is served with (None: not one of those)."""
    return CONTENT_TYPES.get(name.rpartition(".")[2])


def render_into(job_dir: Path, manifest, settings, *, owner="", on_progress, checkpoint,
                max_duration_seconds=None) -> RenderResult:
    """Render `manifest` to job_dir/final.<format> (and final.jpg, its poster); the scratch folder goes after."""
    render_options = options(settings, job_dir, owner)
    if max_duration_seconds is not None:
        render_options.max_duration_seconds = max_duration_seconds
    render_options.work_dir.mkdir(parents=True, exist_ok=True)
    try:
        return render(manifest, job_dir / output_name(manifest.output.format), render_options,
                      on_progress=on_progress, checkpoint=checkpoint, poster_path=job_dir / POSTER_NAME)
    finally:
        shutil.rmtree(render_options.work_dir, ignore_errors=True)
