"""Every text-to-speech provider by key: what each needs, which the keys allow, and building one."""

from collections.abc import Mapping

from moneyreels.providers.http import ProviderError
from moneyreels.providers.tts.base import TTSProvider
from moneyreels.providers.tts.elevenlabs import ElevenLabsTTS
from moneyreels.providers.tts.espeak import EspeakTTS
from moneyreels.providers.tts.gemini import GeminiTTS
from moneyreels.providers.tts.inworld import InworldTTS
from moneyreels.providers.tts.kokoro import KokoroTTS, model_paths
from moneyreels.providers.tts.openai import OpenAITTS

TTS_PROVIDERS: dict[str, type] = {cls.key: cls for cls in (
    EspeakTTS, KokoroTTS, OpenAITTS, ElevenLabsTTS, GeminiTTS, InworldTTS)}
# `requires` lists key names any one of which will do.
PROVIDERS = [{"key": cls.key, "label": cls.label, "requires": cls.requires} for cls in TTS_PROVIDERS.values()]


def available(keys: Mapping[str, str]) -> dict[str, bool]:
    """Return, per provider key, whether it can be built: espeak always, kokoro with its model, others with a key."""
    return {
        name: True if cls is EspeakTTS
        else model_paths(keys) is not None if cls is KokoroTTS
        else any(keys.get(key) for key in cls.requires)
        for name, cls in TTS_PROVIDERS.items()
    }


def voice_problem(name: str, voice: str | None, keys: Mapping[str, str]) -> str | None:
    """Return why provider `name` cannot speak `voice`, or None.

    The one place a voice name is checked before a job exists. A provider that runs locally
    defines `voice_problem(voice)` and checks its own list (espeak's names reach C code);
    a remote service's voices (account voices, clones) are checked by the service itself.
    """
    check = getattr(TTS_PROVIDERS.get(name), "voice_problem", None)
    return None if voice is None or check is None else build(name, keys).voice_problem(voice)


def build(name: str, keys: Mapping[str, str]) -> TTSProvider:
    """Return the named provider; fail naming the key it lacks, or the known names if there is none by that name."""
    cls = TTS_PROVIDERS.get(name)
    if cls is None:
        raise ProviderError(f"Unknown TTS provider {name!r}; known: {', '.join(TTS_PROVIDERS)}.", provider=name,
                            code="unknown_provider", status=400)
    return cls() if cls is EspeakTTS else cls(keys)
