"""Turn one visual clip into a filter chain: fit, background, Ken Burns motion, opacity, corners.

Work is placed so it happens as rarely as possible: a still is fitted, blurred and masked once,
then `loop`ed; only motion runs per frame, and it zooms with `scale:eval=frame` plus a crop whose
offset is computed from `n` (zoompan is far slower).

Motion must move every frame by an even step. A pan moves in quarter pixels: before looping, the
still is drawn PAN_PHASES times, each copy shifted a further quarter pixel, and stacked; each
frame is then only a crop, at an even pixel of one copy (even: 4:2:0 chroma moves with the
luma). That is the picture shrinking a four-times-wide copy at every frame gave, without the
per-frame scaling (2 ms a frame at 1080x1920). A zoom scales to odd sizes too and crops
exactly, so its size changes every frame instead of every other one.
"""

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from moneyreels import easing
from moneyreels.manifest import Motion
from moneyreels.render import shapes
from moneyreels.render.graph import DRAWN, Graph, save_drawn
from moneyreels.render.timeline import Clip
from moneyreels.values import parse_box_shadow, parse_length

BLUR_DOWNSCALE = 16  # blur a 1/16 size copy, then upscale: same look, a fraction of the cost
PAN_SUPERSAMPLE = 4  # a pan moves in quarter pixels
PAN_PHASES = 2 * PAN_SUPERSAMPLE  # copies shifted 0, 1/4, ... 7/4 of a pixel: every position is an even pixel of one
PANS = ("pan_left", "pan_right")


@dataclass(frozen=True)
class Segment:
    labels: list[str]  # one stream per requested part of the clip
    input: int  # the ffmpeg input it reads, whose audio a video layer also contributes
    dx: int  # where the stream's top-left sits inside the layer box
    dy: int
    w: int
    h: int
    alpha: bool


@dataclass(frozen=True)
class Shadow:
    path: Path
    dx: int  # relative to the layer box's top-left
    dy: int


def even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def fitted_size(src_w: int, src_h: int, box_w: int, box_h: int, fit: str) -> tuple[int, int]:
    """Return the source's size scaled to cover or fit inside the box, aspect kept (to a pixel)."""
    scale = (max if fit == "cover" else min)(box_w / src_w, box_h / src_h)
    w, h = max(1, round(src_w * scale)), max(1, round(src_h * scale))
    # Within a pixel of the box counts as filling it, so no sliver of background shows.
    if abs(w - box_w) <= 1 and abs(h - box_h) <= 1 or fit == "cover":
        return max(w, box_w), max(h, box_h)
    # The side that does not fill the box is made even, so the bars around it can be too.
    return (box_w, min(box_h, even(h))) if abs(w - box_w) <= 1 else (min(box_w, even(w)), box_h)


def fills_box(clip: Clip) -> bool:
    """Return whether the clip's stream is an opaque picture of its whole box."""
    layer, info = clip.layer, clip.source.info
    fit = layer.layout.fit or "contain"
    w, h = fitted_size(info.width, info.height, clip.box.w, clip.box.h, fit)
    exact = (w, h) == (clip.box.w, clip.box.h) or fit == "cover"
    if exact:
        return not info.has_alpha
    return layer.background_mode != "transparent"


def is_plain(clip: Clip) -> bool:
    """Return whether the clip needs no mask, shadow or animation."""
    style = clip.layer.style
    return style.opacity >= 1 and not _radius(clip) and not style.box_shadow and not clip.layer.moves()


