"""OpenStory's own example, a one-line script: a short reel offline, an expanded one with an LLM."""

import json

import pytest

from moneyreels import kinds
from moneyreels.worker import Worker
from tests.support.fakes import FakeServer
from tests.support.video import probe

EXAMPLE = {"script": "A lighthouse keeper befriends a stranded whale.", "title": "Sea Tale", "style": "Cinematic Noir",
           "targetSeconds": 30, "motion": True, "music": True,
           "characters": ["Old Tom the keeper", {"name": "The whale", "isHuman": False}],
           "locations": ["Stormy lighthouse"]}
EXPANDED = {"emotional_arc": "loneliness to friendship", "archetype": "cinematic_documentary", "music_mood": "calm",
            "scenes": [{"script_line": "Old Tom has kept the lighthouse alone for forty years.",
                        "visual_type": "ai_image", "visual_prompt": "lighthouse in a storm"},
                       {"script_line": "One grey morning a whale lies stranded on his rocks.",
                        "visual_type": "text_card", "visual_prompt": "Stranded"},
                       {"script_line": "He carries water to it until the tide comes back.",
                        "visual_type": "ai_image", "visual_prompt": "old man with buckets by a whale"}]}
REVIEW = {"score": 6.5, "strengths": ["A story"], "weaknesses": ["Slow start"]}


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"output_scale": 0.125})


def chat(request):
    system = request.json["messages"][0]["content"]
    answer = EXPANDED if "direct" in system else REVIEW
    return {"id": "chatcmpl-1", "object": "chat.completion", "model": request.json["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": json.dumps(answer)},
                         "finish_reason": "stop"}]}


def run(client, settings, body):
    created = client.post("/api/v1/sequences", json=body)
    assert created.status_code == 202, created.json
    Worker(settings, kinds.runners()).loop()
    return created.json, client.get(created.json["sequences"][0]["statusUrl"]).json


def test_the_docs_example_is_a_short_reel_offline(client, settings):
    created, done = run(client, settings, EXAMPLE)
    assert done["status"] == "completed", done["error"]
    assert [frame["scriptLine"] for frame in done["frames"]] == [EXAMPLE["script"]]
    seconds = probe(settings.jobs_dir / created["sequences"][0]["workflowRunId"] / "final.mp4")["duration"]
    assert 2 < seconds < 6


def test_enhance_auto_expands_a_short_script_when_an_llm_is_usable(client, configure):
    with FakeServer() as fake:
        fake.route("POST", "/v1/chat/completions", chat)
        created, done = run(client, configure(openai_base_url=fake.url + "/v1"), EXAMPLE)
        asked = [json.loads(r.body)["messages"] for r in fake.requests]
    assert created["enhancedScript"] is None
    assert done["status"] == "completed", done["error"]
    assert [frame["scriptLine"] for frame in done["frames"]] == [s["script_line"] for s in EXPANDED["scenes"]]
    assert EXAMPLE["script"] in asked[0][1]["content"] and "about 30 seconds" in asked[0][1]["content"]
    # The critic's LLM reviews the measurements against the platform's norms.
    review = json.loads(asked[-1][1]["content"])
    assert {"measurements", "norms", "rules"} <= set(review)
    assert review["measurements"]["scene_seconds"] and review["norms"]["scene_seconds"] == [2.0, 7.0]


def test_enhance_off_keeps_a_short_script_as_written_even_with_an_llm(client, configure):
    with FakeServer() as fake:
        fake.route("POST", "/v1/chat/completions", chat)
        created, done = run(client, configure(openai_base_url=fake.url + "/v1"), {**EXAMPLE, "enhance": "off"})
    assert created["enhancedScript"] == EXAMPLE["script"]
    assert [frame["scriptLine"] for frame in done["frames"]] == [EXAMPLE["script"]]
