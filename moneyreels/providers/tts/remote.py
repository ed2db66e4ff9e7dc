"""What the voices users bring keys for share: the key, the HTTP client, decoding, speed and timing."""

import logging
import subprocess
import wave
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import imageio_ffmpeg
import numpy as np

from moneyreels.providers.http import ProviderClient
from moneyreels.providers.remote import require_key
from moneyreels.providers.tts.base import Speech, TTSError, Voice
from moneyreels.providers.tts.timing import align_sentences, from_spoken

log = logging.getLogger(__name__)

TTS_TIMEOUT = (5, 120)  # a long line is synthesised in full before the reply starts
MAX_AUDIO_BYTES = 64 * 1024 * 1024  # MoneyReels' longest script is minutes of audio, even base64-encoded
MIN_ATEMPO = 0.5  # ffmpeg's atempo filter goes no slower than this per instance


@dataclass
class Audio:
    """What one synthesis returned, before speed changes and word timing."""

    samples: np.ndarray  # mono int16
    rate: int
    spoken: list[tuple[str, float, float]] | None = None  # (characters or word, start, end), if timed


def pcm(data: bytes, rate: int) -> Audio:
    """Read raw mono s16le samples."""
    return Audio(np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2"), rate)


def decode(data: bytes, rate: int) -> Audio:
    """Decode any container ffmpeg reads (WAV, MP3...) to mono 16-bit samples at rate."""
    # ffmpeg, not the wave module: streamed WAVs carry placeholder sizes that wave misreads.
    out = _ffmpeg(["-i", "pipe:0"], ["-ac", "1", "-ar", str(rate)], data)
    return pcm(out, rate)


def change_tempo(audio: Audio, factor: float) -> Audio:
    """Speed audio up by factor with ffmpeg's atempo (pitch kept); timed pieces move with it."""
    filters, left = [], factor
    while left < MIN_ATEMPO:  # chained: each atempo instance goes no slower than half speed
        filters.append(f"atempo={MIN_ATEMPO}")
        left /= MIN_ATEMPO
    filters.append(f"atempo={left:.6f}")
    raw = ["-f", "s16le", "-ar", str(audio.rate), "-ac", "1", "-i", "pipe:0"]
    out = _ffmpeg(raw, ["-filter:a", ",".join(filters)], audio.samples.astype("<i2").tobytes())
    spoken = audio.spoken and [(piece, start / factor, end / factor) for piece, start, end in audio.spoken]
    return Audio(pcm(out, audio.rate).samples, audio.rate, spoken)


def _ffmpeg(source: list[str], options: list[str], data: bytes) -> bytes:
    """Run ffmpeg from stdin to raw s16le on stdout."""
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-nostdin", *source, *options, "-f", "s16le", "pipe:1"]
    done = subprocess.run(command, input=data, capture_output=True, timeout=120)
    if done.returncode:
        raise RuntimeError(done.stderr.decode(errors="replace").strip()[-300:] or f"ffmpeg exited {done.returncode}")
    return done.stdout


def finish(label: str, text: str, audio: Audio, out_path: Path, tempo: float = 1.0) -> Speech:
    """Apply what speed the API could not, write the WAV and time every word."""
    try:
        if tempo != 1.0:
            audio = change_tempo(audio, tempo)
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
        raise TTSError(f"could not change the speed: {exc}", provider=label) from exc
    if not audio.samples.size:
        raise TTSError("the voice returned no audio", provider=label)
    with wave.open(str(out_path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(audio.rate)
        out.writeframes(audio.samples.astype("<i2").tobytes())
    duration = audio.samples.size / audio.rate
    if audio.spoken:
        words = from_spoken(text, audio.spoken, duration)
    else:
        words = align_sentences(text, audio.samples, audio.rate)
    log.debug("%s spoke %d words into %.2f s of audio", label, len(words), duration)
    return Speech(Path(out_path), duration, words)


class RemoteTTS(ABC):
    """A voice behind an HTTP API: one request per line, audio (and maybe timings) in its reply."""

    key = label = default_base_url = default_voice = ""
    requires: tuple[str, ...] = ()  # key names, any one of which will do
    speed_range = (1.0, 1.0)  # what the API's own speed setting takes; ffmpeg's atempo does the rest
    expect: Literal["json", "bytes"] = "json"

    def __init__(self, keys: Mapping[str, str], *, base_url: str | None = None, client_options: dict | None = None):
        api_key = require_key(type(self), keys)
        options = {"timeout": TTS_TIMEOUT, **(client_options or {})}
        self.client = ProviderClient(self.key, base_url or self.default_base_url, headers=self._headers(api_key),
                                     secrets=(api_key,), **options)

    def synthesize(self, text: str, out_path: Path, voice: str | None = None, speed: float = 1.0) -> Speech:
        """Speak text into a mono 16-bit WAV at out_path and time every whitespace-separated word."""
        if not text.strip():
            raise TTSError("there is no text to speak", provider=self.label)
        if speed <= 0:
            raise TTSError(f"speed must be positive, not {speed}", provider=self.label)
        low, high = self.speed_range
        api_speed = min(high, max(low, speed))
        path, body, params = self._request(text, voice or self.default_voice, api_speed)
        data = self.client.request("POST", path, json=body, params=params, expect=self.expect,
                                   max_bytes=MAX_AUDIO_BYTES)
        try:
            audio = self._audio(data)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError, RuntimeError) as exc:
            # ValueError covers bad base64; RuntimeError, audio ffmpeg cannot decode.
            raise self.client.error(f"{self.key} returned a malformed response ({type(exc).__name__}: {exc})") from None
        return finish(self.label, text, audio, out_path, speed / api_speed)

    @abstractmethod
    def voices(self) -> list[Voice]:
        """Return the voices synthesize() accepts."""

    @abstractmethod
    def _headers(self, api_key: str) -> dict:
        """Return the headers that carry the key."""

    @abstractmethod
    def _request(self, text: str, voice: str, speed: float) -> tuple[str, dict, dict | None]:
        """Return (path, JSON body, query parameters) of the POST that speaks text."""

    @abstractmethod
    def _audio(self, data: Any) -> Audio:
        """Read the reply; raise KeyError, IndexError, TypeError or ValueError when it is not as documented."""
