"""Draw abstract background images locally, in an archetype's palette, with a panel for text.

Soft content (gradients, glows, blurred discs) is painted at a fraction of the output size and
upscaled, which keeps a 1080x1920 image well under the render budget; a fixed film grain is added
at full size so x264 does not band the smooth gradients.
"""

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from moneyreels.values import parse_color

STYLES = ("gradient", "shapes", "waves", "rays", "grid", "bokeh")
# How much smaller than the output each style is painted: sharp edges need more pixels.
_SCALE = {"gradient": 4, "shapes": 2, "waves": 2, "rays": 4, "grid": 2, "bokeh": 4}
_KEYWORDS = {
    "waves": "ocean water sea wave beach river lake rain flow surf",
    "bokeh": "space night star galaxy dream light party cosmos universe",
    "grid": "city tech technology digital future data network computer ai code cyber",
    "rays": "sun sunrise sunset energy idea power summer shine",
    "shapes": "abstract design art shape geometry pattern",
}
_STYLE_OF_WORD = {word: style for style, words in _KEYWORDS.items() for word in words.split()}
_DARK_WORDS = frozenset("space night dark galaxy star midnight cosmos universe".split())
GRAIN = 3.5  # standard deviation of the film grain, in 8-bit levels
JPEG_QUALITY = 90


@dataclass(frozen=True)
class Palette:
    """CSS colours: backgrounds (the first dominates), accents, and the text colour."""

    background: tuple[str, ...]
    accent: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class _Colours:
    """A palette as float RGB rows (0-255), ready for numpy blending."""

    background: np.ndarray  # (k, 3)
    accent: np.ndarray  # (m, 3)
    dark: bool = False  # a night scene: darkened backgrounds, stars

    @classmethod
    def of(cls, palette: Palette, dark: bool = False) -> "_Colours":
        background = _rgb(palette.background or ("#202030",))
        if len(background) == 1:
            background = np.vstack([background, background * 0.55])  # a gradient needs two stops
        if dark:
            background = background * 0.35
        return cls(background, _rgb(palette.accent or palette.background or ("#ffffff",)), dark)


def draw_art(prompt: str, palette: Palette, size: tuple[int, int], out_path: Path, *, seed: int,
             style: str | None = None) -> Path:
    """Draw an abstract image for `prompt` in the palette and save it (JPEG unless .png)."""
    style = style or style_for(prompt, seed)
    if style not in STYLES:
        raise ValueError(f"unknown art style {style!r}; choose one of {', '.join(STYLES)}")
    colours = _Colours.of(palette, dark=bool(_words(prompt) & _DARK_WORDS))
    image = _PAINTERS[style](colours, _work_size(size, _SCALE[style]), _rng(prompt, seed))
    return _save(_finish(image, size), Path(out_path))


def rotated(palette: Palette, n: int) -> Palette:
    """Return the palette with its colours rotated by n: the first colour dominates, so neighbours differ."""
    return Palette(_rotate(palette.background, n), _rotate(palette.accent, n), palette.text)