def build_segment(g: Graph, clip: Clip, parts: list[tuple[int, int]], work_dir: Path) -> Segment:
    """Add the clip's chains: one label per (first, end) range of its frames, each from pts 0.

    A run cuts a clip into parts around its transitions. A still gives each part its own `loop`
    of the one decoded frame, so no part's frames wait in a queue for another part to be used;
    a video's frames are made once, then split and trimmed.
    """
    layer, info, box = clip.layer, clip.source.info, clip.box
    motion = layer.motion if layer.motion is not None and layer.motion.type != "static" else None
    # Motion needs a picture bigger than the box to move over.
    target = (even(box.w * (1 + motion.intensity)), even(box.h * (1 + motion.intensity))) if motion else (box.w, box.h)
    index, label = _decode(g, clip, parts[-1][1])
    label, w, h, dx, dy, alpha = _fit(g, clip, label, target, pad_transparent=motion is not None)
    if not motion:  # before looping, so a still is masked once
        label, alpha = _mask(g, clip, label, w, h, alpha, work_dir)
    elif motion.type in PANS:  # before looping, so the shifted copies are made once
        label = _pan_phases(g, label, w, h, box.h)
    if info.is_still:
        labels = [g.chain([part], [f"loop=loop={end - first - 1}:size=1", f"settb={g.time_base}", "setpts=N"])
                  for part, (first, end) in zip(_split(g, label, len(parts)), parts)]
    else:
        labels = [label]
    if motion:  # only stills move
        frames = round(clip.duration * float(g.rate))
        labels = [g.chain([part], _motion_filters(motion, box.w, box.h, target[0], frames, first))
                  for part, (first, _) in zip(labels, parts)]
        w, h = box.w, box.h
        masked = [_mask(g, clip, part, w, h, alpha, work_dir) for part in labels]
        labels, alpha = [label for label, _ in masked], masked[0][1]
    # Scaling adjusts the sample aspect ratio; concat and xfade need every part at 1:1. Pin the
    # pixel format too: left open, negotiation lets xfade pull a whole video (through split)
    # to yuv444p, a full-frame conversion each way on every frame.
    pix_fmt = "yuva420p" if alpha else "yuv420p"
    labels = [g.chain([part], ["setsar=1", f"format={pix_fmt}"]) for part in labels]
    if not info.is_still and len(parts) > 1:
        labels = [g.chain([part], [f"trim=start_frame={first}:end_frame={end}", "setpts=PTS-STARTPTS"])
                  for part, (first, end) in zip(_split(g, labels[0], len(parts)), parts)]
    return Segment(labels, index, dx, dy, w, h, alpha)


def _pan_phases(g: Graph, label: str, w: int, h: int, rows: int) -> str:
    """Return the middle `rows` rows of the w x h picture as PAN_PHASES copies stacked top to bottom,
    copy p shifted p/4 pixel left.

    Copy p shrinks a four-times-wide copy from its pixel p on. Only copy 0 is ever shown at its
    last columns (a pan's far end is a whole even pixel), so the others are 2 pixels narrower,
    padded back to w: every copy keeps an even width. A pan never moves up or down, so only the
    rows it shows are kept. (A picture 2 pixels wide has nowhere to pan: all its copies are one.)
    """
    k = PAN_SUPERSAMPLE
    narrow = max(2, w - 2)
    wide = g.chain([label], [f"crop={w}:{rows}:0:{(h - rows) // 2}:exact=1", f"scale={k * w}:{rows}:flags=bicubic"])
    copies = [g.chain([part], [f"crop={k * w}:{rows}:0:0", f"scale={w}:{rows}:flags=area"]) if phase == 0 else
              g.chain([part], [f"crop={k * narrow}:{rows}:{min(phase, k * (w - narrow))}:0:exact=1",
                               f"scale={narrow}:{rows}:flags=area", f"pad={w}:{rows}"])
              for phase, part in enumerate(_split(g, wide, PAN_PHASES))]
    return g.chain(copies, [f"vstack=inputs={PAN_PHASES}"])


def _split(g: Graph, label: str, count: int) -> list[str]:
    if count == 1:
        return [label]
    outputs = [g.label("s") for _ in range(count)]
    g.chains.append(f"[{label}]split={count}" + "".join(f"[{out}]" for out in outputs))
    return outputs


def _decode(g: Graph, clip: Clip, frames: int) -> tuple[int, str]:
    """Add the clip's input; return its index and a label giving its frames from pts 0."""
    if clip.source.info.is_still:
        index = g.media_input(clip.source)
        return index, f"{index}:v"
    seconds = (frames + 1) / g.rate
    index = g.media_input(clip.source, seek=clip.trim, duration=seconds, loop=clip.layer.media_settings.loop)
    # Hold the last frame if the source runs out early; trim to the exact frame count.
    return index, g.chain([f"{index}:v"], ["setpts=PTS-STARTPTS", f"fps={g.rate}",
                                           "tpad=stop_mode=clone:stop=-1", f"trim=end_frame={frames}"])


