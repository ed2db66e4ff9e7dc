"""Where captions go: position presets inside a platform's safe area, clear of its own buttons."""

from dataclasses import dataclass

from moneyreels.manifest import Layout
from moneyreels.values import Box


@dataclass(frozen=True)
class Insets:
    """Fractions of the frame the platform's interface covers on each side."""

    top: float
    bottom: float
    left: float
    right: float


# From the platforms' safe-zone guides for 9:16: the caption and account text sit in the bottom
# ~20%, the like/comment/share column in the right ~12-15%, status and tabs along the top.
SAFE_AREAS = {
    "tiktok": Insets(top=0.08, bottom=0.20, left=0.05, right=0.15),
    "instagram": Insets(top=0.12, bottom=0.22, left=0.05, right=0.12),
    "youtube_shorts": Insets(top=0.08, bottom=0.20, left=0.05, right=0.15),
}
NO_PLATFORM = Insets(top=0.05, bottom=0.05, left=0.05, right=0.05)
LEGACY_LAYOUT = Layout(x="5%", y="65%", width="90%", height="20%")  # before presets; clear of titles
BOX_HEIGHT = 0.18  # of the frame: two lines of large caption text with room for pops and bounces
CENTRES = {"upper_third": 0.30, "center": 0.50, "lower_third": 0.68}  # vertical centre of the box


def caption_layout(position: str | None, safe_area: str | None) -> Layout:
    """Return the caption box for a preset, in percent of the frame, inside the safe area.

    The box is centred horizontally with the larger side inset on both sides, so captions stay
    in the middle of the picture and clear of the button column.
    """
    if position is None and safe_area is None:
        return LEGACY_LAYOUT
    insets = SAFE_AREAS.get(safe_area, NO_PLATFORM)
    side = max(insets.left, insets.right)
    bottom = 1 - insets.bottom
    if position == "safe_bottom":
        top = bottom - BOX_HEIGHT
    else:
        top = CENTRES[position or "lower_third"] - BOX_HEIGHT / 2
    top = min(max(top, insets.top), bottom - BOX_HEIGHT)
    return Layout(x=_percent(side), y=_percent(top), width=_percent(1 - 2 * side), height=_percent(BOX_HEIGHT))


def clamp(box: Box, safe_area: str | None, width: int, height: int) -> Box:
    """Shrink the box to the platform's safe area (unchanged without one)."""
    if safe_area is None:
        return box
    insets = SAFE_AREAS[safe_area]
    left, top = round(insets.left * width), round(insets.top * height)
    right, bottom = round((1 - insets.right) * width), round((1 - insets.bottom) * height)
    x0, y0 = min(max(box.x, left), right - 2), min(max(box.y, top), bottom - 2)
    x1, y1 = max(min(box.x + box.w, right), x0 + 2), max(min(box.y + box.h, bottom), y0 + 2)
    return Box(x0, y0, x1 - x0, y1 - y0)


def _percent(fraction: float) -> str:
    return f"{fraction * 100:.4g}%"
