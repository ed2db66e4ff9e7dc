"""Kokoro, an open-weights voice run locally by the kokoro-onnx package from a model file the user fetched.

Neither the package nor the ~300 MB model ship with MoneyReels: MONEYREELS_KOKORO_MODEL names
kokoro-v1.0.onnx, and MONEYREELS_KOKORO_VOICES the voices-v1.0.bin beside it (found there by default).
"""

import logging
import threading
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from moneyreels.providers.tts.base import Speech, TTSError, Voice
from moneyreels.providers.tts.remote import Audio, finish

log = logging.getLogger(__name__)

MODEL_SETTING, VOICES_SETTING = "MONEYREELS_KOKORO_MODEL", "MONEYREELS_KOKORO_VOICES"
DEFAULT_VOICES_FILE = "voices-v1.0.bin"
SETUP = (f"pip install kokoro-onnx, download kokoro-v1.0.onnx and {DEFAULT_VOICES_FILE}, and set "
         f"{MODEL_SETTING} (and {VOICES_SETTING} if the voices file is elsewhere)")
SPEED_RANGE = (0.5, 2.0)  # what kokoro-onnx accepts; ffmpeg's atempo does the rest
# A voice's first letter is its language: (the code kokoro-onnx phonemises with, primary subtag).
LANGUAGES = {"a": ("en-us", "en"), "b": ("en-gb", "en"), "e": ("es", "es"), "f": ("fr-fr", "fr"),
             "h": ("hi", "hi"), "i": ("it", "it"), "j": ("ja", "ja"), "p": ("pt-br", "pt"), "z": ("cmn", "zh")}

_lock = threading.Lock()  # one model per process, loaded once; inference is not re-entrant
_loaded: dict[tuple[Path, Path], object] = {}


def model_paths(keys: Mapping[str, str]) -> tuple[Path, Path] | None:
    """Return (model, voices) when the settings name a model file that exists, else None."""
    model = Path(keys.get(MODEL_SETTING) or "")
    if not keys.get(MODEL_SETTING) or not model.is_file():
        return None
    return model, Path(keys.get(VOICES_SETTING) or model.with_name(DEFAULT_VOICES_FILE))


class KokoroTTS:
    """Kokoro 82M on the CPU through ONNX Runtime: no key, no network."""

    key, label = "kokoro", "Kokoro (local)"
    requires: tuple[str, ...] = ()
    default_voice = "af_sarah"

    def __init__(self, keys: Mapping[str, str]):
        paths = model_paths(keys)
        if paths is None:
            raise self._error(f"no model at {MODEL_SETTING}={keys.get(MODEL_SETTING) or '(unset)'}")
        if not paths[1].is_file():
            raise self._error(f"no voices file at {paths[1]}")
        self.paths = paths

    def voices(self) -> list[Voice]:
        """Return the voices in the voices file, e.g. af_sarah (American English), bf_emma (British)."""
        with _lock:
            names = self._model().get_voices()
        return [Voice(name, name, LANGUAGES.get(name[:1], ("", "en"))[1]) for name in sorted(names)]

    def synthesize(self, text: str, out_path: Path, voice: str | None = None, speed: float = 1.0) -> Speech:
        """Speak text into a mono 16-bit WAV at out_path and time every whitespace-separated word."""
        if not text.strip():
            raise self._error("there is no text to speak")
        if speed <= 0:
            raise self._error(f"speed must be positive, not {speed}")
        voice = voice or self.default_voice
        model_speed = min(SPEED_RANGE[1], max(SPEED_RANGE[0], speed))
        with _lock:
            model = self._model()
            try:
                samples, rate = model.create(text, voice=voice, speed=model_speed,
                                             lang=LANGUAGES.get(voice[:1], ("en-us",))[0])
            except (KeyError, ValueError, AssertionError, RuntimeError) as exc:  # an unknown voice is a KeyError
                raise self._error(f"could not speak with voice {voice!r}: {exc}") from exc
        pcm16 = (np.clip(np.asarray(samples, dtype=np.float32), -1, 1) * 32767).astype(np.int16)
        return finish(self.label, text, Audio(pcm16, int(rate)), out_path, speed / model_speed)

    def _model(self):
        """Return this process's model for these paths, loading it on first use; the caller holds _lock."""
        if self.paths not in _loaded:
            try:
                from kokoro_onnx import Kokoro  # optional: imported at use, so MoneyReels runs without it
            except ImportError as exc:
                raise self._error(f"the kokoro-onnx package is not installed ({exc})") from exc
            log.info("loading Kokoro from %s", self.paths[0])
            try:
                _loaded[self.paths] = Kokoro(str(self.paths[0]), str(self.paths[1]))
            except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own types for a bad file
                raise self._error(f"could not load the model: {exc}") from exc
        return _loaded[self.paths]

    def _error(self, message: str) -> TTSError:
        return TTSError(f"{message}. To use Kokoro: {SETUP}.", provider=self.label)
