import glob
import logging
import os
import shutil
import struct
import uuid

import pytest
from PIL import ImageFont

from moneyreels.render import fonts

SYSTEM_TTFS = sorted(
    p for d in fonts.SYSTEM_FONT_DIRS for p in glob.glob(os.path.expanduser(d) + "/**/*.ttf", recursive=True)
)


@pytest.fixture
def no_system_fonts(monkeypatch):
    """Hide every font but the bundled Source Sans Pro."""
    monkeypatch.setattr(fonts, "SYSTEM_FONT_DIRS", ())
    monkeypatch.setattr(fonts, "_extra_dirs", [])  # and no operator fonts folder


def test_default_is_source_sans_pro_regular_ttf():
    choice = fonts.resolve(None, None)
    assert choice.family == "Source Sans Pro"
    assert choice.weight == 400
    assert choice.warning is None
    assert os.path.basename(choice.path) == "SourceSansPro-Regular.ttf"


@pytest.mark.parametrize(
    "weight, face",
    [
        (100, "ExtraLight"),
        (200, "ExtraLight"),
        (300, "Light"),
        (400, "Regular"),
        (500, "Regular"),  # CSS: 500 falls back to lighter first
        (600, "Semibold"),
        (700, "Bold"),
        (800, "Black"),  # CSS: above 500 falls back to heavier first
        (900, "Black"),
    ],
)
def test_css_weights_map_to_nearest_face(weight, face):
    assert os.path.basename(fonts.resolve(None, weight).path) == f"SourceSansPro-{face}.ttf"


def test_italic_picks_italic_face():
    assert os.path.basename(fonts.resolve("Source Sans Pro", 700, italic=True).path) == "SourceSansPro-BoldIt.ttf"


def test_family_names_match_loosely():
    assert fonts.resolve("source-sans-pro", 600).path == fonts.resolve("Source Sans Pro", 600).path
    assert fonts.resolve("SourceSansPro", 600).warning is None


def test_missing_family_falls_back_with_warning_logged_once(caplog):
    family = f"Montserrat {uuid.uuid4().hex[:6]}"
    with caplog.at_level(logging.WARNING, logger=fonts.__name__):
        first = fonts.resolve(family, 700)
        second = fonts.resolve(family, 700)
    assert first.warning == f"font family '{family}' is not installed; using Source Sans Pro"
    assert second.warning == first.warning
    assert first.family == "Source Sans Pro" and first.weight == 700
    assert [r.getMessage() for r in caplog.records] == [first.warning]


def test_font_family_list_uses_first_installed_entry_silently():
    choice = fonts.resolve("'Nope Sans', \"Also Missing\", sans-serif", 400)
    assert choice.family == "Source Sans Pro"
    assert choice.warning is None


@pytest.mark.parametrize("generic", ["serif", "monospace"])
def test_generic_families_use_a_matching_system_font_or_warn(generic):
    choice = fonts.resolve(generic, 400)
    if choice.family == "Source Sans Pro":
        assert choice.warning and generic in choice.warning
    else:
        assert choice.family in fonts._GENERIC[generic]
        assert choice.warning is None


def test_extra_fonts_dir_is_indexed_by_names_inside_the_files(monkeypatch, tmp_path, no_system_fonts):
    if not SYSTEM_TTFS:
        pytest.skip("no system .ttf to copy")
    source = SYSTEM_TTFS[0]
    family = ImageFont.truetype(source, 12).getname()[0]
    copy = tmp_path / "renamed-on-purpose.ttf"
    shutil.copy(source, copy)
    assert fonts.resolve(family, 400).family == "Source Sans Pro"
    fonts.use_folder(tmp_path)
    choice = fonts.resolve(family, 400)
    assert choice.path == str(copy)
    assert choice.family == family
    assert choice.warning is None


def test_unreadable_font_files_are_skipped(monkeypatch, tmp_path, no_system_fonts):
    (tmp_path / "broken.ttf").write_bytes(b"not a font at all")
    fonts.use_folder(tmp_path)
    assert fonts.resolve("broken", 400).warning


def test_load_is_cached_and_sized():
    font = fonts.load(None, 700, 48)
    assert isinstance(font, ImageFont.FreeTypeFont)
    assert font.size == 48
    assert font.getname() == ("Source Sans Pro", "Bold")
    assert fonts.load(None, 700, 48) is font


def test_missing_glyphs_reads_the_cmap():
    path = fonts.resolve(None, 400).path
    assert fonts.missing_glyphs(path, "Héllo, Ωмега! 123") == set()
    assert fonts.missing_glyphs(path, "a中b😀ि") == {"中", "😀", "ि"}


def test_missing_glyphs_ignores_invisible_characters():
    path = fonts.resolve(None, 400).path
    assert fonts.missing_glyphs(path, "a\nb\tc\u200d\ufe0f\u200b") == set()


def test_missing_glyphs_of_unreadable_file_is_everything(tmp_path):
    bogus = tmp_path / "x.ttf"
    bogus.write_bytes(b"\0" * 64)
    assert fonts.missing_glyphs(str(bogus), "ab") == {"a", "b"}


def test_split_runs_without_covering_font_reports_missing(no_system_fonts):
    primary = fonts.resolve(None, 400)
    runs, missing = fonts.split_runs("Hi 中文 😀", primary)
    assert [r.text for r in runs] == ["Hi 中文 😀"]
    assert runs[0].path == primary.path
    assert missing == {"中", "文", "😀"}


