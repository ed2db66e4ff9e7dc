"""Cut scenes to the spoken words: a scene whose speech runs past the tier's longest cut is split,
one spoken in under two seconds joins a neighbour.

The director cuts a script by counting words; the voice decides how long they take. Once the
narration exists, its word timings say where each scene really ends, so a scene that came out
too long is split at a word boundary near its middle, after a comma or full stop when that
leaves both halves a readable length.
"""

import math

from ..errors import JobFailed
from .score import MAX_SCENES, DirectorScore, word_count

# A cut sooner than this after the last one is too quick to read.
MIN_SECONDS = 2.0


def run(plan) -> str:
    """Split the scenes that run too long; save score and narration; return a note for the stage detail."""
    score = DirectorScore.model_validate(plan.outputs["score"])
    narration = plan.outputs["narration"]
    check_length(plan, score, narration)
    if plan.request.score is not None:
        return ""  # a replayed score is the user's cut
    limit = plan.pacing.max_scene_seconds
    kept = []  # (index of the scene it comes from, line, timing)
    pending = [(i, scene.script_line, timing) for i, (scene, timing) in enumerate(zip(score.scenes, narration["scenes"]))]
    while pending:
        index, line, timing = pending.pop(0)
        if timing["duration"] <= limit or len(timing["words"]) < 2 or len(kept) + len(pending) + 2 > MAX_SCENES:
            kept.append((index, line, timing))
            continue
        pending[:0] = [(index, half, part) for half, part in split(timing, limit)]
    split_count = len(kept) - len(score.scenes)
    # Only the script director's word-count cuts are joined; an LLM's or a user's short scene is meant.
    merged = join_short(kept, limit) if plan.outputs.get("scoreBy") == "script" else 0
    if not split_count and not merged:
        return ""
    timings = [timing for _, _, timing in kept]
    # Each part keeps the visual its (first) scene was given; drawn scenes still differ by position.
    scenes = [score.scenes[index].model_copy(update={"script_line": line}) for index, line, _ in kept]
    plan.save(score={**score.model_dump(), "scenes": [scene.model_dump() for scene in scenes]},
              narration={**narration, "scenes": timings})
    plan.log(f"Cut to the spoken words: {split_count} scene(s) over {limit:g} s split, {merged} under "
             f"{MIN_SECONDS:g} s joined to a neighbour.")
    return f"; {split_count} long scene(s) split, {merged} short one(s) joined"


def check_length(plan, score: DirectorScore, narration: dict):
    """Fail a narration the voice made longer than the platform takes, saying how many words to cut."""
    most = plan.platform.maxDurationSeconds
    if narration["duration"] <= most:
        return
    words = sum(word_count(scene.script_line) for scene in score.scenes)
    cut = max(1, math.ceil(words * (1 - most / narration["duration"])))
    raise JobFailed(f"The narration runs {narration['duration']:.0f} s, spoken by this voice; {plan.platform.name} "
                    f"takes {most} s. Cut about {cut} of its {words} words.", code="too_long")


def join_short(kept: list, limit: float) -> int:
    """Join scenes spoken in under MIN_SECONDS to their shorter neighbour when the two fit the limit."""
    joined, index = 0, 0
    while index < len(kept) and len(kept) > 1:
        if kept[index][2]["duration"] >= MIN_SECONDS:
            index += 1
            continue
        neighbours = [i for i in (index - 1, index + 1) if 0 <= i < len(kept)]
        other = min(neighbours, key=lambda i: kept[i][2]["duration"])
        first, second = sorted((index, other))
        (origin, line, a), (_, more, b) = kept[first], kept[second]
        if a["duration"] + b["duration"] > limit:
            index += 1
            continue
        timing = {**a, "duration": round(a["duration"] + b["duration"], 3),
                  "speech": round(b["start"] + b["speech"] - a["start"], 3), "words": a["words"] + b["words"]}
        kept[first:second + 1] = [(origin, f"{line} {more}", timing)]
        joined += 1
        index = first
    return joined


def split(timing: dict, limit: float) -> list[tuple[str, dict]]:
    """Split one scene's timing in two at the best word boundary; return (line, timing) for each half.

    Best is after punctuation, with both halves between MIN_SECONDS and `limit`, nearest the middle;
    failing that, simply nearest the middle.
    """
    words, start, end = timing["words"], timing["start"], timing["start"] + timing["duration"]
    middle = (start + end) / 2

    def cost(k):
        after_punctuation = words[k - 1][0][-1] in ",;:.!?—–"
        fits = all(MIN_SECONDS <= half <= limit for half in (words[k][1] - start, end - words[k][1]))
        return not (after_punctuation and fits), abs(words[k][1] - middle)

    k = min(range(1, len(words)), key=cost)
    cut_at = words[k][1]
    first = {**timing, "duration": round(cut_at - start, 3), "speech": round(words[k - 1][2] - start, 3),
             "words": words[:k]}
    second = {**timing, "start": cut_at, "duration": round(end - cut_at, 3),
              "speech": round(max(0.0, start + timing["speech"] - cut_at), 3), "words": words[k:]}
    return [(" ".join(w[0] for w in half["words"]), half) for half in (first, second)]
