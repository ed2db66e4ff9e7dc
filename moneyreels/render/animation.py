"""Animate a layer's picture: enter/exit presets and keyframes, as per-frame filters in the graph.

Presets become keyframe tracks, so an entrance, an exit and the user's keyframes of one
property combine (opacity and scale multiply; x, y and rotation add). Every value is an
ffmpeg expression of the frame's time, evaluated once per frame by the filter that uses it:
opacity and wipes choose a window (`crop` offsets) of a small lookup picture that is then
stretched into the layer's alpha mask; blur shrinks and regrows the picture (`scale`
with `eval=frame`); rotation is `rotate`, scale a `scale` with `eval=frame`, and x and y the
overlay's position. Nothing is evaluated per pixel.
"""

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from moneyreels import easing
from moneyreels.easing import Key, keys_expr, keys_of, number
from moneyreels.manifest import Animation, Keyframes, VISUAL_PROPERTIES
from moneyreels.render.graph import DRAWN, Graph, save_drawn
from moneyreels.render.segments import merge_mask
from moneyreels.values import parse_length

POP_FROM = 0.3  # a pop grows from 30 % of its size
BACK_OUT = "cubic-bezier(0.34,1.56,0.64,1)"  # lands a little large and settles
BACK_IN = "cubic-bezier(0.36,0,0.66,-0.56)"  # draws back a little, then goes
BLUR_SHRINK = 24  # a fully blurred picture is shrunk to 1/24 of its size and grown back
SIDES = {"left": "x", "right": "x", "top": "y", "bottom": "y"}
REST = {"opacity": 1, "x": 0, "y": 0, "scale": 1, "rotation": 0, "blur": 0}  # values that leave a picture as it is


@dataclass(frozen=True)
class Moves:
    """A layer's animated properties: keyframe tracks, times from the layer's start."""

    tracks: dict[str, list[list[Key]]] = field(default_factory=dict)  # property -> tracks
    wipes: list[tuple[str, list[Key]]] = field(default_factory=list)  # (side the reveal starts from, share shown)

    def __bool__(self) -> bool:
        return bool(self.wipes or any(self.tracks.get(name) for name in (*VISUAL_PROPERTIES, "blur")))

    def get(self, name: str) -> list[list[Key]]:
        return self.tracks.get(name, [])

    def moving_spans(self) -> list[tuple[float, float]] | None:
        """Return the merged (start, end) times in which some value moves, or None if one never comes to rest.

        Outside these spans the picture is drawn as it is, so it needs no per-frame filters.
        """
        tracks = [(REST[name], keys) for name, group in self.tracks.items() if name in REST for keys in group]
        tracks += [(1, keys) for _, keys in self.wipes]
        if any(keys[0].value != rest or keys[-1].value != rest for rest, keys in tracks):
            return None
        spans = []
        for start, end in sorted((keys[0].time, keys[-1].time) for _, keys in tracks):
            if spans and start <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(spans[-1][1], end))
            else:
                spans.append((start, end))
        return spans


def plan_moves(entrance: Animation | None, exit_: Animation | None, keyframes: Keyframes | None,
               duration: float, box_w: int, box_h: int, fps: float) -> Moves:
    """Return the layer's tracks: its keyframes, then its entrance and exit as keyframes.

    An entrance starts on the layer's first frame and an exit ends on its last, so both
    show the whole way, from the first value to the last.
    """
    last = max(0.0, duration - 1 / fps)
    moves = Moves()
    for name in VISUAL_PROPERTIES:
        keys = getattr(keyframes, name, None) if keyframes else None
        if keys:
            moves.tracks.setdefault(name, []).append(keys_of(keys))
    for animation, leaving in ((entrance, False), (exit_, True)):
        if animation is None:
            continue
        length = max(min(animation.duration_seconds, last), 1e-3)
        for name, start, rest, curve, share in _preset(animation, leaving, box_w, box_h):
            span = length * share
            keys = ([Key(last - span, rest), Key(last, start, curve)] if leaving
                    else [Key(0.0, start), Key(span, rest, curve)])
            if name.startswith("wipe:"):
                moves.wipes.append((name[5:], keys))
            else:
                moves.tracks.setdefault(name, []).append(keys)
    return moves


def _preset(animation: Animation, leaving: bool, box_w: int, box_h: int) -> list[tuple]:
    """Return the entrance as (property, value it starts at, value at rest, curve, share of the duration)."""
    kind = animation.type
    spec = animation.easing or ((BACK_IN if leaving else BACK_OUT) if kind == "pop"
                                else ("ease-in" if leaving else "ease-out"))
    curve, linear = easing.parse(spec), easing.NAMED["linear"]
    if kind == "fade":
        return [("opacity", 0, 1, curve, 1)]
    if kind == "pop":
        return [("scale", POP_FROM, 1, curve, 1), ("opacity", 0, 1, linear, 0.5)]
    if kind == "scale":
        return [("scale", 0, 1, curve, 1)]
    if kind == "blur":
        return [("blur", 1, 0, curve, 1), ("opacity", 0, 1, linear, 0.5)]
    if kind == "typewriter":
        return [("reveal", 0, 1, curve, 1)]
    side = animation.direction or "left"
    if kind == "wipe":
        return [(f"wipe:{side}", 0, 1, curve, 1)]
    axis = SIDES[side]
    distance = parse_length(animation.distance if animation.distance is not None else "100%",
                            box_w if axis == "x" else box_h)
    offset = -distance if side in ("left", "top") else distance
    return [(axis, offset, 0, curve, 1)] + ([("opacity", 0, 1, curve, 1)] if animation.fade else [])


