"""Turn one visual clip into a filter chain: fit, background, Ken Burns motion, opacity, corners.

Work is placed so it happens as rarely as possible: a still is fitted, blurred and masked once,
then `loop`ed; only motion runs per frame, and it zooms with `scale:eval=frame` plus a crop whose
offset is computed from `n` (zoompan is far slower).
"""

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from moneyreels.render import shapes
from moneyreels.render.graph import Graph
from moneyreels.render.timeline import Clip

BLUR_DOWNSCALE = 16  # blur a 1/16 size copy, then upscale: same look, a fraction of the cost


@dataclass(frozen=True)
class Segment:
    label: str
    input: int  # the ffmpeg input it reads, whose audio a video layer also contributes
    frames: int
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
    """Return the source's size scaled to cover or fit inside the box, aspect kept."""
    scale = (max if fit == "cover" else min)(box_w / src_w, box_h / src_h)
    w, h = max(1, round(src_w * scale)), max(1, round(src_h * scale))
    # Within a pixel of the box counts as filling it, so no sliver of background shows.
    if abs(w - box_w) <= 1 and abs(h - box_h) <= 1 or fit == "cover":
        return max(w, box_w), max(h, box_h)
    return w, h


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
    """Return whether the clip needs no mask or shadow."""
    style = clip.layer.style
    return style.opacity >= 1 and not _radius(clip) and not style.box_shadow


def build_segment(g: Graph, clip: Clip, frames: int, work_dir: Path) -> Segment:
    """Add the chain for clip, `frames` frames long from pts 0."""
    layer, info, box = clip.layer, clip.source.info, clip.box
    motion = layer.motion if layer.motion is not None and layer.motion.type != "static" else None
    # Motion needs a picture bigger than the box to move over.
    target = (even(box.w * (1 + motion.intensity)), even(box.h * (1 + motion.intensity))) if motion else (box.w, box.h)
    index, label = _decode(g, clip, frames)
    label, w, h, dx, dy, alpha = _fit(g, clip, label, target, pad_transparent=motion is not None)
    if info.is_still:
        if not motion:  # a still's mask is applied once, before looping
            label, alpha = _mask(g, clip, label, w, h, alpha, work_dir)
        label = g.chain([label], [f"loop=loop={frames - 1}:size=1", f"settb={g.time_base}", "setpts=N"])
    if motion:
        label = g.chain([label], _motion_filters(motion.type, motion.intensity, box.w, box.h, *target,
                                                 round(clip.duration * float(g.rate))))
        w, h = box.w, box.h
    if not info.is_still or motion:
        label, alpha = _mask(g, clip, label, w, h, alpha, work_dir)
    # Scaling adjusts the sample aspect ratio; concat and xfade need every segment at 1:1.
    label = g.chain([label], ["setsar=1"])
    return Segment(label, index, frames, dx, dy, w, h, alpha)


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
        return _over_blurred(g, label, tw, th, ox, oy), tw, th, 0, 0, False
    if pad_transparent:
        return g.chain([label], ["format=yuva420p", f"pad={tw}:{th}:{ox}:{oy}:color=black@0"]), tw, th, 0, 0, True
    return label, cw, ch, ox, oy, info.has_alpha


def draw_shadow(clip: Clip, w: int, h: int, work_dir: Path) -> Shadow | None:
    """Draw the clip's box shadow for a w x h visible area, faded by its opacity."""
    css = clip.layer.style.box_shadow
    shadow = shapes.parse_box_shadow(css) if css else None
    if shadow is None:
        return None
    image, dx, dy = shapes.draw_box_shadow(w, h, _radius(clip), shadow)
    if clip.layer.style.opacity < 1:
        image.putalpha(image.getchannel("A").point(lambda v: round(v * clip.layer.style.opacity)))
    path = work_dir / f"shadow-{clip.layer.id.encode().hex()[:40]}.png"
    image.save(path, compress_level=1)
    return Shadow(path, dx, dy)


def _radius(clip: Clip) -> float:
    value = clip.layer.style.border_radius
    return shapes.parse_length(value, min(clip.box.w, clip.box.h)) if value is not None else 0.0


def _over_blurred(g: Graph, label: str, tw: int, th: int, ox: int, oy: int) -> str:
    """Return label laid over a blurred, zoomed copy of itself filling tw x th."""
    fg, bg = g.label("fg"), g.label("bg")
    g.chains.append(f"[{label}]split[{fg}][{bg}]")
    sw, sh = max(4, tw // BLUR_DOWNSCALE), max(4, th // BLUR_DOWNSCALE)
    radius = max(1, min(4, min(sw, sh) // 4 - 1))  # boxblur caps the radius by the chroma plane size
    blurred = g.chain([bg], [f"scale={sw}:{sh}:force_original_aspect_ratio=increase", f"crop={sw}:{sh}",
                             f"boxblur={radius}:2", f"scale={tw}:{th}", "format=yuv420p"])
    return g.chain([blurred, fg], [f"overlay={ox}:{oy}"])


def _mask(g: Graph, clip: Clip, label: str, w: int, h: int, alpha: bool, work_dir: Path) -> tuple[str, bool]:
    """Multiply the stream's alpha by a rounded-rectangle mask scaled by opacity."""
    opacity, radius = clip.layer.style.opacity, _radius(clip)
    if opacity >= 1 and not radius:
        return label, alpha
    mask = shapes.rounded_mask(w, h, radius) if radius else Image.new("L", (w, h), 255)
    if opacity < 1:
        mask = mask.point(lambda v: round(v * opacity))
    path = work_dir / f"mask-{g.label('m')}.png"
    mask.save(path, compress_level=1)
    mask_label = g.chain([f"{g.still_input(path)}:v"], ["format=gray"])
    if alpha:
        color, own = g.label("c"), g.label("a")
        g.chains.append(f"[{label}]split[{color}][{own}]")
        own = g.chain([own], ["alphaextract"])
        mask_label = g.chain([own, mask_label], ["blend=all_mode=multiply"])
        label = color
    return g.chain([label, mask_label], ["alphamerge"]), True


def _motion_filters(kind: str, intensity: float, bw: int, bh: int, tw: int, th: int, frames: int) -> list[str]:
    """Return per-frame filters moving a bw x bh window over a tw x th picture."""
    progress = f"min(n/{max(1, frames - 1)},1)"
    if kind in ("pan_left", "pan_right"):
        along = progress if kind == "pan_right" else f"(1-{progress})"
        return [f"crop={bw}:{bh}:x='{tw - bw}*{along}':y={(th - bh) // 2}"]
    zoom = progress if kind == "zoom_in" else f"(1-{progress})"
    # Width and height at frame n; the crop recomputes them because its iw is fixed at configuration.
    sw = f"2*ceil({bw}*(1+{intensity}*{zoom})/2)"
    sh = f"2*ceil({bh}*(1+{intensity}*{zoom})/2)"
    # Bilinear: this runs every frame and only ever shrinks by under 1+intensity.
    return [f"scale=w='{sw}':h='{sh}':eval=frame:flags=bilinear",
            f"crop={bw}:{bh}:x='({sw}-{bw})/2':y='({sh}-{bh})/2'"]
