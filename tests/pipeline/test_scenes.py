"""Offline scenes that say the words, cut to the platform's pace: parts, then a real TikTok reel."""

import json

import numpy as np
import pytest

from moneyreels import kinds
from moneyreels.db import Job
from moneyreels.pipeline import cuts, kinetic, onscreen
from moneyreels.errors import JobFailed
from moneyreels.pipeline.catalog import ARCHETYPES, CAPTION_STYLES, PACING, PLATFORMS, SAFE_AREAS
from moneyreels.render import text
from moneyreels.render.safearea import caption_layout
from moneyreels.values import layout_box
from moneyreels.manifest import Layout
from moneyreels.worker import Worker
from tests.support.video import frame_at

MONEY = ("Put one hundred dollars away every month at seven percent, and in thirty years you will have about "
         "one hundred and twenty thousand dollars. You only put in thirty six thousand. The rest is compound "
         "interest doing the heavy lifting while you sleep. Start early, stay boring, and let time do the work.")


@pytest.mark.parametrize("line, numbers", [
    ("Put one hundred dollars away every month at seven percent,", ["$100", "7%"]),
    ("and in thirty years you will have", ["30 years"]),
    ("about one hundred and twenty thousand dollars.", ["$120,000"]),
    ("You only put in thirty-six thousand.", ["36,000"]),
    ("Save $120,000 at 7% a year.", ["$120,000", "7%"]),
    ("By 1990 it had fallen 50 per cent.", ["1990", "50%"]),
    ("It costs $3.5m to run.", ["$3,500,000"]),
    ("One of them knew.", []),
    ("Start early, stay boring, and let time do the work.", []),
])
def test_numbers_in_digits_or_words_become_hero_numbers(line, numbers):
    assert onscreen.hero_numbers(line) == numbers


@pytest.mark.parametrize("line, phrase", [
    ("Put one hundred dollars away every month at seven percent,", "Put away every month"),
    ("The rest is compound interest doing the heavy lifting while you sleep.",
     "compound interest doing the heavy lifting"),
    ("Start early, stay boring, and let time do the work.", "Start early, stay boring"),
    ("and in thirty years you will have", ""),
    ("Even twenty dollars a week adds up. Open the account today.", "Open the account today"),
])
def test_the_key_phrase_is_the_lines_most_telling_words(line, phrase):
    assert onscreen.key_phrase(line) == phrase


def test_a_scene_spoken_too_long_is_split_after_a_comma_leaving_both_halves_readable():
    words = [["Money", 0.0, 0.4], ["grows,", 0.5, 1.0], ["slowly", 1.1, 1.6], ["then", 1.7, 2.0], ["fast,", 2.1, 2.6],
             ["and", 3.0, 3.2], ["then", 3.3, 3.6], ["it", 3.7, 3.8], ["snowballs", 3.9, 4.9], ["away.", 5.0, 6.6]]
    timing = {"start": 10.0, "duration": 6.9, "speech": 6.6, "audio": "tts/scene-001.wav",
              "words": [[w, 10 + s, 10 + e] for w, s, e in words]}
    (first, a), (second, b) = cuts.split(timing, 6.0)
    assert first == "Money grows, slowly then fast," and second == "and then it snowballs away."
    assert (a["start"], a["duration"]) == (10.0, 3.0) and (b["start"], b["duration"]) == (13.0, 3.9)
    assert a["words"] + b["words"] == timing["words"] and a["audio"] == b["audio"] == timing["audio"]


def test_kinetic_text_sits_above_the_captions_and_neighbours_change_composition():
    lowest_caption = min(float(caption_layout(style.position, area).y.rstrip("%"))
                         for style in CAPTION_STYLES.values() for area in SAFE_AREAS.values())
    for place in kinetic.COMPOSITIONS.values():
        for key in ("number", "phrase", "alone", "panel"):
            assert place[key][3] * 100 <= lowest_caption
    assert all(kinetic.composition(i) != kinetic.composition(i + 1) for i in range(20))


@pytest.fixture
def money_reel(app, client, settings):
    """A TikTok reel of the money script, offline (espeak, drawn art), at a quarter size."""
    small = settings.model_copy(update={"output_scale": 0.25})
    job_id = client.post("/api/v1/jobs", json={"script": MONEY, "platform": "tiktok", "pacing": "standard",
                                               "archetype": "bright_pop"}).json["id"]
    Worker(small, kinds.runners()).loop()
    job = Job.get_by_id(job_id)
    assert job.state == "completed", job.error
    folder = settings.jobs_dir / job_id
    return job.outputs, json.loads((folder / "manifest.json").read_text()), folder / "final.mp4"


def test_a_tiktok_reel_cuts_every_two_to_six_seconds(money_reel):
    outputs, _, _ = money_reel
    seconds = [scene["duration"] for scene in outputs["narration"]["scenes"]]
    assert len(seconds) >= 5 and all(2.0 <= s <= 6.0 for s in seconds), seconds
    assert outputs["criticReview"]["score"] >= 8 and outputs["criticReview"]["measurements"][
        "scenes_showing_their_words"] == 1.0


def hero_mask(overlay, width, height, colour) -> tuple[np.ndarray, tuple]:
    """Draw the overlay's text as the renderer would; return where its fill colour lands and its box."""
    box = layout_box(Layout(**overlay["layout"]), width, height)
    image = text.draw_text(overlay["content"], text.TextStyle(**overlay["style"]), box.w, box.h).image
    pixels = np.asarray(image.convert("RGB"), dtype=int)
    alpha = np.asarray(image.getchannel("A")) > 200
    return alpha & (np.abs(pixels - colour).sum(axis=2) < 60), box


