"""Draw text overlays and caption tracks into PNG sprite tracks the filtergraph overlays.

A track is a run of images sharing one box, shown one at a time; the graph reads a multi-image
track as a single concat-demuxer input, so 80 caption pages cost one input and one overlay.
Every image is cropped to the union of the track's opaque pixels: blending cost follows area.
A wiping track (karaoke fills) reveals each image's ink left to right over its wipe span.
"""

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from moneyreels.manifest import Manifest, TextStyle
from moneyreels.render import captions, safearea, text
from moneyreels.render.timeline import CAPTIONS, TEXT, Box, Plan, layout_box, stack_key


@dataclass(frozen=True)
class Wipe:
    """Reveal columns [left, right) of a frame, left to right, from start to end."""

    start: float
    end: float
    left: int
    right: int


@dataclass(frozen=True)
class SpriteFrame:
    start: float
    end: float
    path: Path
    wipe: Wipe | None = None


@dataclass(frozen=True)
class SpriteTrack:
    x: int
    y: int
    z: tuple
    frames: list[SpriteFrame]

    @property
    def wipes(self) -> bool:
        return self.frames[0].wipe is not None

    @property
    def windows(self) -> list[tuple[float, float]]:
        """Return the merged time intervals in which the track is visible."""
        merged = []
        for frame in self.frames:
            if merged and frame.start <= merged[-1][1] + 1e-6:
                merged[-1] = (merged[-1][0], max(merged[-1][1], frame.end))
            else:
                merged.append((frame.start, frame.end))
        return merged


@dataclass(frozen=True)
class _Drawn:
    box: Box
    z: tuple
    frames: list[tuple[float, float, Image.Image]]
    wipes: list[tuple[float, float]] | None = None  # per frame, for a wiping track


def draw_sprites(manifest: Manifest, plan: Plan, work_dir: Path) -> tuple[list[SpriteTrack], list[str]]:
    """Draw every text overlay and caption track; return the tracks and font warnings."""
    composition = manifest.composition
    global_style = composition.global_styles.text
    warnings = []
    drawn = []
    for index, overlay in enumerate(composition.text_overlays):
        layout = overlay.layout.merged_over(composition.global_layouts.text)
        box = layout_box(layout, plan.width, plan.height)
        result = text.draw_text(overlay.content, _text_style(overlay.style.merged_over(global_style)), box.w, box.h)
        warnings += result.warnings
        start = overlay.time.start_seconds
        frame = (start, start + overlay.time.duration_seconds, result.image)
        drawn.append(_Drawn(box, stack_key(layout, TEXT, index), [frame]))
    for index, track in enumerate(composition.captions):
        layout = track.layout.merged_over(safearea.caption_layout(track.position, track.safe_area))
        box = safearea.clamp(layout_box(layout, plan.width, plan.height), track.safe_area, plan.width, plan.height)
        words = [captions.Word(w.text, w.start_seconds, w.end_seconds) for w in track.words]
        look = captions.Look(track.effect, track.highlight_color, track.past_color, track.upcoming_color,
                             track.max_words_per_page, track.max_chars_per_line, track.text_transform)
        frames = captions.draw_caption_pages(words, _text_style(track.style.merged_over(global_style)),
                                             look, box.w, box.h)
        warnings += [warning for frame in frames for warning in frame.warnings]
        z = stack_key(layout, CAPTIONS, index)
        drawn.append(_Drawn(box, z, [(f.start, f.end, f.image) for f in frames if f.wipe is None]))
        fills = [f for f in frames if f.wipe is not None]
        if fills:
            drawn.append(_Drawn(box, z, [(f.start, f.end, f.image) for f in fills], [f.wipe for f in fills]))
    drawn.sort(key=lambda d: d.z)
    tracks = [_save(group, work_dir, f"sprite-{n}") for n, group in enumerate(_merge_runs(drawn))]
    return [t for t in tracks if t is not None], list(dict.fromkeys(warnings))


def _text_style(style: TextStyle) -> "text.TextStyle":
    return text.TextStyle(**style.model_dump(exclude_none=True))


def _merge_runs(drawn: list[_Drawn]) -> list[_Drawn]:
    """Join neighbours in stacking order that share a box and z_index and never overlap in time."""
    runs: list[_Drawn] = []
    for item in drawn:
        last = runs[-1] if runs else None
        if (last and last.box == item.box and last.z[0] == item.z[0] and (last.wipes is None) == (item.wipes is None)
                and item.frames[0][0] >= last.frames[-1][1] - 1e-6):
            wipes = None if item.wipes is None else last.wipes + item.wipes
            runs[-1] = _Drawn(last.box, last.z, last.frames + item.frames, wipes)
        else:
            runs.append(item)
    return runs


def _save(drawn: _Drawn, work_dir: Path, name: str) -> SpriteTrack | None:
    """Crop the run's images to their common opaque area and write them as PNGs."""
    boxes = [image.getchannel("A").getbbox() for _, _, image in drawn.frames]
    boxes = [b for b in boxes if b]
    if not boxes:
        return None
    # Even offsets and sizes keep the 4:2:0 chroma of the overlay aligned with the frame.
    left = min(b[0] for b in boxes) // 2 * 2
    top = min(b[1] for b in boxes) // 2 * 2
    right = min(drawn.box.w, -(-max(b[2] for b in boxes) // 2) * 2)
    bottom = min(drawn.box.h, -(-max(b[3] for b in boxes) // 2) * 2)
    frames = []
    for n, (start, end, image) in enumerate(drawn.frames):
        path = work_dir / f"{name}-{n:04d}.png"
        cropped = image.crop((left, top, right, bottom))
        cropped.save(path, compress_level=1)
        wipe = None
        if drawn.wipes is not None:
            ink = cropped.getchannel("A").getbbox() or (0, 0, 0, 0)
            wipe = Wipe(*drawn.wipes[n], ink[0], ink[2])
        frames.append(SpriteFrame(start, end, path, wipe))
    return SpriteTrack(drawn.box.x + left, drawn.box.y + top, drawn.z, frames)
