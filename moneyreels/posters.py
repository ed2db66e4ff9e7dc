"""A poster frame per finished reel: `poster.jpg` beside the video, for lists and the player.

Taken a moment into the video (the first frame is often a fade from black), small enough for a
list thumbnail and a player's placeholder.
"""

import logging
import subprocess
from pathlib import Path

import imageio_ffmpeg

log = logging.getLogger(__name__)

NAME = "poster.jpg"
AT_SECONDS = 0.5
WIDTH = 360
TIMEOUT_SECONDS = 30


def write_poster(video: Path) -> Path | None:
    """Write poster.jpg beside video; return its path, or None (logged) when the frame cannot be had."""
    return write_frame(video, video.with_name(NAME))


def write_frame(video: Path, poster: Path) -> Path | None:
    """Write a frame of video (or a still) as the JPEG poster; return it, or None (logged) when it cannot be had."""
    partial = poster.with_name(poster.name + ".part")
    # -ss before -i seeks rather than decoding from the start. Short videos and stills (a JPEG
    # sought at all yields no frame) fall back to the first frame, with no -ss.
    for seek in (["-ss", str(AT_SECONDS)], []):
        command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-nostdin", "-y", *seek, "-i", str(video),
                   "-frames:v", "1", "-vf", f"scale={WIDTH}:-2", "-q:v", "4", "-f", "mjpeg", str(partial)]
        try:
            subprocess.run(command, capture_output=True, timeout=TIMEOUT_SECONDS, check=True)
        except subprocess.CalledProcessError:
            continue  # too short to seek that far, or undecodable: the next attempt says which
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.warning("no poster for %s: %s", video, type(exc).__name__)
            break
        if partial.is_file() and partial.stat().st_size:
            partial.replace(poster)
            return poster
    partial.unlink(missing_ok=True)
    log.warning("no poster for %s", video)
    return None
