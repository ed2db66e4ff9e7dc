"""Caption pages: group timed words into pages and draw each moment of a page's effect.

Every moment is a full-box RGBA image shown from a start to an end time; the filtergraph shows
them one after another as one sprite track. Each page is drawn on its own (caption_pages). Short
animations (pop, bounce, fade) are a few extra moments at the start of a word. Karaoke's fill is
continuous, so it is a second track: one image of the spoken word fully filled per word,
revealed left to right by the filtergraph (a `wipe`).
"""

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial

from PIL import Image, ImageDraw

from moneyreels.render import fonts, text
from moneyreels.values import RGBA

EFFECTS = ("color", "highlight", "karaoke", "pop", "bounce", "fade", "underline")
TRANSFORMS = ("uppercase", "lowercase", "capitalize", "none")
PAGE_PAUSE = 0.6  # seconds of silence that start a new caption page
HOLD_GAP = 0.3  # a page's last word stays up across silences shorter than this
MAX_LINES = 2  # max_chars_per_line breaks a page before it needs a third line
STEP = 0.05  # seconds per animation moment
POP = (1.12, 1.2, 1.12, 1.05)  # the active word's scale over its first moments
BOUNCE = (0.12, 0.2, 0.12, 0.05)  # its lift, in font sizes
FADE = (0.3, 0.6, 0.85)  # its opacity
_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*$")


@dataclass(frozen=True)
class Word:
    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Look:
    """How a track's pages are cut and animated (the manifest's caption keys)."""

    effect: str = "color"
    highlight_color: str = "#FFD700"
    past_color: str | None = None
    upcoming_color: str | None = None
    max_words_per_page: int = 3
    max_chars_per_line: int | None = None
    text_transform: str = "none"


@dataclass
class CaptionFrame:
    start: float
    end: float
    image: Image.Image
    warnings: list[str] = field(default_factory=list)
    wipe: tuple[float, float] | None = None  # karaoke: the image's ink is revealed over this span


@dataclass(frozen=True)
class _State:
    """How one word of the page is drawn at a moment."""

    colour: RGBA
    opacity: float = 1.0
    scale: float = 1.0
    lift: float = 0.0  # upwards, in font sizes


def caption_pages(words: list[Word], style: text.TextStyle, look: Look, width: int,
                  height: int) -> list[Callable[[], Iterator[CaptionFrame]]]:
    """Check the style and look; return one drawer per page, in time order.

    A drawer yields its page's moments in time order (karaoke fills after the moment they go
    with). Pages are independent, so they may be drawn in any order, or in other processes.
    """
    paint = text._paint(style)
    colours = _colours(look, paint)
    text._check_box(width, height)
    if look.max_words_per_page < 1:
        raise ValueError("max_words_per_page must be at least 1")
    if look.max_chars_per_line is not None and look.max_chars_per_line < 1:
        raise ValueError("max_chars_per_line must be at least 1")
    if look.text_transform not in TRANSFORMS:
        raise ValueError(f"text_transform: must be one of {', '.join(TRANSFORMS)}, got {look.text_transform!r}")
    if look.effect not in EFFECTS:
        raise ValueError(f"effect: must be one of {', '.join(EFFECTS)}, got {look.effect!r}")
    spoken = [Word(_transform(w.text, look.text_transform), w.start, w.end) for w in words if w.text.strip()]
    pages = _pages(sorted(spoken, key=lambda w: w.start), look.max_words_per_page, look.max_chars_per_line)
    return [partial(_moments, page, following[0].start if following else None, style, paint, colours, look,
                    (width, height))
            for page, following in zip(pages, pages[1:] + [None])]


def _moments(page: list[Word], next_start: float | None, style: text.TextStyle, paint, colours: dict[str, RGBA],
             look: Look, box: tuple[int, int]) -> Iterator[CaptionFrame]:
    lines = _lines(page, look.max_chars_per_line)
    layout = text._layout([[(part, i) for i in line for part in page[i].text.split()] for line in lines], style, *box)
    page_frames = _PageDrawer(layout, paint, style.font_size, colours, look.effect)
    for i, word in enumerate(page):
        if i + 1 < len(page):
            end = page[i + 1].start
        elif next_start is not None and next_start - word.end < HOLD_GAP:
            end = next_start
        else:
            end = max(word.end, word.start)
        for start, stop, image, wipe in page_frames.word(i, len(page), word, end):
            yield CaptionFrame(start, stop, image, layout.warnings, wipe)


def _colours(look: Look, paint) -> dict[str, RGBA]:
    active = text._colour("highlight_color", look.highlight_color)
    default_past = active if look.effect == "karaoke" else paint.color
    return {
        "active": active,
        "past": text._colour("past_color", look.past_color) if look.past_color else default_past,
        "upcoming": text._colour("upcoming_color", look.upcoming_color) if look.upcoming_color else paint.color,
        "text": paint.color,
    }


