"""Place every layer in time and space: auto-stitch, trims, total duration, boxes, stacking order.

This is the semantic preflight: it raises RenderError for manifests that are valid JSON but
impossible to render (bad trims, layers past the end, too long), before any heavy work.
"""

from dataclasses import dataclass, replace

from moneyreels.errors import RenderError
from moneyreels.manifest import Layer, Layout, Manifest
from moneyreels.render.assets import Source
from moneyreels.values import Box, layout_box

# Stacking groups for layers without z_index: timeline media, then text overlays, then captions.
MEDIA, TEXT, CAPTIONS = range(3)


@dataclass(frozen=True)
class Clip:
    """A timeline layer placed on the output timeline."""

    layer: Layer
    source: Source
    start: float
    duration: float
    trim: float  # where in the source reading begins
    box: Box
    z: tuple

    @property
    def end(self):
        return self.start + self.duration


@dataclass(frozen=True)
class Timeline:
    width: int
    height: int
    fps: float
    duration: float
    clips: list[Clip]  # every media layer, in stacking order (audio clips included)
    warnings: list[str]
    loudness_lufs: float | None = None

    @property
    def frames(self) -> int:
        return max(1, round(self.duration * self.fps))


@dataclass(frozen=True)
class Limits:
    max_duration_seconds: float
    max_trim_seconds: float


def plan_timeline(manifest: Manifest, sources: dict[str, Source], limits: Limits) -> Timeline:
    """Return the placed timeline, or raise RenderError when the manifest cannot be rendered."""
    output, composition = manifest.output, manifest.composition
    warnings = []
    width, height = _even(output.width), _even(output.height)
    if (width, height) != (output.width, output.height):
        warnings.append(f"H.264 needs even dimensions: rendering {width}x{height}")
    tolerance = max(1 / output.fps, 0.05)
    cursors = {"video": 0.0, "audio": 0.0}
    clips = []
    for index, layer in enumerate(composition.timeline):
        source = sources[layer.asset_id]
        _check_media_kind(layer, source)
        start, duration, trim = _place(layer, source, cursors, tolerance, limits)
        box = layout_box(layer.layout, width, height)
        clips.append(Clip(layer, source, start, duration, trim, box, stack_key(layer.layout, MEDIA, index)))

    total = _total_duration(manifest, clips)
    if total > limits.max_duration_seconds + 1e-6:
        raise RenderError(
            f"The output would last {total:.2f} s, over the {limits.max_duration_seconds:g} s limit",
            code="duration_too_long",
            details={"total_duration_seconds": total, "limit_seconds": limits.max_duration_seconds},
        )
    starts = [(clip.layer.id, clip.start) for clip in clips]
    starts += [(t.id or f"text_overlays.{i}", t.time.start_seconds) for i, t in enumerate(composition.text_overlays)]
    starts += [(c.id or f"captions.{i}", c.words[0].start_seconds) for i, c in enumerate(composition.captions)]
    for layer_id, start in starts:
        if start >= total - 1e-6:
            raise RenderError(
                f"Layer '{layer_id}' starts outside the computed video bounds.",
                code="manifest_out_of_bounds",
                details={"layer_id": layer_id, "start_seconds": start, "total_duration_seconds": total},
            )
    clipped = [_clip_to(clip, total) for clip in clips]
    clipped.sort(key=lambda clip: clip.z)
    return Timeline(width, height, output.fps, total, clipped, warnings, output.loudness_lufs)


def stack_key(layout: Layout | None, group: int, index: int) -> tuple:
    """Order layers bottom to top: z_index (default 0), then group, then array order."""
    z_index = layout.z_index if layout is not None and layout.z_index is not None else 0
    return (z_index, group, index)


def _even(value: int) -> int:
    return max(2, value - value % 2)


def _check_media_kind(layer: Layer, source: Source):
    info = source.info
    wanted = {"image": info.has_video and info.is_still,
              "video": info.has_video and not info.is_still,
              "audio": info.has_audio}[layer.type]
    if not wanted:
        raise RenderError(
            f"Asset '{source.asset_id}' has no {layer.type} for layer '{layer.id}'",
            code="invalid_asset_url",
            details={"asset_id": source.asset_id, "layer_id": layer.id, "reason": f"no {layer.type} stream"},
        )


def _place(layer: Layer, source: Source, cursors, tolerance, limits: Limits) -> tuple[float, float, float]:
    """Return (start, duration, trim) of a layer, auto-stitching those without time."""
    trim = layer.trim.start_seconds if layer.trim else 0.0
    if layer.type == "image":
        return layer.time.start_seconds, layer.time.duration_seconds, 0.0
    length = source.info.duration or 0.0
    remaining = length - trim
    if remaining <= 0:
        raise _impossible_trim(layer, trim, 0.0, length)
    looped = layer.media_settings.loop
    if layer.time is None:
        start = cursors[layer.type]
        duration = remaining
        cursors[layer.type] = start + duration
    else:
        start = layer.time.start_seconds
        duration = layer.time.duration_seconds or remaining
    if layer.trim is not None:
        if not looped and trim + duration > length + tolerance:
            raise _impossible_trim(layer, trim, duration, length)
        if min(duration, remaining) > limits.max_trim_seconds:
            raise RenderError(
                f"Layer '{layer.id}' extracts {duration:g} s, over the {limits.max_trim_seconds:g} s trim limit",
                code="duration_too_long",
                details={"layer_id": layer.id, "trim_seconds": duration, "limit_seconds": limits.max_trim_seconds},
            )
    return start, duration, trim


def _impossible_trim(layer, trim, duration, length):
    return RenderError(
        f"Layer '{layer.id}' trims {trim:g}+{duration:g} s from a {length:.2f} s source",
        code="impossible_trim",
        details={"layer_id": layer.id, "trim_start_seconds": trim,
                 "duration_seconds": duration, "source_duration_seconds": length},
    )


def _total_duration(manifest: Manifest, clips: list[Clip]) -> float:
    """Return the output length: the end of the last video/audio layer, else images, else text."""
    for kinds in (("video", "audio"), ("image",)):
        ends = [clip.end for clip in clips if clip.layer.type in kinds]
        if ends:
            return max(ends)
    composition = manifest.composition
    ends = [t.time.start_seconds + t.time.duration_seconds for t in composition.text_overlays]
    ends += [word.end_seconds for c in composition.captions for word in c.words]
    return max(ends, default=0.0)


def _clip_to(clip: Clip, total: float) -> Clip:
    return clip if clip.end <= total else replace(clip, duration=total - clip.start)
