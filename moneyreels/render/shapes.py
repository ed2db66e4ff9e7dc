"""Rounded-corner masks and box shadows for image layers."""

import math

from PIL import Image, ImageDraw, ImageFilter

from moneyreels.values import BoxShadow

SUPERSAMPLE = 4


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
