"""Draw the xfade transitions that are an edge sweeping over a fixed field as a moving mask.

In many of xfade's transitions the old picture's weight at a pixel is a curve (a smoothstep, or
a hard edge) of `field(x, y) + offset(progress)`: a circle's distance from the centre, a clock
hand's angle, a wipe's column, a dissolve's per-pixel noise; for a slice, the progress at which
the pixel switches. xfade computes that for every pixel of every frame in 4:4:4 (a sine per pixel
for `dissolve`), with a conversion from 4:2:0 and back around it: 6-49 ms a frame at 1080x1920
(a hard wipe, a radial), on the one filter thread.

Here the field is computed once, in numpy, as the luma of a one-frame Y4M. Each frame `hue`
shifts it by the frame's offset (a per-frame brightness is a shift of the luma table), a static
`lut` applies the curve, and the result is the incoming picture's alpha for an `overlay`, which
averages it over each 2x2 block for the chroma as xfade's 4:2:0 output does: 4-7 ms a frame,
within 3 luma levels of xfade's pictures (tests/render/test_sweeps.py compares them).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from moneyreels.render.graph import Graph

LEVELS = 254  # the field's top level: hue's brightness reaches a shift of +-254 levels, not 255
EDGE = 127  # the level a hard edge sits at, mid-way so that shifts either way stay in range


@dataclass(frozen=True)
class Sweep:
    """Old picture's weight = curve(scale * field + offset(progress)), progress going 1 -> 0.

    field maps the pixel indices (x, y) of a w x h picture to [0, 1]. The curve is a smoothstep
    from 0 to 1 (smooth), `rising` saying the old picture's weight is the curve itself, else 1
    minus it; or a hard edge: the old picture while scale * field + offset >= 0.
    """

    field: Callable[[np.ndarray, np.ndarray, int, int], np.ndarray]
    offset: Callable[[float], float]
    smooth: bool = True
    rising: bool = False
    scale: float = 1.0


def _distance(x, y, w, h):
    return np.hypot(x - w // 2, y - h // 2) / math.hypot(w // 2, h // 2)


def _angle(x, y, w, h):
    return (np.arctan2(x - w // 2, y - h // 2) + math.pi) / (2 * math.pi)


def _noise(x, y, w, h):
    """xfade's frand: the fraction of a big multiple of a sine, in single precision."""
    v = np.sin(x.astype(np.float32) * np.float32(12.9898) + y.astype(np.float32) * np.float32(78.233))
    v = v * np.float32(43758.545)
    return v - np.floor(v)


def _sliced(along):
    """Return the field of xfade's slices along a coordinate: the progress at which a pixel switches, upside down.

    A pixel at `a` (0..1 along the slices' direction) keeps the old picture while
    smoothstep(-0.5, 0, a - 1.5 * progress) <= fract(10 * a): inverting the smoothstep, while
    progress >= (a - t) / 1.5, t being where it reaches fract(10 * a).
    """
    def field(x, y, w, h):
        a = along(x, y, w, h)
        level = 10 * a - np.floor(10 * a)
        t = -0.5 + 0.5 * (0.5 - np.sin(np.arcsin(1 - 2 * level) / 3))  # smoothstep's inverse
        return 1 - (a - t) / 1.5
    return field


def _wind(along, rows: bool):
    """Return the field of xfade's winds: a soft edge along a coordinate, ragged by a noise per row (or column).

    xfade's old picture weighs 1 - smoothstep(0, -0.2, 0.8 * a + 0.2 * noise - 1.2 * (1 - progress)),
    which is 1 - smoothstep(0, 1, 5 * field + 1 - 6 * progress) for this field.
    """
    def field(x, y, w, h):
        noise = _noise(0 * x, y, w, h) if rows else _noise(x, 0 * y, w, h)
        return 1 - (4 * along(x, y, w, h) + noise) / 5
    return field


def _edge(p: float) -> float:
    """The offset of xfade's soft edges: it sweeps the whole field while progress goes 1 -> 0."""
    return 1 - 2 * p


def _hard(field) -> Sweep:
    """A hard edge: the old picture stays while field + progress - 1 >= 0."""
    return Sweep(field, lambda p: p - 1, smooth=False)


def _corner(a, b):
    """A corner wipe's field: the smaller of its two sides' (old while both edges have not passed)."""
    return lambda x, y, w, h: np.minimum(a(x, y, w, h), b(x, y, w, h))


# A side wipe's field: the share of the picture its edge has still to cross.
_SIDES = {"left": lambda x, y, w, h: 1 - x / w, "right": lambda x, y, w, h: x / w,
          "up": lambda x, y, w, h: 1 - y / h, "down": lambda x, y, w, h: y / h}
# How far along the picture a pixel is, from an edge: soft edges and slices move along these.
_FROM = {"left": lambda x, y, w, h: x / w, "right": lambda x, y, w, h: (w - 1 - x) / w,
         "top": lambda x, y, w, h: y / h, "bottom": lambda x, y, w, h: (h - 1 - y) / h}

