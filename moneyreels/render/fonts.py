"""Find, load and fall back between fonts.

The default family is Source Sans Pro from the `font_source_sans_pro` package, so
every install can draw Latin text. Other families come from the system font
directories (plus settings.fonts_dir, MONEYREELS_FONTS_DIR), indexed once by the names stored in the
font files. Glyph coverage is read from each font's cmap table, because Pillow
has no API that says whether a font can draw a character.
"""

import bisect
import logging
import os
import re
import struct
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import font_source_sans_pro
from PIL import ImageFont

log = logging.getLogger(__name__)

DEFAULT_FAMILY = "Source Sans Pro"
SYSTEM_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.fonts", "~/.local/share/fonts")
_FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
_GENERIC = {
    "sans-serif": (DEFAULT_FAMILY,),
    "system-ui": (DEFAULT_FAMILY,),
    "ui-sans-serif": (DEFAULT_FAMILY,),
    "serif": ("DejaVu Serif", "Liberation Serif", "Noto Serif", "Times New Roman", "FreeSerif"),
    "ui-serif": ("DejaVu Serif", "Liberation Serif", "Noto Serif", "Times New Roman", "FreeSerif"),
    "monospace": ("DejaVu Sans Mono", "Liberation Mono", "Noto Sans Mono", "Courier New", "FreeMono"),
    "ui-monospace": ("DejaVu Sans Mono", "Liberation Mono", "Noto Sans Mono", "Courier New", "FreeMono"),
    "cursive": (DEFAULT_FAMILY,),
    "fantasy": (DEFAULT_FAMILY,),
}
_warned_families: set[str] = set()


@dataclass(frozen=True)
class Face:
    """One face inside a font file, as its own tables describe it."""

    path: str
    index: int
    family: str
    style: str
    weight: int
    width: int
    italic: bool


@dataclass(frozen=True)
class FontChoice:
    path: str
    family: str
    weight: int
    warning: str | None
    index: int = 0  # face number inside a .ttc collection


@dataclass(frozen=True)
class Run:
    """A stretch of text that one font file draws."""

    text: str
    path: str
    index: int


# The operator's fonts folder. Text is drawn deep inside a render, far from any settings object,
# so whoever loads the settings hands the folder over once with use_folder().
_extra_dirs: list[str] = []


def use_folder(folder) -> None:
    """Search `folder` (settings.fonts_dir) for fonts too; None searches only the bundled and system ones."""
    _extra_dirs[:] = [str(folder)] if folder else []


def font_dirs() -> tuple[str, ...]:
    """Return the directories searched for fonts, the bundled default first."""
    dirs = [font_source_sans_pro.font_directory, *SYSTEM_FONT_DIRS, *_extra_dirs]
    return tuple(os.path.expanduser(d) for d in dirs)


def resolve(family: str | None, weight: int | None, italic: bool = False) -> FontChoice:
    """Pick the installed face closest to a CSS font-family list, weight and style."""
    weight = min(max(int(weight or 400), 1), 1000)
    index = _index(font_dirs())
    for name in _family_names(family):
        for candidate in _GENERIC.get(name.lower(), (name,)):
            if faces := index.get(_key(candidate)):
                face = _best_face(faces, weight, italic)
                return FontChoice(face.path, face.family, face.weight, None, face.index)
    face = _best_face(index[_key(DEFAULT_FAMILY)], weight, italic)
    warning = f"font family {family!r} is not installed; using {DEFAULT_FAMILY}" if family and family.strip() else None
    if warning and family not in _warned_families:
        _warned_families.add(family)
        log.warning(warning)
    return FontChoice(face.path, face.family, face.weight, warning, face.index)


def load(family: str | None, weight: int | None, size: float, italic: bool = False) -> ImageFont.FreeTypeFont:
    """Return the resolved font at `size` pixels."""
    choice = resolve(family, weight, italic)
    return font_file(choice.path, size, choice.index)


@lru_cache(maxsize=512)
def font_file(path: str, size: float, index: int = 0) -> ImageFont.FreeTypeFont:
    """Load one face of a font file at `size` pixels (cached)."""
    return ImageFont.truetype(path, size, index=index)


def missing_glyphs(font_path: str, text: str, index: int = 0) -> set[str]:
    """Return the characters of `text` the font has no glyph for."""
    coverage = _coverage(font_path, index)
    return {ch for ch in text if not _ignorable(ch) and ord(ch) not in coverage}