def _transform(word: str, how: str) -> str:
    if how == "uppercase":
        return word.upper()
    if how == "lowercase":
        return word.lower()
    if how == "capitalize":  # as CSS: the first letter of each word, the rest untouched
        return " ".join(part[:1].upper() + part[1:] for part in word.split(" "))
    return word


def _pages(words: list[Word], max_words: int, max_chars: int | None) -> list[list[Word]]:
    """Group words into pages, breaking at sentence ends, pauses, and before a third line."""
    pages: list[list[Word]] = []
    for word in words:
        last = pages[-1][-1] if pages else None
        if (
            last
            and len(pages[-1]) < max_words
            and not _SENTENCE_END.search(last.text.strip())
            and word.start - last.end <= PAGE_PAUSE
            and (max_chars is None or len(_lines(pages[-1] + [word], max_chars)) <= MAX_LINES)
        ):
            pages[-1].append(word)
        else:
            pages.append([word])
    return pages


def _lines(page: list[Word], max_chars: int | None) -> list[list[int]]:
    """Split a page's word indices into lines of at most max_chars characters (one line if None)."""
    if max_chars is None:
        return [list(range(len(page)))]
    lines: list[list[int]] = []
    length = 0
    for i, word in enumerate(page):
        size = len(word.text)
        if lines and length + 1 + size <= max_chars:
            lines[-1].append(i)
            length += 1 + size
        else:
            lines.append([i])
            length = size
    return lines