def overlap(a, b) -> float:
    return (a & b).sum() / max(1, (a | b).sum())


def test_numbers_in_the_script_appear_on_screen_as_text(money_reel):
    _, manifest, video = money_reel
    width, height = manifest["output"]["width"], manifest["output"]["height"]
    colour = np.array([int(CAPTION_STYLES[ARCHETYPES["bright_pop"].captionStyle].highlight_color[i:i + 2], 16)
                       for i in (1, 3, 5)])
    # Every scene's text sits on its own still panel, laid over the moving art.
    panels = [layer for layer in manifest["composition"]["timeline"] if layer["id"].endswith("-panel")]
    scenes = [layer for layer in manifest["composition"]["timeline"] if layer["id"].count("-") == 1
              and layer["type"] == "image"]
    assert len(panels) == len(scenes) and all(p["background_mode"] == "transparent" and "motion" not in p
                                              for p in panels)
    heroes = [o for o in manifest["composition"]["text_overlays"] if o["id"].endswith("-number")]
    assert {o["content"] for o in heroes} >= {"$100 · 7%", "30 years", "$120,000", "36,000"}
    for hero in heroes:
        expected, box = hero_mask(hero, width, height, colour)
        # A different number of the same length in the same style: what a misread would look like.
        decoy, _ = hero_mask({**hero, "content": hero["content"].translate(str.maketrans("0123456789", "5678901234"))},
                             width, height, colour)
        time = hero["time"]["start_seconds"] + hero["time"]["duration_seconds"] - 0.3
        frame = frame_at(video, time)[box.y:box.y + box.h, box.x:box.x + box.w].astype(int)
        seen = np.abs(frame - colour).sum(axis=2) < 120
        # Where the right number and the misread one disagree, the frame sides with the right one
        # (a coin toss would agree half the time).
        differ = expected ^ decoy
        agrees = (seen[differ] == expected[differ]).mean()
        assert overlap(seen, expected) > 0.5 and agrees > 0.7, (hero["content"], overlap(seen, expected), agrees)


def test_neighbouring_scenes_look_different_above_the_captions(money_reel):
    outputs, _, video = money_reel
    scenes = outputs["narration"]["scenes"]
    top = int(frame_at(video, 0).shape[0] * 0.43)
    stills = [frame_at(video, s["start"] + s["duration"] * 0.7)[:top].astype(int) for s in scenes]
    for before, after in zip(stills, stills[1:]):
        assert np.abs(before - after).mean() > 20


class FakePlan:
    """What cuts.run reads of a plan, with a narration as the voice made it."""

    def __init__(self, scenes, timings, platform="tiktok", pacing="standard", script=True):
        self.outputs = {"score": {"emotional_arc": "as written", "archetype": "minimal_explainer",
                                  "music_mood": "lofi_chill", "scenes": scenes},
                        "narration": {"scenes": timings, "duration": timings[-1]["start"] + timings[-1]["duration"]},
                        "scoreBy": "script" if script else "llm"}
        self.request = type("Request", (), {"score": None})()
        self.platform, self.pacing = PLATFORMS[platform], PACING[pacing]
        self.logged = []

    def save(self, **outputs):
        self.outputs.update(outputs)

    def log(self, message, level="info", **payload):
        self.logged.append(message)


def scene(line):
    return {"script_line": line, "visual_type": "ai_image", "visual_prompt": line[:20]}


def spoken(lines, start=0.0, seconds_per_word=0.4):
    """Timings for lines spoken back to back at a steady pace, 0.3 s between scenes."""
    timings = []
    for line in lines:
        words = [[w, round(start + i * seconds_per_word, 3), round(start + (i + 0.9) * seconds_per_word, 3)]
                 for i, w in enumerate(line.split())]
        duration = len(words) * seconds_per_word + 0.3
        timings.append({"start": start, "duration": duration, "speech": duration - 0.3, "audio": "a.wav",
                        "words": words})
        start += duration
    return timings


def test_scenes_are_re_cut_on_the_voices_timings():
    lines = ["Money grows slowly at first, then faster every single year that you leave it alone.", "Wait.",
             "Then it snowballs."]
    plan = FakePlan([scene(line) for line in lines], spoken(lines))
    detail = cuts.run(plan)
    seconds = [t["duration"] for t in plan.outputs["narration"]["scenes"]]
    assert detail == "; 1 long scene(s) split, 1 short one(s) joined" and all(2.0 <= s <= 6.0 for s in seconds)
    assert [s["script_line"] for s in plan.outputs["score"]["scenes"]] == [
        "Money grows slowly at first,", "then faster every single year that you leave it alone.",
        "Wait. Then it snowballs."]


def test_an_llms_short_scene_is_kept_and_a_replayed_score_is_not_re_cut():
    lines = ["Wait.", "Then it snowballs over the years."]
    plan = FakePlan([scene(line) for line in lines], spoken(lines), script=False)
    assert cuts.run(plan) == "" and len(plan.outputs["score"]["scenes"]) == 2


def test_a_narration_longer_than_the_platform_fails_saying_what_to_cut():
    lines = [" ".join(["word"] * 100)] * 5  # 500 words at 0.4 s and five 0.3 s gaps: 201.5 s
    plan = FakePlan([scene(line) for line in lines], spoken(lines))
    with pytest.raises(JobFailed) as caught:
        cuts.run(plan)
    assert caught.value.code == "too_long" and "tiktok takes 180 s. Cut about 54 of its 500 words" in caught.value.message
