"""Animate a text overlay in: its drawn image becomes a short run of frames, then holds.

Every frame keeps the overlay's box, so an animated overlay is still one sprite track (one
concat input and one overlay in the graph) however many frames its entrance takes.
"""

import numpy as np
from PIL import Image

# An ease-out with a small overshoot: the text lands slightly large and settles.
OVERSHOOT = 1.7
# Rows with less than this share of the solid ink of the lines around them are a gap between lines.
GAP_SHARE = 0.5


def animate(image: Image.Image, kind: str, start: float, end: float, seconds: float, fps: float) -> list[tuple]:
    """Return (start, end, image) frames: the entrance over `seconds`, then the whole image until `end`."""
    steps = min(int(round(seconds * fps)), int((end - start) * fps) - 1)
    if steps < 2:
        return [(start, end, image)]
    draw = _KINDS[kind]
    frames = [(start + i / fps, start + (i + 1) / fps, draw(image, (i + 1) / (steps + 1))) for i in range(steps)]
    return frames + [(start + steps / fps, end, image)]


def _ease_back(t: float) -> float:
    t -= 1
    return 1 + t * t * ((OVERSHOOT + 1) * t + OVERSHOOT)


def _ease_out(t: float) -> float:
    return 1 - (1 - t) ** 3


def _pop(image: Image.Image, t: float) -> Image.Image:
    """Scale up from 30% about the centre of the ink, overshooting a little, fading in."""
    scale = 0.3 + 0.7 * _ease_back(t)
    ink = image.getchannel("A").getbbox()
    if not ink:
        return image
    w, h = image.size
    glyphs = image.crop(ink)
    size = (max(1, round(glyphs.width * scale)), max(1, round(glyphs.height * scale)))
    scaled = _faded(glyphs.resize(size, Image.Resampling.BILINEAR), min(1.0, 2 * t))
    cx, cy = (ink[0] + ink[2]) / 2, (ink[1] + ink[3]) / 2
    frame = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    visible, position = _clip(scaled, w, h, cx - size[0] / 2, cy - size[1] / 2)
    frame.alpha_composite(visible, position)
    return frame


def _slide(image: Image.Image, t: float) -> Image.Image:
    """Rise a fifth of the box height into place, fading in."""
    w, h = image.size
    shift = round(h * 0.2 * (1 - _ease_out(t)))
    frame = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    frame.paste(_faded(image, _ease_out(t)).crop((0, 0, w, h - shift)), (0, shift))
    return frame


def _type_on(image: Image.Image, t: float) -> Image.Image:
    """Reveal the text line by line, left to right, as if typed."""
    alpha = np.asarray(image.getchannel("A"))
    lines = []
    for top, bottom in _ink_rows(alpha):
        columns = np.flatnonzero(alpha[top:bottom].any(axis=0))
        if columns.size:
            lines.append((top, bottom, int(columns[0]), int(columns[-1] - columns[0]) + 1))
    shown = t * sum(line[3] for line in lines)
    mask = np.zeros_like(alpha)
    for top, bottom, left, width in lines:
        reveal = int(min(width, max(0.0, shown)))
        mask[top:bottom, : left + reveal] = 255
        shown -= width
    frame = image.copy()
    frame.putalpha(Image.fromarray(np.minimum(alpha, mask)))
    return frame


def _ink_rows(alpha: np.ndarray) -> list[tuple[int, int]]:
    """Return the (top, bottom) row bands of the image's lines of text.

    Strokes, shadows, ascenders and descenders bleed across the gap between lines, so a gap is
    a run of rows with less than half the solid ink of the fullest rows above and below it (the
    holes of an "0" never get that low). Bands meet in the middle of each gap.
    """
    counts = (alpha > 200).sum(axis=1).astype(float)
    above, below = np.maximum.accumulate(counts), np.maximum.accumulate(counts[::-1])[::-1]
    gap = counts < GAP_SHARE * np.minimum(above, below)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], gap.astype(np.int8), [0]])))
    cuts = [0] + [(top + bottom) // 2 for top, bottom in zip(edges[::2], edges[1::2])] + [alpha.shape[0]]
    return list(zip(cuts, cuts[1:]))


def _faded(image: Image.Image, opacity: float) -> Image.Image:
    if opacity >= 1:
        return image
    faded = image.copy()
    faded.putalpha(image.getchannel("A").point(lambda a: round(a * opacity)))
    return faded


def _clip(image: Image.Image, w: int, h: int, x: float, y: float) -> tuple[Image.Image, tuple[int, int]]:
    """Crop `image` placed at (x, y) to a w x h frame; return the visible part and its position."""
    x, y = round(x), round(y)
    left, top = max(0, -x), max(0, -y)
    right, bottom = min(image.width, w - x), min(image.height, h - y)
    return image.crop((left, top, right, bottom)), (x + left, y + top)


_KINDS = {"pop": _pop, "slide": _slide, "type_on": _type_on}
KINDS = tuple(_KINDS)
