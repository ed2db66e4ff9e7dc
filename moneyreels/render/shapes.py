"""CSS lengths, rounded-corner masks and box shadows for image layers."""

import math
import re
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFilter

from moneyreels.render.colors import RGBA, parse_color

SUPERSAMPLE = 4
_LENGTH = re.compile(r"([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)(px|%)?", re.IGNORECASE)


def parse_length(value: str | int | float, reference: int) -> float:
    """Return a CSS length in pixels: '10%' of `reference`, '20px', '20' or 20."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number, unit = float(value), None
    elif isinstance(value, str) and (match := _LENGTH.fullmatch(value.strip())):
        number, unit = float(match.group(1)), match.group(2)
    else:
        raise ValueError(f"invalid length {value!r}; use pixels (20, '20px') or a percentage ('10%')")
    if not math.isfinite(number):
        raise ValueError(f"invalid length {value!r}")
    return number * reference / 100 if unit == "%" else number


def rounded_mask(w: int, h: int, radius: float) -> Image.Image:
    """Return an anti-aliased 'L' mask of a w x h box with rounded corners (255 inside)."""
    mask = Image.new("L", (w, h), 255)
    radius = min(max(radius, 0.0), min(w, h) / 2)
    size = math.ceil(radius)
    if size == 0:
        return mask
    # Only the corners need anti-aliasing: draw one at SUPERSAMPLE x and shrink it.
    big = Image.new("L", (size * SUPERSAMPLE, size * SUPERSAMPLE), 0)
    r = radius * SUPERSAMPLE
    ImageDraw.Draw(big).ellipse((big.width - r, big.height - r, big.width + r, big.height + r), fill=255)
    corner = big.reduce(SUPERSAMPLE)  # top-left corner: the circle's centre sits at its bottom-right
    mask.paste(corner, (0, 0))
    mask.paste(corner.transpose(Image.Transpose.FLIP_LEFT_RIGHT), (w - size, 0))
    mask.paste(corner.transpose(Image.Transpose.FLIP_TOP_BOTTOM), (0, h - size))
    mask.paste(corner.transpose(Image.Transpose.ROTATE_180), (w - size, h - size))
    return mask


@dataclass
class BoxShadow:
    offset_x: float
    offset_y: float
    blur: float
    spread: float
    color: RGBA


def parse_box_shadow(css: str) -> BoxShadow | None:
    """Parse a CSS box-shadow ('0 10px 30px rgba(0,0,0,0.5)'); None for 'none'.

    Only the first shadow of a comma-separated list is used. Unitless numbers are
    accepted as pixels; a missing colour is black (CSS would use currentColor).
    """
    if not isinstance(css, str) or not css.strip():
        raise ValueError(f"invalid box_shadow {css!r}")
    first = _split_top_level(" ".join(css.split()), ",")[0]
    if first.lower() == "none":
        return None
    lengths, colours = [], []
    for token in _split_top_level(first, " "):
        if token.lower() == "inset":
            raise ValueError("box_shadow: inset shadows are not supported")
        if (match := _LENGTH.fullmatch(token)) and match.group(2) != "%":
            lengths.append(float(match.group(1)))
            continue
        try:
            colours.append(parse_color(token))
        except ValueError:
            raise ValueError(f"box_shadow: {token!r} is neither a px length nor a colour") from None
    if not 2 <= len(lengths) <= 4 or len(colours) > 1:
        raise ValueError(f"invalid box_shadow {css!r}; expected '<x> <y> [blur] [spread] [colour]'")
    x, y, blur, spread = lengths + [0.0] * (4 - len(lengths))
    if blur < 0:
        raise ValueError(f"invalid box_shadow {css!r}: blur must not be negative")
    return BoxShadow(x, y, blur, spread, colours[0] if colours else (0, 0, 0, 255))


def draw_box_shadow(w: int, h: int, radius: float, shadow: BoxShadow) -> tuple[Image.Image, int, int]:
    """Draw the shadow of a w x h box with corner `radius`.

    Return the RGBA shadow and (dx, dy): where its top-left goes relative to the
    box's top-left.
    """
    sigma = shadow.blur / 2  # a CSS blur radius is about twice the Gaussian sigma
    margin = math.ceil(3 * sigma)
    spread = shadow.spread
    shape_w, shape_h = max(round(w + 2 * spread), 0), max(round(h + 2 * spread), 0)
    canvas = Image.new("L", (shape_w + 2 * margin, shape_h + 2 * margin), 0)
    if shape_w and shape_h:
        canvas.paste(rounded_mask(shape_w, shape_h, max(radius + spread, 0) if radius else 0), (margin, margin))
    if sigma:
        canvas = canvas.filter(ImageFilter.GaussianBlur(sigma))
    alpha = shadow.color[3]
    image = Image.new("RGBA", canvas.size, shadow.color[:3] + (0,))
    image.putalpha(canvas if alpha == 255 else canvas.point(lambda v: v * alpha // 255))
    dx = round(shadow.offset_x - (shape_w - w) / 2) - margin
    dy = round(shadow.offset_y - (shape_h - h) / 2) - margin
    return image, dx, dy


def _split_top_level(text: str, separator: str) -> list[str]:
    """Split on `separator` outside parentheses, so 'rgba(0, 0, 0, .5)' stays whole."""
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if ch == separator and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p.strip() for p in parts if p.strip()] or [""]