def split_runs(text: str, primary: FontChoice) -> tuple[list[Run], set[str]]:
    """Split `text` into runs drawable by one font each, falling back to system fonts.

    Return the runs and the characters no installed font covers (drawn with the
    primary font, typically as boxes).
    """
    main = (primary.path, primary.index)
    runs: list[tuple[list[str], tuple[str, int]]] = []
    missing: set[str] = set()
    for ch in text:
        current = runs[-1][1] if runs else None
        if current and joins_previous(ch):
            font = current
        elif ord(ch) in _coverage(*main) and (current in (None, main) or ch.isalnum()):
            font = main  # back to the primary font at the next word it can draw
        elif current and ord(ch) in _coverage(*current):
            font = current  # keep spaces and punctuation inside a fallback run (bidi, shaping)
        else:
            font = _fallback(ord(ch), primary.weight, font_dirs()) or main
        if not _ignorable(ch) and ord(ch) not in _coverage(*font):
            missing.add(ch)
        if runs and runs[-1][1] == font:
            runs[-1][0].append(ch)
        else:
            runs.append(([ch], font))
    return [Run("".join(chars), *font) for chars, font in runs], missing


def describe_missing(chars: set[str]) -> str:
    """Return a warning naming characters no installed font can draw."""
    listed = ", ".join(f"'{ch}' (U+{ord(ch):04X})" for ch in sorted(chars))
    return f"no installed font has glyphs for {listed}; they may render as boxes"


def _family_names(family: str | None) -> list[str]:
    """Split a CSS font-family list ("'Open Sans', Arial, sans-serif") into names."""
    names = (name.strip().strip("'\"").strip() for name in (family or "").split(","))
    return [name for name in names if name]


def _key(name: str) -> str:
    """Normalise a family name so 'Source Sans Pro', 'source-sans-pro' and 'SourceSansPro' match."""
    return re.sub(r"[\s_-]+", "", name.casefold())


def _best_face(faces: list[Face], weight: int, italic: bool) -> Face:
    """Apply the CSS font matching order: style, then stretch, then weight."""
    styled = [f for f in faces if f.italic == italic] or faces
    normal = min(abs(f.width - 5) for f in styled)
    styled = [f for f in styled if abs(f.width - 5) == normal]
    chosen = _css_weight(weight, {f.weight for f in styled})
    return min((f for f in styled if f.weight == chosen), key=lambda f: (not f.path.endswith(".ttf"), f.path))


def _css_weight(desired: int, available: set[int]) -> int:
    """Return the available weight CSS would use for `desired` (CSS Fonts 4, 5.2)."""
    if desired in available:
        return desired
    lighter = sorted((w for w in available if w < desired), reverse=True)
    heavier = sorted(w for w in available if w > desired)
    if 400 <= desired <= 500:
        order = [w for w in heavier if w <= 500] + lighter + [w for w in heavier if w > 500]
    elif desired < 400:
        order = lighter + heavier
    else:
        order = heavier + lighter
    return order[0]


def joins_previous(ch: str) -> bool:
    """Tell whether `ch` belongs to the preceding character's cluster (marks, joiners, skin tones)."""
    return unicodedata.category(ch) in ("Mn", "Mc", "Me", "Cf") or 0x1F3FB <= ord(ch) <= 0x1F3FF


def _ignorable(ch: str) -> bool:
    """Tell whether `ch` is invisible by design, so no font needs a glyph for it."""
    return unicodedata.category(ch) in ("Cc", "Cf") or 0xFE00 <= ord(ch) <= 0xFE0F or 0xE0100 <= ord(ch) <= 0xE01EF


@lru_cache(maxsize=4)
def _index(dirs: tuple[str, ...]) -> dict[str, list[Face]]:
    """Map normalised family names to the faces found under `dirs`."""
    index: dict[str, list[Face]] = {}
    for directory in dirs:
        for path in sorted(Path(directory).rglob("*")) if os.path.isdir(directory) else ():
            if path.suffix.lower() in _FONT_SUFFIXES:
                for face in _read_faces(str(path)):
                    index.setdefault(_key(face.family), []).append(face)
    log.debug("indexed %d font families under %s", len(index), dirs)
    return index


def _read_faces(path: str) -> list[Face]:
    """Describe every face of a font file; skip files FreeType or we cannot read."""
    try:
        with open(path, "rb") as f:
            head = _header(f)
            count = struct.unpack(">I", head[8:12])[0] if head[:4] == b"ttcf" else 1
            faces = []
            for i in range(count):
                family, style = ImageFont.truetype(path, 12, index=i).getname()
                weight, width, italic = _os2(f, _tables(f, i))
                italic = italic or any(w in (style or "").lower() for w in ("italic", "oblique"))
                faces.append(Face(path, i, family or Path(path).stem, style or "", weight, width, italic))
            return faces
    except (OSError, ValueError, struct.error) as exc:
        log.debug("skipping font %s: %s", path, exc)
        return []


