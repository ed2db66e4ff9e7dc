"""The render's outputs: the finished picture and mix as an MP4, a GIF or an MP3, plus the poster frame.

Everything comes out of the one ffmpeg run: the GIF's palette is made and used inside the graph,
and the poster is a second output of the graph (the picture split, one frame of it kept), so
no frame is decoded twice and the poster is exactly the frame the video shows at its time.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from moneyreels.errors import RenderError
from moneyreels.manifest import Manifest, Output, Poster
from moneyreels.render.graph import Graph
from moneyreels.render.timeline import Timeline

# A GIF is a preview: at most 15 frames a second and 480 px on its longer side (270x480 for a
# 1080x1920 reel). Its one palette needs every frame before the first can be written, so the
# whole GIF waits in memory at that size: 0.5 MB a frame, about 8 MB a second.
GIF_MAX_FPS = 15
GIF_MAX_SIDE = 480
MP3_BITRATE = "192k"
# libx264 settings of every render. superfast with veryfast's macroblock-tree rate control (which
# superfast turns off) codes the bench reel's frames in two thirds of veryfast's CPU time at the
# same size and SSIM (README, Performance).
PRESET = "superfast"
CRF = 23
_X264_PARAMS = {"superfast": "mbtree=1:rc-lookahead=10"}


@dataclass(frozen=True)
class Targets:
    """Where ffmpeg writes the output, and the poster (only when the manifest asks for one)."""

    output: Path
    poster: Path


def planned(manifest: Manifest) -> Manifest:
    """Return the manifest as it is rendered: a GIF's frames are made at its own rate, none made to be dropped."""
    output = manifest.output
    if output.format != "gif" or output.fps <= GIF_MAX_FPS:
        return manifest
    return manifest.model_copy(update={"output": output.model_copy(update={"fps": GIF_MAX_FPS})})


def streams(output: Output) -> tuple[bool, bool]:
    """Return (picture, sound): which of the graph's [vout] and [aout] the format needs."""
    return output.format != "mp3", output.format != "gif"


def poster_frame(plan: Timeline, poster: Poster | None) -> int | None:
    """Return the index of the frame on screen at the poster's time; refuse a time past the end."""
    if poster is None:
        return None
    if poster.time_seconds > plan.duration + 1e-6:
        raise RenderError(
            f"output.poster.time_seconds ({poster.time_seconds:g} s) is after the end of the "
            f"{plan.duration:.2f} s video.",
            code="manifest_out_of_bounds",
            details={"field": "output.poster.time_seconds", "time_seconds": poster.time_seconds,
                     "total_duration_seconds": plan.duration},
        )
    return min(int(poster.time_seconds * plan.fps + 1e-6), plan.frames - 1)


def output_args(g: Graph, plan: Timeline, output: Output, targets: Targets, poster: int | None, *,
                preset: str, crf: int) -> list[str]:
    """Add the chains from [vout] and [aout] to each output; return ffmpeg's output arguments."""
    args = []
    picture = "vout"
    if poster is not None:
        picture, still = g.label("main"), g.label("poster")
        g.chains.append(f"[vout]split[{picture}][{still}]")
        # JPEG is full range; converting here keeps the colours the video shows.
        jpeg = g.chain([still], [f"trim=start_frame={poster}:end_frame={poster + 1}", "scale=out_range=pc",
                                 "format=yuvj420p"])
        args += ["-map", f"[{jpeg}]", "-frames:v", "1", "-c:v", "mjpeg", "-q:v", "2", "-f", "mjpeg", "-y",
                 str(targets.poster)]
    if output.format == "mp3":
        return args + ["-map", "[aout]", "-c:a", "libmp3lame", "-b:a", MP3_BITRATE, "-f", "mp3", "-y",
                       str(targets.output)]
    if output.format == "gif":  # planned at its own frame rate (see planned)
        width, height, _ = picture_of(plan, output)
        colours, pixels = g.label("colours"), g.label("pixels")
        g.chains.append(f"[{picture}]scale={width}:{height}:flags=lanczos,split[{colours}][{pixels}]")
        # Counted on a half-size copy: a quarter of the pixels tell the same colours, and counting
        # them is most of a GIF's cost (palettegen at full size took 5x as long as at half).
        palette = g.chain([colours], [f"scale={max(2, width // 2)}:{max(2, height // 2)}:flags=area",
                                      "palettegen=stats_mode=full"])
        gif = g.chain([pixels, palette], ["paletteuse=dither=sierra2_4a:diff_mode=rectangle"])
        return args + ["-map", f"[{gif}]", "-frames:v", str(plan.frames), "-f", "gif",
                       "-loop", "0", "-y", str(targets.output)]
    return args + ["-map", f"[{picture}]", "-map", "[aout]", *video_codec_args(preset, crf), "-c:a", "aac", "-b:a", "160k",
                   "-frames:v", str(plan.frames), "-movflags", "+faststart", "-f", "mp4", "-y", str(targets.output)]


def video_codec_args(preset: str, crf: int) -> list[str]:
    """Return the output options that encode H.264 as every MP4 render does."""
    # x264 defaults to 1.5 threads per core; one per core is as fast here and holds fewer 1080p frames.
    params = ["-x264-params", _X264_PARAMS[preset]] if preset in _X264_PARAMS else []
    return ["-c:v", "libx264", "-preset", preset, *params, "-crf", str(crf), "-threads:v", str(os.cpu_count() or 1),
            "-pix_fmt", "yuv420p"]


def picture_of(plan: Timeline, output: Output) -> tuple[int, int, float]:
    """Return the output's (width, height, fps): the reel's, or a GIF's, scaled down to its cap (never up)."""
    if output.format != "gif":
        return plan.width, plan.height, plan.fps
    scale = min(1.0, GIF_MAX_SIDE / max(plan.width, plan.height))
    return max(2, round(plan.width * scale)), max(2, round(plan.height * scale)), plan.fps