def _combined(tracks: list[list[Key]], t: str, product: bool) -> str:
    joiner = "*" if product else "+"
    return "(" + joiner.join(keys_expr(keys, t) for keys in tracks) + ")"


def animate_stream(g: Graph, label: str, w: int, h: int, alpha: bool, moves: Moves, frames: tuple[int, int],
                   work_dir: Path) -> str:
    """Return the stream with its opacity, wipes, blur, rotation and scale applied.

    The stream holds frames [first, end) of the layer, its pts counting frames from the layer's start.
    """
    label = _masked(g, label, w, h, alpha, moves, frames, work_dir)
    if moves.get("blur"):
        amount = f"clip({_combined(moves.get('blur'), 't', product=False)},0,1)"
        shrink = f"(1+{BLUR_SHRINK - 1}*{amount})"
        label = g.chain([label], [f"scale=w='max(2,round(iw/{shrink}))':h='max(2,round(ih/{shrink}))'"
                                  ":eval=frame:flags=area", f"scale={w}:{h}:flags=bicubic"])
    if moves.get("rotation"):
        side = -(-int(np.ceil(np.hypot(w, h))) // 2) * 2
        angle = _combined(moves.get("rotation"), "t", product=False)
        label = g.chain([label], ["format=yuva420p", f"rotate=a='{angle}*PI/180':ow={side}:oh={side}:c=black@0"])
    if moves.get("scale"):
        scale = _combined(moves.get("scale"), "t", product=True)
        label = g.chain([label], [f"scale=w='max(1,round(iw*{scale}))':h='max(1,round(ih*{scale}))'"
                                  ":eval=frame:flags=bilinear"])
    return label


def overlay_options(moves: Moves, x: int, y: int, w: int, h: int, start: float) -> str:
    """Return overlay's x, y (and enable) placing the animated stream: centred on its box's centre, offset by x and y."""
    t = f"(t-{number(start)})"
    if moves.get("scale") or moves.get("rotation"):
        left, top = f"{number(x + w / 2)}-overlay_w/2", f"{number(y + h / 2)}-overlay_h/2"
    else:
        left, top = str(x), str(y)
    if moves.get("x"):
        left += f"+{_combined(moves.get('x'), t, product=False)}"
    if moves.get("y"):
        top += f"+{_combined(moves.get('y'), t, product=False)}"
    options = f"x='{left}':y='{top}'"
    if moves.get("scale"):  # scaled to nothing, it is not a pixel-sized dot
        options += f":enable='gt({_combined(moves.get('scale'), t, product=True)},0.002)'"
    return options


def _masked(g: Graph, label: str, w: int, h: int, alpha: bool, moves: Moves, frames: tuple[int, int],
            work_dir: Path) -> str:
    """Multiply the stream's alpha by its opacity and wipes.

    The mask is a crop of a lookup picture: row r is opacity r/255, and along a wiped axis
    it is dark, then lit, then dark, each a box side long, so a box-sized window shows the
    share a wipe reveals. The crop's offsets are per-frame expressions; the crop is then
    stretched to the box. Wipes along both axes multiply two such masks.
    """
    opacity = moves.get("opacity")
    if not (opacity or moves.wipes):
        return label
    level = f"round(255*clip({_combined(opacity, 't', product=True)},0,1))" if opacity else "255"
    axes = [axis for axis in ("x", "y") if any(SIDES[side] == axis for side, _ in moves.wipes)] or [None]
    masks = []
    for i, axis in enumerate(axes):
        masks.append(_mask_stream(g, axis, w, h, level if i == 0 else "255", moves.wipes, frames, work_dir))
    mask = masks[0] if len(masks) == 1 else g.chain(masks, ["blend=all_mode=multiply"])
    return merge_mask(g, label, mask, alpha)


def _mask_stream(g: Graph, axis: str | None, w: int, h: int, level: str, wipes: list, frames: tuple[int, int],
                 work_dir: Path) -> str:
    """Return a gray w x h stream of frames [first, end): opacity `level`, revealed by the wipes along `axis`."""
    length = {"x": w, "y": h, None: 0}[axis]
    lit = np.zeros((256, 3 * length or 1), np.uint8)
    lit[:, length:2 * length or 1] = np.arange(256, dtype=np.uint8)[:, None]
    # At rest the window sits on the lit part (offset = length); a wipe shifts it by the share still hidden.
    shift = "+".join(f"{'+' if side in ('left', 'top') else '-'}{length}*(1-clip({keys_expr(keys, 't')},0,1))"
                     for side, keys in wipes if SIDES[side] == axis)
    offset = f"clip({length}{shift},0,{2 * length})" if shift else str(length)
    if axis == "y":
        lit, size, position = lit.T, f"1:{h}", f"x='{level}':y='{offset}'"
    else:
        size, position = (f"{w}:1" if axis else "1:1"), f"x='{offset}':y='{level}'"
    path = work_dir / f"lookup-{g.label('k')}{DRAWN}"
    save_drawn(Image.fromarray(np.ascontiguousarray(lit)), path)
    return g.chain([f"{g.still_input(path)}:v"], [
        "format=gray", f"loop=loop={frames[1] - frames[0] - 1}:size=1", f"settb={g.time_base}", f"setpts=N+{frames[0]}",
        f"crop={size}:{position}:exact=1", f"scale={w}:{h}:flags=neighbor"])
