"""Critic: review the finished reel, by LLM when one is usable, else by transparent heuristics."""

import json

from pydantic import BaseModel, Field

from ..errors import MoneyReelsError
from ..providers.llm import generate_json
from ..render import fonts, safearea
from .catalog import CAPTION_STYLES, SAFE_AREAS
from .score import DirectorScore, word_count

LONG_SCENE, SHORT_SCENE, LONG_PAUSE = 8.0, 1.5, 1.2

SYSTEM = (
    "You are a strict critic of short vertical videos. From the plan and the measurements given, answer "
    'with one JSON object: {"score": 0-10, "strengths": ["..."], "weaknesses": ["..."]}. No prose outside it.'
)


class Review(BaseModel):
    score: float = Field(ge=0, le=10)
    strengths: list[str] = Field(max_length=10)
    weaknesses: list[str] = Field(max_length=10)


def measurements(plan) -> dict:
    """What the heuristics look at, also handed to an LLM critic."""
    narration, assets = plan.outputs["narration"], plan.outputs["assets"]
    score = DirectorScore.model_validate(plan.outputs["score"])
    words = [word for scene in narration["scenes"] for word in scene["words"]]
    speech = sum(scene["speech"] for scene in narration["scenes"]) or 1.0
    pauses = [round(b[1] - a[2], 2) for a, b in zip(words, words[1:]) if b[1] - a[2] > LONG_PAUSE]
    return {
        "duration": narration["duration"],
        "words": sum(word_count(scene.script_line) for scene in score.scenes),
        "words_per_second": round(len(words) / speech, 2),
        "target_words_per_second": plan.pacing.words_per_second,
        "scene_seconds": [scene["duration"] for scene in narration["scenes"]],
        "long_pauses": pauses,
        "overflowing_caption_pages": overflowing_pages(plan, [word[0] for word in words]),
        "repeated_visuals": sum(1 for a, b in zip(assets, assets[1:]) if a["file"] == b["file"]),
        "drawn_visuals": sum(1 for asset in assets if asset["source"] == "drawn"),
        "visual_count": len(assets),
        "music": bool(plan.outputs.get("musicTrack")),
    }


def overflowing_pages(plan, words) -> int:
    """Count caption pages that need more than two lines at the caption size."""
    style = CAPTION_STYLES[plan.archetype.captionStyle]
    size = max(1, int(style.style["font_size"] * plan.scale))
    font = fonts.load(style.style.get("font_family"), style.style.get("font_weight", 400), size)
    layout = safearea.caption_layout(style.position, SAFE_AREAS[plan.platform.name])
    box = plan.size[0] * float(layout.width.rstrip("%")) / 100
    per_page = style.max_words_per_page
    pages = [" ".join(words[i:i + per_page]) for i in range(0, len(words), per_page)]
    return sum(1 for page in pages if font.getlength(page) > 2 * box)


def heuristic(facts: dict) -> Review:
    strengths, weaknesses = [], []
    ratio = facts["words_per_second"] / facts["target_words_per_second"]
    if 0.8 <= ratio <= 1.25:
        strengths.append(f"Narration pace fits the pacing tier ({facts['words_per_second']} words/s).")
    else:
        weaknesses.append(f"Narration runs at {facts['words_per_second']} words/s; the tier wants about "
                          f"{facts['target_words_per_second']}.")
    long = [i + 1 for i, s in enumerate(facts["scene_seconds"]) if s > LONG_SCENE]
    short = [i + 1 for i, s in enumerate(facts["scene_seconds"]) if s < SHORT_SCENE]
    if long:
        weaknesses.append(f"Scene(s) {', '.join(map(str, long))} run over {LONG_SCENE:.0f} s: viewers may drift.")
    if short:
        weaknesses.append(f"Scene(s) {', '.join(map(str, short))} are shorter than {SHORT_SCENE} s.")
    if not long and not short:
        strengths.append("Scene lengths are even and brisk.")
    if facts["long_pauses"]:
        weaknesses.append(f"{len(facts['long_pauses'])} silence(s) longer than {LONG_PAUSE} s in the narration.")
    if facts["overflowing_caption_pages"]:
        weaknesses.append(f"{facts['overflowing_caption_pages']} caption page(s) overflow two lines.")
    else:
        strengths.append("Captions fit their box.")
    if facts["repeated_visuals"]:
        weaknesses.append("The same visual is shown twice in a row.")
    else:
        strengths.append(f"{facts['visual_count']} distinct visuals, one per scene.")
    if facts["music"]:
        strengths.append("A music bed under the voice.")
    score = max(1.0, min(10.0, 9.0 - 1.0 * len(weaknesses) + 0.25 * len(strengths)))
    return Review(score=round(score * 2) / 2, strengths=strengths, weaknesses=weaknesses)


def run(plan, llm) -> str:
    """Review the reel; return the stage detail."""
    facts = measurements(plan)
    review, method = None, "heuristic"
    if llm is not None:
        user = json.dumps({"score": plan.outputs["score"], "measurements": facts}, ensure_ascii=False)
        try:
            review, method = generate_json(llm, SYSTEM, user, Review), llm.key
        except MoneyReelsError as exc:
            plan.log(f"The LLM critic failed ({exc.message}); using the heuristic critic.", level="warning")
    review = review or heuristic(facts)
    data = {**review.model_dump(), "method": method, "measurements": facts}
    plan.save(criticReview=data)
    plan.stages.emit("critic", "review", f"Review: {review.score}/10.", score=review.score,
                     strengths=review.strengths, weaknesses=review.weaknesses)
    return f"Score: {review.score:g}/10"
