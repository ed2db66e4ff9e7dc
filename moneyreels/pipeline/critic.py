"""Critic: review the finished reel against its platform's norms, by LLM when one is usable.

The measurements come from what was made (the narration's word timings, the rendered
manifest, the pictures themselves); the heuristic score moves with each of them, and an LLM
critic is handed the same measurements, norms and rule-based reading to judge.
"""

import json

import numpy as np
from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, Field

from ..errors import MoneyReelsError
from ..providers.llm import generate_json
from ..render import fonts, safearea
from .catalog import CAPTION_STYLES, SAFE_AREAS
from .score import DirectorScore, word_count

SHORT_SCENE, LONG_PAUSE = 2.0, 1.2
# Silence (no word spoken) a reel may have before it drags: gaps between scenes plus the tail.
MAX_SILENCE_SHARE = 0.25
# Mean difference (0-255) of two pictures' thumbnails under which neighbours look alike.
ALIKE = 14.0
THUMBNAIL = (36, 64)

SYSTEM = (
    "You are a strict critic of short vertical videos. You get the plan, the measurements of the finished "
    "reel, the platform's norms, and a rule-based reading of them. Judge the reel as a viewer of that "
    'platform would, and answer with one JSON object: {"score": 0-10, "strengths": ["..."], '
    '"weaknesses": ["..."]}. No prose outside it.'
)


class Review(BaseModel):
    score: float = Field(ge=0, le=10)
    strengths: list[str] = Field(max_length=10)
    weaknesses: list[str] = Field(max_length=10)


def norms(plan) -> dict:
    """What the platform and pacing tier expect of a reel."""
    return {"platform": plan.platform.name, "pacing": plan.pacing.name,
            "max_duration_seconds": plan.platform.maxDurationSeconds,
            "scene_seconds": [SHORT_SCENE, plan.pacing.max_scene_seconds],
            "target_scene_seconds": plan.pacing.scene_seconds,
            "words_per_second": plan.pacing.words_per_second}


def measurements(plan) -> dict:
    """What the heuristics look at, also handed to an LLM critic."""
    narration, assets = plan.outputs["narration"], plan.outputs["assets"]
    score = DirectorScore.model_validate(plan.outputs["score"])
    words = [word for scene in narration["scenes"] for word in scene["words"]]
    spoken = sum(end - start for _, start, end in words)
    speech = sum(scene["speech"] for scene in narration["scenes"]) or 1.0
    pauses = [round(b[1] - a[2], 2) for a, b in zip(words, words[1:]) if b[1] - a[2] > LONG_PAUSE]
    duration = narration["duration"]
    # A scene shows its words when its text is on screen, or its picture was found or generated for
    # its line (MEDIA_DIR, stock, AI); drawn art alone shows nothing of them.
    carried = [bool(a.get("onScreen", {}).get("phrase") or a.get("onScreen", {}).get("numbers")
                    or a["source"] != "drawn") for a in assets]
    return {
        "duration": duration,
        "words": sum(word_count(scene.script_line) for scene in score.scenes),
        "words_per_second": round(len(words) / speech, 2),
        "target_words_per_second": plan.pacing.words_per_second,
        "scene_seconds": [scene["duration"] for scene in narration["scenes"]],
        "max_scene_seconds": plan.pacing.max_scene_seconds,
        "target_scene_seconds": plan.pacing.scene_seconds,
        "long_pauses": pauses,
        "silence_share": round(1 - min(spoken, duration) / duration, 2) if duration else 1.0,
        "caption_coverage": caption_coverage(plan, spoken),
        "overflowing_caption_pages": overflowing_pages(plan, [word[0] for word in words]),
        "repeated_visuals": alike_neighbours(assets),
        "scenes_showing_their_words": round(sum(carried) / len(carried), 2) if carried else 0.0,
        "drawn_visuals": sum(1 for asset in assets if asset["source"] == "drawn"),
        "visual_count": len(assets),
        "music": bool(plan.outputs.get("musicTrack")),
    }


def caption_coverage(plan, spoken: float) -> float:
    """Return the share of spoken time the rendered manifest's captions cover."""
    path = plan.dir / "manifest.json"
    if not spoken or not path.exists():
        return 0.0
    tracks = json.loads(path.read_text()).get("composition", {}).get("captions", [])
    covered = sum(word["end_seconds"] - word["start_seconds"] for track in tracks for word in track["words"])
    return round(min(1.0, covered / spoken), 2)


def alike_neighbours(assets) -> int:
    """Count neighbouring scenes whose pictures are the same file or look nearly the same."""
    thumbs = [_thumbnail(asset) for asset in assets]
    count = 0
    for (a, b), (x, y) in zip(zip(assets, assets[1:]), zip(thumbs, thumbs[1:])):
        if a["file"] == b["file"] or (x is not None and y is not None and np.abs(x - y).mean() < ALIKE):
            count += 1
    return count


