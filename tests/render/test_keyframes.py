"""Keyframes interpolate with their easing (opacity, x, y, rotation, scale, volume); bad ones are 400s."""

import numpy as np
import pytest

from moneyreels import easing
from moneyreels.easing import Key, keys_of, value_at
from moneyreels.manifest import Keyframes, Manifest, Motion
from moneyreels.render import RenderOptions, render
from tests.support.video import FPS, frame_at, loudness, reel

WHITE = [{"id": "white", "type": "image", "url": "white.png"}]
X0, Y0, SIDE = 20, 20, 30
MOVES = {"x": [{"time": 0.2, "value": 0}, {"time": 1.4, "value": 100, "easing": "ease-in"}],
         "y": [{"time": 0, "value": 0}, {"time": 1.8, "value": 90, "easing": "cubic-bezier(0.25,0.1,0.25,1)"}],
         "opacity": [{"time": 0, "value": 1}, {"time": 1, "value": 0.3, "easing": "ease-out"},
                     {"time": 1.8, "value": 1}]}


def image(layout, keyframes, seconds=2):
    return {"id": f"box-{layout['y']}", "type": "image", "asset_id": "white", "keyframes": keyframes,
            "time": {"start_seconds": 0, "duration_seconds": seconds}, "layout": {**layout, "fit": "cover"}}


def rendered(media, folder, manifest):
    render(Manifest.model_validate(manifest), folder / "out.mp4",
           RenderOptions(media_dirs=[media], work_dir=folder, preset="ultrafast", crf=12))
    return folder / "out.mp4"


def frame(video, n):
    """Frame n (time n / FPS) as luminance."""
    return frame_at(video, max(0.0, n - 0.25) / FPS).mean(axis=2)


def extent(mask, axis):
    """(first, last) index of lit pixels along rows (axis=0: columns) or columns (axis=1: rows)."""
    lit = np.flatnonzero(mask.any(axis=axis))
    return lit.min(), lit.max()


@pytest.fixture(scope="module")
def moved(media, tmp_path_factory):
    layout = {"x": X0, "y": Y0, "width": SIDE, "height": SIDE}
    return rendered(media, tmp_path_factory.mktemp("moved"), reel([image(layout, MOVES)], WHITE))


@pytest.mark.parametrize("n", [0, 3, 6, 9, 12, 15, 18, 21, 26])
def test_x_y_and_opacity_follow_their_easing(moved, n):
    t = n / FPS
    expected = {name: value_at(keys_of(Keyframes.model_validate(MOVES).__dict__[name]), t) for name in MOVES}
    luma = frame(moved, n)
    mask = luma > 25
    (left, _), (top, _) = extent(mask, 0), extent(mask, 1)
    assert left == pytest.approx(X0 + expected["x"], abs=2)
    assert top == pytest.approx(Y0 + expected["y"], abs=2)
    inside = luma[top + 8:top + SIDE - 8, left + 8:left + SIDE - 8]
    assert inside.mean() / 255 == pytest.approx(expected["opacity"], abs=0.05)


@pytest.fixture(scope="module")
def turned(media, tmp_path_factory):
    rotation = {"rotation": [{"time": 0, "value": 0}, {"time": 1, "value": 90}]}
    scale = {"scale": [{"time": 0, "value": 1}, {"time": 1, "value": 2, "easing": "ease-in-out"}]}
    layers = [image({"x": 50, "y": 60, "width": 80, "height": 16}, rotation),
              image({"x": 50, "y": 200, "width": 60, "height": 16}, scale)]
    return rendered(media, tmp_path_factory.mktemp("turned"), reel(layers, WHITE))


def test_rotation_turns_about_the_centre(turned):
    def size(n):
        mask = frame(turned, n)[:140] > 100
        (left, right), (top, bottom) = extent(mask, 0), extent(mask, 1)
        return right - left + 1, bottom - top + 1, (left + right) / 2, (top + bottom) / 2
    assert size(0)[:2] == pytest.approx((80, 16), abs=2)
    angle = np.radians(90 * 8 / FPS)  # frame 8, linear from 0 to 90 degrees over 1 s
    bounds = (80 * np.cos(angle) + 16 * np.sin(angle), 80 * np.sin(angle) + 16 * np.cos(angle))
    assert size(8)[:2] == pytest.approx(bounds, abs=3)
    width, height, x, y = size(20)
    assert (width, height) == pytest.approx((16, 80), abs=2) and (x, y) == pytest.approx((90, 68), abs=2)


def test_scale_grows_about_the_centre_with_its_easing(turned):
    for n in (5, 8, 20):
        mask = frame(turned, n)[160:] > 100
        left, right = extent(mask, 0)
        factor = 1 + easing.ease(easing.parse("ease-in-out"), n / FPS)
        assert right - left + 1 == pytest.approx(60 * factor, abs=2)
        assert (left + right) / 2 == pytest.approx(80, abs=2)  # overlay places 4:2:0 pictures at even pixels


