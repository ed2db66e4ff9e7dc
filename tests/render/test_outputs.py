"""Output formats and the poster: a GIF comes out as a palette GIF, an MP3 as sound alone, the poster as its frame."""

import subprocess

import numpy as np
import pytest

from moneyreels.errors import RenderError
from moneyreels.manifest import Manifest
from moneyreels.render import RenderOptions, render
from moneyreels.render.outputs import GIF_MAX_FPS, GIF_MAX_SIDE
from tests.support.video import FFMPEG, close, frame_at, loudness, pixel, probe, reel

ASSETS = [{"id": "halves", "type": "image", "url": "halves.jpg"}, {"id": "red", "type": "video", "url": "red_land.mp4"}]


@pytest.fixture
def render_to(tmp_path, media):
    """Render a manifest dict to tmp_path/name; return the output's path (the poster goes beside it)."""

    def run(manifest: dict, name: str):
        work = tmp_path / "work"
        work.mkdir(exist_ok=True)
        out = tmp_path / name
        render(Manifest.model_validate(manifest), out,
               RenderOptions(media_dirs=[media, tmp_path], work_dir=work, preset="ultrafast"))
        return out

    return run


def decoded(path, width, height):
    """Every frame of path as an (n, height, width, 3) uint8 array."""
    raw = subprocess.run([FFMPEG, "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)


def test_a_gif_is_a_palette_gif_capped_in_rate_and_size_with_a_full_size_poster(render_to):
    timeline = [{"id": "pic", "type": "image", "asset_id": "halves", "layout": {"fit": "cover"},
                 "time": {"start_seconds": 0, "duration_seconds": 1}},
                {"id": "clip", "type": "video", "asset_id": "red", "time": {"start_seconds": 1, "duration_seconds": 1},
                 "transition": {"type": "fadeblack", "duration_seconds": 0.4}}]
    manifest = reel(timeline, ASSETS, width=540, height=960, fps=30)
    manifest["output"].update(format="gif", poster={"time_seconds": 0.5})
    out = render_to(manifest, "preview.gif")
    info = probe(out)
    video = info["video"]
    assert video["codec_name"] == "gif" and info["audio"] is None
    assert (video["width"], video["height"]) == (GIF_MAX_SIDE * 540 // 960, GIF_MAX_SIDE)
    assert video["r_frame_rate"] == f"{GIF_MAX_FPS}/1"
    assert abs(info["duration"] - 2) < 0.1
    frames = decoded(out, video["width"], video["height"])
    assert len(frames) == 2 * GIF_MAX_FPS
    colours = np.unique(frames.reshape(-1, 3), axis=0)
    assert 8 < len(colours) <= 256  # one palette: a picture, a red clip and a fade through black
    assert close(pixel(frames[5], 20, 240), (255, 0, 0)) and close(pixel(frames[5], 250, 240), (0, 255, 0))
    assert close(pixel(frames[-1], 135, 240), (255, 0, 0))
    poster = probe(out.with_suffix(".jpg"))["video"]
    assert poster["codec_name"] == "mjpeg" and (poster["width"], poster["height"]) == (540, 960)


def test_an_mp3_is_the_mix_alone_at_the_reels_length(render_to):
    # The video's own sound, with no audio layer: its sound is read without its pictures.
    timeline = [{"id": "clip", "type": "video", "asset_id": "red",
                 "time": {"start_seconds": 0.5, "duration_seconds": 2}}]
    manifest = reel(timeline, ASSETS)
    manifest["output"]["format"] = "mp3"
    out = render_to(manifest, "sound.mp3")
    info = probe(out)
    assert info["video"] is None and info["audio"]["codec_name"] == "mp3"
    assert abs(info["duration"] - 2.5) < 0.05
    assert loudness(out, 0.0, 0.4) < 0.001 and loudness(out, 1.0, 1.0) > 0.05  # silent, then the clip's tone
    assert not out.with_suffix(".jpg").exists()


def test_the_poster_is_the_frame_on_screen_at_its_time(render_to, tmp_path):
    # Every frame a different grey, 6 levels apart: the poster must be this frame, not a neighbour.
    steps = "color=black:s=64x112:r=15:d=2,geq=lum='16+N*6':cb=128:cr=128"
    subprocess.run([FFMPEG, "-v", "error", "-f", "lavfi", "-i", steps,
                    "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv420p", str(tmp_path / "steps.mp4")], check=True)
    manifest = reel([{"id": "steps", "type": "video", "asset_id": "steps", "time": {"start_seconds": 0}}],
                    [{"id": "steps", "type": "video", "url": "steps.mp4"}], width=64, height=112, fps=15)
    manifest["output"]["poster"] = {"time_seconds": 1.0}
    out = render_to(manifest, "reel.mp4")
    poster = decoded(out.with_suffix(".jpg"), 64, 112)[0].astype(int)
    greys = {t: frame_at(out, t).astype(int).mean() for t in (14 / 15, 1.0, 16 / 15)}
    assert abs(poster.mean() - greys[1.0]) < 2
    assert min(greys, key=lambda t: abs(greys[t] - poster.mean())) == 1.0
    assert abs(greys[1.0] - (16 + 15 * 6)) < 4  # frame 15 of the source


def test_a_poster_after_the_end_fails_the_render_and_writes_nothing(render_to, tmp_path):
    manifest = reel([{"id": "pic", "type": "image", "asset_id": "halves", "time": {"start_seconds": 0,
                                                                                    "duration_seconds": 1}}], ASSETS)
    manifest["output"]["poster"] = {"time_seconds": 1.5}
    with pytest.raises(RenderError) as caught:
        render_to(manifest, "reel.mp4")
    assert caught.value.code == "manifest_out_of_bounds"
    assert caught.value.details["field"] == "output.poster.time_seconds"
    assert not [path for path in tmp_path.iterdir() if path.suffix in (".mp4", ".jpg", ".part")]
