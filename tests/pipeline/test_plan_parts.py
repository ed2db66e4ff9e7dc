"""The pipeline's pure parts: requests, scores, the script director, costs, the critic's rules."""

import numpy as np
import pytest
from pydantic import ValidationError

from moneyreels.pipeline import costs, critic, director
from moneyreels.pipeline.catalog import ARCHETYPES, CAPTION_STYLES, PACING, PALETTES, PLATFORMS, pick_archetype
from moneyreels.pipeline.narration import even_peaks
from moneyreels.pipeline.request import GenerateRequest
from moneyreels.pipeline.score import MAX_SCENES, DirectorScore, problems, words_per_second
from moneyreels.providers.costs import Ledger

SCENE = {"script_line": "Honey never spoils, even after thousands of years.", "visual_type": "ai_image",
         "visual_prompt": "a jar of honey", "motion": "zoom_in", "transition": "crossfade"}


def score(*types, line=SCENE["script_line"], archetype="nature_calm"):
    return DirectorScore(emotional_arc="wonder", archetype=archetype, music_mood="calm_ambient",
                         scenes=[{**SCENE, "script_line": line, "visual_type": t} for t in types])


def test_catalog_is_complete_and_consistent():
    assert len(ARCHETYPES) >= 8
    for archetype in ARCHETYPES.values():
        assert archetype.captionStyle in CAPTION_STYLES
        assert archetype.colorPalette in PALETTES
        assert archetype.scenePacing in PACING
        assert archetype.motionIntensity in ("low", "medium", "high")
    assert set(PACING) == {"slow", "standard", "fast"}
    assert {"youtube", "tiktok", "instagram"} <= set(PLATFORMS)


@pytest.mark.parametrize("text, expected", [
    ("Black holes and the edge of the universe", "science_wonder"),
    ("The fall of the Roman empire", "history_epic"),
    ("Why bees make honey", "nature_calm"),
    ("zzz", "cinematic_documentary"),
])
def test_archetype_is_picked_from_the_words(text, expected):
    assert pick_archetype(text) == expected


@pytest.mark.parametrize("body, field", [
    ({}, ""),
    ({"topic": ""}, "topic"),
    ({"topic": "x" * 501}, "topic"),
    ({"topic": "t", "archetype": "vaporwave"}, "archetype"),
    ({"topic": "t", "pacing": "ludicrous"}, "pacing"),
    ({"topic": "t", "platform": "myspace"}, "platform"),
    ({"topic": "t", "direction": "x" * (10 * 1024 + 1)}, "direction"),
    ({"topic": "t", "direction": ["not", "text"]}, "direction"),
    ({"topic": "t", "score": {"scenes": []}}, "score"),
    ({"topic": "t", "providers": {"llm": "x", "telepathy": "y"}}, "providers"),
    ({"topic": "t", "keys": {"openai": "lowercase name"}}, "keys"),
    ({"topic": "t", "keys": {"OPENAI_BASE_URL": "http://attacker.example/v1"}}, "keys"),
    ({"topic": "t", "keys": {"MONEYREELS_LLM_BASE_URL": "http://10.0.0.1/v1"}}, "keys"),
])
def test_bad_requests_are_refused_naming_the_field(body, field):
    with pytest.raises(ValidationError) as caught:
        GenerateRequest.model_validate(body)
    assert any(field in ".".join(map(str, error["loc"])) for error in caught.value.errors())


def test_stored_request_keeps_key_names_not_values():
    request = GenerateRequest.model_validate({"topic": "t", "keys": {"OPENAI_API_KEY": "sk-secret"}})
    stored = request.stored()
    assert stored["byok"] == ["OPENAI_API_KEY"] and "sk-secret" not in str(stored) and "keys" not in stored


def test_a_good_score_has_no_problems():
    assert problems(score("ai_image", "text_card", "ai_image", "stock_image"), PACING["standard"],
                    PLATFORMS["youtube"]) == []


def test_three_in_a_row_of_one_visual_type_is_a_problem():
    found = problems(score("ai_image", "ai_image", "ai_image"), PACING["standard"], PLATFORMS["youtube"])
    assert found and "at most two in a row" in found[0]


