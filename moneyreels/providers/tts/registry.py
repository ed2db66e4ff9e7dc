"""Every text-to-speech provider by key: what each needs, which the keys allow, and building one."""

from collections.abc import Mapping

from moneyreels.providers.http import ProviderError
from moneyreels.providers.tts import piper
from moneyreels.providers.tts.base import TTSProvider
from moneyreels.providers.tts.elevenlabs import ElevenLabsTTS
from moneyreels.providers.tts.espeak import EspeakTTS
from moneyreels.providers.tts.gemini import GeminiTTS
from moneyreels.providers.tts.inworld import InworldTTS
from moneyreels.providers.tts.kokoro import KokoroTTS, model_paths
from moneyreels.providers.tts.openai import OpenAITTS
from moneyreels.providers.tts.piper import PiperTTS

TTS_PROVIDERS: dict[str, type] = {cls.key: cls for cls in (
    PiperTTS, EspeakTTS, KokoroTTS, OpenAITTS, ElevenLabsTTS, GeminiTTS, InworldTTS)}
# `requires` lists key names any one of which will do.
PROVIDERS = [{"key": cls.key, "label": cls.label, "requires": cls.requires} for cls in TTS_PROVIDERS.values()]


def available(keys: Mapping[str, str]) -> dict[str, bool]:
    """Return per provider whether it can be built: espeak always, piper and kokoro with a model, others with a key."""
    return {
        name: True if cls is EspeakTTS
        else piper.usable(keys) if cls is PiperTTS
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


def local_provider(voice: str | None, keys: Mapping[str, str]) -> str | None:
    """Name the local provider that speaks voice, the one place voice names are resolved.

    No voice: Piper's default voice when Piper is usable, else eSpeak NG. An installed Piper voice
    ("en_US-joe-medium"): piper. An eSpeak NG language code, with or without a variant ("fr",
    "en-us+f3"): espeak. None for a name neither knows (a remote provider's voice, or a typo).
    """
    if voice is None:
        return PiperTTS.key if piper.usable(keys) else EspeakTTS.key
    if voice in piper.installed(keys) and piper.usable(keys):
        return PiperTTS.key
    code = voice.lower().partition("+")[0]
    if any(code in (known.id.lower(), known.language.lower()) for known in EspeakTTS().voices()):
        return EspeakTTS.key
    return None


def language_voice(language: str, keys: Mapping[str, str]) -> str:
    """Return the voice for a language code ("en-us", "en-gb", "fr"): a Piper voice if one speaks it, else the code.

    A Piper voice of the same region wins ("en_US-..." for en-us), then one of the same language;
    with none, the code itself names the eSpeak NG voice.
    """
    wanted = language.lower().replace("-", "_")
    names = sorted(piper.installed(keys) if piper.usable(keys) else (), key=lambda name: name != piper.DEFAULT_VOICE)
    spoken = {name: name.lower().split("-")[0] for name in names}  # "en_US-joe-medium" -> "en_us"
    for same in (lambda tag: tag == wanted, lambda tag: tag.split("_")[0] == wanted.split("_")[0]):
        match = next((name for name in names if same(spoken[name])), None)
        if match:
            return match
    return language
