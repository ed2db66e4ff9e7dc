"""Draw styled text boxes as RGBA images; lay out and draw the text of caption pages.

Layout (wrap, shrink-to-fit, alignment, word order) happens once per text in
`_layout`; drawing turns a layout into alpha masks and colours them. Masks are
drawn in 'L' mode and coloured afterwards because drawing anti-aliased text
straight onto a transparent RGBA image darkens its edges.
"""

import math
import unicodedata
from dataclasses import dataclass, fields

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from moneyreels.render import fonts
from moneyreels.values import RGBA, parse_color

ALIGNMENTS = ("left", "center", "right", "justify")
MIN_FONT_SIZE = 8.0
SHRINK_STEP = 0.9


@dataclass
class TextStyle:
    """Reel Forge text style keys (snake_case), with its defaults."""

    font_size: float = 64
    font_family: str | None = None
    font_weight: int = 400
    color: str = "white"
    text_align: str = "center"
    letter_spacing: float = 0
    line_height: float = 1.2
    stroke_color: str | None = None
    stroke_width: float = 0
    shadow_color: str | None = None
    shadow_blur: float = 0
    shadow_offset_x: float = 0
    shadow_offset_y: float = 0

    @classmethod
    def from_dict(cls, d: dict) -> "TextStyle":
        """Build a style from a request's style object; None means 'use the default'."""
        known = {f.name for f in fields(cls)}
        if unknown := sorted(set(d) - known):
            raise ValueError(f"style: unknown key {', '.join(map(repr, unknown))}")
        return cls(**{k: v for k, v in d.items() if v is not None})


@dataclass
class DrawnText:
    image: Image.Image
    warnings: list[str]


def draw_text(content: str, style: TextStyle, width: int, height: int) -> DrawnText:
    """Draw `content` wrapped, aligned and vertically centred in a transparent width x height image."""
    paint = _paint(style)
    _check_box(width, height)
    if not content.strip():
        return DrawnText(Image.new("RGBA", (width, height), (0, 0, 0, 0)), [])
    paragraphs = [[(word, 0) for word in line.split()] for line in content.replace("\r\n", "\n").split("\n")]
    layout = _layout(paragraphs, style, width, height)
    silhouette = _mask(layout, stroke=paint.stroke_width)
    fill = _mask(layout) if paint.stroke else silhouette
    image = _frame(layout, paint, [(fill, paint.color)], silhouette, _shadow(layout, paint, silhouette))
    return DrawnText(image, layout.warnings)


# --- validation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Paint:
    """A validated style's drawing parameters; stroke/shadow colours are None when not drawn."""

    color: RGBA
    stroke: RGBA | None
    stroke_width: float  # 0 when there is no stroke
    shadow: RGBA | None
    shadow_blur: float
    shadow_offset: tuple[float, float]


def _paint(style: TextStyle) -> _Paint:
    """Validate a style; raise ValueError naming the offending key."""
    for name in ("font_size", "line_height"):
        _number(style, name, lambda v: v > 0, "a positive number")
    for name in ("stroke_width", "shadow_blur"):
        _number(style, name, lambda v: v >= 0, "a number >= 0")
    for name in ("letter_spacing", "shadow_offset_x", "shadow_offset_y"):
        _number(style, name, lambda v: True, "a number")
    _number(style, "font_weight", lambda v: 1 <= v <= 1000, "a number from 1 to 1000")
    if style.text_align not in ALIGNMENTS:
        raise ValueError(f"style.text_align: must be one of {', '.join(ALIGNMENTS)}, got {style.text_align!r}")
    if style.font_family is not None and not isinstance(style.font_family, str):
        raise ValueError(f"style.font_family: must be a string, got {style.font_family!r}")
    color = _colour("style.color", style.color)
    stroke = _colour("style.stroke_color", style.stroke_color or "black")
    shadow = _colour("style.shadow_color", style.shadow_color or "black")
    wants_shadow = style.shadow_color is not None or style.shadow_blur or style.shadow_offset_x or style.shadow_offset_y
    return _Paint(
        color,
        stroke if style.stroke_width else None,
        style.stroke_width,
        shadow if wants_shadow and shadow[3] else None,
        style.shadow_blur,
        (style.shadow_offset_x, style.shadow_offset_y),
    )


