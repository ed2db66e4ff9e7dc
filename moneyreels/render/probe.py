"""Probe media with the bundled ffmpeg (`ffmpeg -i`), so the product needs no ffprobe."""

import logging
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

from moneyreels.errors import RenderError

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2
# Remote inputs are read from the relay on 127.0.0.1 (see relay.py): plain HTTP, nothing else.
NETWORK_PROTOCOLS = "http,tcp"
# Demuxers of real media only: a "video" that is really an HLS or concat playlist must not
# make ffmpeg open other files or URLs on our behalf.
MEDIA_FORMATS = ("mov,matroska,avi,flv,mpegts,mpeg,ogg,wav,mp3,flac,aac,aiff,w64,"
                 "image2,png_pipe,jpeg_pipe,webp_pipe,gif,bmp_pipe,tiff_pipe")


def input_guard(remote: bool, timeout: float) -> list[str]:
    """ffmpeg input options that confine reading an asset to its own file or URL and to media demuxers."""
    if remote:
        return ["-protocol_whitelist", NETWORK_PROTOCOLS, "-rw_timeout", str(int(timeout * 1e6)),
                "-format_whitelist", MEDIA_FORMATS]
    return ["-protocol_whitelist", "file", "-format_whitelist", MEDIA_FORMATS]

_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #0:\d+.*?: Video: (\w+).*?, (\w+)(?:\(.*?\))?, (\d+)x(\d+)")
_AUDIO = re.compile(r"Stream #0:\d+.*?: Audio: ")
_ROTATION = re.compile(r"rotation of (-?\d+(?:\.\d+)?) degrees")
_ALPHA_FORMATS = ("rgba", "bgra", "argb", "abgr", "ya", "yuva", "gbrap", "pal8")
_STILL_CODECS = {"png", "mjpeg", "webp", "bmp", "gif", "tiff", "jpegxl", "jpeg2000", "ppm"}


@dataclass(frozen=True)
class MediaInfo:
    duration: float | None  # None for stills
    width: int | None
    height: int | None
    has_video: bool
    has_audio: bool
    has_alpha: bool
    is_still: bool


def probe(ffmpeg: str, source: str, *, asset_id: str, timeout: float = 30,
          checkpoint: Callable[[], None] = lambda: None) -> MediaInfo:
    """Return what ffmpeg sees in source; raise invalid_asset_url if it is not decodable media.

    checkpoint() is polled while ffmpeg probes (a remote source may drip); what it raises
    stops this ffmpeg and propagates.
    """
    args = [ffmpeg, "-hide_banner", "-nostdin", *input_guard(source.startswith(("http://", "https://")), timeout),
            "-i", source]
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, errors="replace")
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                text = process.communicate(timeout=POLL_SECONDS)[1]
                break
            except subprocess.TimeoutExpired:
                checkpoint()
                if time.monotonic() > deadline:
                    raise _undecodable(asset_id, "probing timed out") from None
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    if "Input #0" not in text:
        reason = text.strip().splitlines()[-1] if text.strip() else "ffmpeg could not open it"
        raise _undecodable(asset_id, reason)
    return parse_probe(text)


def parse_probe(text: str) -> MediaInfo:
    """Parse the stream summary `ffmpeg -i` prints."""
    video = _VIDEO.search(text)
    width = height = None
    if video:
        width, height = int(video.group(3)), int(video.group(4))
        rotation = _ROTATION.search(text)
        if rotation and round(abs(float(rotation.group(1)))) % 180 == 90:
            width, height = height, width  # ffmpeg autorotates on decode
    duration = _DURATION.search(text)
    seconds = None
    if duration:
        h, m, s = duration.groups()
        seconds = int(h) * 3600 + int(m) * 60 + float(s)
    # A still decodes as one frame: no duration (png_pipe) or a single 1/25 s frame (image2).
    is_still = bool(video) and video.group(1) in _STILL_CODECS and (seconds or 0) <= 0.1
    pix_fmt = video.group(2) if video else ""
    return MediaInfo(
        duration=None if is_still else seconds,
        width=width,
        height=height,
        has_video=bool(video),
        has_audio=bool(_AUDIO.search(text)),
        has_alpha=pix_fmt.startswith(_ALPHA_FORMATS),
        is_still=is_still,
    )


def _undecodable(asset_id, reason):
    return RenderError(
        f"Asset '{asset_id}' is not decodable media: {reason}",
        code="invalid_asset_url",
        details={"asset_id": asset_id, "reason": reason},
    )
