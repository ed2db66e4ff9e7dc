"""eSpeak NG, driven through the C library that `espeakng-loader` ships: offline, with word timings.

The library keeps global state and is not thread-safe, so one lock guards it and it is
initialised once per process, on first use (nothing happens at import).
"""

import ctypes
import logging
import re
import threading
import wave
from pathlib import Path

import numpy as np

from moneyreels.providers.tts.align import word_timings
from moneyreels.providers.tts.base import Speech, TTSError, Voice

log = logging.getLogger(__name__)

DEFAULT_VOICE = "en-us"
DEFAULT_RATE, MIN_RATE, MAX_RATE = 175, 80, 450  # words per minute; espeak's default and limits

# From espeak-ng's speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_CHARS_UTF8 = 1
_POS_CHARACTER = 1
_EVENT_LIST_TERMINATED, _EVENT_WORD = 0, 1
_RATE = 1
_EE_OK = 0
_BUFFER_MS = 500  # audio per callback: fewer, larger chunks


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),  # 1-based, in characters of the input
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),  # milliseconds into this synthesis
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),  # union of int number, const char *name, char string[8]
    ]


class _VoiceInfo(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),  # (priority byte, NUL-terminated code) pairs, then a 0 byte
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                                  ctypes.POINTER(_Event))

_lock = threading.Lock()
_started: "_Engine | None" = None


