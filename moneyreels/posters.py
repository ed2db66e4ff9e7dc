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
    poster = video.with_name(NAME)
    partial = video.with_name(NAME + ".part")
    # -ss after -i would decode from the start; before it, ffmpeg seeks. Short videos fall back to 0.
    for at in (AT_SECONDS, 0):
        command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-nostdin", "-y", "-ss", str(at), "-i", str(video),
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
