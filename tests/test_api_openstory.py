"""OpenStory's sequences: create (202), poll the status document, ?wait with its headers."""

import threading

import pytest

from moneyreels import events, jobs, kinds
from moneyreels.worker import Worker

SCRIPT = "A lighthouse keeper hears a whale sing. Each night he sings back. One morning the whale is gone."


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"output_scale": 0.125})


def create(client, path="/api/v1/sequences", **body):
    response = client.post(path, json={"script": SCRIPT, **body})
    assert response.status_code == 202, response.json
    return response.json


def test_create_answers_202_with_status_urls_and_links(client):
    body = create(client, title="Sea Tale", style="Cinematic Noir", characters=["Old Tom", {"name": "The whale",
                                                                                            "isHuman": False}])
    [sequence] = body["sequences"]
    assert sequence["status"] == "draft" and sequence["statusUrl"] == f"/api/v1/sequences/{sequence['id']}"
    assert sequence["_links"]["self"]["method"] == "GET" and sequence["_links"]["poll"]["templated"] is True
    # 18 words fill less than half of 30 s: enhance=auto lets an LLM expand it, so it is not known yet.
    assert body["enhancedScript"] is None and "_links" in body
    assert create(client, enhance="off")["enhancedScript"] == SCRIPT
    assert sequence["id"].startswith("seq_")
    job = jobs.get(sequence["workflowRunId"])
    assert job.request["script"] == SCRIPT and job.request["archetype"] == "cinematic_documentary"
    assert "Old Tom, The whale" in job.request["direction"] and job.request["title"] == "Sea Tale"


def test_status_document_derives_frames_and_counts_from_the_job(client, settings):
    sequence_id = create(client, music=False, motion=False)["sequences"][0]["id"]
    draft = client.get(f"/api/v1/sequences/{sequence_id}").json
    assert draft["status"] == "draft" and draft["frames"] == [] and draft["video"] is None
    Worker(settings, kinds.runners()).loop()
    done = client.get(f"/api/v1/sequences/{sequence_id}").json
    assert done["status"] == "completed"
    assert done["counts"]["frames"] == len(done["frames"]) >= 3
    assert done["counts"]["imagesReady"] == done["counts"]["frames"] and done["counts"]["videosFailed"] == 0
    assert all(frame["video"]["status"] == "skipped" for frame in done["frames"])
    assert done["music"] == {"status": "skipped", "url": None}
    assert client.get(done["video"]).status_code == 200 and client.get(done["poster"]).status_code == 200


def test_wait_on_get_holds_until_a_change(client):
    [sequence] = create(client)["sequences"]
    sequence_id = sequence["id"]
    threading.Timer(0.2, lambda: events.append(sequence["workflowRunId"], "log", "x")).start()
    response = client.get(f"/api/v1/sequences/{sequence_id}?wait=5s")
    assert response.headers["X-Wait-Changed"] == "true" and response.headers["X-Wait-Done"] == "false"
    assert client.get(f"/api/v1/sequences/{sequence_id}?wait=1e9").status_code == 400


def test_wait_on_post_embeds_the_first_progress_snapshot(client):
    body = client.post("/api/v1/sequences?wait=300ms", json={"script": SCRIPT}).json
    [sequence] = body["sequences"]
    assert sequence["waitChanged"] is False and sequence["waitDone"] is False
    assert sequence["progress"]["status"] == "draft"


def test_enhance_always_asks_the_llm_to_expand_the_script(client):
    job = jobs.get(create(client, enhance="always")["sequences"][0]["workflowRunId"])
    assert "script" not in job.request and job.request["topic"] == SCRIPT
    assert job.request["direction"].startswith("Expand this script:")


@pytest.mark.parametrize("body, field", [
    ({}, "script"), ({"script": ""}, "script"), ({"script": "x", "enhance": "maybe"}, "enhance"),
    ({"script": "x", "targetSeconds": 500}, "targetSeconds"), ({"script": "x", "characters": [{"isHuman": True}]},
                                                               "characters"),
])
def test_bad_bodies_are_400_in_the_openstory_envelope(client, body, field):
    response = client.post("/api/v1/sequences", json=body)
    assert response.status_code == 400
    assert set(response.json) == {"error"} and field in response.json["error"]["message"]


def test_unknown_sequence_is_404_and_a_bad_id_400(client):
    assert client.get("/api/v1/sequences/00000000-0000-4000-8000-000000000000").status_code == 404
    assert client.get("/api/v1/sequences/seq_nope").status_code == 400
