"""Caption pages and their effects: paging, colours, animation moments, karaoke wipes, placement."""

import numpy as np
import pytest

from moneyreels.render import fonts
from moneyreels.render.captions import CaptionFrame, Look, Word, caption_pages
from moneyreels.render.text import TextStyle
from tests.support.ink import alpha, pixels_of

W, H = 800, 300
GREEN = (0, 255, 0)


def draw(words, style=None, size=(W, H), **look) -> list[CaptionFrame]:
    """Draw every page's moments, in time order."""
    pages = caption_pages(words, style or TextStyle(), Look(**{"highlight_color": "lime", **look}), *size)
    return [frame for page in pages for frame in page()]




def words_at(*spec: tuple[str, float, float]) -> list[Word]:
    return [Word(text, start, end) for text, start, end in spec]


def pages_of(frames: list[CaptionFrame]) -> list[int]:
    """Number frames by page: frames of one page share the same ink, whatever is highlighted."""
    numbers, previous = [], None
    for frame in frames:
        current = alpha(frame.image)
        if previous is None or not np.array_equal(current, previous):
            numbers.append(len(set(numbers)))
        else:
            numbers.append(numbers[-1])
        previous = current
    return numbers


def test_one_consecutive_frame_per_word():
    words = words_at(("one", 0.0, 0.3), ("two", 0.35, 0.6), ("three", 0.6, 1.0), ("four", 1.1, 1.4))
    frames = draw(words)
    assert [(f.start, f.end) for f in frames] == [(0.0, 0.35), (0.35, 0.6), (0.6, 1.1), (1.1, 1.4)]
    assert all(f.image.size == (W, H) and f.image.mode == "RGBA" for f in frames)


def test_pages_hold_up_to_max_words():
    words = words_at(*[(f"w{i}", i * 0.3, i * 0.3 + 0.25) for i in range(7)])
    assert pages_of(draw(words)) == [0, 0, 0, 1, 1, 1, 2]
    assert pages_of(draw(words, max_words_per_page=2)) == [
        0, 0, 1, 1, 2, 2, 3,
    ]


def test_pages_break_at_sentence_ends_and_pauses():
    words = words_at(
        ("Stop.", 0.0, 0.3), ("Go", 0.3, 0.5), ("now!\"", 0.5, 0.8), ("Why", 0.8, 1.0),
        ("then", 1.0, 1.2), ("pause", 2.0, 2.3),
    )
    frames = draw(words)
    assert pages_of(frames) == [0, 1, 1, 2, 2, 3]


def test_page_end_holds_over_short_gaps_only():
    words = words_at(("a.", 0.0, 0.5), ("b.", 0.7, 1.0), ("c", 2.0, 2.4))
    frames = draw(words)
    assert [(f.start, f.end) for f in frames] == [(0.0, 0.7), (0.7, 1.0), (2.0, 2.4)]


def test_frames_never_overlap_even_with_overlapping_words():
    words = words_at(("b", 1.0, 1.6), ("a", 0.0, 1.2), ("c.", 1.5, 2.0), ("d", 2.1, 2.5))
    frames = draw(words)
    spans = [(f.start, f.end) for f in frames]
    assert spans == sorted(spans)
    assert all(end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:]))
    assert all(start <= end for start, end in spans)


def test_highlighted_word_is_drawn_in_highlight_colour():
    words = words_at(("left", 0.0, 0.3), ("middle", 0.3, 0.6), ("right", 0.6, 0.9))
    frames = draw(words, TextStyle(stroke_color="black", stroke_width=3), highlight_color="#00ff00")
    for index, frame in enumerate(frames):
        cols = np.nonzero(alpha(frame.image).max(axis=0) > 0)[0]
        words = np.split(cols, np.nonzero(np.diff(cols) > 6)[0] + 1)  # word gaps are wider than letter gaps
        assert len(words) == 3
        green = pixels_of(frame.image, GREEN).any(axis=0)
        white = pixels_of(frame.image, (255, 255, 255)).any(axis=0)
        for number, span in enumerate(words):
            assert green[span].any() == (number == index)
            assert white[span].any() == (number != index)


