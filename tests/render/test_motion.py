"""Ken Burns motion moves every frame, sub-pixel smooth: no held frames, no jumps."""

import subprocess

import numpy as np
import pytest

from tests.support.video import FFMPEG, FPS, H, W, assert_reel, reel

ASSETS = [{"id": "noise", "type": "image", "url": "noise.png"}]


def frames_of(path) -> np.ndarray:
    """Decode every frame as grey float arrays, shape (n, h, w)."""
    raw = subprocess.run([FFMPEG, "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, H, W).astype(float)


def horizontal_shift(a: np.ndarray, b: np.ndarray) -> float:
    """Return how far b's picture sits right of a's, in pixels, from the phase slope of their spectra.

    A shift s turns each frequency k's phase by -2 pi k s / n; fitting that slope over the low
    frequencies (which do not wrap for shifts of a few pixels) measures s to a fraction of a pixel.
    """
    margin = 8  # the picture's own edges and any letterbox stay out of the measure
    a, b = a[margin:-margin, margin:-margin], b[margin:-margin, margin:-margin]
    a, b = a - a.mean(axis=1, keepdims=True), b - b.mean(axis=1, keepdims=True)
    window = np.hanning(a.shape[1])
    spectrum = (np.fft.rfft(b * window, axis=1) * np.conj(np.fft.rfft(a * window, axis=1))).sum(axis=0)
    k = np.arange(1, len(spectrum) // 8)
    weights, phase = np.abs(spectrum[k]), np.angle(spectrum[k])
    slope = (weights * k * phase).sum() / (weights * k * k).sum()
    return -slope * a.shape[1] / (2 * np.pi)


def steps(path) -> np.ndarray:
    frames = frames_of(path)
    return np.array([horizontal_shift(a, b) for a, b in zip(frames, frames[1:])])


@pytest.mark.parametrize("kind", ["pan_left", "pan_right"])
def test_pan_moves_every_frame_by_an_even_sub_pixel_step(render_reel, kind):
    # 20 % of 180 px over 2 s at 15 fps: 36 px in 29 steps, 1.24 px a frame.
    layer = {"id": "n", "type": "image", "asset_id": "noise", "layout": {"fit": "cover"},
             "time": {"start_seconds": 0, "duration_seconds": 2}, "motion": {"type": kind, "intensity": 0.2}}
    _, out = render_reel(reel([layer], ASSETS))
    moves = steps(out) * (1 if kind == "pan_left" else -1)  # the picture moves against the view
    mean = moves.mean()
    assert mean == pytest.approx(36 / (2 * FPS - 1), rel=0.15)
    held = np.count_nonzero(np.abs(moves) < 0.25 * mean)
    jumps = np.count_nonzero(moves > 1.5 * mean)
    assert held <= 0.03 * len(moves) and jumps == 0, np.round(moves, 2)


@pytest.mark.parametrize("width", ["2px", "3px", "6px"])
def test_a_pan_of_a_sliver_renders(render_reel, width):
    # A box 2 or 3 pixels wide pans over a picture hardly wider: its shifted copies still have a size.
    layer = {"id": "n", "type": "image", "asset_id": "noise", "motion": {"type": "pan_left", "intensity": 0.05},
             "layout": {"x": "4px", "y": "4px", "width": width, "height": "8px", "fit": "cover"},
             "time": {"start_seconds": 0, "duration_seconds": 1}}
    _, out = render_reel(reel([layer], ASSETS))
    assert_reel(out, duration=1)


@pytest.mark.parametrize("kind", ["zoom_in", "zoom_out"])
def test_slow_zoom_changes_every_frame(render_reel, kind):
    # 10 % over 2 s at 15 fps: the picture grows 18 x 32 px in 29 steps, under 2 px a frame,
    # so sizes rounded to even pixels would repeat on about half the frames.
    layer = {"id": "n", "type": "image", "asset_id": "noise", "layout": {"fit": "cover"},
             "time": {"start_seconds": 0, "duration_seconds": 2}, "motion": {"type": kind, "intensity": 0.1}}
    _, out = render_reel(reel([layer], ASSETS))
    frames = frames_of(out)
    changes = np.array([np.abs(b - a).mean() for a, b in zip(frames, frames[1:])])
    held = np.count_nonzero(changes < 0.1 * np.median(changes))  # a repeated frame differs by coding noise only
    assert held <= 0.03 * len(changes), np.round(changes, 2)


def test_eased_pan_starts_and_ends_slower_than_its_middle(render_reel):
    layer = {"id": "n", "type": "image", "asset_id": "noise", "layout": {"fit": "cover"},
             "time": {"start_seconds": 0, "duration_seconds": 2},
             "motion": {"type": "pan_left", "intensity": 0.2, "easing": "ease_in_out"}}
    _, out = render_reel(reel([layer], ASSETS))
    moves = steps(out)
    assert moves.sum() == pytest.approx(36, abs=2)  # the same distance as a linear pan
    assert moves[:3].mean() < 0.5 * moves[13:16].mean() and moves[-3:].mean() < 0.5 * moves[13:16].mean()
