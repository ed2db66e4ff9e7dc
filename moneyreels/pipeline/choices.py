"""Pick each category's provider for a job: the one named, or the first usable one.

Usable means a key is configured (in the environment or sent with the job), or a local
model is present; otherwise each category falls back to its local default.
"""

import os
from dataclasses import dataclass

from ..errors import InvalidRequest
from ..providers import images, stock, video
from ..providers import llm as llms
from ..providers import tts as voices

MUSIC = ("bundled",)
# When no TTS is named: a voice the user has a key for, then a local Kokoro model, then espeak.
TTS_PREFERENCE = ("elevenlabs", "openai-tts", "gemini-tts", "inworld", "kokoro", "espeak")
TTS_SETTINGS = ("MONEYREELS_KOKORO_MODEL", "MONEYREELS_KOKORO_VOICES")
# Remote categories whose local default is "local" (drawn art, MEDIA_DIR) or nothing (video).
REMOTE = {"image": (images, "local"), "stock": (stock, "local"), "video": (video, None)}


def provider_keys(byok: dict) -> dict:
    """The keys remote providers may use: the operator's from the environment, then the job's own."""
    names = {name for module in (voices, images, stock, video) for spec in module.PROVIDERS
             for name in spec["requires"]} | set(TTS_SETTINGS)
    return {name: os.environ[name] for name in names if os.environ.get(name)} | byok


def refuse(category, name, message, code, **details):
    raise InvalidRequest(f"providers.{category}: {message}", code=code,
                         details={"category": category, "provider": name, **details})


def tts_name(request, keys) -> str:
    usable = voices.available(keys)
    name = request.providers.tts
    if name is None:
        return next(candidate for candidate in TTS_PREFERENCE if usable.get(candidate))
    if name not in usable:
        refuse("tts", name, f"'{name}' is not a TTS provider; one of: {', '.join(usable)}.", "provider_unavailable")
    if not usable[name]:
        needs = " or ".join(voices.TTS_PROVIDERS[name].requires) or "MONEYREELS_KOKORO_MODEL"
        refuse("tts", name, f"'{name}' needs {needs} (in the environment or in `keys`).", "missing_key", needs=needs)
    return name


def check_voice(voice, name, keys):
    """Refuse a voice the chosen TTS provider does not list (a local voice library is C code)."""
    problem = voices.voice_problem(name, voice, keys)
    if problem:
        raise InvalidRequest(f"voice: {problem}", code="validation_error",
                             details={"errors": [{"field": "voice", "message": problem}], "provider": name})


def remote_name(category, request, keys) -> str | None:
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
        refuse(category, name, f"'{name}' needs {needs} (in the environment or in `keys`).", "missing_key",
               needs=needs)
    return name


def check_named(request, keys: dict):
    """Refuse, before a job exists, a provider this build cannot use or lacks a key for."""
    merged = provider_keys(keys)
    check_voice(request.voice, tts_name(request, merged), merged)
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

    def record(self) -> dict:
        return {"llm": getattr(self.llm, "key", None), "tts": self.tts.key, **self.names}


def resolve(request, keys: dict, settings) -> Choices:
    """Choose and build this job's providers; the LLM may be None (a script job needs none)."""
    check_named(request, keys)
    llm = llms.from_settings(request.providers.llm, llms.merge_keys(os.environ, keys), ollama_url=settings.ollama_url)
    merged = provider_keys(keys)
    names = {category: remote_name(category, request, merged) for category in REMOTE}
    built = {category: REMOTE[category][0].build(name, merged) if name not in (None, "local") else None
             for category, name in names.items()}
    names["music"] = None if request.noMusic else "bundled"
    return Choices(llm=llm, tts=voices.build(tts_name(request, merged), merged), names=names, **built)
