"""The price table, cost() and the Ledger."""

import pytest

from moneyreels.providers import images, video
from moneyreels.providers.costs import Ledger, cost


@pytest.mark.parametrize("provider, unit, amount, usd", [
    ("gpt-4o-mini", "input_tokens", 1_000_000, 0.15),
    ("claude-sonnet-4-5", "output_tokens", 2000, 0.03),
    ("openai-tts", "characters", 2000, 0.03),
    ("inworld", "characters", 1000, 0.005),
    ("gpt-image-1", "images", 3, 0.189),
    ("gemini-2.5-flash-image", "images", 1, 0.039),
    ("pexels", "downloads", 5, 0.0),
    ("veo-3.0-generate-preview", "seconds", 8, 6.0),
    ("fal-ai/kling-video/v2.1/standard/text-to-video", "seconds", 5, 0.25),
])
def test_cost(provider, unit, amount, usd):
    assert cost(provider, unit, amount) == pytest.approx(usd)


@pytest.mark.parametrize("provider, unit", [("gpt-9", "input_tokens"), ("gpt-4o-mini", "images"),
                                            ("ollama", "furlongs")])
def test_unknown_costs_nothing(provider, unit):
    assert cost(provider, unit, 1000) == 0.0


def test_every_remote_default_is_priced():
    for provider in images.IMAGE_PROVIDERS.values():
        assert cost(provider.model, "images", 1) > 0, provider.key
    for provider in video.VIDEO_PROVIDERS.values():
        assert cost(provider.default_model, "seconds", 1) > 0, provider.key
    for tts in ("openai-tts", "elevenlabs", "gemini-tts", "inworld"):
        assert cost(tts, "characters", 1000) > 0, tts


def test_ledger_adds_up_by_category():
    ledger = Ledger()
    assert ledger.add("gpt-4o-mini", "input_tokens", 10_000) == pytest.approx(0.0015)
    ledger.add("gpt-4o-mini", "output_tokens", 1000)
    ledger.add("elevenlabs", "characters", 1500)
    ledger.add("gpt-image-1", "images", 2)
    ledger.add("pixabay", "downloads", 4)
    ledger.add("fal-ai/kling-video/v2.1/standard/text-to-video", "seconds", 10)
    ledger.add("bundled", "tracks", 1)
    assert ledger.breakdown() == pytest.approx(
        {"llm": 0.0021, "tts": 0.15, "image": 0.126, "stock": 0.0, "video": 0.5, "music": 0.0})
    assert ledger.total() == pytest.approx(0.7781)
    assert ledger.summary() == {"totalCost": 0.7781, "breakdown": ledger.breakdown()}  # local: no note


def test_ledger_notes_what_it_cannot_price():
    ledger = Ledger()
    ledger.add("gpt-9", "input_tokens", 1000)
    ledger.add("gpt-9", "input_tokens", 1000)
    ledger.add("openai", "seconds", 5)
    ledger.add("espeak", "minutes", 1)
    summary = ledger.summary()
    assert summary["totalCost"] == 0 and set(summary["breakdown"].values()) == {0.0}
    assert summary["note"] == ("no price known for gpt-9 input_tokens; no price known for openai seconds; "
                               "no price known for espeak minutes")