class _PageDrawer:
    """Draw the moments of one laid-out page; the page's resting look is drawn once per word."""

    def __init__(self, layout, paint, font_size: float, colours: dict[str, RGBA], effect: str):
        self.layout, self.paint, self.size, self.colours, self.effect = layout, paint, font_size, colours, effect
        self.extents = _extents(layout)
        self._under: dict[tuple, tuple] = {}  # silhouette and shadow by what moves, shared by moments
        self._glyphs = _Glyphs()  # each word's rendered text, shared by the moments that draw it again
        self._still: tuple = (None, None)  # (states, layers): the page without its moving word, for that word's moments

    def word(self, i: int, count: int, word: Word, end: float):
        """Yield (start, end, image, wipe) for word i's time on screen, [word.start, end)."""
        c = self.colours
        rest = [_State(c["past"] if j < i else c["upcoming"]) for j in range(count)]
        if self.effect == "karaoke":
            yield word.start, end, self._draw(rest), None
            only = [_State(c["active"], opacity=float(j == i)) for j in range(count)]
            yield word.start, end, self._draw(only, shadow=False), (word.start, max(word.end, word.start + STEP))
            return
        active = c["text"] if self.effect == "highlight" else c["active"]
        rest[i] = _State(active)
        if self.effect == "fade":
            rest = [s if j <= i else _State(s.colour, opacity=0.0) for j, s in enumerate(rest)]
        animation = {
            "pop": [_State(active, scale=s) for s in POP],
            "bounce": [_State(active, lift=s) for s in BOUNCE],
            "fade": [_State(active, opacity=s) for s in FADE],
        }.get(self.effect, [])
        start = word.start
        for state in animation:
            if start + STEP >= end:
                break
            states = rest[:i] + [state] + rest[i + 1:]
            moment = self._moving(states, i) if state.scale != 1 or state.lift else self._draw(states, active_tag=i)
            yield start, start + STEP, moment, None
            start += STEP
        yield start, end, self._draw(rest, active_tag=i), None

    def _draw(self, states: list[_State], active_tag: int | None = None, shadow: bool = True) -> Image.Image:
        layout, paint = self.layout, self.paint
        pieces, opacity = self._shown(layout.pieces, states)
        key = (shadow, tuple((s.opacity, s.scale, s.lift) for s in states))
        if key not in self._under:
            silhouette = self._ink(pieces, opacity, paint.stroke_width) if paint.stroke or paint.shadow else None
            self._under[key] = silhouette, text._shadow(layout, paint, silhouette) if shadow else None
        silhouette, under = self._under[key]
        fills = self._fills(pieces, states, opacity)
        if active_tag is not None and self.effect in ("highlight", "underline"):
            decoration = self._decoration(active_tag)
            if self.effect == "highlight":
                under = under.copy() if under else Image.new("RGBA", layout.box, (0, 0, 0, 0))
                under.alpha_composite(text._coloured(decoration, self.colours["active"]), (0, layout.band[0]))
            else:
                fills.append((decoration, self.colours["active"]))
        if not fills:
            return Image.new("RGBA", layout.box, (0, 0, 0, 0))
        return text._frame(layout, paint, fills, silhouette, under)

    def _moving(self, states: list[_State], i: int) -> Image.Image:
        """Draw a moment of word i grown or lifted (pop, bounce), in front of the rest of the page.

        The rest of the page is drawn once for all of the word's moments; a moment draws the word
        alone and composites afresh only the box its shadow and ink cover.
        """
        layout, paint, state = self.layout, self.paint, states[i]
        still = states[:i] + [None] + states[i + 1:]
        if self._still[0] != still:
            self._still = still, self._layers([p for p in layout.pieces if p.tag != i], states)
        under, ink, whole = self._still[1]
        image = whole.copy()
        pieces = [self._moved(p, state) for p in layout.pieces if p.tag == i]
        opacity = {id(p): state.opacity for p in pieces}
        fill = self._ink(pieces, opacity)
        silhouette = self._ink(pieces, opacity, paint.stroke_width) if paint.stroke or paint.shadow else fill
        ink_box = silhouette.getbbox()
        if ink_box is None:
            return image
        top = layout.band[0]
        word = _word_text(paint, fill, silhouette, ink_box, state.colour), (ink_box[0], top + ink_box[1])
        shadow = text._shadow_sprite(paint, silhouette, top) if paint.shadow else None
        box = _clip(_union(*(_box_of(*layer) for layer in (shadow, word) if layer)), layout.box)
        if box is None:
            return image
        region = under.crop(box) if under else Image.new("RGBA", (box[2] - box[0], box[3] - box[1]))
        if shadow:
            _over(region, *shadow, box)
        region.alpha_composite(ink.crop(box))
        _over(region, *word, box)
        image.paste(region, box[:2])
        return image

    def _layers(self, pieces, states: list[_State]) -> tuple:
        """Draw pieces as (shadow layer or None, text layer, the two composited), each full-box."""
        layout, paint = self.layout, self.paint
        pieces, opacity = self._shown(pieces, states)
        silhouette = self._ink(pieces, opacity, paint.stroke_width) if paint.stroke or paint.shadow else None
        under = text._shadow(layout, paint, silhouette)
        fills = self._fills(pieces, states, opacity)
        ink = text._frame(layout, paint, fills, silhouette, None) if fills else Image.new("RGBA", layout.box)
        whole = under.copy() if under else Image.new("RGBA", layout.box)
        whole.alpha_composite(ink)
        return under, ink, whole

    def _shown(self, pieces, states: list[_State]) -> tuple[list, dict[int, float]]:
        """Return the pieces moved as their states say, the invisible left out, and each one's opacity."""
        shown = [p for p in (self._moved(p, states[p.tag]) for p in pieces) if states[p.tag].opacity > 0]
        return shown, {id(p): states[p.tag].opacity for p in shown}

    def _fills(self, pieces, states: list[_State], opacity: dict[int, float]) -> list[tuple[Image.Image, RGBA]]:
        """Return one (mask, colour) per colour the pieces are drawn in, in the order they first appear."""
        return [(self._ink([p for p in pieces if states[p.tag].colour == colour], opacity), colour)
                for colour in dict.fromkeys(states[p.tag].colour for p in pieces)]

    def _ink(self, pieces, opacity: dict[int, float], stroke: float = 0) -> Image.Image:
        """Draw pieces as an 'L' mask of the layout's band, each at its opacity."""
        top, bottom = self.layout.band
        mask = Image.new("L", (self.layout.box[0], max(bottom - top, 1)))
        for piece in pieces:
            self._glyphs.stamp(mask, piece, top, round(255 * opacity[id(piece)]), stroke)
        return mask

    def _moved(self, piece, state: _State):
        """Return the piece scaled about its word's centre and lifted, as the state says."""
        if state.scale == 1 and not state.lift:
            return piece
        left, top, right, bottom = self.extents[piece.tag]
        cx, cy = (left + right) / 2, (top + bottom) / 2
        # The loaded font, cached: a pop's repeated scale then reuses the word's rendered text.
        font = fonts.font_file(piece.font.path, piece.font.size * state.scale, piece.font.index)
        x = cx + (piece.x - cx) * state.scale
        y = cy + (piece.y - cy) * state.scale - state.lift * self.size
        return text._Piece(piece.text, font, x, y, piece.tag)

    def _decoration(self, tag: int) -> Image.Image:
        """Draw the box behind (highlight) or the bar under (underline) a word, as a band mask."""
        layout, top = self.layout, self.layout.band[0]
        mask = Image.new("L", (layout.box[0], layout.band[1] - top))
        draw = ImageDraw.Draw(mask)
        left, word_top, right, bottom = self.extents[tag]
        pad = self.size * 0.1 + self.paint.stroke_width  # less than a space: neighbours stay clear
        if self.effect == "highlight":
            box = (left - pad, word_top - top - pad * 1.4, right + pad, bottom - top + pad * 1.4)
            draw.rounded_rectangle(box, radius=self.size * 0.18, fill=255)
        else:
            baseline = max(p.y for p in layout.pieces if p.tag == tag) - top
            thickness = max(2.0, self.size * 0.09)
            y = baseline + self.size * 0.1 + self.paint.stroke_width
            draw.rounded_rectangle((left, y, right, y + thickness), radius=thickness / 2, fill=255)
        return mask


