"""Pick each category's provider for a job: the one named, or the first usable one.

Usable means a key is configured (in the environment or sent with the job), or a local
model is present; otherwise each category falls back to its local default. A named provider
whose key is missing is not refused (OpenReels' own example names five with two keys): the
category's local default runs instead, and the job says so.
"""

from dataclasses import dataclass, field

from ..errors import InvalidRequest, MoneyReelsError
from ..providers import images, stock, video
from ..providers import llm as llms
from ..providers import tts as voices

MUSIC = ("bundled",)
# When no TTS and no local voice is named: a voice the user has a key for, then a local Kokoro
# model, then Piper's neural voice, then espeak.
TTS_PREFERENCE = ("elevenlabs", "openai-tts", "gemini-tts", "inworld", "kokoro", "piper", "espeak")
# What a named voice without its key gives way to: Piper's voice, or espeak where Piper cannot load.
LOCAL_TTS = ("piper", "espeak")
# Remote categories whose local default is "local" (drawn art, MEDIA_DIR) or nothing (video).
REMOTE = {"image": (images, "local"), "stock": (stock, "local"), "video": (video, None)}


def provider_keys(settings, byok: dict) -> dict:
    """The keys and settings providers may use: the operator's, then the job's own."""
    return settings.provider_values() | byok


def refuse(category, name, message, code, **details):
    raise InvalidRequest(f"providers.{category}: {message}", code=code,
                         details={"category": category, "provider": name, **details})


@dataclass(frozen=True)
class Fallback:
    """A named provider that cannot run here for want of a key, and what runs instead."""

    category: str
    requested: str
    used: str | None
    needs: str

    @property
    def message(self) -> str:
        return (f"providers.{self.category}: '{self.requested}' needs {self.needs} (in the environment or in "
                f"`keys`); using {self.used or 'none'} instead.")


def tts_name(request, keys, fallbacks=None) -> str:
    usable = voices.available(keys)
    name = request.providers.tts
    if name is None:
        # A voice name picks the local provider that speaks it: "en_US-joe-medium" Piper, "fr" eSpeak NG.
        speaker = voices.local_provider(request.voice, keys) if request.voice else None
        return speaker or next(candidate for candidate in TTS_PREFERENCE if usable.get(candidate))
    if name not in usable:
        refuse("tts", name, f"'{name}' is not a TTS provider; one of: {', '.join(usable)}.", "provider_unavailable")
    if not usable[name]:
        needs = " or ".join(voices.TTS_PROVIDERS[name].requires) or "MONEYREELS_KOKORO_MODEL"
        local = next(candidate for candidate in LOCAL_TTS if usable.get(candidate))
        _note(fallbacks, Fallback("tts", name, local, needs))
        return local
    return name


def _note(fallbacks, fallback):
    if fallbacks is not None:
        fallbacks.append(fallback)


def check_voice(voice, name, keys):
    """Refuse a voice the chosen TTS provider does not list (a local voice library is C code)."""
    problem = voices.voice_problem(name, voice, keys)
    if problem:
        raise InvalidRequest(f"voice: {problem}", code="validation_error",
                             details={"errors": [{"field": "voice", "message": problem}], "provider": name})


def remote_name(category, request, keys, fallbacks=None) -> str | None:
    """The named provider of a remote category, the first usable one, or its local default."""
    module, local = REMOTE[category]
    if category == "video" and request.noVideo:
        return None
    name = getattr(request.providers, category)
    usable = module.available(keys)
    if name is None:
        return next((candidate for candidate, ok in usable.items() if ok), local)
    if name == local:
        return local
    if name not in usable:
        known = ", ".join([*usable, *([local] if local else [])])
        refuse(category, name, f"'{name}' is not available; one of: {known}.", "provider_unavailable")
    if not usable[name]:
        needs = " or ".join(next(spec["requires"] for spec in module.PROVIDERS if spec["key"] == name))
        _note(fallbacks, Fallback(category, name, local, needs))
        return local
    return name


def llm_of(request, keys: dict, settings, fallbacks):
    """The named LLM; one whose key is missing gives way to the default choice (a keyed one, else Ollama)."""
    merged = llms.merge_keys(settings.provider_values(), keys)
    try:
        return llms.from_settings(request.providers.llm, merged, ollama_url=settings.ollama_url)
    except MoneyReelsError as exc:
        if exc.code != "missing_key":
            raise
    llm = llms.from_settings(None, merged, ollama_url=settings.ollama_url)
    needs = " or ".join(next(spec["requires"] for spec in llms.PROVIDERS if spec["key"] == request.providers.llm))
    fallbacks.append(Fallback("llm", request.providers.llm, getattr(llm, "key", None), needs))
    return llm


def check_named(request, keys: dict, settings):
    """Refuse, before a job exists, a provider this build does not have (one merely lacking a key is fine)."""
    merged = provider_keys(settings, keys)
    fallbacks = []
    name = tts_name(request, merged, fallbacks)
    if not fallbacks:  # a voice meant for a named provider that gives way is not the local voice's to judge
        check_voice(request.voice, name, merged)
    for category in REMOTE:
        remote_name(category, request, merged)
    if request.providers.music not in (None, *MUSIC):
        refuse("music", request.providers.music, f"'{request.providers.music}' is not available; one of: bundled.",
               "provider_unavailable")


@dataclass
class Choices:
    llm: object
    tts: object
    image: object  # a remote provider, or None for drawn art
    stock: object  # a remote provider, or None for MEDIA_DIR
    video: object  # a remote provider, or None
    names: dict
    fallbacks: list[Fallback] = field(default_factory=list)
    request_voice: str | None = None

    @property
    def voice(self) -> str | None:
        """The requested voice, unless its provider gave way to a local one (which speaks its default)."""
        return None if any(f.category == "tts" for f in self.fallbacks) else self.request_voice

    def record(self) -> dict:
        """Which provider runs in each category: what the job JSON shows."""
        return {"llm": getattr(self.llm, "key", None), "tts": self.tts.key, **self.names}


def resolve(request, keys: dict, settings) -> Choices:
    """Choose and build this job's providers; the LLM may be None (a script job needs none)."""
    check_named(request, keys, settings)
    fallbacks = []
    llm = llm_of(request, keys, settings, fallbacks)
    merged = provider_keys(settings, keys)
    names = {category: remote_name(category, request, merged, fallbacks) for category in REMOTE}
    built = {category: REMOTE[category][0].build(name, merged) if name not in (None, "local") else None
             for category, name in names.items()}
    names["music"] = None if request.noMusic else "bundled"
    speaker = voices.build(tts_name(request, merged, fallbacks), merged)
    return Choices(llm=llm, tts=speaker, names=names, fallbacks=fallbacks, request_voice=request.voice, **built)