def draw_panel(kind: str, palette: Palette, size: tuple[int, int], out_path: Path) -> Path:
    """Draw a translucent dark shape for text to sit on (a card, a band or a spotlight) as an RGBA PNG.

    It is its own picture, laid over the scene's moving art, so the text and its panel never drift apart.
    """
    if kind not in PANELS:
        raise ValueError(f"unknown panel {kind!r}; choose one of {', '.join(PANELS)}")
    w, h = size
    c = _Colours.of(palette)
    shade = _mix(c.background.min(axis=0), (0, 0, 0), 0.7)
    accent = _int(c.accent[0])
    line = max(2, round(w * 0.008))
    mask = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(mask)
    if kind == "card":
        draw.rounded_rectangle((line, line, w - line, h - line), radius=w * 0.055, fill=175)
    elif kind == "band":
        draw.rectangle((0, 0, w, h), fill=185)
    else:
        soft = w * 0.05
        draw.ellipse((2 * soft, 2 * soft, w - 2 * soft, h - 2 * soft), fill=190)
        mask = mask.filter(ImageFilter.GaussianBlur(soft))
    panel = Image.new("RGBA", (w, h), (*shade, 0))
    panel.putalpha(mask)
    draw = ImageDraw.Draw(panel)
    if kind == "card":
        draw.rounded_rectangle((line // 2, line // 2, w - line // 2, h - line // 2), radius=w * 0.055,
                               outline=(*accent, 255), width=line)
    elif kind == "band":
        draw.rectangle((0, 0, 3 * line, h), fill=(*accent, 255))
        draw.rectangle((0, h - line, w, h), fill=(*accent, 255))
    return _save(panel, Path(out_path))


PANELS = ("card", "band", "spot")


def style_for(prompt: str, seed: int) -> str:
    """Return the style a keyword of the prompt asks for (alphabetically first), else one picked by the seed."""
    asked = sorted(_STYLE_OF_WORD[w] for w in _words(prompt) if w in _STYLE_OF_WORD)
    return asked[0] if asked else STYLES[_rng(prompt, seed).integers(len(STYLES))]


def draw_sequence(prompts: list[str], palette: Palette, size: tuple[int, int], out_dir: Path, *,
                  seed: int) -> list[Path]:
    """Draw one image per prompt; consecutive images differ in style and, when possible, dominant colour."""
    out_dir = Path(out_dir)
    paths, previous = [], None
    for i, prompt in enumerate(prompts):
        style = style_for(prompt, seed + i)
        if style == previous:
            others = [s for s in STYLES if s != previous]
            style = others[_rng(prompt, seed + i).integers(len(others))]
        # Rotating the palette puts a different colour first, and the first colour dominates.
        paths.append(draw_art(prompt, rotated(palette, i), size, out_dir / f"art-{i:03d}.jpg", seed=seed + i,
                              style=style))
        previous = style
    return paths


# --- painters: each returns an RGB image at the work size ---------------------------------------


def _paint_gradient(c: _Colours, size: tuple[int, int], rng: np.random.Generator, glows: int = 3) -> Image.Image:
    """Paint a mesh-like gradient: a linear blend of the backgrounds under soft accent glows."""
    canvas = _linear_gradient(c.background, size, rng)
    w, h = size
    for i in range(glows):
        _glow(canvas, rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.3, 0.6) * w,
              c.accent[i % len(c.accent)], rng.uniform(0.35, 0.6))
    return _image(canvas)


def _paint_shapes(c: _Colours, size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """Paint translucent circles, bars and triangles: a blurred back layer and a crisp front one."""
    w, h = size
    image = _image(_linear_gradient(c.background, size, rng))
    for layer, blur in ((10, w / 40), (6, w / 500)):
        draw = ImageDraw.Draw(image, "RGBA")
        for _ in range(layer):
            colour = _pick(rng, c.accent if rng.random() < 0.75 else c.background)
            fill = (*colour, int(rng.uniform(60, 150)))
            cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(0.08, 0.35) * w
            kind = rng.integers(3)
            if kind == 0:
                draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)
            else:
                corners = 4 if kind == 1 else 3
                angles = rng.uniform(0, 2 * np.pi) + np.arange(corners) * 2 * np.pi / corners
                stretch = rng.uniform(0.3, 1.0) if corners == 4 else 1.0
                draw.polygon([(cx + r * np.cos(a), cy + r * np.sin(a) * (stretch if k % 2 else 1))
                              for k, a in enumerate(angles)], fill=fill)
        image = image.filter(ImageFilter.GaussianBlur(blur))
    return image