def _fit(g: Graph, clip: Clip, label: str, target: tuple[int, int], pad_transparent: bool):
    """Fit the picture to target (w, h) with the layer's fit and background mode.

    Return (label, w, h, dx, dy, alpha): the stream's size, its offset inside the box (only a
    letterboxed transparent picture is smaller than the box), and whether it carries alpha.
    """
    layer, info = clip.layer, clip.source.info
    tw, th = target
    fit = layer.layout.fit or "contain"
    cw, ch = fitted_size(info.width, info.height, tw, th, fit)
    label = g.chain([label], [f"scale={cw}:{ch}:out_range=tv", f"format={'yuva420p' if info.has_alpha else 'yuv420p'}"])
    if fit == "cover":
        return g.chain([label], [f"crop={tw}:{th}"]), tw, th, 0, 0, info.has_alpha
    if (cw, ch) == (tw, th):
        return label, tw, th, 0, 0, info.has_alpha
    ox, oy = (tw - cw) // 2, (th - ch) // 2
    if layer.background_mode == "solid":
        return g.chain([label], [f"pad={tw}:{th}:{ox}:{oy}:black"]), tw, th, 0, 0, False
    if layer.background_mode == "blurred":
        return _over_blurred(g, label, (cw, ch), target, info.has_alpha), tw, th, 0, 0, False
    if pad_transparent:
        return g.chain([label], ["format=yuva420p", f"pad={tw}:{th}:{ox}:{oy}:color=black@0"]), tw, th, 0, 0, True
    return label, cw, ch, ox, oy, info.has_alpha


def draw_shadow(clip: Clip, w: int, h: int, work_dir: Path) -> Shadow | None:
    """Draw the clip's box shadow for a w x h visible area, faded by its opacity."""
    css = clip.layer.style.box_shadow
    shadow = parse_box_shadow(css) if css else None
    if shadow is None:
        return None
    image, dx, dy = shapes.draw_box_shadow(w, h, _radius(clip), shadow)
    if clip.layer.style.opacity < 1:
        image.putalpha(image.getchannel("A").point(lambda v: round(v * clip.layer.style.opacity)))
    path = work_dir / f"shadow-{clip.layer.id.encode().hex()[:40]}{DRAWN}"
    save_drawn(image, path)
    return Shadow(path, dx, dy)


def _radius(clip: Clip) -> float:
    value = clip.layer.style.border_radius
    return parse_length(value, min(clip.box.w, clip.box.h)) if value is not None else 0.0


