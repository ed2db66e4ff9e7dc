
import numpy as np
import pytest

from moneyreels.render import fonts
from moneyreels.render.text import TextStyle, _visual_order, draw_text

from tests.support.ink import alpha, pixels_of

W, H = 800, 300


def ink_box(image, threshold: int = 64) -> tuple[int, int, int, int]:
    """Return (left, top, right, bottom) of pixels more opaque than `threshold`."""
    ys, xs = np.nonzero(alpha(image) > threshold)
    assert xs.size, "no ink drawn"
    return xs.min(), ys.min(), xs.max() + 1, ys.max() + 1


@pytest.fixture
def no_system_fonts(monkeypatch):
    monkeypatch.setattr(fonts, "SYSTEM_FONT_DIRS", ())
    monkeypatch.setattr(fonts, "_extra_dirs", [])  # and no operator fonts folder


# --- draw_text ---------------------------------------------------------------------------------


def test_draws_exact_size_transparent_rgba_with_ink_in_the_middle():
    drawn = draw_text("Hello", TextStyle(), W, H)
    assert drawn.image.mode == "RGBA" and drawn.image.size == (W, H)
    assert drawn.warnings == []
    left, top, right, bottom = ink_box(drawn.image)
    assert alpha(drawn.image)[0].max() == alpha(drawn.image)[:, 0].max() == 0
    assert abs((left + right) / 2 - W / 2) < 10
    assert abs((top + bottom) / 2 - H / 2) < 25  # centred line box; ink sits a bit above its centre


def test_empty_content_gives_a_blank_image():
    drawn = draw_text("  \n ", TextStyle(), W, H)
    assert drawn.image.size == (W, H) and alpha(drawn.image).max() == 0


def test_edges_keep_the_text_colour_without_dark_fringes():
    image = draw_text("Smooth edges", TextStyle(color="#FFD700"), W, H).image
    data = np.asarray(image)
    visible = data[..., 3] > 0
    assert np.all(data[visible][:, :3] == (255, 215, 0))
    assert 0 < np.count_nonzero((data[..., 3] > 0) & (data[..., 3] < 255))  # anti-aliased


def test_colour_alpha_scales_text_opacity():
    image = draw_text("Half", TextStyle(color="rgba(255,0,0,0.5)"), W, H).image
    assert alpha(image).max() == 128


@pytest.mark.parametrize("align", ["left", "center", "right"])
def test_text_align(align):
    left, _, right, _ = ink_box(draw_text("Short", TextStyle(text_align=align), W, H).image)
    if align == "left":
        assert left < 15
    elif align == "right":
        assert W - right < 15
    else:
        assert abs((left + right) / 2 - W / 2) < 10


def test_justify_stretches_all_but_the_last_line():
    text = "one two three four five six seven eight nine ten eleven twelve thirteen"
    image = draw_text(text, TextStyle(text_align="justify", font_size=40), W, H).image
    rows = np.nonzero(alpha(image).max(axis=1) > 64)[0]
    lines = np.split(rows, np.nonzero(np.diff(rows) > 1)[0] + 1)
    assert len(lines) >= 2
    spans = []
    for line in lines:
        cols = np.nonzero(alpha(image)[line].max(axis=0) > 64)[0]
        spans.append((cols.min(), cols.max()))
    for left, right in spans[:-1]:
        assert left < 10 and right > W - 10
    assert spans[-1][0] < 10 and spans[-1][1] < W - 100


def test_stroke_colour_surrounds_glyphs():
    image = draw_text("O", TextStyle(font_size=150, stroke_color="red", stroke_width=6), W, H).image
    red, white = pixels_of(image, (255, 0, 0)), pixels_of(image, (255, 255, 255))
    assert red.sum() > 500 and white.sum() > 500
    # The stroke lies outside the fill: the outermost ink columns are red.
    _, top, _, bottom = ink_box(image)
    middle_row = (top + bottom) // 2
    cols = np.nonzero(alpha(image)[middle_row] > 200)[0]
    assert red[middle_row, cols.min()] and red[middle_row, cols.max()]


def test_no_stroke_without_width():
    image = draw_text("O", TextStyle(font_size=150, stroke_color="red"), W, H).image
    assert pixels_of(image, (255, 0, 0)).sum() == 0


@pytest.mark.parametrize("dx, dy", [(20, 15), (-20, -15)])
def test_shadow_is_offset_in_the_given_direction(dx, dy):
    style = TextStyle(font_size=100, shadow_color="blue", shadow_offset_x=dx, shadow_offset_y=dy)
    image = draw_text("Hi", style, W, H).image
    blue, white = pixels_of(image, (0, 0, 255)), pixels_of(image, (255, 255, 255))
    assert blue.sum() > 200
    (by, bx), (wy, wx) = (np.argwhere(m).mean(axis=0) for m in (blue, white))
    assert np.sign(bx - wx) == np.sign(dx) and np.sign(by - wy) == np.sign(dy)


def test_shadow_blur_softens_the_shadow():
    sharp = TextStyle(font_size=100, color="transparent", shadow_color="black", shadow_offset_x=5)
    soft = TextStyle(font_size=100, color="transparent", shadow_color="black", shadow_offset_x=5, shadow_blur=20)
    partial = [np.count_nonzero((alpha(draw_text("Hi", s, W, H).image) % 255) > 0) for s in (sharp, soft)]
    assert partial[1] > 3 * partial[0]


