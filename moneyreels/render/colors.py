"""Parse CSS colour strings into RGBA tuples."""

import colorsys
import math
import re

from PIL import ImageColor

RGBA = tuple[int, int, int, int]

_HEX = re.compile(r"#([0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})")
_FUNC = re.compile(r"(rgba?|hsla?)\((.*)\)")
_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?"
_COMPONENT = re.compile(rf"({_NUMBER})(%|deg|grad|rad|turn)?")
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
