"""Where and how visual layers land: layout, fit, background modes, stacking, style, motion, text."""

import numpy as np
import pytest
from tests.support.video import H, W, assert_reel, close, frame_at, pixel, reel

WHITE, BLACK, RED, GREEN, BLUE = (255, 255, 255), (0, 0, 0), (255, 0, 0), (0, 255, 0), (0, 0, 255)
ASSETS = [{"id": name.split(".")[0], "type": kind, "url": name} for name, kind in [
    ("white.png", "image"), ("halves.jpg", "image"), ("checker.png", "image"), ("logo.png", "image"),
    ("red_land.mp4", "video"), ("blue_port.mp4", "video"), ("green_port.mp4", "video")]]


def image(asset, start=0.0, duration=1.0, **fields):
    return {"id": fields.pop("id", asset), "type": "image", "asset_id": asset,
            "time": {"start_seconds": start, "duration_seconds": duration}, **fields}


def video(asset, start=0.0, duration=1.0, **fields):
    return {"id": fields.pop("id", asset), "type": "video", "asset_id": asset,
            "time": {"start_seconds": start, "duration_seconds": duration}, **fields}


def render_frame(render_reel, timeline, t=0.5, **composition):
    result, out = render_reel(reel(timeline, ASSETS, **composition))
    return frame_at(out, t), result, out


def test_layer_lands_where_its_layout_says(render_reel):
    layout = {"x": "20%", "y": "25%", "width": "50%", "height": "80px", "fit": "cover"}
    frame, result, out = render_frame(render_reel, [image("white", layout=layout)])
    assert_reel(out, duration=1)
    assert result.warnings == []
    # Box: x 36..126, y 80..160.
    assert close(pixel(frame, 80, 120), WHITE)
    for x, y in [(30, 120), (132, 120), (80, 74), (80, 166)]:
        assert close(pixel(frame, x, y), BLACK), (x, y)


