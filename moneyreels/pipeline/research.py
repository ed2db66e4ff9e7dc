"""Research: an LLM gathers a summary, key facts and a mood for the topic."""

from pydantic import BaseModel, Field

from ..providers.llm import generate_json

SYSTEM = (
    "You research topics for short vertical videos. Answer with one JSON object: "
    '{"summary": "two or three sentences", "key_facts": ["5 to 8 surprising, accurate, specific facts"], '
    '"mood": "one of: epic_cinematic, upbeat_pop, calm_ambient, dark_suspense, playful_quirky, inspirational, '
    'lofi_chill, dramatic_tension, warm_acoustic, mysterious, satirical, energetic_electronic"}. '
    "No prose outside the JSON."
)


class Research(BaseModel):
    summary: str = Field(min_length=1, max_length=2000)
    key_facts: list[str] = Field(min_length=3, max_length=12)
    mood: str = Field(min_length=1, max_length=60)


def run(plan, llm) -> str:
    """Research the topic; return the stage detail."""
    user = f"Topic: {plan.request.topic}"
    if plan.request.direction:
        user += f"\n\nCreative direction from the user (markdown):\n{plan.request.direction}"
    research = generate_json(llm, SYSTEM, user, Research)
    data = research.model_dump()
    plan.save(researchData=data)
    plan.stages.emit("research", "results", "Research results.", **data)
    return f"{len(research.key_facts)} key facts"