def test_split_runs_switches_to_a_covering_system_font():
    primary = fonts.resolve(None, 400)
    arabic = "مرحبا بالعالم"
    covering = fonts._fallback(ord(arabic[0]), 400, fonts.font_dirs())
    if covering is None:
        pytest.skip("no installed font covers Arabic")
    runs, missing = fonts.split_runs(f"Hi {arabic}, ok", primary)
    assert [r.text for r in runs] == ["Hi ", f"{arabic}, ", "ok"]
    assert (runs[1].path, runs[1].index) == covering
    assert runs[0].path == runs[2].path == primary.path
    assert missing == set()


def test_describe_missing_names_characters_and_code_points():
    message = fonts.describe_missing({"中", "😀"})
    assert "'中' (U+4E2D)" in message and "'😀' (U+1F600)" in message


def _cmap(*subtables: tuple[int, int, bytes]) -> bytes:
    """Build a cmap table from (platform, encoding, subtable bytes)."""
    header = struct.pack(">HH", 0, len(subtables))
    offset, records, body = 4 + 8 * len(subtables), b"", b""
    for platform, encoding, data in subtables:
        records += struct.pack(">HHI", platform, encoding, offset + len(body))
        body += data
    return header + records + body


def _format4(segments: list[tuple[int, int, int, list[int] | None]]) -> bytes:
    """Build a format 4 subtable from (start, end, delta, glyph ids or None) segments."""
    segments = segments + [(0xFFFF, 0xFFFF, 1, None)]
    count = len(segments)
    glyph_arrays, range_offsets = b"", []
    for i, (start, _, _, glyphs) in enumerate(segments):
        if glyphs is None:
            range_offsets.append(0)
        else:  # offset from this idRangeOffset entry to its glyphs in glyphIdArray
            range_offsets.append(2 * (count - i) + len(glyph_arrays))
            glyph_arrays += struct.pack(f">{len(glyphs)}H", *glyphs)
    body = struct.pack(f">{count}H", *(s[1] for s in segments)) + b"\0\0"
    body += struct.pack(f">{count}H", *(s[0] for s in segments))
    body += struct.pack(f">{count}h", *(s[2] for s in segments))
    body += struct.pack(f">{count}H", *range_offsets) + glyph_arrays
    return struct.pack(">HHHHHHH", 4, 14 + len(body), 0, 2 * count, 0, 0, 0) + body


def _coverage_of(cmap: bytes, *codes: int) -> list[bool]:
    coverage = fonts._Coverage(fonts._cmap_ranges(cmap))
    return [code in coverage for code in codes]


def test_cmap_format4_honours_glyph_arrays():
    table = _cmap((3, 1, _format4([(0x41, 0x43, 10, None), (0x61, 0x63, 0, [5, 0, 7])])))
    assert _coverage_of(table, 0x40, 0x41, 0x43, 0x44, 0x61, 0x62, 0x63) == [
        False, True, True, False, True, False, True,
    ]


def test_cmap_prefers_format12_for_supplementary_planes():
    groups = [(0x20, 0x7E, 1), (0x1F600, 0x1F64F, 200)]
    format12 = struct.pack(">HHIII", 12, 0, 16 + 12 * len(groups), 0, len(groups))
    format12 += b"".join(struct.pack(">III", *g) for g in groups)
    table = _cmap((3, 1, _format4([(0x20, 0x7E, 0, None)])), (3, 10, format12))
    assert _coverage_of(table, 0x41, 0x1F600, 0x1F64F, 0x1F650) == [True, True, True, False]


def test_cmap_ignores_symbol_encodings():
    assert _coverage_of(_cmap((3, 0, _format4([(0xF020, 0xF0FF, 0, None)]))), 0xF041) == [False]


def _collection(*paths: str) -> bytes:
    """Pack single fonts into a .ttc, moving each one's table offsets to its place in the file."""
    fonts_data = [open(p, "rb").read() for p in paths]
    header_size = 12 + 4 * len(fonts_data)
    bases, position = [], header_size
    for data in fonts_data:
        bases.append(position)
        position += (len(data) + 3) & ~3
    out = bytearray(struct.pack(">4sHHI", b"ttcf", 1, 0, len(fonts_data)))
    out += struct.pack(f">{len(bases)}I", *bases)
    for base, data in zip(bases, fonts_data):
        data = bytearray(data)
        for record in range(struct.unpack_from(">H", data, 4)[0]):
            at = 12 + 16 * record + 8
            struct.pack_into(">I", data, at, struct.unpack_from(">I", data, at)[0] + base)
        out += data + b"\0" * (-len(data) % 4)
    return bytes(out)


def test_font_collections_index_every_face(tmp_path):
    files = os.path.dirname(fonts.resolve(None, 400).path)
    (tmp_path / "pack.ttc").write_bytes(
        _collection(os.path.join(files, "SourceSansPro-Light.ttf"), os.path.join(files, "SourceSansPro-Black.ttf"))
    )
    faces = fonts._read_faces(str(tmp_path / "pack.ttc"))
    assert [(f.index, f.style, f.weight) for f in faces] == [(0, "Light", 300), (1, "Black", 900)]
    assert fonts.missing_glyphs(str(tmp_path / "pack.ttc"), "Ab中", index=1) == {"中"}
    assert fonts.font_file(str(tmp_path / "pack.ttc"), 20, 1).getname() == ("Source Sans Pro", "Black")
