"""A topic job with an LLM: a fake OpenAI-compatible server on 127.0.0.1 writes research, score, review."""

import json
import logging

import pytest

from moneyreels import jobs, kinds
from moneyreels.worker import Worker
from tests.support.fakes import FakeServer, Reply

SECRET = "sk-byok-secret-0123456789"
RESEARCH = {"summary": "Octopuses are clever.", "key_facts": ["Three hearts.", "Blue blood.", "Nine brains."],
            "mood": "mysterious"}
SCORE = {"emotional_arc": "surprise", "archetype": "nature_calm", "music_mood": "mysterious", "scenes": [
    {"script_line": "An octopus has three hearts.", "visual_type": "ai_image", "visual_prompt": "octopus hearts"},
    {"script_line": "Its blood is blue.", "visual_type": "text_card", "visual_prompt": "Blue blood"},
    {"script_line": "And each arm can taste what it touches.", "visual_type": "ai_image",
     "visual_prompt": "octopus arm", "motion": "pan_right"}]}
REVIEW = {"score": 7.5, "strengths": ["Strong hook"], "weaknesses": ["Short"]}


def chat(request):
    """Answer like OpenAI's chat completions, by which stage is asking."""
    system = request.json["messages"][0]["content"]
    answer = RESEARCH if "research" in system else SCORE if "direct" in system else REVIEW
    return {"id": "chatcmpl-1", "object": "chat.completion", "model": request.json["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": json.dumps(answer)},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 500, "completion_tokens": 200, "total_tokens": 700}}


@pytest.fixture
def llm_server():
    with FakeServer() as fake:
        fake.route("POST", "/v1/chat/completions", chat)
        yield fake


@pytest.fixture
def settings(settings, llm_server):
    """The operator points the OpenAI-compatible client at the fake LLM, and has no provider keys."""
    return settings.model_copy(update={"openai_base_url": llm_server.url + "/v1"})


def test_topic_job_researches_directs_and_reviews_with_the_llm(client, settings, llm_server, caplog):
    caplog.set_level(logging.DEBUG)
    settings_scaled = settings.model_copy(update={"output_scale": 0.25})
    created = client.post("/api/v1/jobs", json={"topic": "Octopuses", "keys": {"OPENAI_API_KEY": SECRET},
                                                "providers": {"image": "local"}})
    assert created.status_code == 201
    Worker(settings_scaled, kinds.runners()).loop()

    job = client.get(f"/api/v1/jobs/{created.json['id']}")
    body = job.json
    assert body["status"] == "completed", body["error"]
    assert {name: stage["status"] for name, stage in body["stages"].items()} == dict.fromkeys(
        ("research", "director", "tts", "visuals", "assembly", "critic"), "done")
    assert body["researchData"] == RESEARCH and body["stages"]["research"]["detail"] == "3 key facts"
    assert [s["script_line"] for s in body["score"]["scenes"]] == [s["script_line"] for s in SCORE["scenes"]]
    assert body["criticReview"]["score"] == 7.5 and body["criticReview"]["method"] == "openai-compatible"
    assert body["providers"]["llm"] == "openai-compatible"
    # Three calls of 500 prompt and 200 completion tokens, at gpt-4o-mini's $0.15 and $0.60 a million.
    assert body["actualCost"]["breakdown"]["llm"] == pytest.approx(1500 * 0.15e-6 + 600 * 0.60e-6)
    assert body["costEstimate"]["breakdown"]["image"] == 0 and body["costEstimate"]["totalCost"] > 0

    assert [r.headers["authorization"] for r in llm_server.requests] == [f"Bearer {SECRET}"] * 3

    # The key was used, and is nowhere it could leak: the database file, the log, any response.
    for path in settings.data_dir.glob("moneyreels.sqlite3*"):
        assert SECRET.encode() not in path.read_bytes()
    assert SECRET not in caplog.text
    for url in (f"/api/v1/jobs/{created.json['id']}", "/api/v1/jobs", f"/api/jobs/{created.json['id']}/events",
                f"/api/jobs/{created.json['id']}"):
        assert SECRET not in client.get(url).get_data(as_text=True)
    assert SECRET not in json.dumps(created.json)


def test_an_llm_that_keeps_breaking_the_rules_fails_the_job_clearly(client, settings, llm_server):
    bad = {**SCORE, "scenes": [dict(SCORE["scenes"][0])] * 3}
    llm_server.route("POST", "/v1/chat/completions", lambda request: Reply(200, {
        "choices": [{"index": 0, "message": {"role": "assistant", "content": json.dumps(
            RESEARCH if "research" in request.json["messages"][0]["content"] else bad)}}]}))
    job_id = client.post("/api/v1/jobs", json={"topic": "Octopuses"}).json["id"]
    Worker(settings, kinds.runners()).loop()
    job = jobs.get(job_id)
    assert job.state == "failed" and job.error["code"] == "invalid_llm_output"
    assert "at most two in a row" in job.error["message"]
    assert job.stages["director"]["status"] == "error"


def test_an_llm_outage_fails_the_job_naming_the_provider(client, settings, llm_server):
    llm_server.route("POST", "/v1/chat/completions", lambda request: Reply(401, {"error": {"message": "bad key"}}))
    job_id = client.post("/api/v1/jobs", json={"topic": "Octopuses"}).json["id"]
    Worker(settings, kinds.runners()).loop()
    job = jobs.get(job_id)
    assert job.state == "failed" and job.stages["research"]["status"] == "error"
    assert "401" in job.error["message"]