def _word_text(paint, fill: Image.Image, silhouette: Image.Image, ink_box, colour: RGBA) -> Image.Image:
    """Return a word's stroke and fill, composited, cut to its ink box."""
    word = text._coloured(fill.crop(ink_box), colour)
    if not paint.stroke:
        return word
    stroked = text._coloured(silhouette.crop(ink_box), paint.stroke)
    stroked.alpha_composite(word)
    return stroked


def _box_of(image: Image.Image, at: tuple[int, int]) -> tuple[int, int, int, int]:
    return at[0], at[1], at[0] + image.width, at[1] + image.height


def _union(*boxes: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """Return the smallest box holding every given box."""
    return min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)


def _clip(box: tuple[int, int, int, int], size: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """Return the part of box inside (0, 0, *size), or None if nothing is."""
    left, top, right, bottom = max(box[0], 0), max(box[1], 0), min(box[2], size[0]), min(box[3], size[1])
    return (left, top, right, bottom) if left < right and top < bottom else None


def _over(region: Image.Image, layer: Image.Image, at: tuple[int, int], box: tuple[int, int, int, int]) -> None:
    """Composite layer, placed at `at` in the page, over region (the page's `box`), clipping what falls outside."""
    x, y = at[0] - box[0], at[1] - box[1]
    seen = _clip((x, y, x + layer.width, y + layer.height), region.size)
    if seen:
        region.alpha_composite(layer, seen[:2], (seen[0] - x, seen[1] - y, seen[2] - x, seen[3] - y))


def _extents(layout) -> dict[int, tuple[float, float, float, float]]:
    """Return each word's ink box (left, top, right, bottom) in box coordinates, from cap height to baseline."""
    boxes: dict[int, list[float]] = {}
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    for piece in layout.pieces:
        left, _, right, _ = probe.textbbox((piece.x, piece.y), piece.text, piece.font, "ls")
        cap_top = piece.y + piece.font.getbbox("H", anchor="ls")[1]
        box = boxes.setdefault(piece.tag, [math.inf, math.inf, -math.inf, -math.inf])
        box[0], box[1] = min(box[0], left), min(box[1], cap_top)
        box[2], box[3] = max(box[2], right), max(box[3], piece.y)
    return {tag: tuple(box) for tag, box in boxes.items()}


class _Glyphs:
    """Stamp pieces into masks exactly as ImageDraw.text does, rendering each text, font and subpixel offset once.

    A page's moments redraw the same words at the same places over and over; FreeType's rendering
    is most of a moment's cost, the stamp (Pillow's same masked fill) is cheap.
    """

    def __init__(self):
        self._rendered: dict[tuple, tuple[Image.Image, int, int]] = {}

    def stamp(self, mask: Image.Image, piece, top: int, value: int, stroke: float) -> None:
        """Draw the piece (baseline at piece.y - top) into mask in value, as draw.text would."""
        x, y = piece.x, piece.y - top
        if x < 0 or y < 0:  # ImageDraw keeps a negative subpixel offset; render those directly
            ImageDraw.Draw(mask).text((x, y), piece.text, value, piece.font, "ls", stroke_width=stroke, stroke_fill=value)
            return
        fx, fy = math.modf(x)[0], math.modf(y)[0]
        key = (piece.text, piece.font, stroke, fx, fy)
        if key not in self._rendered:
            self._rendered[key] = _render(piece.text, piece.font, stroke, fx, fy)
        image, ox, oy = self._rendered[key]
        mask.paste(value, (int(x) - ox, int(y) - oy), image)


def _render(text_: str, font, stroke: float, fx: float, fy: float) -> tuple[Image.Image, int, int]:
    """Return the text's coverage at subpixel offset (fx, fy) and where its origin pixel sits in it."""
    left, top, right, bottom = font.getbbox(text_, anchor="ls", stroke_width=stroke)
    pad = 2 + math.ceil(stroke)
    ox, oy = pad - math.floor(left), pad - math.floor(top)
    image = Image.new("L", (math.ceil(right) - math.floor(left) + 2 * pad, math.ceil(bottom) - math.floor(top) + 2 * pad))
    ImageDraw.Draw(image).text((ox + fx, oy + fy), text_, 255, font, "ls", stroke_width=stroke, stroke_fill=255)
    return image, ox, oy
