"""The DirectorScore: the plan of a reel, scene by scene, and the checks it must pass."""

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .catalog import ARCHETYPES, Pacing, Platform

# Seconds of silence between scenes, and at the end, added to the spoken time.
SCENE_GAP = 0.3
TAIL = 0.8
# A 3-minute reel cut every 3 s; a one-line script is one scene.
MAX_SCENES = 60
MIN_WORDS = 3


class Scene(BaseModel):
    model_config = ConfigDict(extra="ignore")

    script_line: str = Field(min_length=1, max_length=600)
    visual_type: Literal["ai_image", "ai_video", "stock_image", "stock_video", "text_card"]
    visual_prompt: str = Field(min_length=1, max_length=1000)
    motion: Literal["zoom_in", "zoom_out", "pan_left", "pan_right", "static"] = "zoom_in"
    transition: Literal["crossfade", "slide", "wipe", "cut"] = "crossfade"


class DirectorScore(BaseModel):
    model_config = ConfigDict(extra="ignore")

    emotional_arc: str = Field(min_length=1, max_length=500)
    archetype: str
    music_mood: str = Field(min_length=1, max_length=60)
    scenes: list[Scene] = Field(min_length=1, max_length=MAX_SCENES)


def word_count(text: str) -> int:
    return len(re.findall(r"\w[\w'’-]*", text))


def spoken_seconds(words: int, pacing: Pacing) -> float:
    return words / pacing.words_per_second


def words_per_second(score: DirectorScore, pacing: Pacing, platform: Platform) -> float:
    """How fast to speak: the tier's pace, faster when that is what fits the platform's length."""
    words = sum(word_count(scene.script_line) for scene in score.scenes)
    room = platform.maxDurationSeconds - SCENE_GAP * len(score.scenes) - TAIL
    return max(pacing.words_per_second, words / room if room > 0 else float("inf"))


def problems(score: DirectorScore, pacing: Pacing, platform: Platform) -> list[str]:
    """Return what is wrong with a structurally valid score; empty when it can be made."""
    found = []
    if score.archetype not in ARCHETYPES:
        found.append(f"archetype '{score.archetype}' is not one of {', '.join(ARCHETYPES)}")
    types = [scene.visual_type for scene in score.scenes]
    for index in range(2, len(types)):
        if types[index] == types[index - 1] == types[index - 2]:
            found.append(f"scenes {index - 1}-{index + 1} are all {types[index]}: at most two in a row may share a visual type")
            break
    words = sum(word_count(scene.script_line) for scene in score.scenes)
    if words_per_second(score, pacing, platform) > pacing.max_words_per_second:
        room = platform.maxDurationSeconds - SCENE_GAP * len(score.scenes) - TAIL
        most = int(room * pacing.max_words_per_second)
        found.append(
            f"the script has {words} words, about {spoken_seconds(words, pacing):.0f} s at {pacing.name} pacing; "
            f"{platform.name} allows {platform.maxDurationSeconds} s even spoken at {pacing.max_words_per_second} "
            f"words/s, so at most {most} words: cut {words - most}"
        )
    if words < MIN_WORDS:
        found.append(f"the script is too short: it has {words} word(s), a reel needs at least {MIN_WORDS}")
    elif words < 2 * len(score.scenes):
        found.append(f"the script has only {words} words for {len(score.scenes)} scenes")
    return found
