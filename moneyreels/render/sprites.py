"""Draw text overlays and caption tracks into sprite tracks the filtergraph overlays.

A track is a run of images sharing one box, shown one at a time; the graph reads a multi-image
track as a single concat-demuxer input, so 80 caption pages cost one input and one overlay.
Each image is written (graph.save_drawn) as soon as it is drawn (a reel's hundreds of caption
moments never sit in memory together); a caption track's pages are drawn half here, half in a
forked copy of this process (halves.py); the graph crops every image of a track to the union of
their opaque pixels, so blending cost follows the text's area, not the box's. A wiping track
(karaoke fills) reveals each image's ink left to right over its wipe span.
"""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from PIL import Image

from moneyreels.manifest import CaptionTrack, Composition, Manifest, TextStyle
from moneyreels.render import captions, safearea, text
from moneyreels.render.animation import Moves, plan_moves
from moneyreels.render.graph import DRAWN, save_drawn
from moneyreels.render.halves import in_halves
from moneyreels.render.typewriter import typewriter_frames
from moneyreels.render.timeline import CAPTIONS, TEXT, Timeline, stack_key
from moneyreels.values import Box, layout_box

SAVERS = 2  # image encoding threads: the machines this runs on have two cores or more


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
    ink: tuple[int, int, int, int] | None = None  # opaque pixels' (left, top, right, bottom) in the image
    wipe: Wipe | None = None  # columns in the image


@dataclass(frozen=True)
class SpriteTrack:
    x: int  # where the crop's top-left lands in the frame
    y: int
    z: tuple
    frames: list[SpriteFrame]
    crop: Box  # the part of every image that is shown
    moves: Moves | None = None  # animations and keyframes of an overlay alone in its track

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
    frames: list[SpriteFrame]
    moves: Moves | None = None


def draw_sprites(manifest: Manifest, plan: Timeline, work_dir: Path) -> tuple[list[SpriteTrack], list[str]]:
    """Draw every text overlay and caption track; return the tracks and font warnings."""
    warnings: dict[str, None] = {}  # in the order first met, once each
    drawn = _draw_overlays(manifest.composition, plan, work_dir, warnings)
    for index, track in enumerate(manifest.composition.captions):
        drawn += _draw_captions(index, track, manifest.composition.global_styles.text, plan, work_dir, warnings)
    drawn.sort(key=lambda d: d.z)
    tracks = [_track(group) for group in _merge_runs(drawn)]
    return [t for t in tracks if t is not None], list(warnings)


def _draw_overlays(composition: Composition, plan: Timeline, work_dir: Path, warnings: dict) -> list[_Drawn]:
    """Draw and save the text overlays (a typewriter's as one image per step)."""
    drawn = []
    with ThreadPoolExecutor(SAVERS) as savers:
        write = _Writer(savers)
        for index, overlay in enumerate(composition.text_overlays):
            layout = overlay.layout.merged_over(composition.global_layouts.text)
            box = layout_box(layout, plan.width, plan.height)
            style = _text_style(overlay.style.merged_over(composition.global_styles.text))
            result = text.draw_text(overlay.content, style, box.w, box.h)
            warnings.update(dict.fromkeys(result.warnings))
            start = overlay.time.start_seconds
            duration = overlay.time.duration_seconds
            leaving = overlay.animations.exit if overlay.animations else None
            moves = plan_moves(overlay.entrance(), leaving, overlay.keyframes, duration, box.w, box.h, plan.fps)
            reveals = moves.get("reveal")
            frames = typewriter_frames(result.image, reveals, start, start + duration, plan.fps) if reveals \
                else [(start, start + duration, result.image)]
            drawn.append(_Drawn(box, stack_key(layout, TEXT, index), [
                write(image, work_dir / f"text-{index}-{n:04d}{DRAWN}", first, last)
                for n, (first, last, image) in enumerate(frames)], moves or None))
        write.wait()
    return drawn