def _number(style: TextStyle, name: str, ok, expected: str) -> None:
    value = getattr(style, name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not ok(value):
        raise ValueError(f"style.{name}: must be {expected}, got {value!r}")


def _colour(key: str, value: str) -> RGBA:
    try:
        return parse_color(value)
    except ValueError as exc:
        raise ValueError(f"{key}: {exc}") from None


def _check_box(width: int, height: int) -> None:
    if width < 1 or height < 1:
        raise ValueError(f"text box must be at least 1x1 px, got {width}x{height}")


# --- layout -------------------------------------------------------------------------------------

Token = tuple[str, int]  # (text, tag); the tag says which caption word a token belongs to


@dataclass
class _Piece:
    """Text drawn with one font, its left end on baseline (x, y)."""

    text: str
    font: ImageFont.FreeTypeFont
    x: float
    y: float
    tag: int


@dataclass
class _Layout:
    pieces: list[_Piece]
    box: tuple[int, int]
    band: tuple[int, int]  # rows [top, bottom) of the box that can hold ink
    warnings: list[str]


class _Typesetter:
    """Measure words at one font size: fallback fonts per run, letter spacing between clusters."""

    def __init__(self, primary: fonts.FontChoice, size: float, spacing: float):
        self.primary, self.size, self.spacing = primary, size, spacing
        font = fonts.font_file(primary.path, size, primary.index)
        self.ascent, self.descent = font.getmetrics()
        self.gap = font.getlength(" ") + 2 * spacing  # spacing follows the word's last letter and the space
        self.missing: set[str] = set()
        self._shapes: dict[str, tuple[float, list[tuple[float, str, ImageFont.FreeTypeFont]]]] = {}

    def shape(self, text: str) -> tuple[float, list[tuple[float, str, ImageFont.FreeTypeFont]]]:
        """Return the width of `text` and its parts as (x offset, text, font)."""
        if text not in self._shapes:
            runs, missing = fonts.split_runs(text, self.primary)
            self.missing |= missing
            parts, x = [], 0.0
            for run in runs:
                font = fonts.font_file(run.path, self.size, run.index)
                # Spacing splits a run into clusters; RTL runs stay whole so they keep their shaping.
                chunks = _clusters(run.text) if self.spacing and not _is_rtl(run.text) else [run.text]
                start = 0
                for i, chunk in enumerate(chunks):
                    parts.append((x + (font.getlength(run.text[:start]) if start else 0) + i * self.spacing, chunk, font))
                    start += len(chunk)
                x += font.getlength(run.text) + len(chunks) * self.spacing
            self._shapes[text] = (x - self.spacing, parts)
        return self._shapes[text]

    def width(self, text: str) -> float:
        return self.shape(text)[0]


@dataclass
class _Line:
    tokens: list[tuple[str, int, float]]  # (text, tag, width)
    paragraph_end: bool
    rtl: bool

    def width(self, gap: float) -> float:
        return sum(w for _, _, w in self.tokens) + gap * max(len(self.tokens) - 1, 0)


def _layout(paragraphs: list[list[Token]], style: TextStyle, width: int, height: int) -> _Layout:
    """Wrap, shrink until the block fits, then place every piece of text."""
    choice = fonts.resolve(style.font_family, style.font_weight)
    pad = math.ceil(style.stroke_width)
    size = min(style.font_size, height / max(style.line_height, 1.0))  # larger cannot fit; skip those steps
    while True:
        setter = _Typesetter(choice, size, style.letter_spacing * size)
        lines = [line for tokens in paragraphs for line in _wrap(tokens, setter, width - 2 * pad)]
        top, bottom = _block_extent(len(lines), setter, style.line_height * size)
        fits = max(line.width(setter.gap) for line in lines) <= width - 2 * pad + 0.5 and bottom - top + 2 * pad <= height
        if fits or size <= MIN_FONT_SIZE:
            break
        size = max(MIN_FONT_SIZE, size * SHRINK_STEP)
    warnings = [choice.warning] if choice.warning else []
    if size < style.font_size:
        warnings.append(f"text shrunk from {style.font_size:g}px to {size:.0f}px to fit the {width}x{height} box")
    if not fits:
        warnings.append(f"text does not fit the {width}x{height} box even at {size:.0f}px; it is cut off")
    if setter.missing:
        warnings.append(fonts.describe_missing(setter.missing))
    y0 = (height - (bottom - top)) / 2 - top  # top of the first line box
    pieces = _place(lines, setter, style, width, pad, y0)
    margin = pad + size * 0.3  # room for accents and descenders beyond the font's metrics
    band = (max(0, math.floor(y0 + top - margin)), min(height, math.ceil(y0 + bottom + margin)))
    return _Layout(pieces, (width, height), band, warnings)


def _block_extent(count: int, setter: _Typesetter, line_height: float) -> tuple[float, float]:
    """Return the block's top and bottom relative to the first line box (glyphs can overflow lines)."""
    half_leading = (line_height - setter.ascent - setter.descent) / 2
    return min(0.0, half_leading), count * line_height - min(0.0, half_leading)


def _wrap(tokens: list[Token], setter: _Typesetter, max_width: float) -> list[_Line]:
    """Greedily fill lines with a paragraph's words; break words longer than a line."""
    rtl = _is_rtl(next((t for t, _ in tokens if _direction(t)), ""))
    lines, current, current_width = [], [], 0.0
    for text, tag in tokens:
        width = setter.width(text)
        chunks = [text] if width <= max_width else _break_word(text, setter, max_width)
        for chunk in chunks:
            chunk_width = setter.width(chunk)
            if current and current_width + setter.gap + chunk_width > max_width:
                lines.append(_Line(current, False, rtl))
                current, current_width = [], 0.0
            current_width += (setter.gap if current else 0) + chunk_width
            current.append((chunk, tag, chunk_width))
    lines.append(_Line(current, True, rtl))
    return lines


def _break_word(text: str, setter: _Typesetter, max_width: float) -> list[str]:
    chunks, current = [], ""
    for cluster in _clusters(text):
        if current and setter.width(current + cluster) > max_width:
            chunks.append(current)
            current = ""
        current += cluster
    return chunks + [current]


def _place(lines: list[_Line], setter: _Typesetter, style: TextStyle, width: int, pad: int, y0: float) -> list[_Piece]:
    """Position each line's words by text_align and each word's parts along the baseline."""
    line_height = style.line_height * setter.size
    baseline = y0 + (line_height - setter.ascent - setter.descent) / 2 + setter.ascent
    pieces = []
    for number, line in enumerate(lines):
        align, gap = style.text_align, setter.gap
        if align == "justify":
            if line.paragraph_end or len(line.tokens) < 2:
                align = "right" if line.rtl else "left"
            else:
                gap += (width - 2 * pad - line.width(setter.gap)) / (len(line.tokens) - 1)
        free = width - 2 * pad - line.width(gap)
        x = pad + {"left": 0, "justify": 0, "center": free / 2, "right": free}[align]
        for text, tag, token_width in _visual_order(line.tokens, line.rtl):
            for dx, part, font in setter.shape(text)[1]:
                pieces.append(_Piece(part, font, x + dx, baseline + number * line_height, tag))
            x += token_width + gap
    return pieces


def _clusters(text: str) -> list[str]:
    """Split text into user-perceived characters (base + marks, emoji ZWJ sequences)."""
    clusters: list[str] = []
    for ch in text:
        if clusters and (fonts.joins_previous(ch) or clusters[-1].endswith("\u200d")):
            clusters[-1] += ch
        else:
            clusters.append(ch)
    return clusters


def _direction(text: str) -> str | None:
    """Return 'rtl' or 'ltr' from the first strong character of `text`, None if it has none."""
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return None


def _is_rtl(text: str) -> bool:
    return _direction(text) == "rtl"


def _visual_order(tokens: list, rtl_paragraph: bool) -> list:
    """Reorder a line's words for display (Unicode bidi rule L2 at word granularity)."""
    directions = [_direction(text) for text, *_ in tokens]
    if not rtl_paragraph and "rtl" not in directions:
        return tokens
    levels = []
    for i, direction in enumerate(directions):
        if direction is None:  # neutral words take their neighbours' direction when both agree
            before = next((d for d in reversed(directions[:i]) if d), None)
            after = next((d for d in directions[i + 1 :] if d), None)
            direction = before if before == after else None
        levels.append({"rtl": 1, "ltr": 2 if rtl_paragraph else 0, None: int(rtl_paragraph)}[direction])
    order = list(range(len(tokens)))
    for level in range(max(levels), 0, -1):
        i = 0
        while i < len(order):
            j = i
            while j < len(order) and levels[order[j]] >= level:
                j += 1
            order[i:j] = reversed(order[i:j])
            i = j + 1
    return [tokens[i] for i in order]


# --- drawing ------------------------------------------------------------------------------------


def _mask(layout: _Layout, tags: set[int] | None = None, stroke: float = 0) -> Image.Image:
    """Draw the pieces (only those tagged `tags`, if given) as an 'L' mask of the layout's band."""
    top, bottom = layout.band
    mask = Image.new("L", (layout.box[0], max(bottom - top, 1)))
    draw = ImageDraw.Draw(mask)
    for piece in layout.pieces:
        if tags is None or piece.tag in tags:
            draw.text((piece.x, piece.y - top), piece.text, 255, piece.font, "ls", stroke_width=stroke, stroke_fill=255)
    return mask


def _coloured(mask: Image.Image, colour: RGBA) -> Image.Image:
    layer = Image.new("RGBA", mask.size, colour[:3] + (0,))
    layer.putalpha(mask if colour[3] == 255 else mask.point(lambda v: v * colour[3] // 255))
    return layer


def _shadow(layout: _Layout, paint: _Paint, silhouette: Image.Image | None) -> Image.Image | None:
    """Return the full-box shadow layer: the text's silhouette offset, blurred and coloured, or None."""
    if not paint.shadow:
        return None
    shadow = Image.new("RGBA", layout.box, (0, 0, 0, 0))
    sprite = _shadow_sprite(paint, silhouette, layout.band[0])
    if sprite:
        shadow.paste(*sprite)
    return shadow


def _shadow_sprite(paint: _Paint, silhouette: Image.Image, top: int) -> tuple[Image.Image, tuple[int, int]] | None:
    """Return the shadow of a band's silhouette (the band at `top` in the box) and where it goes; None without ink.

    Only the ink and its margin are blurred: beyond it the blur is zero anyway, and pop captions blur hundreds.
    """
    ink = silhouette.getbbox()
    if ink is None:
        return None
    dx, dy = paint.shadow_offset
    sigma = paint.shadow_blur / 2  # a CSS blur radius is about twice the Gaussian sigma
    margin = math.ceil(3 * sigma)
    left, ink_top, right, bottom = ink
    canvas = Image.new("L", (right - left + 2 * margin, bottom - ink_top + 2 * margin))
    canvas.paste(silhouette.crop(ink), (margin, margin))
    if sigma:
        canvas = canvas.filter(ImageFilter.GaussianBlur(sigma))
    return _coloured(canvas, paint.shadow), (left + round(dx) - margin, top + ink_top + round(dy) - margin)


def _frame(
    layout: _Layout,
    paint: _Paint,
    fills: list[tuple[Image.Image, RGBA]],
    silhouette: Image.Image | None,
    shadow: Image.Image | None,
) -> Image.Image:
    """Composite shadow, stroke (the silhouette's colour) and coloured fills into a full-box RGBA image."""
    layers = [_coloured(mask, colour) for mask, colour in fills]
    if paint.stroke:
        layers.insert(0, _coloured(silhouette, paint.stroke))
    text = layers[0]
    for layer in layers[1:]:
        text.alpha_composite(layer)
    image = shadow.copy() if shadow else Image.new("RGBA", layout.box, (0, 0, 0, 0))
    image.alpha_composite(text, (0, layout.band[0]))
    return image
