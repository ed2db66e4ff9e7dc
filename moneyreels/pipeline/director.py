"""Director: write the DirectorScore, with an LLM for a topic or by splitting a user's script."""

import itertools
import json
import re

from ..errors import InvalidRequest, MoneyReelsError
from ..providers.llm import generate_json
from . import score as scores
from .catalog import ARCHETYPES
from .score import DirectorScore, Scene

# Offline, scenes cycle through what can be made locally, never three of a type in a row.
OFFLINE_VISUALS = ("ai_image", "stock_image", "ai_image", "text_card")
OFFLINE_MOTIONS = ("zoom_in", "pan_left", "zoom_out", "pan_right")
# Where a long sentence may be cut: after , ; : and dashes, or before a word that starts a clause.
# Not the "and" inside a number ("one hundred and twenty").
CLAUSE_BREAK = re.compile(r"(?<=[,;:—–])\s+|(?<!hundred)(?<!thousand)(?<!million)(?<!billion)"
                          r"\s+(?=(?:and|but|so|because|while|which|until|then|or)\b)", re.I)
MIN_CUT_SECONDS = 2.0
SENTENCE_END = re.compile(r"[.!?…][\"'”’)]*$")


def system_prompt(plan) -> str:
    platform, pacing = plan.platform, plan.pacing
    most_words = int((platform.maxDurationSeconds - 6) * pacing.words_per_second)
    scene_words = round(pacing.scene_seconds * pacing.words_per_second)
    archetypes = "\n".join(f"- {a.name}: {a.artStyle}; mood {a.mood}" for a in ARCHETYPES.values())
    return (
        "You direct short vertical videos. Write a DirectorScore as one JSON object:\n"
        '{"emotional_arc": "...", "archetype": "...", "music_mood": "...", "scenes": [{"script_line": "narration", '
        '"visual_type": "ai_image|ai_video|stock_image|stock_video|text_card", "visual_prompt": "what we see", '
        '"motion": "zoom_in|zoom_out|pan_left|pan_right|static", "transition": "crossfade|slide|wipe|cut"}]}\n'
        f"Rules: 1 to {scores.MAX_SCENES} scenes of about {scene_words} words each (a cut every "
        f"{pacing.scene_seconds:g} s); never three scenes in a row with the same visual_type; at most {most_words} "
        f"words of narration in all ({platform.name}, {pacing.name} pacing, {platform.maxDurationSeconds} s); "
        "a hook in the first line; one idea per scene; text_card scenes have a short headline as visual_prompt.\n"
        f"Archetypes:\n{archetypes}\nNo prose outside the JSON."
    )


def llm_score(plan, llm, brief=None) -> DirectorScore:
    user = brief or f"Topic: {plan.request.topic}"
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


def clauses(sentence: str) -> list[str]:
    """Split a sentence after commas, semicolons and dashes, and before a joining word."""
    parts = CLAUSE_BREAK.split(sentence)
    return [part.strip() for part in parts if part and part.strip()]


def pack(pieces: list[str], target: float) -> list[str]:
    """Join neighbouring pieces while the joined line stays within a quarter over `target` words."""
    lines = []
    for piece in pieces:
        if lines and scores.word_count(f"{lines[-1]} {piece}") <= target * 1.25:
            lines[-1] = f"{lines[-1]} {piece}"
        else:
            lines.append(piece)
    return lines