def test_too_many_words_for_the_platform_is_a_problem_that_says_how_many_to_cut():
    long_line = " ".join(["ab"] * 200)
    found = problems(score("ai_image", "text_card", "ai_image", line=long_line), PACING["standard"],
                     PLATFORMS["youtube"])
    # 180 s less 3 gaps and the tail, at the tier's fastest 2.9 words/s: 517 words fit of 600.
    assert any("at most 517 words: cut 83" in problem for problem in found), found


def test_a_script_a_little_over_is_spoken_faster_within_the_tier():
    pacing, platform = PACING["standard"], PLATFORMS["tiktok"]
    fits = score("ai_image", "text_card", "ai_image", line=" ".join(["ab"] * 160))  # 480 words: 192 s at 2.5
    assert problems(fits, pacing, platform) == []
    assert pacing.words_per_second < words_per_second(fits, pacing, platform) <= pacing.max_words_per_second
    assert words_per_second(score("ai_image"), pacing, platform) == pacing.words_per_second


def test_unknown_archetype_is_a_problem():
    assert problems(score("ai_image", "text_card", "ai_image", archetype="nope"), PACING["standard"],
                    PLATFORMS["youtube"])


def split(script, pacing="standard"):
    return director.script_score(script, PACING[pacing], ARCHETYPES["nature_calm"])


SCRIPT = ("Honey never spoils. Archaeologists found pots of it in Egyptian tombs. It was over three thousand "
          "years old. And it was still perfectly edible. Bees make it from nectar. They fan it with their wings "
          "until the water evaporates. That is why it keeps forever.")


def test_script_director_keeps_every_word_in_order():
    made = split(SCRIPT)
    assert " ".join(scene.script_line for scene in made.scenes) == " ".join(SCRIPT.split())
    assert 3 <= len(made.scenes) <= 16
    assert problems(made, PACING["standard"], PLATFORMS["youtube"]) == []


def test_a_one_line_script_is_one_scene():
    made = split("A lighthouse keeper befriends a stranded whale.")
    assert [scene.script_line for scene in made.scenes] == ["A lighthouse keeper befriends a stranded whale."]
    assert problems(made, PACING["standard"], PLATFORMS["tiktok"]) == []


MONEY = ("Put one hundred dollars away every month at seven percent, and in thirty years you will have about "
         "one hundred and twenty thousand dollars. You only put in thirty six thousand. The rest is compound "
         "interest doing the heavy lifting while you sleep. Start early, stay boring, and let time do the work.")


def test_long_sentences_are_cut_at_clauses_to_the_tiers_scene_length():
    lines = director.cut(MONEY, PACING["standard"])
    assert lines[:2] == ["Put one hundred dollars away every month at seven percent,",
                         "and in thirty years you will have"]
    # "and" inside a number is no clause break.
    assert "about one hundred and twenty thousand dollars." in lines
    pacing = PACING["standard"]
    for line in lines:
        seconds = len(line.split()) / pacing.words_per_second
        assert 2.0 <= seconds <= pacing.max_scene_seconds, line


def test_script_director_caps_scenes():
    script = " ".join(f"Fact number {n} is short." for n in range(300))
    assert len(split(script, "fast").scenes) == MAX_SCENES


class FakeLLM:
    key, model = "openai", "gpt-4o-mini"
    usage = {"input_tokens": 1_000_000, "output_tokens": 100_000}


def test_llm_costs_come_from_tokens_and_prices():
    ledger = Ledger()
    costs.add_llm(ledger, FakeLLM())
    assert ledger.summary()["breakdown"]["llm"] == pytest.approx(0.15 + 0.06)
    costs.add_llm(ledger, None)
    assert ledger.total() == pytest.approx(0.21)


def test_a_local_llm_is_free_and_an_unknown_model_is_said_so():
    local, mystery = FakeLLM(), FakeLLM()
    local.key, mystery.model = "ollama", "mystery-1"
    ledger = Ledger()
    costs.add_llm(ledger, local)
    assert ledger.total() == 0 and "note" not in ledger.summary()
    costs.add_llm(ledger, mystery)
    assert "no price known for mystery-1" in ledger.summary()["note"]


class FakeChoices:
    def __init__(self, image=None, video=None):
        self.llm, self.stock = FakeLLM(), None
        self.tts = type("TTS", (), {"key": "openai-tts"})()
        self.image = type("Image", (), {"model": "gpt-image-1"})() if image else None
        self.video = type("Video", (), {"default_model": "veo-3.0-generate-001"})() if video else None


