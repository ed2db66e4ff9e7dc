"""Helpers for render tests: build manifests at test size and inspect rendered files."""

import json
import shutil
import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
FFPROBE = shutil.which("ffprobe")
W, H, FPS = 180, 320, 15


def reel(timeline=(), assets=(), width=W, height=H, fps=FPS, **composition) -> dict:
    """Build a manifest dict at test size."""
    return {"version": "v1", "output": {"width": width, "height": height, "fps": fps},
            "assets": list(assets), "composition": {"timeline": list(timeline), **composition}}


def probe(path: Path) -> dict:
    """Return ffprobe's streams and format for path (tests only; the product never uses ffprobe)."""
    out = subprocess.run([FFPROBE, "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    streams = {s["codec_type"]: s for s in data["streams"]}
    return {"video": streams.get("video"), "audio": streams.get("audio"), "duration": float(data["format"]["duration"])}


def frame_at(path: Path, t: float) -> np.ndarray:
    """Decode the frame shown at t seconds as an (h, w, 3) uint8 RGB array."""
    info = probe(path)["video"]
    raw = subprocess.run([FFMPEG, "-v", "error", "-ss", str(t), "-i", str(path), "-frames:v", "1",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(info["height"], info["width"], 3)


def pixel(frame: np.ndarray, x: int, y: int) -> tuple[int, int, int]:
    """Return the mean colour of a 5x5 patch around (x, y)."""
    patch = frame[max(0, y - 2):y + 3, max(0, x - 2):x + 3].reshape(-1, 3)
    return tuple(int(v) for v in patch.mean(0))


def close(actual, expected, tolerance=40) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected))


def loudness(path: Path, start: float, duration: float) -> float:
    """Return the RMS level of the output's audio over [start, start+duration)."""
    raw = subprocess.run([FFMPEG, "-v", "error", "-ss", str(start), "-t", str(duration), "-i", str(path),
                          "-vn", "-ac", "1", "-ar", "48000", "-f", "f32le", "-"],
                         capture_output=True, check=True).stdout
    samples = np.frombuffer(raw, np.float32)
    return float(np.sqrt(np.mean(samples ** 2))) if samples.size else 0.0


def assert_reel(path: Path, width=W, height=H, fps=FPS, duration=None):
    """Check the output is H.264 yuv420p with AAC audio at the expected size, rate and length."""
    info = probe(path)
    video, audio = info["video"], info["audio"]
    assert video["codec_name"] == "h264" and video["pix_fmt"] == "yuv420p"
    assert (video["width"], video["height"]) == (width, height)
    assert video["r_frame_rate"] == f"{fps}/1"
    assert audio is not None and audio["codec_name"] == "aac"
    if duration is not None:
        assert abs(info["duration"] - duration) < 0.15, info["duration"]
    return info


def integrated_loudness(path: Path) -> float:
    """Return the output's integrated loudness in LUFS, as ffmpeg's EBU R128 meter reads it."""
    text = subprocess.run([FFMPEG, "-hide_banner", "-nostats", "-i", str(path), "-af", "ebur128", "-f", "null", "-"],
                          capture_output=True, text=True, check=True).stderr
    summary = text[text.rindex("Integrated loudness:"):]
    return float(summary.split("I:", 1)[1].split("LUFS", 1)[0])
