"""Pick each category's provider for a job: the one named, or the first usable one."""

import os
from dataclasses import dataclass

from ..errors import InvalidRequest
from ..providers import llm as llms
from ..providers.tts import EspeakTTS

TTS = {"espeak": EspeakTTS}
IMAGE, STOCK, MUSIC = ("local",), ("local",), ("bundled",)


@dataclass
class Choices:
    llm: object
    tts: object

    def record(self, request) -> dict:
        return {
            "llm": getattr(self.llm, "key", None),
            "tts": self.tts.key,
            "image": "local",
            "stock": "local",
            "video": None,
            "music": None if request.noMusic else "bundled",
        }


def check_named(providers):
    """Refuse, before a job exists, a provider this build cannot use."""
    for category, name, known in (("tts", providers.tts, TTS), ("image", providers.image, IMAGE),
                                  ("stock", providers.stock, STOCK), ("music", providers.music, MUSIC)):
        if name is not None and name not in known:
            raise InvalidRequest(
                f"providers.{category}: '{name}' is not available; available: {', '.join(known)}.",
                code="provider_unavailable", details={"category": category, "provider": name},
            )


def resolve(request, keys: dict, settings) -> Choices:
    """Choose this job's providers; the LLM may be None (a script job needs none)."""
    check_named(request.providers)
    llm = llms.from_settings(request.providers.llm, llms.merge_keys(os.environ, keys), ollama_url=settings.ollama_url)
    return Choices(llm=llm, tts=TTS[request.providers.tts or "espeak"]())
