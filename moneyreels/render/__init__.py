"""The render engine: a validated manifest in, one ffmpeg process, an MP4 (or a GIF, an MP3, a poster) out."""

import logging
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import imageio_ffmpeg

from moneyreels.manifest import Manifest
from moneyreels.errors import RenderError
from moneyreels.render.assets import FetchLimits, fetch_assets, relayed
from moneyreels.render.compose import build_graph
from moneyreels.render.ffmpeg import run_ffmpeg
from moneyreels.render.outputs import CRF, PRESET, Targets, output_args, picture_of, planned, poster_frame, streams
from moneyreels.render.sprites import draw_sprites
from moneyreels.render.timeline import Limits, plan_timeline

log = logging.getLogger(__name__)

# Share of the progress bar each phase ends at; encoding takes the rest.
_FETCHED, _PLANNED, _DRAWN = 0.10, 0.12, 0.15
_PROGRESS_INTERVAL = 0.25


@dataclass
class RenderOptions:
    media_dirs: list[Path]  # local assets must resolve inside one of these
    work_dir: Path  # scratch for downloads and drawn images; the caller creates and removes it
    preset: str = PRESET
    crf: int = CRF
    max_asset_bytes: int = 500 * 1024 * 1024
    max_duration_seconds: float = 60
    max_trim_seconds: float = 300
    fetch_timeout: tuple[float, float] = (5, 30)
    ffmpeg: str | None = None
    # Asset URLs may reach private addresses (a server bound to 0.0.0.0 turns this off).
    allow_private_urls: bool = True
    max_fetch_seconds: float = 300.0
    # Address space the ffmpeg process may take; a render that needs more fails as render_out_of_memory.
    max_memory_bytes: int = 4 << 30
    refused_dirs: list[Path] = field(default_factory=list)  # local assets never resolve inside these (other keys' media)


@dataclass
class RenderResult:
    duration_seconds: float
    width: int
    height: int
    fps: float
    warnings: list[str]


def render(
    manifest: Manifest,
    out_path: Path,
    options: RenderOptions,
    *,
    on_progress: Callable[[float, str], None] | None = None,
    checkpoint: Callable[[], None] | None = None,
    poster_path: Path | None = None,
) -> RenderResult:
    """Render manifest to out_path (its poster, if it asks for one, to poster_path, by default
    beside it as .jpg); on failure or cancel leave no file there.

    Raises RenderError for manifests that cannot be rendered (codes as Reel Forge names them),
    and whatever checkpoint raises (JobCancelled) after stopping the ffmpeg it started.
    """
    report = _Reporter(on_progress)
    check = checkpoint or (lambda: None)
    ffmpeg = options.ffmpeg or imageio_ffmpeg.get_ffmpeg_exe()
    # Absolute paths: ffmpeg resolves the files named in a concat list against the list's own folder.
    out_path = Path(out_path).resolve()
    poster_path = Path(poster_path or out_path.with_suffix(".jpg")).resolve()
    options = replace(options, work_dir=Path(options.work_dir).resolve(),
                      media_dirs=[Path(folder).resolve() for folder in options.media_dirs],
                      refused_dirs=[Path(folder).resolve() for folder in options.refused_dirs])

    manifest = planned(manifest)
    report(0.0, "Fetching assets")
    limits = FetchLimits(options.media_dirs, options.work_dir, options.max_asset_bytes, options.fetch_timeout, ffmpeg,
                         options.allow_private_urls, options.max_fetch_seconds, options.refused_dirs)
    with relayed(limits) as relay:
        sources = fetch_assets(manifest, limits, check, relay)
        check()
        report(_FETCHED, "Planning the timeline")
        plan = plan_timeline(manifest, sources, Limits(options.max_duration_seconds, options.max_trim_seconds))
        poster = poster_frame(plan, manifest.output.poster)
        check()
        report(_PLANNED, "Drawing text")
        picture, sound = streams(manifest.output)
        tracks, text_warnings = draw_sprites(manifest, plan, options.work_dir) if picture else ([], [])
        graph, graph_warnings = build_graph(plan, tracks, options.work_dir, options.fetch_timeout[1],
                                            video=picture, audio=sound)
        check()

        report(_DRAWN, "Encoding")
        partials = Targets(*(path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
                             for path in (out_path, poster_path)))
        encode = output_args(graph, plan, manifest.output, partials, poster, preset=options.preset, crf=options.crf)
        try:
            run_ffmpeg([ffmpeg, *graph.args(options.work_dir / "graph.txt"), *encode], duration=plan.duration,
                       checkpoint=check, memory_bytes=options.max_memory_bytes,
                       on_progress=lambda f: report(_DRAWN + (1 - _DRAWN) * f, "Encoding", throttle=True))
            if poster is not None:
                os.replace(partials.poster, poster_path)
            os.replace(partials.output, out_path)
        except RenderError as exc:
            raise (relay.first_failure() or exc) from None  # ffmpeg only saw a 502 from the relay
        finally:
            partials.output.unlink(missing_ok=True)
            partials.poster.unlink(missing_ok=True)
    report(1.0, "Done")
    warnings = plan.warnings + text_warnings + graph_warnings
    for warning in warnings:
        log.warning("render: %s", warning)
    return RenderResult(plan.frames / plan.fps, *picture_of(plan, manifest.output), warnings)


class _Reporter:
    """Forward progress, at most four times a second for ffmpeg's stream of updates."""

    def __init__(self, callback):
        self.callback = callback
        self.last = 0.0

    def __call__(self, fraction: float, message: str, throttle: bool = False):
        now = time.monotonic()
        if self.callback is None or throttle and now - self.last < _PROGRESS_INTERVAL:
            return
        self.last = now
        self.callback(min(1.0, fraction), message)
