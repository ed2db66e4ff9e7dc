"""CSS values the manifest holds: colours, lengths, box shadows, and the box a layout places.

The manifest models validate with these parsers and the render engine draws with them, so
they sit below both.
"""

import colorsys
import math
import re
from dataclasses import dataclass

from PIL import ImageColor

RGBA = tuple[int, int, int, int]

_HEX = re.compile(r"#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})")
_FUNC = re.compile(r"(rgba?|hsla?)\((.*)\)")
_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?"
_COMPONENT = re.compile(rf"({_NUMBER})(%|deg|grad|rad|turn)?")
_LENGTH = re.compile(r"([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)(px|%)?", re.IGNORECASE)
_TURNS = {None: 1 / 360, "deg": 1 / 360, "grad": 1 / 400, "rad": 1 / (2 * math.pi), "turn": 1.0}


def parse_color(value: str) -> RGBA:
    """Return `value` (a CSS colour) as RGBA 0-255; raise ValueError if it is not one."""
    if not isinstance(value, str):
        raise ValueError(f"invalid colour {value!r}")
    text = value.strip().lower()
    try:
        if text == "transparent":
            return (0, 0, 0, 0)
        if text in ImageColor.colormap:
            return _hex(ImageColor.colormap[text][1:])
        if match := _HEX.fullmatch(text):
            return _hex(match.group(1))
        if match := _FUNC.fullmatch(text):
            return _functional(match.group(1), match.group(2))
    except ValueError:
        pass
    raise ValueError(f"invalid colour {value!r}")


def _hex(digits: str) -> RGBA:
    if len(digits) <= 4:
        digits = "".join(d * 2 for d in digits)
    channels = [int(digits[i : i + 2], 16) for i in range(0, len(digits), 2)]
    return tuple(channels + [255] * (4 - len(channels)))


def _functional(name: str, body: str) -> RGBA:
    """Parse the arguments of rgb()/rgba()/hsl()/hsla(), legacy comma or CSS4 space syntax."""
    if "," in body:
        parts = [p.strip() for p in body.split(",")]
    else:
        colour, slash, alpha = body.partition("/")
        parts = colour.split()
        if len(parts) != 3:
            raise ValueError
        parts += [alpha.strip()] if slash else []
    if len(parts) not in (3, 4):
        raise ValueError
    components = [_component(p) for p in parts]
    alpha = _alpha(*components[3]) if len(components) == 4 else 255
    if name.startswith("rgb"):
        rgb = [_channel(number, unit) for number, unit in components[:3]]
    else:
        rgb = _hsl(*components[:3])
    return (*rgb, alpha)


def _component(text: str) -> tuple[float, str | None]:
    match = _COMPONENT.fullmatch(text)
    if not match:
        raise ValueError
    return float(match.group(1)), match.group(2)


def _channel(number: float, unit: str | None) -> int:
    if unit == "%":
        number = number * 255 / 100
    elif unit is not None:
        raise ValueError
    return _byte(number / 255)


def _alpha(number: float, unit: str | None) -> int:
    if unit == "%":
        number /= 100
    elif unit is not None:
        raise ValueError
    return _byte(number)


def _hsl(hue: tuple[float, str | None], sat: tuple[float, str | None],
         light: tuple[float, str | None]) -> list[int]:
    if hue[1] == "%" or sat[1] != "%" or light[1] != "%":
        raise ValueError
    h = (hue[0] * _TURNS[hue[1]]) % 1.0
    s, l = (min(max(v / 100, 0.0), 1.0) for v in (sat[0], light[0]))
    return [_byte(c) for c in colorsys.hls_to_rgb(h, l, s)]


def _byte(fraction: float) -> int:
    """Scale 0-1 to 0-255, clamped, rounding halves up as browsers do."""
    return math.floor(min(max(fraction, 0.0), 1.0) * 255 + 0.5)


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


@dataclass(frozen=True)
class Box:
    x: int
    y: int
    w: int
    h: int


def layout_box(layout, width: int, height: int) -> Box:
    """Return the layout's box in output pixels (defaults: the full frame)."""
    x = parse_length(layout.x, width) if layout.x is not None else 0
    y = parse_length(layout.y, height) if layout.y is not None else 0
    w = parse_length(layout.width, width) if layout.width is not None else width
    h = parse_length(layout.height, height) if layout.height is not None else height
    return Box(round(x), round(y), max(2, round(w)), max(2, round(h)))
