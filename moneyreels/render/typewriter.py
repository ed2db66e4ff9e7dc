"""Typewriter: a text overlay revealed (or hidden again) line by line, left to right, as if typed.

The reveal is drawn with Pillow, one image per output frame while it moves, into the overlay's
own sprite track; the rest of the overlay's animations apply to that track as to any other.
"""

import numpy as np
from PIL import Image

from moneyreels.easing import Key, value_at

# Rows with less than this share of the solid ink of the lines around them are a gap between lines.
GAP_SHARE = 0.5


def typewriter_frames(image: Image.Image, reveals: list[list[Key]], start: float, end: float,
                      fps: float) -> list[tuple[float, float, Image.Image]]:
    """Return (start, end, image) spans of the overlay: partly typed while a reveal moves, whole otherwise.

    reveals are keyframe tracks of the share shown (0 to 1, times from the overlay's start);
    shown is their product. Frames showing the same share are one span.
    """
    spans = []
    for n in range(max(1, round((end - start) * fps))):
        shown = round(float(np.prod([value_at(keys, n / fps) for keys in reveals])), 4)
        first = start + n / fps
        if spans and spans[-1][2] == shown:
            spans[-1][1] = min(end, first + 1 / fps)
        else:
            spans.append([first, min(end, first + 1 / fps), shown])
    spans[-1][1] = end
    return [(first, last, image if shown >= 1 else typed(image, shown)) for first, last, shown in spans]


def typed(image: Image.Image, t: float) -> Image.Image:
    """Return the text with its first share t of ink revealed, line by line, left to right."""
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