def test_letter_spacing_widens_the_ink():
    widths = []
    for spacing in (0, 0.3):
        left, _, right, _ = ink_box(draw_text("spacing", TextStyle(letter_spacing=spacing), W, H).image)
        widths.append(right - left)
    assert widths[1] - widths[0] == pytest.approx(6 * 0.3 * 64, abs=6)


def test_heavier_weight_draws_more_ink():
    ink = [alpha(draw_text("Weight", TextStyle(font_weight=w), W, H).image).sum() for w in (200, 400, 900)]
    assert ink[0] < ink[1] < ink[2]


def test_long_text_wraps_into_more_lines():
    text = "a sentence long enough to need wrapping"
    heights = []
    for width in (W, 300):
        _, top, _, bottom = ink_box(draw_text(text, TextStyle(font_size=40), width, H).image)
        heights.append(bottom - top)
    assert heights[1] > 2.5 * heights[0]


def test_explicit_newlines_break_lines_and_line_height_spaces_them():
    one = ink_box(draw_text("AB", TextStyle(), W, H).image)
    two = ink_box(draw_text("AB\nAB", TextStyle(), W, H).image)
    loose = ink_box(draw_text("AB\nAB", TextStyle(line_height=1.8), W, H).image)
    assert two[3] - two[1] == pytest.approx((one[3] - one[1]) + 1.2 * 64, abs=3)
    assert loose[3] - loose[1] == pytest.approx((one[3] - one[1]) + 1.8 * 64, abs=3)


def test_over_long_word_is_broken_to_fit():
    drawn = draw_text("W" * 40, TextStyle(font_size=40), 300, H)
    left, top, right, bottom = ink_box(drawn.image)
    assert left > 0 and right < 300
    assert bottom - top > 2 * 40
    assert drawn.warnings == []


def test_shrinks_to_fit_with_warning():
    text = "This caption is far too long to fit in such a small box at this size"
    drawn = draw_text(text, TextStyle(font_size=120, stroke_color="black", stroke_width=4), 400, 150)
    left, top, right, bottom = ink_box(drawn.image, threshold=0)
    assert left > 0 and top > 0 and right < 400 and bottom < 150
    assert any("shrunk from 120px" in w for w in drawn.warnings)


def test_hopeless_fit_warns_and_still_draws():
    drawn = draw_text("word " * 200, TextStyle(), 100, 20)
    assert drawn.image.size == (100, 20)
    assert any("does not fit" in w for w in drawn.warnings)


def test_missing_family_warns_and_draws():
    drawn = draw_text("Hello", TextStyle(font_family="Montserrat"), W, H)
    assert drawn.warnings == ["font family 'Montserrat' is not installed; using Source Sans Pro"]
    assert alpha(drawn.image).max() == 255


def test_uncovered_scripts_warn_naming_characters(no_system_fonts):
    drawn = draw_text("Hi 中文 😀", TextStyle(), W, H)
    assert len(drawn.warnings) == 1
    assert all(f"'{ch}'" in drawn.warnings[0] for ch in "中文😀")
    assert alpha(drawn.image).max() == 255


@pytest.mark.parametrize("style", [TextStyle(), TextStyle(letter_spacing=0.2, text_align="justify")])
def test_mixed_scripts_never_raise(style):
    text = "Hi مرحبا بالعالم 中文 😀👍🏽 👨‍👩‍👧 नमस्ते é\u0301 שלום עולם"
    drawn = draw_text(text, style, W, H)
    assert alpha(drawn.image).max() > 0


def test_visual_order_reverses_rtl_words():
    tokens = [("hi", 0), ("אחת", 1), ("שתיים", 2), ("ok", 3)]
    assert [t for _, t in _visual_order(tokens, rtl_paragraph=False)] == [0, 2, 1, 3]
    assert [t for _, t in _visual_order(tokens[1:3] + [("1,", 4)], rtl_paragraph=True)] == [4, 2, 1]
    assert [t for _, t in _visual_order([("a", 0), ("b", 1), ("אחת", 2)], rtl_paragraph=True)] == [2, 0, 1]


@pytest.mark.parametrize(
    "style, message",
    [
        (TextStyle(color="blurple"), "style.color: invalid colour 'blurple'"),
        (TextStyle(stroke_color="nope", stroke_width=2), "style.stroke_color: invalid colour 'nope'"),
        (TextStyle(shadow_color="#12"), "style.shadow_color: invalid colour '#12'"),
        (TextStyle(text_align="middle"), "style.text_align"),
        (TextStyle(font_size=0), "style.font_size"),
        (TextStyle(font_size="big"), "style.font_size"),
        (TextStyle(line_height=-1), "style.line_height"),
        (TextStyle(stroke_width=-2), "style.stroke_width"),
        (TextStyle(shadow_blur=float("nan")), "style.shadow_blur"),
        (TextStyle(font_weight=0), "style.font_weight"),
        (TextStyle(letter_spacing=True), "style.letter_spacing"),
    ],
)
def test_bad_style_raises_naming_the_key(style, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        draw_text("x", style, W, H)


def test_bad_box_raises():
    with pytest.raises(ValueError, match="1x1"):
        draw_text("x", TextStyle(), 0, 10)


def test_from_dict_ignores_none_and_rejects_unknown_keys():
    style = TextStyle.from_dict({"font_size": 80, "color": None, "font_family": "Inter"})
    assert style == TextStyle(font_size=80, font_family="Inter")
    with pytest.raises(ValueError, match="unknown key 'colour'"):
        TextStyle.from_dict({"colour": "red"})
