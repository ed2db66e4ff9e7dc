"""Director: write the DirectorScore, with an LLM for a topic or by splitting a user's script."""

import itertools
import json
import re

from ..errors import InvalidRequest
from ..providers.llm import generate_json
from . import score as scores
from .catalog import ARCHETYPES
from .score import DirectorScore, Scene

# Offline, scenes cycle through what can be made locally, never three of a type in a row.
OFFLINE_VISUALS = ("ai_image", "stock_image", "ai_image", "text_card")
OFFLINE_MOTIONS = ("zoom_in", "pan_left", "zoom_out", "pan_right")


def system_prompt(plan) -> str:
    platform, pacing = plan.platform, plan.pacing
    most_words = int((platform.maxDurationSeconds - 6) * pacing.words_per_second)
    archetypes = "\n".join(f"- {a.name}: {a.artStyle}; mood {a.mood}" for a in ARCHETYPES.values())
    return (
        "You direct short vertical videos. Write a DirectorScore as one JSON object:\n"
        '{"emotional_arc": "...", "archetype": "...", "music_mood": "...", "scenes": [{"script_line": "narration", '
        '"visual_type": "ai_image|ai_video|stock_image|stock_video|text_card", "visual_prompt": "what we see", '
        '"motion": "zoom_in|zoom_out|pan_left|pan_right|static", "transition": "crossfade|slide|wipe|cut"}]}\n'
        f"Rules: 3 to 16 scenes; never three scenes in a row with the same visual_type; at most {most_words} "
        f"words of narration in all ({platform.name}, {pacing.name} pacing, {platform.maxDurationSeconds} s); "
        "a hook in the first line; one idea per scene; text_card scenes have a short headline as visual_prompt.\n"
        f"Archetypes:\n{archetypes}\nNo prose outside the JSON."
    )


def llm_score(plan, llm) -> DirectorScore:
    user = f"Topic: {plan.request.topic}"
    research = plan.outputs.get("researchData")
    if research:
        user += "\n\nResearch:\n" + json.dumps(research, ensure_ascii=False)
    if plan.request.archetype:
        user += f"\n\nUse the archetype {plan.request.archetype}."
    if plan.request.direction:
        user += f"\n\nCreative direction from the user (markdown):\n{plan.request.direction}"
    return generate_json(llm, system_prompt(plan), user, DirectorScore,
                         validate=lambda s: scores.problems(s, plan.pacing, plan.platform))


def sentences(script: str) -> list[str]:
    parts = re.split(r"(?<=[.!?…])\s+|\n+", script.strip())
    return [part.strip() for part in parts if part.strip()]


def group(lines: list[str], pacing) -> list[str]:
    """Join sentences into scene lines of about the pacing's scene length, 3 to 16 of them."""
    target_words = max(4, int(pacing.scene_seconds * pacing.words_per_second))
    grouped, current = [], []
    for line in lines:
        current.append(line)
        if scores.word_count(" ".join(current)) >= target_words:
            grouped.append(" ".join(current))
            current = []
    if current:
        grouped.append(" ".join(current))
    while len(grouped) > 16:
        shortest = min(range(len(grouped) - 1), key=lambda i: scores.word_count(grouped[i] + grouped[i + 1]))
        grouped[shortest:shortest + 2] = [f"{grouped[shortest]} {grouped[shortest + 1]}"]
    while len(grouped) < 3:
        longest = max(range(len(grouped)), key=lambda i: scores.word_count(grouped[i]))
        words = grouped[longest].split()
        if len(words) < 2:
            break
        half = len(words) // 2
        grouped[longest:longest + 1] = [" ".join(words[:half]), " ".join(words[half:])]
    return grouped


def keywords(line: str, limit=6) -> str:
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z'-]+", line) if len(w) > 3]
    return " ".join(words[:limit]) or line[:60]


def script_score(script: str, pacing, archetype) -> DirectorScore:
    """Split the user's script into scenes, offline and deterministically."""
    lines = group(sentences(script), pacing)
    if len(lines) < 3:
        raise InvalidRequest("The script is too short: it needs at least three words to make three scenes.",
                             code="script_too_short")
    visuals, motions = itertools.cycle(OFFLINE_VISUALS), itertools.cycle(OFFLINE_MOTIONS)
    scenes = []
    for line in lines:
        visual = next(visuals)
        prompt = keywords(line, limit=4 if visual == "text_card" else 6)
        scenes.append(Scene(script_line=line, visual_type=visual, visual_prompt=prompt,
                            motion=next(motions) if visual != "text_card" else "static", transition="crossfade"))
    return DirectorScore(emotional_arc="as written", archetype=archetype.name, music_mood=archetype.mood,
                         scenes=scenes)


def check(plan, score: DirectorScore):
    """Refuse a score that cannot be made, naming every problem."""
    found = scores.problems(score, plan.pacing, plan.platform)
    if found:
        raise InvalidRequest("The score cannot be made: " + "; ".join(found), code="invalid_score",
                             details={"problems": found})


def run(plan, llm) -> str:
    """Write (or take) the score; return the stage detail."""
    if plan.request.score is not None:
        score = plan.request.score
    elif plan.request.script:
        score = script_score(plan.request.script, plan.pacing, plan.archetype)
    else:
        score = llm_score(plan, llm)
    check(plan, score)
    data = score.model_dump()
    plan.save(score=data)
    plan.stages.emit("director", "score", "Director's score.", score=data)
    return f"{len(score.scenes)} scenes"