def _paint_waves(c: _Colours, size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """Paint layered waves rising from the bottom, each band deeper in colour than the one behind."""
    w, h = size
    image = _image(_linear_gradient(c.background, size, rng))
    draw = ImageDraw.Draw(image, "RGBA")
    bands = int(rng.integers(4, 7))
    x = np.linspace(0, w, 90)
    deep = c.background.min(axis=0) * 0.6
    for i in range(bands):
        depth = i / (bands - 1)
        base = h * (0.35 + 0.55 * depth)
        phase, freq = rng.uniform(0, 2 * np.pi, 2), rng.uniform(1.0, 2.5, 2) * 2 * np.pi / w
        y = base + h * 0.03 * (np.sin(freq[0] * x + phase[0]) + 0.5 * np.sin(freq[1] * x + phase[1]))
        colour = _mix(c.accent[i % len(c.accent)], deep, 0.15 + 0.6 * depth)
        draw.polygon([*zip(x, y), (w, h), (0, h)], fill=(*colour, int(170 + 60 * depth)))
        draw.line(list(zip(x, y)), fill=(*_mix(colour, (255, 255, 255), 0.35), 120), width=max(1, w // 270))
    return image.filter(ImageFilter.GaussianBlur(0.8))  # anti-alias the edges before the upscale


def _paint_rays(c: _Colours, size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """Paint a sunburst: soft-edged rays around a glowing centre."""
    w, h = size
    canvas = _linear_gradient(c.background, size, rng)
    cx, cy = rng.uniform(0.25, 0.75) * w, rng.choice([0.2, 0.35, 0.8]) * h
    y, x = np.ogrid[:h, :w]
    angle = np.arctan2(y - cy, x - cx)
    rays = int(rng.integers(9, 18))
    stripes = 0.5 + 0.5 * np.tanh(4 * np.sin(rays * angle + rng.uniform(0, np.pi)))
    fade = np.exp(-np.hypot(x - cx, y - cy) / (0.9 * h))
    alpha = (0.35 * stripes * fade)[..., None]
    accent = c.accent[0]
    canvas += (accent - canvas) * alpha
    _glow(canvas, cx, cy, 0.25 * w, _mix(accent, (255, 255, 255), 0.5), 0.85)
    return _image(canvas)


def _paint_grid(c: _Colours, size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """Paint a retro perspective grid under a striped sun, the lines glowing."""
    w, h = size
    horizon = int(h * rng.uniform(0.5, 0.62))
    canvas = _linear_gradient(c.background, (w, horizon), rng, angle=np.pi / 2)
    sky = _image(canvas)
    ground = _int(c.background.min(axis=0) * 0.4)
    image = Image.new("RGB", size, ground)
    image.paste(sky, (0, 0))
    accent, second = c.accent[0], c.accent[-1]
    draw = ImageDraw.Draw(image, "RGBA")
    r, sx = w * rng.uniform(0.22, 0.32), w * rng.uniform(0.35, 0.65)
    sun = _mix(second, (255, 255, 255), 0.2)
    draw.ellipse((sx - r, horizon - 1.2 * r, sx + r, horizon + 0.8 * r), fill=sun)
    for k in range(5):  # the sun's cut-out stripes, wider towards the horizon
        top = horizon - r * 0.55 * (1 - k / 5)
        draw.rectangle((0, top, w, top + r * 0.03 * (k + 1)), fill=_int(canvas[min(int(top), horizon - 1), w // 2]))
    draw.rectangle((0, horizon, w, h), fill=ground)
    lines = Image.new("L", size, 0)
    pen = ImageDraw.Draw(lines)
    width = max(1, w // 300)
    for k in range(-12, 13):
        pen.line((sx + k * w * 0.02, horizon, sx + k * w * 0.22, h), fill=255, width=width)
    for k in range(1, 14):
        y = horizon + (h - horizon) * (k / 13) ** 2.2
        pen.line((0, y, w, y), fill=255, width=width)
    glow = lines.filter(ImageFilter.GaussianBlur(w / 120))
    tint = Image.new("RGB", size, _int(accent))
    image.paste(tint, (0, 0), ImageChops.add(glow, glow))
    image.paste(Image.new("RGB", size, _mix(accent, (255, 255, 255), 0.5)), (0, 0), lines)
    return image.filter(ImageFilter.GaussianBlur(0.6))


def _paint_bokeh(c: _Colours, size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """Paint out-of-focus lights: big faint discs far back, smaller brighter ones in front; stars at night."""
    w, h = size
    image = _paint_gradient(c, size, rng, glows=1)
    for count, radius, alpha, blur in ((18, (0.08, 0.2), (30, 70), w / 45), (14, (0.03, 0.09), (60, 140), w / 200)):
        draw = ImageDraw.Draw(image, "RGBA")
        for _ in range(count):
            x, y, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(*radius) * w
            colour = _mix(_pick(rng, c.accent), (255, 255, 255), rng.uniform(0, 0.4))
            draw.ellipse((x - r, y - r, x + r, y + r), fill=(*colour, int(rng.uniform(*alpha))))
        image = image.filter(ImageFilter.GaussianBlur(blur))
    if c.dark:
        draw = ImageDraw.Draw(image, "RGBA")
        for _ in range(int(rng.integers(80, 140))):
            draw.point((rng.uniform(0, w), rng.uniform(0, h)), fill=(255, 255, 255, int(rng.uniform(80, 255))))
    return image


_PAINTERS = {
    "gradient": _paint_gradient,
    "shapes": _paint_shapes,
    "waves": _paint_waves,
    "rays": _paint_rays,
    "grid": _paint_grid,
    "bokeh": _paint_bokeh,
}


# --- helpers ------------------------------------------------------------------------------------


def _linear_gradient(stops: np.ndarray, size: tuple[int, int], rng: np.random.Generator,
                     angle: float | None = None) -> np.ndarray:
    """Return an (h, w, 3) float gradient through `stops`, the first covering the most area."""
    w, h = size
    angle = rng.uniform(np.pi / 3, 2 * np.pi / 3) if angle is None else angle
    y, x = np.ogrid[:h, :w]
    t = (x - w / 2) * np.cos(angle) + (y - h / 2) * np.sin(angle)
    t = (t - t.min()) / (np.ptp(t) or 1)
    t = t**1.5  # stretch the first stop
    points = np.linspace(0, 1, len(stops))
    return np.stack([np.interp(t, points, stops[:, ch]) for ch in range(3)], axis=-1).astype(np.float32)


def _glow(canvas: np.ndarray, cx: float, cy: float, radius: float, colour, strength: float) -> None:
    """Blend a soft round glow of `colour` into the canvas in place."""
    h, w, _ = canvas.shape
    y, x = np.ogrid[:h, :w]
    alpha = strength * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / radius**2)
    canvas += (np.asarray(colour, np.float32) - canvas) * alpha[..., None].astype(np.float32)


def _finish(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Upscale to the output size and add film grain."""
    if image.size != tuple(size):
        image = image.resize(size, Image.Resampling.BICUBIC)
    return ImageChops.add(image, _grain(tuple(size)), offset=-128)


@lru_cache(maxsize=4)
def _grain(size: tuple[int, int]) -> Image.Image:
    """Return monochrome grain around mid-grey (128) as RGB; one pattern per size is enough."""
    noise = np.random.default_rng(0).normal(128, GRAIN, (size[1], size[0]))
    grey = Image.fromarray(np.clip(noise, 0, 255).astype(np.uint8))
    return Image.merge("RGB", (grey, grey, grey))


def _save(image: Image.Image, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".png":
        image.save(path, compress_level=3)  # level 6 (the default) triples the time for ~5% smaller files
    else:
        image.save(path, "JPEG", quality=JPEG_QUALITY)
    return path


def _rng(prompt: str, seed: int) -> np.random.Generator:
    """Return a generator seeded by the prompt and the seed (stable across runs, unlike hash())."""
    digest = hashlib.sha256(f"{seed}\0{prompt}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def _words(prompt: str) -> frozenset[str]:
    """Return the prompt's lower-case words, plurals folded ('stars' -> 'star')."""
    return frozenset(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
                     for w in re.findall(r"[a-z]+", prompt.lower()))


def _work_size(size: tuple[int, int], scale: int) -> tuple[int, int]:
    return max(1, round(size[0] / scale)), max(1, round(size[1] / scale))


def _rgb(colours: tuple[str, ...]) -> np.ndarray:
    return np.array([parse_color(c)[:3] for c in colours], np.float32)


def _pick(rng: np.random.Generator, colours: np.ndarray) -> tuple[int, int, int]:
    return _int(colours[rng.integers(len(colours))])


def _int(colour) -> tuple[int, int, int]:
    return tuple(int(round(v)) for v in colour)


def _mix(a, b, t: float) -> tuple[int, int, int]:
    """Return colour `a` moved a fraction `t` towards `b`."""
    return _int(x + (y - x) * t for x, y in zip(a, b))


def _rotate(values: tuple[str, ...], n: int) -> tuple[str, ...]:
    return values[n % len(values):] + values[: n % len(values)] if values else values


def _image(canvas: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8))
