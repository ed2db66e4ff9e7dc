"""The contract every text-to-speech provider meets: text in, a WAV and per-word timings out."""

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from moneyreels.errors import MoneyReelsError


@dataclass(frozen=True)
class WordTiming:
    text: str  # the word exactly as written in the input, punctuation attached
    start: float  # seconds from the start of this clip
    end: float


@dataclass(frozen=True)
class Voice:
    id: str  # what synthesize(voice=...) takes
    label: str  # human-readable name
    language: str  # primary language subtag, e.g. "en"


@dataclass
class Speech:
    path: Path  # WAV file, mono 16-bit PCM
    duration: float  # seconds
    words: list[WordTiming]  # one per whitespace-separated input word, in order


class TTSError(MoneyReelsError):
    """A provider could not speak the text; the message starts with the provider's name."""

    status = 422
    code = "tts_failed"

    def __init__(self, message: str, *, provider: str, **kwargs):
        super().__init__(f"{provider}: {message}", **kwargs)
        self.details.setdefault("provider", provider)


@runtime_checkable
class TTSProvider(Protocol):
    key: str
    label: str
    requires: tuple[str, ...]  # env/BYOK key names needed; () for local providers

    def voices(self) -> list[Voice]:
        """Return the voices synthesize() accepts."""
        ...

    def synthesize(self, text: str, out_path: Path, voice: str | None = None, speed: float = 1.0) -> Speech:
        """Speak text into a WAV at out_path and time every input word; raise TTSError on failure."""
        ...