def test_caption_words_with_spaces_highlight_as_one_word():
    frames = draw(words_at(("New York", 0.0, 0.5), ("x", 0.5, 0.8)))
    assert len(frames) == 2
    green = pixels_of(frames[0].image, GREEN)
    assert np.count_nonzero(green) > 0 and pixels_of(frames[1].image, GREEN).sum() < green.sum()


def test_caption_errors():
    words = words_at(("a", 0, 1))
    with pytest.raises(ValueError, match="highlight_color: invalid colour 'blurple'"):
        draw(words, highlight_color="blurple")
    with pytest.raises(ValueError, match="style.color"):
        draw(words, TextStyle(color="nope"))
    with pytest.raises(ValueError, match="max_words_per_page"):
        draw(words, max_words_per_page=0)
    assert draw([]) == []
    assert draw(words_at((" ", 0, 1))) == []


def test_150_caption_words_make_one_frame_each():
    vocabulary = ["money", "reels", "are", "great!", "fast.", "wow", "incredible", "the", "system"]
    words, t = [], 0.0
    for i in range(150):
        words.append(Word(vocabulary[i % len(vocabulary)], t, t + 0.3))
        t += 0.3 + (0.7 if i % 7 == 6 else 0.05)
    style = TextStyle(font_size=80, font_weight=800, stroke_color="black", stroke_width=4,
                      shadow_color="rgba(0,0,0,0.8)", shadow_offset_y=8, shadow_blur=16)
    frames = draw(words, style, (1080, 400), highlight_color="#FFD700")
    assert len(frames) == 150
    assert all(a.end <= b.start for a, b in zip(frames, frames[1:]))


# --- effects, colours, lines, transforms ------------------------------------------------------

RED, BLUE, MAGENTA = (255, 0, 0), (0, 0, 255), (255, 0, 255)
THREE = (("left", 0.0, 0.3), ("mid", 0.3, 0.6), ("right", 0.6, 0.9))
STROKED = TextStyle(stroke_color="black", stroke_width=3)  # strokes close the gaps between letters


def ink_columns(image) -> np.ndarray:
    return np.flatnonzero(alpha(image).max(axis=0) > 40)


def word_spans(image) -> list[np.ndarray]:
    cols = ink_columns(image)
    return np.split(cols, np.flatnonzero(np.diff(cols) > 6) + 1)  # word gaps are wider than letter gaps


def ink_rows(image) -> np.ndarray:
    return np.flatnonzero(alpha(image).max(axis=1) > 40)


def test_max_chars_per_line_breaks_lines_then_pages():
    words = words_at(*[(w, i * 0.3, i * 0.3 + 0.25) for i, w in enumerate(["aaaa", "bbbb", "cccc", "dddd", "eeee"])])
    frames = draw(words, max_words_per_page=4, max_chars_per_line=9)
    assert pages_of(frames) == [0, 0, 0, 0, 1]
    rows = ink_rows(frames[0].image)
    assert np.diff(rows).max() > 5  # two lines of text with a gap between them
    assert pages_of(draw(words, max_words_per_page=4, max_chars_per_line=4)) == [0, 0, 1, 1, 2]


@pytest.mark.parametrize("how, spoken, written", [("uppercase", "Hello world", "HELLO WORLD"),
                                                    ("lowercase", "Hello World", "hello world"),
                                                    ("capitalize", "hello new york", "Hello New York")])
def test_text_transform_draws_the_transformed_words(how, spoken, written):
    transformed = draw(words_at((spoken, 0, 1)), text_transform=how)
    assert np.array_equal(alpha(transformed[0].image), alpha(draw(words_at((written, 0, 1)))[0].image))


def test_past_and_upcoming_colours():
    frames = draw(words_at(*THREE), STROKED, past_color="red", upcoming_color="blue")
    left, mid, right = word_spans(frames[1].image)
    assert pixels_of(frames[1].image, RED).any(axis=0)[left].any()
    assert pixels_of(frames[1].image, GREEN).any(axis=0)[mid].any()
    assert pixels_of(frames[1].image, BLUE).any(axis=0)[right].any()
    assert not pixels_of(frames[1].image, RED).any(axis=0)[right].any()