class EspeakTTS:
    """The offline voice for every language: eSpeak NG, about a thousand times faster than real time."""

    key = "espeak"
    label = "eSpeak NG (local)"
    requires: tuple[str, ...] = ()
    default_voice = DEFAULT_VOICE

    def voices(self) -> list[Voice]:
        """Return the installed voices, one per language code: en-us, en-gb, de, fr-fr..."""
        with _lock:
            return list(self._engine().voices)

    def voice_problem(self, voice: str) -> str | None:
        """Return why espeak cannot speak voice, or None: checked against its own voice and variant lists."""
        with _lock:
            return None if self._engine().name_of(voice) else _unknown(voice)

    def synthesize(self, text: str, out_path: Path, voice: str | None = None, speed: float = 1.0) -> Speech:
        """Speak text into a mono 16-bit WAV at out_path and time every whitespace-separated word.

        voice is a language code espeak lists ("en-us", "en", "fr"), optionally with one of
        espeak's variants ("en-us+f3"); speed scales espeak's 175 words a minute.
        """
        if not text.strip():
            raise self._error("there is no text to speak")
        rate = min(MAX_RATE, max(MIN_RATE, round(DEFAULT_RATE * speed)))
        with _lock:
            engine = self._engine()
            if not engine.select(voice or DEFAULT_VOICE, rate):
                raise self._error(_unknown(voice))
            pcm, events = engine.synth(text.replace("\0", " "))
        samples = np.frombuffer(pcm, dtype="<i2")
        with wave.open(str(out_path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(engine.rate)
            out.writeframes(pcm)
        marks = [(position - 1, ms / 1000) for position, ms in events]  # espeak counts from 1, in ms
        words = word_timings(text, marks, samples, engine.rate)
        speech = Speech(Path(out_path), samples.size / engine.rate, words)
        log.debug("spoke %d words into %.2f s of audio", len(speech.words), speech.duration)
        return speech

    def _engine(self) -> "_Engine":
        """Return the process's engine, starting it on first use; the caller holds _lock."""
        global _started
        if _started is None:
            try:
                _started = _Engine()
            except (OSError, RuntimeError, ImportError) as exc:
                raise self._error(f"could not start the library: {exc}") from exc
        return _started

    def _error(self, message: str) -> TTSError:
        return TTSError(message, provider=self.label)


class _Engine:
    """The one initialised libespeak-ng of this process. Every method needs _lock held."""

    def __init__(self):
        import espeakng_loader  # imported here so a missing wheel fails at use, as a TTSError

        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_VoiceInfo))
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        # DONT_EXIT: a broken data folder must raise here, not end the whole process.
        data = Path(espeakng_loader.get_data_path())
        self.rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, _BUFFER_MS, str(data).encode(),
                                          _INITIALIZE_DONT_EXIT)
        if self.rate <= 0:
            raise RuntimeError(f"espeak_Initialize returned {self.rate}")
        self._lib = lib
        self._callback = _SynthCallback(self._collect)  # kept on self: the library holds only a pointer
        lib.espeak_SetSynthCallback(self._callback)
        self._chunks: list[bytes] = []
        self._events: list[tuple[int, int]] = []
        self.voices, self._identifiers = self._list_voices(data)
        # Variants ("f3", "whisper") are the files of voices/!v; matched case-insensitively.
        self._variants = {path.name.lower(): path.name for path in (data / "voices" / "!v").iterdir() if path.is_file()}
        log.info("espeak-ng started: %d Hz, %d voices", self.rate, len(self.voices))

    def name_of(self, voice: str) -> str | None:
        """Return espeak's name for voice ("en-us+f3" -> "gmw/en-US+f3"), or None when it lists no such voice.

        Only names built from espeak's own lists reach the library: it copies the variant into a
        fixed buffer, and a long one aborts the whole process.
        """
        code, plus, variant = voice.lower().partition("+")
        identifier = self._identifiers.get(code)
        if identifier is None or (plus and variant not in self._variants):
            return None
        return identifier + (f"+{self._variants[variant]}" if plus else "")

    def select(self, voice: str, rate: int) -> bool:
        """Use voice at rate words per minute; return False when no installed voice speaks it."""
        name = self.name_of(voice)
        if name is None or self._lib.espeak_SetVoiceByName(name.encode()) != _EE_OK:
            return False
        # The rate outlasts the call that set it, so every call sets its own.
        self._lib.espeak_SetParameter(_RATE, rate, 0)
        return True

    def synth(self, text: str) -> tuple[bytes, list[tuple[int, int]]]:
        """Speak text; return its PCM and (1-based character position, ms) for every word event."""
        self._chunks, self._events = [], []
        data = text.encode("utf-8")
        status = self._lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        if status != _EE_OK:
            raise TTSError(f"espeak_Synth returned {status}", provider=EspeakTTS.label)
        return b"".join(self._chunks), self._events

    def _collect(self, wav, count, events) -> int:
        if count > 0:
            self._chunks.append(ctypes.string_at(wav, count * 2))
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            if events[i].type == _EVENT_WORD:
                self._events.append((events[i].text_position, events[i].audio_position))
            i += 1
        return 0  # 0 = keep going

    def _list_voices(self, data: Path) -> tuple[list[Voice], dict[str, str]]:
        """Return the installed voices, one per own language code, and the voice file for each code.

        espeak finds voices by file, not language ("en-gb" is the file gmw/en), hence the map. A code
        voices only also serve ("en" for en-gb and en-us) goes to the one that ranks it first.
        """
        voices: dict[str, Voice] = {}
        owners: dict[str, str] = {}
        # Codes are matched case-insensitively: espeak spells a few in mixed case (chr-US-Qaaa-x-west).
        ranked: dict[str, tuple[int, str]] = {}  # code -> (priority, identifier); lower priority wins
        listed = self._lib.espeak_ListVoices(None)
        i = 0
        while listed[i]:
            info = listed[i].contents
            identifier, languages = info.identifier.decode(), _languages(info.languages)
            own = languages[0][1]  # a voice's first language is its own; later ones it also serves
            # The wheel leaves some dictionaries out (fo, kaa, xex): those voices would say nothing.
            if _has_dictionary(data, identifier, own):
                voices.setdefault(own, Voice(own, info.name.decode(), own.split("-")[0]))
                owners.setdefault(own.lower(), identifier)
                for priority, code in languages:
                    if code.lower() not in ranked or priority < ranked[code.lower()][0]:
                        ranked[code.lower()] = (priority, identifier)
            i += 1
        identifiers = {code: identifier for code, (_, identifier) in ranked.items()} | owners
        return sorted(voices.values(), key=lambda v: v.id), identifiers


def _unknown(voice) -> str:
    return f"unknown voice {str(voice)[:60]!r}: use a language code espeak lists (en-us, fr), optionally with one of" \
        " its variants (en-us+f3)"


def _languages(pointer: int) -> list[tuple[int, str]]:
    """Decode espeak's language list: (priority byte, NUL-terminated code) pairs, then a 0 byte."""
    languages = []
    while priority := ctypes.string_at(pointer, 1)[0]:
        code = ctypes.string_at(pointer + 1)
        languages.append((priority, code.decode()))
        pointer += len(code) + 2
    return languages


def _has_dictionary(data: Path, identifier: str, language: str) -> bool:
    """Tell whether the voice's dictionary is installed: the one its file names, else its language's."""
    spec = data / "lang" / identifier
    text = spec.read_text(errors="replace") if spec.exists() else ""
    named = re.search(r"^dictionary\s+(\S+)", text, re.M)
    return (data / f"{named.group(1) if named else language.split('-')[0]}_dict").exists()