def test_the_estimate_prices_each_scene_by_its_provider():
    made = score("ai_image", "text_card", "ai_video", "ai_image")
    offline = costs.estimate(FakeChoices(), made, PACING["standard"])
    remote = costs.estimate(FakeChoices(image=True, video=True), made, PACING["standard"])
    assert offline["breakdown"]["image"] == 0 and offline["breakdown"]["tts"] > 0
    assert remote["breakdown"]["image"] == pytest.approx(2 * 0.063)
    assert remote["breakdown"]["video"] == pytest.approx(0.40 * 8 / 2.5)
    assert remote["totalCost"] > offline["totalCost"]


FACTS = {"duration": 30.0, "words": 75, "words_per_second": 2.5, "target_words_per_second": 2.5,
         "scene_seconds": [3.0, 3.5, 4.0, 3.0, 2.5, 3.0, 3.5, 3.0, 2.5, 2.0], "max_scene_seconds": 6.0,
         "target_scene_seconds": 3.0, "long_pauses": [], "silence_share": 0.15, "caption_coverage": 1.0,
         "overflowing_caption_pages": 0, "repeated_visuals": 0, "scenes_showing_their_words": 1.0,
         "drawn_visuals": 10, "visual_count": 10, "music": True}


def test_heuristic_critic_praises_a_good_reel():
    review = critic.heuristic(FACTS)
    assert review.score == 10 and not review.weaknesses and len(review.strengths) >= 3


def test_the_critics_score_falls_as_scenes_grow_to_eight_seconds():
    brisk = critic.heuristic(FACTS).score
    slow = critic.heuristic({**FACTS, "scene_seconds": [8.0] * 4}).score
    mixed = critic.heuristic({**FACTS, "scene_seconds": [3.0] * 8 + [8.0] * 2}).score
    assert slow < mixed < brisk


def test_the_reel_of_the_issue_does_not_score_ten():
    # Three scenes of 3.8, 7.8 and 7.6 s, each abstract art that shows none of the words.
    review = critic.heuristic({**FACTS, "scene_seconds": [3.8, 7.8, 7.6], "scenes_showing_their_words": 0.0,
                               "visual_count": 3, "drawn_visuals": 3})
    assert review.score <= 5
    assert any("run over 6 s" in w for w in review.weaknesses)
    assert any("show what is being said" in w for w in review.weaknesses)


@pytest.mark.parametrize("change, words", [
    ({"words_per_second": 4.0}, "words/s"),
    ({"scene_seconds": [4.0, 12.0, 4.0]}, "run over"),
    ({"scene_seconds": [1.0, 3.0, 3.0]}, "shorter than"),
    ({"long_pauses": [2.0]}, "silence"),
    ({"silence_share": 0.4}, "no voice"),
    ({"caption_coverage": 0.5}, "Captions cover 50%"),
    ({"overflowing_caption_pages": 2}, "overflow"),
    ({"repeated_visuals": 1}, "look alike"),
    ({"scenes_showing_their_words": 0.5}, "show what is being said"),
])
def test_heuristic_critic_names_each_weakness(change, words):
    review = critic.heuristic({**FACTS, **change})
    assert any(words in weakness for weakness in review.weaknesses)
    assert review.score < critic.heuristic(FACTS).score


def test_even_peaks_lowers_only_the_loudest_peaks():
    rate = 22050
    track = 3000 * np.sin(2 * np.pi * 200 * np.arange(rate) / rate)
    track[11025:11025 + 220] *= 10  # a 10 ms peak 20 dB over the rest
    evened = even_peaks(track, rate, reduction_db=12)
    assert np.abs(evened).max() == pytest.approx(30000, rel=1e-3)  # the peak level is kept...
    # ...and the rest is raised by the 12 dB the peak lost, evenly: its shape is untouched.
    assert np.allclose(evened[:10000], track[:10000] * 10 ** (12 / 20), atol=1)
    # The peak stands 8 dB over the rest now, not 20.
    assert np.abs(evened).max() / np.abs(evened[:10000]).max() == pytest.approx(10 ** (8 / 20), rel=0.01)