def test_highlight_draws_a_box_behind_the_active_word_only():
    frames = draw(words_at(*THREE), STROKED, effect="highlight", highlight_color="magenta")
    for index, frame in enumerate(frames):
        box = pixels_of(frame.image, MAGENTA)
        spans = word_spans(draw(words_at(*THREE), STROKED)[index].image)
        columns = np.flatnonzero(box.any(axis=0))
        assert columns.min() < spans[index].min() and columns.max() > spans[index].max()  # wider than the word
        others = np.concatenate([s[len(s) // 4:-len(s) // 4] for n, s in enumerate(spans) if n != index])
        assert not box.any(axis=0)[others].any()  # not behind the other words (an edge may touch)
        assert pixels_of(frame.image, (255, 255, 255)).any(axis=0)[spans[index]].any()  # text on the box


def test_underline_draws_a_bar_below_the_active_word():
    frame = draw(words_at(*THREE), STROKED, effect="underline")[2]
    bar = pixels_of(frame.image, GREEN)
    left, mid, right = word_spans(draw(words_at(*THREE), STROKED)[2].image)
    letters = np.flatnonzero(alpha(draw(words_at(("left mid", 0, 1)))[0].image).max(axis=1) > 40)
    rows = np.flatnonzero(bar[:, right].any(axis=1))
    assert rows.max() > letters.max()  # below the baseline of letters without descenders
    assert not bar[:, left].any()


def test_fade_hides_upcoming_words_and_fades_the_spoken_one_in():
    frames = draw(words_at(*THREE), STROKED, effect="fade")
    full = word_spans(frames[-1].image)
    first_word = [f for f in frames if f.start < 0.3]
    assert len(first_word) > 1  # fade-in moments, then the word at rest
    for frame in first_word:
        assert ink_columns(frame.image).max() <= full[0].max()
    opacities = [alpha(f.image).max() for f in first_word]
    assert opacities == sorted(opacities) and opacities[0] < 150 and opacities[-1] == 255


@pytest.mark.parametrize("effect", ["pop", "bounce"])
def test_pop_grows_and_bounce_lifts_the_word_as_it_starts(effect):
    frames = draw(words_at(("Wow", 0.0, 1.0)), effect=effect)
    assert [round(f.start, 2) for f in frames] == [0.0, 0.05, 0.1, 0.15, 0.2] and frames[-1].end == 1.0
    rest, peak = ink_rows(frames[-1].image), ink_rows(frames[1].image)
    if effect == "pop":
        assert peak.size > 1.15 * rest.size
        assert ink_columns(frames[1].image).size > 1.15 * ink_columns(frames[-1].image).size
    else:
        assert peak.min() < rest.min() - 5 and peak.size == pytest.approx(rest.size, abs=2)


@pytest.mark.parametrize("effect", ["pop", "bounce"])
def test_a_moving_word_changes_only_its_own_part_of_the_page(effect):
    # The page without the moving word is drawn once; each moment redraws the word (shadow, stroke
    # and fill) in front of it. Away from the word the moments are the resting page, pixel for pixel.
    style = TextStyle(stroke_color="black", stroke_width=4, shadow_color="rgba(0,0,0,0.6)", shadow_offset_y=5,
                      shadow_blur=8)
    frames = draw(words_at(("left", 0.0, 0.5), ("mid", 0.5, 1.0), ("right", 1.0, 1.5)), style, effect=effect)
    first = [f for f in frames if f.start < 0.5]
    assert len(first) == 5  # four moving moments, then the word at rest
    rest = np.asarray(first[-1].image)
    right = word_spans(first[-1].image)[2]
    away = slice(right.min() - 20, None)  # the last word, its stroke and shadow: far from the first word
    for moment in first[:-1]:
        image = np.asarray(moment.image)
        assert np.array_equal(image[:, away], rest[:, away])
        assert not np.array_equal(image, rest)  # the word itself moved
    grown = ink_columns(first[1].image)
    assert (grown.min() < ink_columns(first[-1].image).min()) == (effect == "pop")


def test_animation_moments_never_outlast_a_short_word():
    frames = draw(words_at(("a", 0.0, 0.08), ("b", 0.08, 0.5)), effect="pop")
    assert all(f.end <= 0.08 for f in frames if f.start < 0.08)
    assert [f.start for f in frames] == sorted(f.start for f in frames)


def test_karaoke_draws_the_page_unfilled_and_each_word_filled_to_wipe():
    frames = draw(words_at(*THREE), STROKED, effect="karaoke")
    bases = [f for f in frames if f.wipe is None]
    fills = [f for f in frames if f.wipe is not None]
    assert [f.wipe for f in fills] == [(0.0, 0.3), (0.3, 0.6), (0.6, 0.9)]
    spans = word_spans(bases[0].image)
    for index, (base, fill) in enumerate(zip(bases, fills)):
        assert ink_columns(fill.image).min() >= spans[index].min() - 2
        assert ink_columns(fill.image).max() <= spans[index].max() + 2
        green = pixels_of(base.image, GREEN).any(axis=0)
        assert not green[spans[index]].any()  # the spoken word fills only through the wipe
        assert all(green[s].any() for s in spans[:index])  # words already spoken stay filled


def test_the_pipeline_caption_look_needs_no_system_fonts(monkeypatch):
    monkeypatch.setattr(fonts, "SYSTEM_FONT_DIRS", ())
    monkeypatch.setattr(fonts, "_extra_dirs", [])  # and no operator fonts folder
    style = TextStyle(font_size=90, font_weight=900, stroke_color="black", stroke_width=8)
    frames = draw(words_at(*THREE), style, effect="highlight", text_transform="uppercase")
    assert all(f.warnings == [] for f in frames)  # the bundled Source Sans Pro Black, no fallback
    assert fonts.resolve(None, 900).path.endswith("SourceSansPro-Black.ttf")


def test_effect_errors_name_the_field():
    words = words_at(("a", 0, 1))
    with pytest.raises(ValueError, match="effect"):
        draw(words, effect="wobble")
    with pytest.raises(ValueError, match="text_transform"):
        draw(words, text_transform="shout")
    with pytest.raises(ValueError, match="past_color"):
        draw(words, past_color="nope")
    with pytest.raises(ValueError, match="max_chars_per_line"):
        draw(words, max_chars_per_line=0)


# --- rendered: effects read back from frames, placement in the safe area ------------------------

from tests.support.video import H as RH, W as RW, frame_at, reel  # noqa: E402

TWO = [{"text": "ONE", "start_seconds": 0.3, "end_seconds": 0.9}, {"text": "TWO", "start_seconds": 0.9, "end_seconds": 1.5}]


def caption_reel(render_reel, seconds=1.8, **track):
    track = {"words": TWO, "layout": {"x": "0%", "y": "40%", "width": "100%", "height": "20%"},
             "style": {"color": "white", "font_size": 34, "font_weight": 800}, **track}
    return render_reel(reel([], [], captions=[track], width=RW, height=RH))[1]


def coloured(frame, rgb, tolerance=70) -> np.ndarray:
    return np.abs(frame.astype(int) - rgb).max(axis=2) <= tolerance


def test_rendered_highlight_box_sits_behind_the_spoken_word_at_its_time(render_reel):
    out = caption_reel(render_reel, effect="highlight", highlight_color="#FF00FF")
    assert not coloured(frame_at(out, 0.1), MAGENTA).any()  # nothing before the first word
    first, second = (np.flatnonzero(coloured(frame_at(out, t), MAGENTA).any(axis=0)) for t in (0.6, 1.2))
    assert first.size > 20 and second.size > 20
    assert first.mean() < RW / 2 < second.mean()


def test_rendered_karaoke_fill_advances_across_the_word(render_reel):
    words = [{"text": "WWWW", "start_seconds": 0.2, "end_seconds": 1.6}]
    out = caption_reel(render_reel, words=words, effect="karaoke", highlight_color="#00FF00")
    edges = []
    for t in (0.1, 0.5, 0.8, 1.1, 1.5):
        columns = np.flatnonzero(coloured(frame_at(out, t), GREEN).any(axis=0))
        edges.append(columns.max() if columns.size else -1)
    ink = np.flatnonzero((frame_at(out, 0.5).min(axis=2) > 160).any(axis=0))  # the unfilled (white) part
    assert edges[0] == -1 and ink.size  # nothing before it is spoken
    assert edges[1] < edges[2] < edges[3]  # the fill's right edge moves right over the word's time
    assert edges[1] < ink.max() and ink.min() > edges[1] - 10  # white right of the fill's edge
    assert edges[4] > edges[1] + 0.6 * (ink.max() - edges[1])  # nearly filled near its end


def test_rendered_fade_hides_upcoming_words_and_pop_enlarges_the_starting_word(render_reel):
    out = caption_reel(render_reel, effect="fade")
    ink = np.flatnonzero((frame_at(out, 0.6).max(axis=2) > 128).any(axis=0))
    both = np.flatnonzero((frame_at(out, 1.2).max(axis=2) > 128).any(axis=0))
    assert ink.max() < both.max() - 20  # TWO is not on screen until it is spoken

    out = caption_reel(render_reel, effect="pop", words=[TWO[0]])
    def height(t):
        return np.flatnonzero((frame_at(out, t).max(axis=2) > 128).any(axis=1)).size
    assert height(0.37) > 1.1 * height(0.8)


@pytest.mark.parametrize("position", ["upper_third", "center", "lower_third", "safe_bottom"])
def test_position_presets_stay_clear_of_tiktok_buttons(render_reel, position):
    words = [{"text": "WIDE WORDS HERE", "start_seconds": 0.0, "end_seconds": 1.0}]
    track = {"words": words, "position": position, "safe_area": "tiktok", "highlight_color": "white",
             "style": {"color": "white", "font_size": 60, "font_weight": 900}}
    _, out = render_reel(reel([], [], captions=[track], width=RW, height=RH))
    ink = frame_at(out, 0.5).max(axis=2) > 60
    rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    assert rows.size and rows.max() < 0.8 * RH and columns.max() < 0.85 * RW
    centre = rows.mean() / RH
    expected = {"upper_third": (0.2, 0.4), "center": (0.4, 0.6), "lower_third": (0.58, 0.78), "safe_bottom": (0.6, 0.8)}
    assert expected[position][0] < centre < expected[position][1]


def test_a_layout_reaching_into_the_unsafe_zone_is_pulled_back(render_reel):
    track = {"words": TWO, "safe_area": "tiktok", "layout": {"x": "50%", "y": "85%", "width": "50%", "height": "15%"},
             "style": {"color": "white", "font_size": 30, "font_weight": 900}}
    _, out = render_reel(reel([], [], captions=[track], width=RW, height=RH))
    ink = frame_at(out, 0.6).max(axis=2) > 60
    assert ink.any() and not ink[int(0.8 * RH):].any() and not ink[:, int(0.85 * RW):].any()


# --- validation: 400s naming the field -----------------------------------------------------------


@pytest.mark.parametrize("key, value", [
    ("effect", "wobble"), ("position", "bottom"), ("safe_area", "snapchat"), ("text_transform", "shout"),
    ("max_chars_per_line", 0), ("max_chars_per_line", 201), ("max_words_per_page", 0), ("max_words_per_page", 21),
    ("past_color", "nope"), ("upcoming_color", 7),
])
def test_bad_caption_keys_are_400s_naming_the_field(client, key, value):
    manifest = reel([], [], captions=[{"words": TWO, key: value}])
    response = client.post("/v1/videos/render", json=manifest)
    assert response.status_code == 400
    error = response.json["error"]
    fields = [e["field"] for e in error["details"]["errors"]]
    assert any(f"composition.captions.0.{key}" in f for f in fields), error


@pytest.mark.parametrize("x, y", [(10.0, 60.0), (10.37, 60.81), (0.5, 70.25), (-7.6, 55.5), (900.4, 5.2)])
@pytest.mark.parametrize("stroke", [0, 6])
def test_stamped_words_match_drawn_text_at_any_subpixel_offset(x, y, stroke):
    from PIL import Image, ImageDraw

    from moneyreels.render.captions import _Glyphs
    from moneyreels.render.text import _Piece

    font = fonts.load(None, 800, 84)
    piece = _Piece("Stamp", font, x, y + 40, 0)
    glyphs, drawn, stamped = _Glyphs(), Image.new("L", (960, 120), 40), Image.new("L", (960, 120), 40)
    for value in (200, 90):  # the second stamp reuses the first's rendering and blends over it
        ImageDraw.Draw(drawn).text((x, y), "Stamp", value, font, "ls", stroke_width=stroke, stroke_fill=value)
        glyphs.stamp(stamped, piece, 40, value, stroke)
    assert np.array_equal(np.asarray(drawn), np.asarray(stamped))
    assert (np.asarray(drawn) == 90).any()  # the text is in the picture, not cut away
