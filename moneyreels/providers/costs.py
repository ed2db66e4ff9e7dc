"""What a job's remote calls cost, in USD, from published per-unit prices.

`PRICES[name][unit]` is quoted per `UNITS[unit].per` units. `name` is the model for LLM
tokens, images and video seconds (their price depends on it), else the provider key.
Sources, as known in October 2025 (check them before trusting an estimate):

- LLM tokens (per 1M, input/output): openai.com/api/pricing, anthropic.com/pricing,
  ai.google.dev/gemini-api/docs/pricing (Gemini 2.5 Pro: prompts up to 200k tokens).
- TTS (per 1k characters, about a minute of speech): openai-tts is gpt-4o-mini-tts, about
  $0.015 a minute on openai.com/api/pricing (tts-1's $15/1M characters is the same); elevenlabs
  is eleven_multilingual_v2 on elevenlabs.io/pricing/api; gemini-tts is Gemini 2.5 Flash TTS
  ($10/1M audio tokens at 32 tokens/s: an estimate); inworld is TTS-1 ($5/1M characters,
  inworld.ai/pricing).
- Images (per image): gpt-image-1 at 1024x1536, medium quality (openai.com/api/pricing);
  gemini-2.5-flash-image at 1290 output tokens of $30/1M (ai.google.dev pricing).
- Stock: Pexels and Pixabay APIs are free.
- Video (per second): Veo on ai.google.dev pricing (Veo 3 was $0.75/s in preview, $0.40/s
  at GA, Veo 3 Fast $0.15/s); Kling 2.1 on fal.ai/models pages ($0.25 per 5 s standard,
  $0.45 per 5 s pro, +$0.05 / $0.09 a second beyond).

Local providers (Ollama, Piper, espeak, Kokoro, drawn art and MEDIA_DIR, bundled music) cost nothing.
Anything else unknown is priced at zero, and a Ledger says so in a note.
"""

import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)

CATEGORIES = ("llm", "tts", "image", "stock", "video", "music")
LOCAL = frozenset({"ollama", "piper", "espeak", "kokoro", "local", "bundled"})


@dataclass(frozen=True)
class Unit:
    category: str
    per: int  # prices are quoted per this many units


UNITS = {
    "input_tokens": Unit("llm", 1_000_000),
    "output_tokens": Unit("llm", 1_000_000),
    "characters": Unit("tts", 1000),
    "images": Unit("image", 1),
    "downloads": Unit("stock", 1),
    "seconds": Unit("video", 1),
    "tracks": Unit("music", 1),
}


def _tokens(input_usd: float, output_usd: float) -> dict[str, float]:
    return {"input_tokens": input_usd, "output_tokens": output_usd}


PRICES: dict[str, dict[str, float]] = {
    "gpt-4o-mini": _tokens(0.15, 0.60),
    "gpt-4o": _tokens(2.50, 10.00),
    "gpt-4.1-mini": _tokens(0.40, 1.60),
    "gpt-4.1": _tokens(2.00, 8.00),
    "gpt-5-mini": _tokens(0.25, 2.00),
    "gpt-5": _tokens(1.25, 10.00),
    "claude-sonnet-4-5": _tokens(3.00, 15.00),
    "claude-haiku-4-5": _tokens(1.00, 5.00),
    "gemini-2.5-flash-lite": _tokens(0.10, 0.40),
    "gemini-2.5-flash": _tokens(0.30, 2.50),
    "gemini-2.5-pro": _tokens(1.25, 10.00),
    "openai-tts": {"characters": 0.015},
    "elevenlabs": {"characters": 0.10},
    "gemini-tts": {"characters": 0.02},
    "inworld": {"characters": 0.005},
    "gpt-image-1": {"images": 0.063},
    "gemini-2.5-flash-image": {"images": 0.039},
    "pexels": {"downloads": 0.0},
    "pixabay": {"downloads": 0.0},
    "veo-3.0-generate-preview": {"seconds": 0.75},
    "veo-3.0-generate-001": {"seconds": 0.40},
    "veo-3.0-fast-generate-001": {"seconds": 0.15},
    "fal-ai/kling-video/v2.1/standard/text-to-video": {"seconds": 0.05},
    "fal-ai/kling-video/v2.1/pro/text-to-video": {"seconds": 0.09},
}


def price(provider: str, unit: str) -> float | None:
    """Return USD per single unit, 0 for a local provider, None when unknown."""
    if unit not in UNITS:
        return None
    if provider in LOCAL:
        return 0.0
    quoted = PRICES.get(provider, {}).get(unit)
    return None if quoted is None else quoted / UNITS[unit].per


def cost(provider: str, unit: str, amount: float) -> float:
    """Return what `amount` units cost at `provider` (a model or provider key); unknown is 0."""
    each = price(provider, unit)
    if each is None:
        log.info("no price known for %s %s; counted as 0", provider, unit)
        return 0.0
    return each * amount


class Ledger:
    """Add up a job's usage, estimated before it runs or counted as it goes, by category."""

    def __init__(self):
        self._by_category = dict.fromkeys(CATEGORIES, 0.0)
        self.notes: list[str] = []

    def add(self, provider: str, unit: str, amount: float) -> float:
        """Count `amount` units at `provider` and return their cost."""
        each = price(provider, unit)
        if each is None:
            note = f"no price known for {provider} {unit}"
            if note not in self.notes:
                self.notes.append(note)
            return 0.0
        spent = each * amount
        self._by_category[UNITS[unit].category] += spent
        return spent

    def total(self) -> float:
        return sum(self._by_category.values())

    def breakdown(self) -> dict[str, float]:
        """Return USD per category, every category present."""
        return {category: round(spent, 6) for category, spent in self._by_category.items()}

    def summary(self) -> dict:
        """Return {totalCost, breakdown[, note]}, the shape jobs record as estimatedCost and actualCost."""
        result = {"totalCost": round(self.total(), 4), "breakdown": self.breakdown()}
        if self.notes:
            result["note"] = "; ".join(self.notes)
        return result
