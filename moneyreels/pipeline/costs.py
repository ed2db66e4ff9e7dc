"""A job's cost: estimated from the score after the director, counted as the stages spend.

Prices and units are in providers/costs.py, with where each comes from.
"""

from ..providers.costs import Ledger
from .score import DirectorScore, word_count

# Expected tokens of the calls still to come after the director (the critic).
CRITIC_TOKENS = (2500, 400)
HOSTED_LLMS = ("openai", "anthropic", "gemini", "openai-compatible")


def add_llm(ledger: Ledger, llm, extra=(0, 0)):
    """Count an LLM's tokens (plus `extra`); hosted ones priced by model, a local server free."""
    if llm is None:
        return
    used = getattr(llm, "usage", None) or {}
    priced_as = llm.model if llm.key in HOSTED_LLMS else llm.key
    ledger.add(priced_as, "input_tokens", used.get("input_tokens", 0) + extra[0])
    ledger.add(priced_as, "output_tokens", used.get("output_tokens", 0) + extra[1])


def estimate(chosen, score: DirectorScore, pacing, video_model=None) -> dict:
    """What the job should cost from here, given its score and providers."""
    ledger = Ledger()
    add_llm(ledger, chosen.llm, CRITIC_TOKENS if chosen.llm else (0, 0))
    ledger.add(chosen.tts.key, "characters", sum(len(scene.script_line) for scene in score.scenes))
    types = [scene.visual_type for scene in score.scenes]
    if chosen.video:
        seconds = sum(word_count(s.script_line) / pacing.words_per_second for s in score.scenes
                      if s.visual_type == "ai_video")
        ledger.add(video_model or chosen.video.default_model, "seconds", seconds)
    if chosen.image:
        drawn = types.count("ai_image") + (0 if chosen.video else types.count("ai_video"))
        ledger.add(chosen.image.model, "images", drawn)
    if chosen.stock:
        ledger.add(chosen.stock.key, "downloads", types.count("stock_image") + types.count("stock_video"))
    return ledger.summary()
