"""Draw text overlays and caption tracks into PNG sprite tracks the filtergraph overlays.

A track is a run of images sharing one box, shown one at a time; the graph reads a multi-image
track as a single concat-demuxer input, so 80 caption pages cost one input and one overlay.
Every image is cropped to the union of the track's opaque pixels: blending cost follows area.
"""

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from moneyreels.manifest import Layout, Manifest, TextStyle
from moneyreels.render import text
from moneyreels.render.animation import animate
from moneyreels.render.timeline import CAPTIONS, TEXT, Timeline, stack_key
from moneyreels.values import Box, layout_box

CAPTION_LAYOUT = Layout(x="5%", y="65%", width="90%", height="20%")  # a lower third, clear of titles


@dataclass(frozen=True)
class SpriteFrame:
    start: float
    end: float
    path: Path


@dataclass(frozen=True)
class SpriteTrack:
    x: int
    y: int
    z: tuple
    frames: list[SpriteFrame]

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


def draw_sprites(manifest: Manifest, plan: Timeline, work_dir: Path) -> tuple[list[SpriteTrack], list[str]]:
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
        end = start + overlay.time.duration_seconds
        motion = overlay.animation
        frames = animate(result.image, motion.type, start, end, motion.duration_seconds, plan.fps) if motion \
            else [(start, end, result.image)]
        drawn.append(_Drawn(box, stack_key(layout, TEXT, index), frames))
    for index, track in enumerate(composition.captions):
        layout = track.layout.merged_over(CAPTION_LAYOUT)
        box = layout_box(layout, plan.width, plan.height)
        words = [text.Word(w.text, w.start_seconds, w.end_seconds) for w in track.words]
        pages = text.draw_caption_pages(words, _text_style(track.style.merged_over(global_style)),
                                        track.highlight_color, box.w, box.h, track.max_words_per_page)
        warnings += [warning for page in pages for warning in page.warnings]
        drawn.append(_Drawn(box, stack_key(layout, CAPTIONS, index), [(p.start, p.end, p.image) for p in pages]))
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
        if last and last.box == item.box and last.z[0] == item.z[0] and item.frames[0][0] >= last.frames[-1][1] - 1e-6:
            runs[-1] = _Drawn(last.box, last.z, last.frames + item.frames)
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
        image.crop((left, top, right, bottom)).save(path, compress_level=1)
        frames.append(SpriteFrame(start, end, path))
    return SpriteTrack(drawn.box.x + left, drawn.box.y + top, drawn.z, frames)
