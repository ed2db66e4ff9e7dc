"""What a job's remote calls cost, from token counts and published per-unit prices.

Prices are USD per million tokens from each provider's public pricing page (2025); local
providers (espeak, drawn art, bundled music, Ollama) cost nothing. An unknown model is
priced at zero and said so in the breakdown.
"""

LLM_PRICES = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "claude-sonnet-4-5": (3.00, 15.00),
    "claude-haiku-4-5": (1.00, 5.00),
    "gemini-2.5-flash": (0.30, 2.50),
    "gemini-2.5-pro": (1.25, 10.00),
}

# Expected tokens of the calls still to come after the director (the critic).
CRITIC_TOKENS = (2500, 400)


def llm_cost(llm, extra=(0, 0)) -> tuple[float, str | None]:
    """Cost of the tokens an LLM has used (plus `extra`), and a note when its price is unknown."""
    if llm is None:
        return 0.0, None
    used = getattr(llm, "usage", None) or {}
    tokens_in = used.get("input_tokens", 0) + extra[0]
    tokens_out = used.get("output_tokens", 0) + extra[1]
    if llm.key not in ("openai", "anthropic", "gemini"):
        return 0.0, None
    price = LLM_PRICES.get(llm.model)
    if price is None:
        return 0.0, f"no price known for {llm.model}"
    return (tokens_in * price[0] + tokens_out * price[1]) / 1_000_000, None


def summary(llm, extra=(0, 0)) -> dict:
    cost, note = llm_cost(llm, extra)
    breakdown = {"llm": round(cost, 6), "tts": 0.0, "image": 0.0, "stock": 0.0, "video": 0.0, "music": 0.0}
    result = {"totalCost": round(sum(breakdown.values()), 4), "breakdown": breakdown}
    if note:
        result["note"] = note
    return result