def _over_blurred(g: Graph, label: str, size: tuple[int, int], target: tuple[int, int], alpha: bool) -> str:
    """Return the fitted picture (size) centred over a blurred, zoomed copy of itself filling target.

    The copy is blurred at 1/16 size. An opaque picture spans the target along one axis, so
    only the two bars are scaled up and stacked around it: no full-size copy, no alpha blend.
    """
    (cw, ch), (tw, th) = size, target
    fg, bg = g.label("fg"), g.label("bg")
    g.chains.append(f"[{label}]split[{fg}][{bg}]")
    # Even sizes: a 4:2:0 crop of odd (or 1 pixel) size leaves a chroma plane of size 0; and at
    # least 8, as boxblur refuses even radius 1 on a 4x4 picture (a logo's box in a small output).
    sw, sh = max(8, tw // BLUR_DOWNSCALE // 2 * 2), max(8, th // BLUR_DOWNSCALE // 2 * 2)
    radius = max(1, min(4, min(sw, sh) // 4 - 1))  # boxblur caps the radius by the chroma plane size
    small = g.chain([bg], [f"scale={sw}:{sh}:force_original_aspect_ratio=increase", f"crop={sw}:{sh}",
                           f"boxblur={radius}:2", "format=yuv420p"])
    vertical = cw == tw  # bars above and below, else left and right
    full, gap, small_full = (th, th - ch, sh) if vertical else (tw, tw - cw, sw)
    before = gap // 4 * 2
    # Stacking 4:2:0 pictures needs even sizes along the stack; otherwise blend over a full copy.
    if alpha or gap % 2 or (full - gap) % 2:
        blurred = g.chain([small], [f"scale={tw}:{th}"])
        return g.chain([blurred, fg], [f"overlay={(tw - cw) // 2}:{(th - ch) // 2}"])
    spans = [(start, length) for start, length in ((0, before), (full - (gap - before), gap - before)) if length]
    bars = []
    for copy, (start, length) in zip(_split(g, small, len(spans)), spans):
        slice_length = min(small_full, max(2, round(length * small_full / full / 2) * 2))
        slice_start = min(round(start * small_full / full / 2) * 2, small_full - slice_length)
        if vertical:
            filters = [f"crop={sw}:{slice_length}:0:{slice_start}", f"scale={tw}:{length}"]
        else:
            filters = [f"crop={slice_length}:{sh}:{slice_start}:0", f"scale={length}:{th}"]
        bars.append(g.chain([copy], filters))
    pieces = [bars[0], fg, bars[1]] if len(bars) == 2 else ([bars[0], fg] if before else [fg, bars[0]])
    return g.chain(pieces, [f"{'vstack' if vertical else 'hstack'}=inputs={len(pieces)}"])


def _mask(g: Graph, clip: Clip, label: str, w: int, h: int, alpha: bool, work_dir: Path) -> tuple[str, bool]:
    """Multiply the stream's alpha by a rounded-rectangle mask scaled by opacity."""
    opacity, radius = clip.layer.style.opacity, _radius(clip)
    if opacity >= 1 and not radius:
        return label, alpha
    mask = shapes.rounded_mask(w, h, radius) if radius else Image.new("L", (w, h), 255)
    if opacity < 1:
        mask = mask.point(lambda v: round(v * opacity))
    path = work_dir / f"mask-{g.label('m')}{DRAWN}"
    save_drawn(mask, path)
    mask_label = g.chain([f"{g.still_input(path)}:v"], ["format=gray"])
    return merge_mask(g, label, mask_label, alpha), True


def merge_mask(g: Graph, label: str, mask: str, alpha: bool) -> str:
    """Return the stream with its alpha multiplied by a gray mask stream of its size (its alpha, if it had none)."""
    if alpha:
        color, own = g.label("c"), g.label("a")
        g.chains.append(f"[{label}]split[{color}][{own}]")
        own = g.chain([own], ["alphaextract"])
        mask = g.chain([own, mask], ["blend=all_mode=multiply"])
        label = color
    return g.chain([label, mask], ["alphamerge"])


def _motion_filters(motion: Motion, bw: int, bh: int, tw: int, frames: int, first: int) -> list[str]:
    """Return per-frame filters moving a bw x bh window over a picture tw wide.

    The movement spans `frames` frames; this part starts at frame `first` of it. A pan's input
    is its PAN_PHASES shifted copies, bh high, stacked (_pan_phases); a zoom's is the picture.
    """
    progress = easing.ease_expr(easing.parse(motion.easing), f"(n+{first})/{max(1, frames - 1)}")
    kind, k = motion.type, PAN_SUPERSAMPLE
    if kind in PANS:
        along = progress if kind == "pan_right" else f"(1-{progress})"
        quarters = f"round({k * (tw - bw)}*{along})"  # how far the window has moved, in quarter pixels
        return [f"crop={bw}:{bh}:x='2*floor({quarters}/{PAN_PHASES})':y='mod({quarters},{PAN_PHASES})*{bh}'"]
    zoom = progress if kind == "zoom_in" else f"(1-{progress})"
    # Width and height at frame n; the crop recomputes them because its iw is fixed at configuration.
    sw = f"round({bw}*(1+{motion.intensity}*{zoom}))"
    sh = f"round({bh}*(1+{motion.intensity}*{zoom}))"
    # Bilinear: this runs every frame and only ever shrinks by under 1+intensity.
    return [f"scale=w='{sw}':h='{sh}':eval=frame:flags=bilinear",
            f"crop={bw}:{bh}:x='floor(({sw}-{bw})/2)':y='floor(({sh}-{bh})/2)':exact=1"]
