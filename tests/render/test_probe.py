"""Probing with `ffmpeg -i` (the product ships no ffprobe)."""

import pytest

from moneyreels.errors import RenderError
from moneyreels.render.probe import parse_probe, probe
from tests.support.video import FFMPEG

ROTATED = """Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'phone.mp4':
  Duration: 00:01:02.50, start: 0.000000, bitrate: 9000 kb/s
  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(tv, bt709, progressive), 1920x1080, 30 fps
    Side data:
      displaymatrix: rotation of -90.00 degrees
  Stream #0:1[0x2](und): Audio: aac (LC) (mp4a / 0x6134706D), 48000 Hz, stereo, fltp, 128 kb/s
"""


def test_rotated_phone_video_reports_its_displayed_size():
    info = parse_probe(ROTATED)
    assert (info.width, info.height, info.duration) == (1080, 1920, 62.5)
    assert info.has_audio and not info.is_still and not info.has_alpha


@pytest.mark.parametrize("name, still, alpha, audio, size", [
    ("red_land.mp4", False, False, True, (320, 180)),
    ("logo.png", True, True, False, (100, 100)),
    ("halves.jpg", True, False, False, (400, 200)),
    ("tone.wav", False, False, True, (None, None)),
])
def test_probe_real_files(media, name, still, alpha, audio, size):
    info = probe(FFMPEG, str(media / name), asset_id="a")
    assert (info.is_still, info.has_alpha, info.has_audio, (info.width, info.height)) == (still, alpha, audio, size)
    assert (info.duration is None) == still


def test_probe_refuses_non_media(media):
    with pytest.raises(RenderError) as caught:
        probe(FFMPEG, str(media / "notes.txt"), asset_id="notes")
    assert caught.value.code == "invalid_asset_url" and caught.value.details["asset_id"] == "notes"