def test_cover_fills_the_box_and_crops(render_reel):
    frame, _, _ = render_frame(render_reel, [image("halves", layout={"fit": "cover"})])
    # A 2:1 picture covering 9:16 keeps only its middle: the red/green edge sits mid-frame.
    assert close(pixel(frame, W // 4, 10), RED) and close(pixel(frame, 3 * W // 4, H - 10), GREEN)


def test_contain_with_solid_background_letterboxes_in_black(render_reel):
    frame, _, _ = render_frame(render_reel, [image("halves", background_mode="solid")])
    # 400x200 fitted into 180x320 is 180x90, centred at y 115..205.
    assert close(pixel(frame, W // 4, H // 2), RED) and close(pixel(frame, 3 * W // 4, H // 2), GREEN)
    assert close(pixel(frame, W // 2, 40), BLACK) and close(pixel(frame, W // 2, H - 40), BLACK)


def test_blurred_background_is_a_blurred_copy(render_reel):
    frame, _, _ = render_frame(render_reel, [image("checker")])  # blurred is the default
    bar = frame[10:100].astype(float)
    picture = frame[H // 2 - 40:H // 2 + 40].astype(float)
    assert bar.mean() > 40  # a copy of the picture, not black
    # Local detail: the sharp checkerboard varies between neighbours, the blurred copy barely does.
    def detail(a):
        return np.abs(np.diff(a, axis=1)).mean()
    assert detail(bar) < detail(picture) / 4


def test_a_tiny_box_with_a_blurred_background_renders(render_reel):
    # The docs' logo layout (15% x 10%) in a 108x192 output: a 16x19 box, blurred by default.
    layout = {"x": "80%", "y": "5%", "width": "15%", "height": "10%", "fit": "contain"}
    result, out = render_reel(reel([image("halves", layout=layout)], ASSETS, width=108, height=192))
    assert_reel(out, width=108, height=192, duration=1)
    frame = frame_at(out, 0.5)
    assert close(pixel(frame, 90, 19), RED, tolerance=90) and close(pixel(frame, 40, 100), BLACK)


def test_transparent_background_shows_lower_layers(render_reel):
    timeline = [video("red_land", layout={"fit": "cover"}),
                image("logo", background_mode="transparent", layout={"x": 40, "y": 100, "width": 100, "height": 100})]
    frame, _, _ = render_frame(render_reel, timeline)
    assert close(pixel(frame, 90, 150), BLUE)  # the logo's opaque middle
    assert close(pixel(frame, 48, 108), RED)  # its transparent corner shows the video


def test_later_layers_stack_on_top_unless_z_index_says_otherwise(render_reel):
    box = {"x": 0, "y": 0, "width": "100%", "height": "50%", "fit": "cover"}
    frame, _, _ = render_frame(render_reel, [image("halves", layout=box), image("white", layout=box)])
    assert close(pixel(frame, 20, 80), WHITE)
    raised = {**box, "z_index": 5}
    frame, _, _ = render_frame(render_reel, [image("halves", layout=raised), image("white", layout=box)])
    assert close(pixel(frame, 20, 80), RED)


def test_opacity_blends_with_what_is_below(render_reel):
    frame, _, _ = render_frame(render_reel, [image("white", layout={"fit": "cover"}, style={"opacity": 0.5})])
    assert close(pixel(frame, W // 2, H // 2), (128, 128, 128), tolerance=20)


def test_border_radius_makes_corners_transparent(render_reel):
    layout = {"x": 40, "y": 100, "width": 100, "height": 100, "fit": "cover"}
    frame, _, _ = render_frame(render_reel, [image("white", layout=layout, style={"border_radius": "40px"})])
    assert close(pixel(frame, 90, 150), WHITE)
    assert close(pixel(frame, 43, 103), BLACK) and close(pixel(frame, 136, 196), BLACK)
    assert close(pixel(frame, 90, 103), WHITE)  # the top edge between the corners stays


def test_box_shadow_is_drawn_under_the_layer(render_reel):
    layout = {"x": 40, "y": 100, "width": 100, "height": 100, "fit": "cover"}
    frame, _, _ = render_frame(render_reel, [image("white", layout=layout, style={"box_shadow": "0 20px 0 red"})])
    assert close(pixel(frame, 90, 150), WHITE)
    assert close(pixel(frame, 90, 210), RED)  # 20 px below the box's bottom edge at y=200
    assert close(pixel(frame, 90, 90), BLACK)


def test_text_overlay_is_drawn_inside_its_box_for_its_time(render_reel):
    overlays = [{"content": "HELLO", "time": {"start_seconds": 0.5, "duration_seconds": 0.5},
                 "layout": {"x": "0%", "y": "60%", "width": "100%", "height": "20%"},
                 "style": {"color": "#FF0000", "font_size": 40, "font_weight": 700}}]
    _, out = render_reel(reel([image("white", duration=1.5, layout={"fit": "cover"})], ASSETS,
                              text_overlays=overlays))

    def red_pixels(frame, rows):
        part = frame[rows[0]:rows[1]].astype(int)
        return int(((part[..., 0] > 180) & (part[..., 1] < 90) & (part[..., 2] < 90)).sum())

    shown = frame_at(out, 0.75)
    assert red_pixels(shown, (192, 256)) > 100
    assert red_pixels(shown, (0, 190)) == 0 and red_pixels(shown, (258, H)) == 0
    assert red_pixels(frame_at(out, 0.2), (0, H)) == 0
    assert red_pixels(frame_at(out, 1.2), (0, H)) == 0


def test_text_overlay_z_index_can_put_text_under_a_layer(render_reel):
    overlays = [{"content": "HIDDEN", "time": {"start_seconds": 0, "duration_seconds": 1},
                 "layout": {"z_index": -1}, "style": {"color": "red", "font_size": 40}}]
    frame, _, _ = render_frame(render_reel, [image("white", layout={"fit": "cover"})], text_overlays=overlays)
    assert (np.abs(frame.astype(int) - 255).max(axis=2) > 60).sum() == 0


def test_captions_highlight_the_spoken_word(render_reel):
    words = [{"text": "ONE", "start_seconds": 0.2, "end_seconds": 0.6},
             {"text": "TWO", "start_seconds": 0.6, "end_seconds": 1.0},
             {"text": "FOUR", "start_seconds": 1.0, "end_seconds": 1.4}]
    captions = [{"id": "subs", "words": words, "highlight_color": "#00FF00", "max_words_per_page": 2,
                 "layout": {"x": "0%", "y": "40%", "width": "100%", "height": "20%"},
                 "style": {"color": "white", "font_size": 30, "font_weight": 700}}]
    _, out = render_reel(reel([image("halves", duration=1.6, background_mode="solid", layout={"height": "30%"})],
                              ASSETS, captions=captions))

    def green_columns(t):
        part = frame_at(out, t)[128:192].astype(int)
        hits = (part[..., 1] > 180) & (part[..., 0] < 100) & (part[..., 2] < 100)
        columns = np.flatnonzero(hits.any(axis=0))
        return columns

    assert green_columns(0.1).size == 0  # before the first word
    first, second = green_columns(0.4), green_columns(0.8)
    assert first.size and second.size
    assert first.mean() < second.mean()  # the highlight moved right to the second word of the page
    assert green_columns(1.2).size  # the next page, its first word highlighted
    assert green_columns(1.5).size == 0  # after the last word


@pytest.mark.parametrize("kind, grows", [("zoom_in", True), ("zoom_out", False)])
def test_zoom_motion_scales_the_picture_over_time(render_reel, kind, grows):
    frame_first, _, out = render_frame(render_reel, [image("checker", duration=2, layout={"fit": "cover"},
                                                           motion={"type": kind, "intensity": 0.5})], t=0)
    frame_last = frame_at(out, 1.9)

    def square_width(frame):
        row = frame[H // 2, :, 0].astype(int) > 128
        edges = np.flatnonzero(np.diff(row.astype(int)))
        return np.diff(edges).mean()

    ratio = square_width(frame_last) / square_width(frame_first)
    assert (ratio > 1.3) if grows else (ratio < 1 / 1.3), ratio


def test_pan_motion_moves_the_picture_sideways(render_reel):
    frame_first, _, out = render_frame(render_reel, [image("halves", duration=2, layout={"fit": "contain"},
                                                           background_mode="solid",
                                                           motion={"type": "pan_right", "intensity": 0.5})], t=0)
    frame_last = frame_at(out, 1.9)

    def edge(frame):  # x where red turns green along the middle row
        row = frame[H // 2].astype(int)
        return int(np.argmax(row[:, 1] > row[:, 0]))

    assert edge(frame_last) < edge(frame_first) - 20  # the view moves right, so the picture moves left


@pytest.mark.parametrize("kind", ["crossfade", "slide", "wipe"])
def test_transitions_blend_into_the_next_layer(render_reel, kind):
    timeline = [video("blue_port", 0, 1),
                video("green_port", 1, 1, transition={"type": kind, "duration_seconds": 0.6})]
    _, out = render_reel(reel(timeline, ASSETS))
    assert close(pixel(frame_at(out, 0.5), W // 2, H // 2), BLUE)
    assert close(pixel(frame_at(out, 1.8), W // 2, H // 2), GREEN)
    middle = frame_at(out, 1.3).astype(int)
    if kind == "crossfade":
        assert close(pixel(middle, W // 2, H // 2), (0, 128, 128), tolerance=50)
    else:  # one side already green, the other still blue
        left, right = pixel(middle, 10, H // 2), pixel(middle, W - 10, H // 2)
        assert {max(range(3), key=left.__getitem__), max(range(3), key=right.__getitem__)} == {1, 2}


def test_crossfade_between_stills_mixes_them(render_reel):
    cover = {"fit": "cover"}
    timeline = [image("white", 0, 1, layout=cover),
                image("halves", 1, 1, layout=cover, transition={"type": "crossfade", "duration_seconds": 0.6})]
    _, out = render_reel(reel(timeline, ASSETS))
    assert close(pixel(frame_at(out, 0.5), 20, H // 2), WHITE)
    assert close(pixel(frame_at(out, 1.3), 20, H // 2), (255, 128, 128), tolerance=45)
    assert close(pixel(frame_at(out, 1.8), 20, H // 2), RED)


def test_transition_without_a_preceding_layer_is_ignored_with_a_warning(render_reel):
    timeline = [video("green_port", 0, 1, transition={"type": "crossfade", "duration_seconds": 0.5})]
    result, out = render_reel(reel(timeline, ASSETS))
    assert any("transition" in w for w in result.warnings)
    assert close(pixel(frame_at(out, 0.1), W // 2, H // 2), GREEN)


def test_short_video_holds_its_last_frame_and_rates_are_converted(render_reel):
    frame, result, out = render_frame(render_reel, [video("blue_port", 0, 3)], t=2.7)
    assert_reel(out, duration=3)  # a 25 fps, 2 s source into 3 s at 15 fps
    assert close(pixel(frame, W // 2, H // 2), BLUE)


def test_odd_output_size_is_rounded_down_to_even(render_reel):
    result, out = render_reel(reel([image("white")], ASSETS, width=181, height=321))
    assert (result.width, result.height) == (180, 320)
    assert any("even" in w for w in result.warnings)
    assert_reel(out)


@pytest.mark.parametrize("motion", ["pan_left", "zoom_in"])
def test_a_picture_almost_the_box_shape_gets_thin_even_bars(render_reel, tmp_path, motion):
    # 134x240 in a panned box scales to 144x258 in 144x260: a 2 pixel bar, once a crop of 0 height.
    from PIL import Image

    Image.new("RGB", (134, 240), (200, 40, 40)).save(tmp_path / "near.png")
    manifest = reel([image("near", duration=1.0, motion={"type": motion, "intensity": 0.08})],
                    [{"id": "near", "type": "image", "url": str(tmp_path / "near.png")}], width=134, height=240)
    result, out = render_reel(manifest, media_dirs=[tmp_path])
    assert_reel(out, width=134, height=240, duration=1)
    assert close(pixel(frame_at(out, 0.5), 67, 120), (200, 40, 40))
