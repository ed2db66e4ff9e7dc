"""Text-to-speech providers: the interface and the offline default."""

from moneyreels.providers.tts.base import Speech, TTSError, TTSProvider, Voice, WordTiming
from moneyreels.providers.tts.espeak import EspeakTTS

__all__ = ["EspeakTTS", "Speech", "TTSError", "TTSProvider", "Voice", "WordTiming"]

from moneyreels.providers.tts.registry import (PROVIDERS, TTS_PROVIDERS, available, build, language_voice,
                                               local_provider, voice_problem)

__all__ += ["PROVIDERS", "TTS_PROVIDERS", "available", "build", "language_voice", "local_provider", "voice_problem"]