def _thumbnail(asset) -> np.ndarray | None:
    if asset["kind"] != "image":
        return None
    try:
        with Image.open(asset["file"]) as image:
            return np.asarray(image.convert("RGB").resize(THUMBNAIL), dtype=np.float32)
    except (OSError, UnidentifiedImageError):
        return None


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
    """Score from 10 down, each shortfall against the norms costing in proportion to its size."""
    strengths, weaknesses, cost = [], [], 0.0
    ratio = facts["words_per_second"] / facts["target_words_per_second"]
    if 0.8 <= ratio <= 1.25:
        strengths.append(f"Narration pace fits the pacing tier ({facts['words_per_second']} words/s).")
    else:
        weaknesses.append(f"Narration runs at {facts['words_per_second']} words/s; the tier wants about "
                          f"{facts['target_words_per_second']}.")
        cost += 1.0
    scenes, most = facts["scene_seconds"], facts["max_scene_seconds"]
    long = [i + 1 for i, s in enumerate(scenes) if s > most]
    short = [i + 1 for i, s in enumerate(scenes) if s < SHORT_SCENE]
    if long:
        weaknesses.append(f"Scene(s) {', '.join(map(str, long))} run over {most:g} s: viewers scroll on.")
        cost += 1.0 + 3.0 * len(long) / len(scenes)
    if short:
        weaknesses.append(f"Scene(s) {', '.join(map(str, short))} are shorter than {SHORT_SCENE:g} s.")
        cost += 1.0 * len(short) / len(scenes)
    mean = sum(scenes) / len(scenes) if scenes else 0.0
    if mean > 1.5 * facts["target_scene_seconds"]:
        weaknesses.append(f"A cut every {mean:.1f} s on average; the norm is about {facts['target_scene_seconds']:g} s.")
        cost += 1.0
    if not long and not short:
        strengths.append(f"Every scene lasts {SHORT_SCENE:g}-{most:g} s.")
    if facts["long_pauses"]:
        weaknesses.append(f"{len(facts['long_pauses'])} silence(s) longer than {LONG_PAUSE} s in the narration.")
        cost += min(1.5, 0.5 * len(facts["long_pauses"]))
    if facts["silence_share"] > MAX_SILENCE_SHARE:
        weaknesses.append(f"{facts['silence_share']:.0%} of the reel has no voice.")
        cost += 1.0
    if facts["caption_coverage"] < 0.9:
        weaknesses.append(f"Captions cover {facts['caption_coverage']:.0%} of the speech.")
        cost += 2.0 * (1 - facts["caption_coverage"])
    if facts["overflowing_caption_pages"]:
        weaknesses.append(f"{facts['overflowing_caption_pages']} caption page(s) overflow two lines.")
        cost += 1.0
    else:
        strengths.append("Captions fit their box.")
    if facts["repeated_visuals"]:
        weaknesses.append(f"{facts['repeated_visuals']} pair(s) of neighbouring scenes look alike (or are shown "
                          "twice in a row).")
        cost += min(2.0, 1.0 * facts["repeated_visuals"])
    else:
        strengths.append(f"{facts['visual_count']} distinct visuals; no two neighbours look alike.")
    shown = facts["scenes_showing_their_words"]
    if shown < 1:
        weaknesses.append(f"Only {shown:.0%} of the scenes show what is being said (its words or numbers).")
        cost += 3.0 * (1 - shown)
    else:
        strengths.append("Every scene shows what is being said.")
    if facts["music"]:
        strengths.append("A music bed under the voice.")
    score = max(1.0, min(10.0, 10.0 - cost))
    return Review(score=round(score * 2) / 2, strengths=strengths, weaknesses=weaknesses)


def run(plan, llm) -> str:
    """Review the reel; return the stage detail."""
    facts = measurements(plan)
    rules = heuristic(facts)
    review, method = None, "heuristic"
    if llm is not None:
        user = json.dumps({"score": plan.outputs["score"], "measurements": facts, "norms": norms(plan),
                           "rules": rules.model_dump()}, ensure_ascii=False)
        try:
            review, method = generate_json(llm, SYSTEM, user, Review), llm.key
        except MoneyReelsError as exc:
            plan.log(f"The LLM critic failed ({exc.message}); using the heuristic critic.", level="warning")
    review = review or rules
    data = {**review.model_dump(), "method": method, "measurements": facts, "norms": norms(plan),
            "heuristicScore": rules.score}
    plan.save(criticReview=data)
    plan.stages.emit("critic", "review", f"Review: {review.score}/10.", score=review.score,
                     strengths=review.strengths, weaknesses=review.weaknesses)
    return f"Score: {review.score:g}/10"