# Formulas as vf_xfade.c has them (FFmpeg 7-9); x and y are pixel indices there.
SWEEPS: dict[str, Sweep] = {
    "circleopen": Sweep(_distance, lambda p: (p - 0.5) * 3, rising=True),
    "circleclose": Sweep(_distance, lambda p: (0.5 - p) * 3),
    "radial": Sweep(_angle, lambda p: -math.pi - (p - 0.5) * 2.5 * math.pi, scale=2 * math.pi),
    "smoothleft": Sweep(_FROM["left"], _edge),
    "smoothright": Sweep(_FROM["right"], _edge),
    "smoothup": Sweep(_FROM["top"], _edge),
    "smoothdown": Sweep(_FROM["bottom"], _edge),
    "vertopen": Sweep(lambda x, y, w, h: 1 - np.abs(x - w / 2) / (w / 2), _edge),
    "vertclose": Sweep(lambda x, y, w, h: np.abs(x - w / 2) / (w / 2), _edge),
    "horzopen": Sweep(lambda x, y, w, h: 1 - np.abs(y - h / 2) / (h / 2), _edge),
    "horzclose": Sweep(lambda x, y, w, h: np.abs(y - h / 2) / (h / 2), _edge),
    "diagtl": Sweep(lambda x, y, w, h: x / w * y / h, _edge),
    "diagtr": Sweep(lambda x, y, w, h: (w - 1 - x) / w * y / h, _edge),
    "diagbl": Sweep(lambda x, y, w, h: x / w * (h - 1 - y) / h, _edge),
    "diagbr": Sweep(lambda x, y, w, h: (w - 1 - x) / w * (h - 1 - y) / h, _edge),
    **{name: Sweep(_wind(_SIDES[side], rows=side in ("left", "right")), lambda p: 1 - 6 * p, scale=5)
       for name, side in (("hlwind", "left"), ("hrwind", "right"), ("vuwind", "up"), ("vdwind", "down"))},
    "dissolve": _hard(_noise),
    **{f"wipe{side}": _hard(field) for side, field in _SIDES.items()},
    **{f"wipe{v}{h}": _hard(_corner(_SIDES[side], _SIDES[top])) for v, top in (("t", "up"), ("b", "down"))
       for h, side in (("l", "left"), ("r", "right"))},
    **{name: _hard(_sliced(_FROM[edge])) for name, edge in
       (("hlslice", "left"), ("hrslice", "right"), ("vuslice", "top"), ("vdslice", "bottom"))},
}


def sweep(g: Graph, name: str, outgoing: str, incoming: str, frames: int, w: int, h: int, work_dir: Path) -> str:
    """Blend two opaque yuv420p parts of `frames` frames (pts from 0) as xfade's `name` would."""
    kind = SWEEPS[name]
    field = _field_file(kind, name, w, h, work_dir)
    mask = g.chain([g.frame_input(field)], [
        f"loop=loop={frames - 1}:size=1", f"settb={g.time_base}", "setpts=N",
        f"hue=b='(clip({_shift(kind, frames)},-{LEVELS},{LEVELS})+0.5)/25.5'",  # hue adds 25.5 levels per unit
        "extractplanes=y", f"lut=c0='{_curve(kind)}'"])
    shown = g.chain([g.chain([incoming], ["format=yuva420p"]), mask], ["alphamerge"])
    return g.chain([outgoing, shown], ["overlay=format=yuv420"])


def _shift(kind: Sweep, frames: int) -> str:
    """Return the per-frame shift of the field's levels, as an expression of the frame number n.

    Frame n has progress 1 - n/frames, as in xfade; the offset is linear in progress.
    """
    first, step = kind.offset(1.0), kind.offset(1.0 - 1 / frames) - kind.offset(1.0)
    per_level = LEVELS / kind.scale
    if kind.smooth:  # level v then stands for scale * v / LEVELS on the curve's axis
        return f"floor({first * per_level!r}+{step * per_level!r}*n+0.5)"
    # A level reaches EDGE exactly when scale * field + offset >= 0.
    return f"{EDGE}-ceil({-first * per_level!r}+{-step * per_level!r}*n)"


def _curve(kind: Sweep) -> str:
    """Return the lut expression from a shifted level to the incoming picture's alpha."""
    if not kind.smooth:
        return f"255*lt(val,{EDGE})"
    smoothstep = "255*ld(0)*ld(0)*(3-2*ld(0))"
    return f"st(0,clip(val*{kind.scale / LEVELS!r},0,1));{'255-' if kind.rising else ''}{smoothstep}"


def _field_file(kind: Sweep, name: str, w: int, h: int, work_dir: Path) -> Path:
    """Write the field at w x h as the luma of a one-frame Y4M (once per render); return its path."""
    path = work_dir / f"sweep-{name}-{w}x{h}.y4m"
    if not path.exists():
        y, x = np.mgrid[0:h, 0:w].astype(np.float32)
        levels = np.clip(np.rint(kind.field(x, y, w, h) * LEVELS), 0, LEVELS).astype(np.uint8)
        chroma = bytes([128]) * (2 * ((w + 1) // 2) * ((h + 1) // 2))
        path.write_bytes(f"YUV4MPEG2 W{w} H{h} F25:1 Ip A1:1 C420jpeg\nFRAME\n".encode() + levels.tobytes() + chroma)
    return path