def _draw_captions(index: int, track: CaptionTrack, global_style: TextStyle, plan: Timeline, work_dir: Path,
                   warnings: dict) -> list[_Drawn]:
    """Draw and save a caption track's pages, half of them in a forked copy of this process."""
    layout = track.layout.merged_over(safearea.caption_layout(track.position, track.safe_area))
    box = safearea.clamp(layout_box(layout, plan.width, plan.height), track.safe_area, plan.width, plan.height)
    words = [captions.Word(w.text, w.start_seconds, w.end_seconds) for w in track.words]
    look = captions.Look(track.effect, track.highlight_color, track.past_color, track.upcoming_color,
                         track.max_words_per_page, track.max_chars_per_line, track.text_transform)
    pages = captions.caption_pages(words, _text_style(track.style.merged_over(global_style)), look, box.w, box.h)
    moments, fills = [], []
    for frames, page_warnings in in_halves(partial(_draw_pages, work_dir / f"captions-{index}"), list(enumerate(pages))):
        warnings.update(dict.fromkeys(page_warnings))
        for frame in frames:
            (fills if frame.wipe else moments).append(frame)
    z = stack_key(layout, CAPTIONS, index)
    return [_Drawn(box, z, frames) for frames in (moments, fills) if frames]


def _draw_pages(stem: Path, pages: list) -> list[tuple[list[SpriteFrame], list[str]]]:
    """Draw and save caption pages (numbered pages, see caption_pages); return each one's frames and warnings."""
    done = []
    with ThreadPoolExecutor(SAVERS) as savers:  # this process's own: the child of a fork has none
        write = _Writer(savers)
        for number, page in pages:
            frames, warnings = [], {}
            for n, moment in enumerate(page()):
                warnings.update(dict.fromkeys(moment.warnings))
                frames.append(write(moment.image, stem.with_name(f"{stem.name}-{number:04d}-{n:02d}{DRAWN}"),
                                    moment.start, moment.end, moment.wipe))
            done.append((frames, list(warnings)))
        write.wait()
    return done


class _Writer:
    """Save drawn images on worker threads (Pillow encodes without the GIL) while drawing goes on."""

    def __init__(self, pool: ThreadPoolExecutor):
        self.pool, self.pending = pool, []

    def __call__(self, image: Image.Image, path: Path, start: float, end: float,
                 wipe: tuple[float, float] | None = None) -> SpriteFrame:
        """Queue one image's save; note where its ink is (and so which columns a wipe reveals)."""
        self.pending.append(self.pool.submit(save_drawn, image, path))
        ink = image.getchannel("A").getbbox()
        return SpriteFrame(start, end, path, ink, Wipe(*wipe, ink[0], ink[2]) if wipe and ink else None)

    def wait(self) -> None:
        """Return once every image is on disk; raise the first save's error."""
        for future in self.pending:
            future.result()


def _text_style(style: TextStyle) -> "text.TextStyle":
    return text.TextStyle(**style.model_dump(exclude_none=True))


def _merge_runs(drawn: list[_Drawn]) -> list[_Drawn]:
    """Join neighbours in stacking order that share a box and z_index and never overlap in time."""
    runs: list[_Drawn] = []
    for item in drawn:
        last = runs[-1] if runs else None
        if (last and last.box == item.box and last.z[0] == item.z[0] and not (last.moves or item.moves)
                and (last.frames[0].wipe is None) == (item.frames[0].wipe is None)
                and item.frames[0].start >= last.frames[-1].end - 1e-6):
            runs[-1] = _Drawn(last.box, last.z, last.frames + item.frames, None)
        else:
            runs.append(item)
    return runs


def _track(drawn: _Drawn) -> SpriteTrack | None:
    """Make a run a track showing the union of its images' ink (None when nothing is opaque)."""
    boxes = [frame.ink for frame in drawn.frames if frame.ink]
    if not boxes:
        return None
    # Even offsets and sizes keep the 4:2:0 chroma of the overlay aligned with the frame.
    left = min(b[0] for b in boxes) // 2 * 2
    top = min(b[1] for b in boxes) // 2 * 2
    right = min(drawn.box.w, -(-max(b[2] for b in boxes) // 2) * 2)
    bottom = min(drawn.box.h, -(-max(b[3] for b in boxes) // 2) * 2)
    crop = Box(left, top, right - left, bottom - top)
    return SpriteTrack(drawn.box.x + left, drawn.box.y + top, drawn.z, drawn.frames, crop, drawn.moves)