def _header(f) -> bytes:
    f.seek(0)
    return f.read(12)


def _tables(f, index: int) -> dict[bytes, tuple[int, int]]:
    """Return {tag: (offset, length)} from the table directory of face `index`."""
    head = _header(f)
    if head[:4] == b"ttcf":
        f.seek(12 + 4 * index)
        f.seek(struct.unpack(">I", f.read(4))[0])
        head = f.read(12)
    count = struct.unpack(">H", head[4:6])[0]
    entries = f.read(16 * count)
    return {entries[i : i + 4]: struct.unpack(">II", entries[i + 8 : i + 16]) for i in range(0, len(entries), 16)}


def _os2(f, tables: dict[bytes, tuple[int, int]]) -> tuple[int, int, bool]:
    """Return (weight class, width class, italic) from the OS/2 table; defaults if absent."""
    if b"OS/2" not in tables:
        return 400, 5, False
    f.seek(tables[b"OS/2"][0])
    data = f.read(64)
    weight, width = struct.unpack(">HH", data[4:8])
    selection = struct.unpack(">H", data[62:64])[0]
    return weight, width, bool(selection & 0x201)  # ITALIC or OBLIQUE bit


class _Coverage:
    """Set of code points a font maps to glyphs, stored as sorted ranges."""

    def __init__(self, ranges: list[tuple[int, int]]):
        merged: list[list[int]] = []
        for start, end in sorted(ranges):
            if merged and start <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self._starts = [s for s, _ in merged]
        self._ends = [e for _, e in merged]

    def __contains__(self, cp: int) -> bool:
        i = bisect.bisect_right(self._starts, cp) - 1
        return i >= 0 and cp <= self._ends[i]


@lru_cache(maxsize=256)
def _coverage(path: str, index: int = 0) -> _Coverage:
    """Read the Unicode cmap of a face (formats 12 and 4); empty if unreadable."""
    try:
        with open(path, "rb") as f:
            offset, length = _tables(f, index)[b"cmap"]
            f.seek(offset)
            data = f.read(length)
        return _Coverage(_cmap_ranges(data))
    except (OSError, KeyError, struct.error) as exc:
        log.debug("cannot read cmap of %s: %s", path, exc)
        return _Coverage([])


def _cmap_ranges(data: bytes) -> list[tuple[int, int]]:
    subtables = {}
    for i in range(struct.unpack_from(">H", data, 2)[0]):
        platform, encoding, offset = struct.unpack_from(">HHI", data, 4 + 8 * i)
        if platform == 0 or (platform == 3 and encoding in (1, 10)):
            subtables.setdefault(struct.unpack_from(">H", data, offset)[0], offset)
    if 12 in subtables:
        offset = subtables[12]
        groups = struct.unpack_from(">I", data, offset + 12)[0]
        return [struct.unpack_from(">II", data, offset + 16 + 12 * g) for g in range(groups)]
    if 4 in subtables:
        return list(_format4(data, subtables[4]))
    return []


def _format4(data: bytes, offset: int):
    """Yield covered (start, end) ranges of a cmap format 4 subtable."""
    segments = struct.unpack_from(">H", data, offset + 6)[0] // 2
    ends = struct.unpack_from(f">{segments}H", data, offset + 14)
    starts = struct.unpack_from(f">{segments}H", data, offset + 16 + 2 * segments)
    range_table = offset + 16 + 6 * segments
    range_offsets = struct.unpack_from(f">{segments}H", data, range_table)
    for i, (start, end) in enumerate(zip(starts, ends)):
        if start == 0xFFFF:
            continue
        if range_offsets[i] == 0:
            yield start, end  # glyph = code + delta, non-zero for all but pathological fonts
            continue
        for code in range(start, end + 1):
            position = range_table + 2 * i + range_offsets[i] + 2 * (code - start)
            if position + 2 <= len(data) and struct.unpack_from(">H", data, position)[0]:
                yield code, code


@lru_cache(maxsize=4096)
def _fallback(cp: int, weight: int, dirs: tuple[str, ...]) -> tuple[str, int] | None:
    """Return (path, index) of the installed face that best draws code point `cp`, if any."""
    covering = [
        face
        for faces in _index(dirs).values()
        for face in faces
        if not face.italic and cp in _coverage(face.path, face.index)
    ]
    if not covering:
        return None
    face = min(covering, key=lambda f: (abs(f.width - 5), abs(f.weight - weight), f.path, f.index))
    return face.path, face.index
