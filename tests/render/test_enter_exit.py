"""Enter and exit animations reach their states on time: fade, slide, wipe, pop, blur, typewriter."""

import subprocess

import numpy as np
import pytest

from moneyreels import easing
from moneyreels.manifest import Manifest
from moneyreels.render import RenderOptions, render
from moneyreels.render.animation import BACK_OUT, POP_FROM
from tests.support.video import FFMPEG, FPS, H, W, frame_at, reel

SIDE, LEFT = 40, 70  # every box is 40 px square, its left edge at x=70
ROWS = {"fade": 5, "slide": 55, "wipe": 105, "pop": 155, "blur": 205}
TEXT_TOP = 255


def box(name, asset="white", **animations):
    return {"id": name, "type": "image", "asset_id": asset, "time": {"start_seconds": 0, "duration_seconds": 2},
            "layout": {"x": LEFT, "y": ROWS[name], "width": SIDE, "height": SIDE, "fit": "cover"},
            "animations": animations}


def linear(kind, seconds, **options):
    return {"type": kind, "duration_seconds": seconds, "easing": "linear", **options}


@pytest.fixture(scope="module")
def video(media, tmp_path_factory):
    folder = tmp_path_factory.mktemp("enter-exit")
    manifest = reel(
        [box("fade", **{"in": linear("fade", 1), "out": linear("fade", 0.5)}),
         box("slide", **{"in": linear("slide", 1, direction="left", distance=SIDE)}),
         box("wipe", **{"in": linear("wipe", 1, direction="left"), "out": linear("wipe", 0.5, direction="bottom")}),
         box("pop", **{"in": {"type": "pop", "duration_seconds": 1}}),
         box("blur", "halves", **{"in": linear("blur", 1)})],
        [{"id": "white", "type": "image", "url": "white.png"}, {"id": "halves", "type": "image", "url": "halves.jpg"}],
        text_overlays=[{"content": "Typed out", "time": {"start_seconds": 0, "duration_seconds": 2},
                        "layout": {"x": 0, "y": TEXT_TOP, "width": "100%", "height": 60},
                        "style": {"font_size": 30, "font_weight": 800, "color": "#ffffff"},
                        "animations": {"in": linear("typewriter", 1), "out": linear("fade", 0.5)}}])
    render(Manifest.model_validate(manifest), folder / "out.mp4",
           RenderOptions(media_dirs=[media], work_dir=folder, preset="ultrafast", crf=12))
    return folder / "out.mp4"


def shown(video, n):
    """Frame n (its time is n / FPS) as luminance: frame_at gives the first frame at or after a time."""
    return frame_at(video, max(0.0, n - 0.25) / FPS).mean(axis=2)


def every_frame(video):
    """Every frame of the video as luminance, in order."""
    raw = subprocess.run([FFMPEG, "-v", "error", "-i", str(video), "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, H, W).astype(float)


def row_of(frame, name):
    return frame[ROWS[name]:ROWS[name] + SIDE]


def lit(region, threshold=100):
    return region > threshold


def test_fade_in_is_half_way_half_way_and_the_fade_out_ends_on_the_last_frame(video):
    level = lambda n: row_of(shown(video, n), "fade")[10:30, LEFT + 10:LEFT + 30].mean() / 255  # noqa: E731
    assert level(0) < 0.03
    assert level(7) == pytest.approx(7 / 15, abs=0.06)  # t = 0.467 of a 1 s fade
    assert level(20) > 0.95
    exit_start = (29 - 7.5) / FPS  # 0.5 s ending on the last frame, 29
    assert level(25) == pytest.approx(1 - (25 / FPS - exit_start) / 0.5, abs=0.06)
    assert level(29) < 0.03
    # Moving parts and the resting part between them meet without a gap or a doubled frame.
    levels = [row_of(frame, "fade")[10:30, LEFT + 10:LEFT + 30].mean() for frame in every_frame(video)]
    assert np.all(np.diff(levels[:16]) > 0) and min(levels[15:22]) > 0.95 * max(levels)
    assert np.all(np.diff(levels[22:]) < 0)


def test_slide_from_the_left_is_part_way_mid_entrance_and_in_place_after(video):
    def left_edge(n):
        return np.flatnonzero(lit(row_of(shown(video, n), "slide")).any(axis=0)).min()
    assert left_edge(6) == pytest.approx(LEFT - SIDE * (1 - 6 / 15), abs=2)
    assert left_edge(20) == pytest.approx(LEFT, abs=1)


def test_wipe_reveals_from_its_side_and_hides_towards_the_other(video):
    columns = np.flatnonzero(lit(row_of(shown(video, 6), "wipe")).any(axis=0))
    assert columns.min() == pytest.approx(LEFT, abs=1) and columns.size == pytest.approx(SIDE * 6 / 15, abs=2)
    assert lit(row_of(shown(video, 20), "wipe")).any(axis=0).sum() == pytest.approx(SIDE, abs=1)
    # Leaving towards the bottom: the reveal from the bottom played backwards, the top hidden first.
    rows = np.flatnonzero(lit(row_of(shown(video, 25), "wipe")).any(axis=1))
    share = 1 - (25 / FPS - (29 - 7.5) / FPS) / 0.5
    assert rows.max() == pytest.approx(SIDE - 1, abs=1) and rows.size == pytest.approx(SIDE * share, abs=2)
    assert not lit(row_of(shown(video, 29), "wipe")).any()


def test_pop_grows_past_its_size_and_settles(video):
    def width(n):
        columns = np.flatnonzero(lit(shown(video, n)[ROWS["pop"] - 4:ROWS["pop"] + SIDE + 4], 40).any(axis=0))
        return columns.max() - columns.min() + 1
    for n in (3, 9):
        scale = POP_FROM + (1 - POP_FROM) * easing.ease(easing.parse(BACK_OUT), n / FPS)
        assert width(n) == pytest.approx(SIDE * scale, abs=2), n
    assert width(9) > SIDE + 1 and width(20) == pytest.approx(SIDE, abs=1)


def test_blur_in_is_soft_early_and_sharp_once_in(video):
    def blend_width(n):
        """How many columns of the middle row are between the red half and the green half."""
        middle = frame_at(video, max(0.0, n - 0.25) / FPS)[ROWS["blur"] + SIDE // 2, LEFT:LEFT + SIDE].astype(float)
        red, green = middle[:, 0], middle[:, 1]
        return int(((red > 0.2 * red.max()) & (green > 0.2 * green.max())).sum())
    assert blend_width(4) > 20 and blend_width(20) <= 4


def test_typewriter_types_in_and_the_fade_out_takes_the_text_away(video):
    def ink_columns(n):
        return np.flatnonzero((shown(video, n)[TEXT_TOP:TEXT_TOP + 60] > 100).any(axis=0))
    whole = ink_columns(20)
    typed = ink_columns(7)
    assert typed.min() == pytest.approx(whole.min(), abs=2)
    assert typed.max() - typed.min() < 0.7 * (whole.max() - whole.min())
    assert ink_columns(0).size == 0 and ink_columns(29).size == 0