def test_volume_keyframes_shape_the_level_times_the_volume(render_reel, media):
    keys = [{"time": 0.5, "value": 0}, {"time": 2.5, "value": 1, "easing": "linear"}]
    manifest = reel([{"id": "tone", "type": "audio", "asset_id": "tone",
                      "time": {"start_seconds": 0, "duration_seconds": 3},
                      "media_settings": {"volume": 0.5, "loop": True}, "keyframes": {"volume": keys}}],
                    [{"id": "tone", "type": "audio", "url": "tone.wav"}])
    _, out = render_reel(manifest)
    full = 0.5 * loudness(media / "tone.wav", 0.2, 0.5)
    assert loudness(out, 0.0, 0.4) < 0.01 * full
    expected = [Key(0.5, 0), Key(2.5, 1)]
    for start in (0.9, 1.4, 1.9):
        # Over a 0.2 s window the level rises linearly: its RMS is that of the middle's level, near enough.
        assert loudness(out, start, 0.2) == pytest.approx(full * value_at(expected, start + 0.1), rel=0.06)
    assert loudness(out, 2.6, 0.3) == pytest.approx(full, rel=0.05)


def test_easing_names_are_css_curves_and_motion_takes_them():
    assert easing.ease(easing.parse("linear"), 0.3) == 0.3
    assert easing.ease(easing.parse("ease-in"), 0.5) == pytest.approx(0.3153, abs=1e-3)  # CSS's own table
    assert easing.ease(easing.parse("ease-out"), 0.5) == pytest.approx(0.6847, abs=1e-3)
    assert easing.ease(easing.parse("cubic-bezier(0.34,1.56,0.64,1)"), 0.6) > 1  # overshoots
    keys = [Key(1, 5), Key(2, 7, easing.parse("ease-in-out"))]
    assert (value_at(keys, 0), value_at(keys, 1.5), value_at(keys, 3)) == (5, pytest.approx(6), 7)
    assert Motion(type="zoom_in", easing="ease-out").easing == "ease-out"
    assert Motion(type="zoom_in", easing="ease_in_out").easing == "ease_in_out"


TEXT = {"content": "Hi", "time": {"start_seconds": 0, "duration_seconds": 2}}
IMAGE = image({"x": 0, "y": 0, "width": 20, "height": 20}, None)
TONE = {"id": "tone", "type": "audio", "asset_id": "tone", "time": {"start_seconds": 0, "duration_seconds": 1}}
TOO_MANY = [{"time": i / 10, "value": 1} for i in range(101)]


@pytest.mark.parametrize("edit, field", [
    ({"keyframes": {"opacity": [{"time": 0, "value": 1.5}]}}, "timeline.0.keyframes.opacity.0.value"),
    ({"keyframes": {"x": [{"time": 0, "value": 1}, {"time": 1, "value": 2, "easing": "bouncy"}]}},
     "timeline.0.keyframes.x.1.easing"),
    ({"keyframes": {"y": [{"time": 0, "value": 1, "easing": "cubic-bezier(1.5,0,1,1)"}]}},
     "timeline.0.keyframes.y.0.easing"),
    ({"keyframes": {"scale": TOO_MANY}}, "timeline.0.keyframes.scale"),
    ({"keyframes": {"rotation": [{"time": -1, "value": 0}]}}, "timeline.0.keyframes.rotation.0.time"),
    ({"keyframes": {"x": [{"time": 1, "value": 0}, {"time": 1, "value": 3}]}}, "timeline.0.keyframes"),
    ({"keyframes": {"volume": [{"time": 0, "value": 1}]}}, "timeline.0"),
    ({"animations": {"in": {"type": "typewriter"}}}, "timeline.0.animations.in.type"),
    ({"animations": {"in": {"type": "spin"}}}, "timeline.0.animations.in.type"),
    ({"animations": {"out": {"type": "fade", "duration_seconds": 0}}}, "timeline.0.animations.out.duration_seconds"),
    ({"animations": {"out": {"type": "fade", "direction": "left"}}}, "timeline.0.animations.out"),
    ({"animations": {"in": {"type": "slide", "direction": "up"}}}, "timeline.0.animations.in.direction"),
    ({"animations": {"in": {"type": "fade", "easing": "cubic-bezier(0,1)"}}}, "timeline.0.animations.in.easing"),
    ({"motion": {"type": "zoom_in", "easing": "wobbly"}}, "timeline.0.motion.easing"),
])
def test_bad_keyframes_and_animations_are_400s_naming_the_field(client, edit, field):
    manifest = reel([{**IMAGE, **edit}], WHITE)
    response = client.post("/v1/videos/render", json=manifest)
    assert response.status_code == 400
    fields = [e["field"] for e in response.json["error"]["details"]["errors"]]
    assert any(f"composition.{field}" == f for f in fields), fields


@pytest.mark.parametrize("layers, overlays, field", [
    ([{**TONE, "keyframes": {"x": [{"time": 0, "value": 1}]}}], [], "composition.timeline.0"),
    ([{**TONE, "animations": {"in": {"type": "fade"}}}], [], "composition.timeline.0"),
    ([], [{**TEXT, "keyframes": {"volume": [{"time": 0, "value": 1}]}}], "composition.text_overlays.0"),
    ([], [{**TEXT, "animation": {"type": "pop"}, "animations": {"in": {"type": "fade"}}}],
     "composition.text_overlays.0"),
    ([], [{**TEXT, "animations": {"in": {"type": "typewriter", "duration_seconds": 4000}}}],
     "composition.text_overlays.0.animations.in.duration_seconds"),
])
def test_moves_where_they_cannot_apply_are_400s(client, layers, overlays, field):
    manifest = reel(layers, [{"id": "tone", "type": "audio", "url": "tone.wav"}], text_overlays=overlays)
    response = client.post("/v1/videos/render", json=manifest)
    assert response.status_code == 400
    assert field in [e["field"] for e in response.json["error"]["details"]["errors"]]