def even_split(line: str, most: float) -> list[str]:
    """Cut a line with more than `most` words into equal runs of words."""
    words = line.split()
    count = -(-len(words) // int(most)) if len(words) > most else 1
    size = -(-len(words) // count)
    return [" ".join(words[i:i + size]) for i in range(0, len(words), size)]


def cut(script: str, pacing) -> list[str]:
    """Cut a script into scene lines of about the tier's scene length, at sentence then clause boundaries."""
    target = pacing.scene_seconds * pacing.words_per_second
    most = (pacing.max_scene_seconds - scores.SCENE_GAP) * pacing.words_per_second * 0.85
    least = MIN_CUT_SECONDS * pacing.words_per_second
    lines = []
    for sentence in sentences(script):
        pieces = [sentence] if scores.word_count(sentence) <= target * 1.25 else pack(clauses(sentence), target)
        lines += [part for piece in pieces for part in even_split(piece, most)]
    # A line too short to hold a cut joins its shorter neighbour, if the two fit in one scene.
    index = 0
    while index < len(lines) and len(lines) > 1:
        if scores.word_count(lines[index]) >= least:
            index += 1
            continue
        neighbours = [i for i in (index - 1, index + 1) if 0 <= i < len(lines)]
        # Rather the neighbour in the same sentence, then the shorter one.
        other = min(neighbours, key=lambda i: (bool(SENTENCE_END.search(lines[min(i, index)])),
                                                scores.word_count(lines[i])))
        first, second = sorted((index, other))
        joined = f"{lines[first]} {lines[second]}"
        if scores.word_count(joined) > most:
            index += 1
            continue
        lines[first:second + 1] = [joined]
        index = first
    while len(lines) > scores.MAX_SCENES:
        shortest = min(range(len(lines) - 1), key=lambda i: scores.word_count(lines[i] + " " + lines[i + 1]))
        lines[shortest:shortest + 2] = [f"{lines[shortest]} {lines[shortest + 1]}"]
    return lines


def keywords(line: str, limit=6) -> str:
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z'-]+", line) if len(w) > 3]
    return " ".join(words[:limit]) or line[:60]


def offline_scenes(lines: list[str]) -> list[Scene]:
    """Give each line a scene that can be made locally, cycling visual types and motions."""
    visuals, motions = itertools.cycle(OFFLINE_VISUALS), itertools.cycle(OFFLINE_MOTIONS)
    scenes = []
    for line in lines:
        visual = next(visuals)
        prompt = keywords(line, limit=4 if visual == "text_card" else 6)
        scenes.append(Scene(script_line=line, visual_type=visual, visual_prompt=prompt,
                            motion=next(motions) if visual != "text_card" else "static", transition="crossfade"))
    return scenes


def script_score(script: str, pacing, archetype) -> DirectorScore:
    """Split the user's script into scenes, offline and deterministically."""
    lines = cut(script, pacing)
    if not lines:
        raise InvalidRequest("The script is empty.", code="script_too_short")
    return DirectorScore(emotional_arc="as written", archetype=archetype.name, music_mood=archetype.mood,
                         scenes=offline_scenes(lines))


def expanded_score(plan, llm) -> DirectorScore | None:
    """Have the LLM expand a short script the user asked to enhance; None to use it as written."""
    if not plan.request.enhance or llm is None:
        return None
    brief = f"Expand this short script into the narration of a whole reel, keeping its story:\n{plan.request.script}"
    try:
        score = llm_score(plan, llm, brief)
    except MoneyReelsError as exc:
        plan.log(f"The LLM could not expand the script ({exc.message}); it is used as written.", level="warning")
        return None
    plan.log(f"The LLM expanded the script to {sum(scores.word_count(s.script_line) for s in score.scenes)} words.")
    return score


def check(plan, score: DirectorScore):
    """Refuse a score that cannot be made, naming every problem."""
    found = scores.problems(score, plan.pacing, plan.platform)
    if found:
        raise InvalidRequest("The score cannot be made: " + "; ".join(found), code="invalid_score",
                             details={"problems": found})


def run(plan, llm) -> str:
    """Write (or take) the score; return the stage detail."""
    by = "request"
    if plan.request.score is not None:
        score = plan.request.score
    elif plan.request.script:
        score = expanded_score(plan, llm)
        by = "llm" if score else "script"
        score = score or script_score(plan.request.script, plan.pacing, plan.archetype)
    else:
        score = llm_score(plan, llm)
        by = "llm"
    check(plan, score)
    data = score.model_dump()
    plan.save(score=data, scoreBy=by)
    plan.stages.emit("director", "score", "Director's score.", score=data)
    return f"{len(score.scenes)} scenes"
