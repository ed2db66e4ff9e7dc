"""Easing curves and keyframe interpolation, in Python and as ffmpeg expressions.

Every curve is a CSS cubic Bézier timing function; the named ones are CSS's own. Python and
ffmpeg evaluate it with the same bisection, so tests can compute what a render should show.
ffmpeg evaluates these expressions once per frame (overlay, crop, scale, rotate positions) or
per audio frame (volume), never per pixel, so a curve's solve costs next to nothing.
"""

import re
from dataclasses import dataclass

NAMED = {
    "linear": (0.0, 0.0, 1.0, 1.0),
    "ease": (0.25, 0.1, 0.25, 1.0),
    "ease-in": (0.42, 0.0, 1.0, 1.0),
    "ease-out": (0.0, 0.0, 0.58, 1.0),
    "ease-in-out": (0.42, 0.0, 0.58, 1.0),
    "ease_in_out": (0.42, 0.0, 0.58, 1.0),  # motion's spelling before the CSS names came
}
BISECTIONS = 20  # the curve's parameter to within 1e-6
MAX_OVERSHOOT = 5.0  # |y1|, |y2| of a cubic-bezier: enough for any bounce, bounded for the expressions
_NUMBER = r"\s*(-?(?:\d+\.?\d*|\.\d+))\s*"
_BEZIER = re.compile(rf"cubic-bezier\({_NUMBER},{_NUMBER},{_NUMBER},{_NUMBER}\)")

Curve = tuple[float, float, float, float]


def parse(spec: str) -> Curve:
    """Return the curve a name or `cubic-bezier(x1,y1,x2,y2)` stands for; raise ValueError."""
    if spec in NAMED:
        return NAMED[spec]
    match = _BEZIER.fullmatch(spec.strip())
    if not match:
        names = ", ".join(name for name in NAMED if name != "ease_in_out")
        raise ValueError(f"easing {spec!r} is not one of {names} or cubic-bezier(x1,y1,x2,y2)")
    x1, y1, x2, y2 = (float(value) for value in match.groups())
    if not (0 <= x1 <= 1 and 0 <= x2 <= 1):
        raise ValueError("cubic-bezier x1 and x2 must be between 0 and 1")
    if max(abs(y1), abs(y2)) > MAX_OVERSHOOT:
        raise ValueError(f"cubic-bezier y1 and y2 must be between -{MAX_OVERSHOOT:g} and {MAX_OVERSHOOT:g}")
    return x1, y1, x2, y2


def ease(curve: Curve, progress: float) -> float:
    """Return the eased value of progress (clipped to [0, 1])."""
    x1, y1, x2, y2 = curve
    p = min(1.0, max(0.0, progress))
    if curve == NAMED["linear"]:
        return p
    low, high = 0.0, 1.0
    for _ in range(BISECTIONS):
        mid = (low + high) / 2
        if _bezier(x1, x2, mid) > p:
            high = mid
        else:
            low = mid
    return _bezier(y1, y2, (low + high) / 2)


def _bezier(a: float, b: float, s: float) -> float:
    return 3 * a * s * (1 - s) * (1 - s) + 3 * b * s * s * (1 - s) + s * s * s


def ease_expr(curve: Curve, progress: str) -> str:
    """Return an ffmpeg expression of the eased value of the expression progress.

    It uses the expression variables 0 to 4 (st/ld), so one expression may hold several
    curves one after another but never one inside another.
    """
    p = f"clip({progress},0,1)"
    if curve == NAMED["linear"]:
        return p
    x1, y1, x2, y2 = (number(value) for value in curve)
    s = "ld(4)"
    x_of_s = _bezier_expr(x1, x2, s)
    solve = (f"st(0,{p});st(1,0);st(2,1);st(3,0);"
             f"while(lt(ld(3),{BISECTIONS}),st(4,(ld(1)+ld(2))/2);"
             f"if(gt({x_of_s},ld(0)),st(2,ld(4)),st(1,ld(4)));st(3,ld(3)+1));"
             f"st(4,(ld(1)+ld(2))/2);")
    return f"({solve}{_bezier_expr(y1, y2, s)})"


def number(value: float) -> str:
    """Format a number for an expression: fixed point (never an exponent), negatives in brackets."""
    text = f"{float(value):.6f}".rstrip("0").rstrip(".")
    if text in ("", "-0"):
        return "0"
    return f"({text})" if text.startswith("-") else text


def _bezier_expr(a: str, b: str, s: str) -> str:
    return f"(3*{a}*{s}*(1-{s})*(1-{s})+3*{b}*{s}*{s}*(1-{s})+{s}*{s}*{s})"


@dataclass(frozen=True)
class Key:
    """A value at a time; its curve shapes the way from the previous key to it."""

    time: float
    value: float
    curve: Curve = NAMED["linear"]


def keys_of(keyframes) -> list[Key]:
    """Return the Keys of manifest keyframes (anything with time, value and an easing name)."""
    return [Key(k.time, k.value, parse(k.easing)) for k in keyframes]


def value_at(keys: list[Key], t: float) -> float:
    """Return the keyframed value at time t: the first value before the first key, the last after the last."""
    if t < keys[0].time:
        return keys[0].value
    for before, after in zip(keys, keys[1:]):
        if t < after.time:
            progress = (t - before.time) / (after.time - before.time)
            return before.value + (after.value - before.value) * ease(after.curve, progress)
    return keys[-1].value


def keys_expr(keys: list[Key], t: str) -> str:
    """Return an ffmpeg expression of value_at(keys, t) for the time expression t.

    A sum of one term per segment, each zero outside its own time span: flat, so a hundred
    keyframes do not nest a hundred deep.
    """
    if all(key.value == keys[0].value for key in keys):
        return number(keys[0].value)
    terms = [f"lt({t},{number(keys[0].time)})*{number(keys[0].value)}"]
    for before, after in zip(keys, keys[1:]):
        span = after.time - before.time
        progress = f"({t}-{number(before.time)})/{number(span)}"
        change = after.value - before.value
        term = f"{number(before.value)}+{number(change)}*{ease_expr(after.curve, progress)}" if change \
            else number(before.value)
        terms.append(f"gte({t},{number(before.time)})*lt({t},{number(after.time)})*({term})")
    terms.append(f"gte({t},{number(keys[-1].time)})*{number(keys[-1].value)}")
    return "(" + "+".join(terms) + ")"
