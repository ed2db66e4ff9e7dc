"""MoneyPrinter's job API, shape for shape as reference/moneyprinter-jobs-api.md documents it."""

import re
import threading
import time

import pytest

from moneyreels import events, jobs

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def create(client, **body):
    response = client.post("/api/generate", json={"videoSubject": "Honey never spoils", **body})
    assert response.status_code == 200, response.json
    return response.json["jobId"]


def test_generate_queues_a_generate_job(client, piper_voice):
    response = client.post("/api/generate", json={"videoSubject": "Octopuses", "paragraphNumber": 2, "voice": "en_us_001"})
    assert response.status_code == 200
    assert response.json["status"] == "success"
    job = jobs.get(response.json["jobId"])
    assert job.kind == "generate" and job.state == "queued"
    assert job.request["topic"] == "Octopuses"
    assert job.request["voice"] == "en_US-joe-medium"  # MoneyPrinter's English TikTok voice id, spoken by Piper
    assert job.request["noMusic"] is True  # MoneyPrinter's useMusic defaults to false
    assert set(job.stages) == {"research", "director", "tts", "visuals", "assembly", "critic"}


def test_tiktok_voice_ids_of_other_languages_go_to_espeak(client):
    response = client.post("/api/generate", json={"videoSubject": "Octopuses", "voice": "fr_001"})
    assert response.status_code == 200
    assert jobs.get(response.json["jobId"]).request["voice"] == "fr"  # no French Piper voice is installed


def test_generate_accepts_topic_for_video_subject_and_a_script(client):
    response = client.post("/api/generate", json={"topic": "Bees"})
    assert jobs.get(response.json["jobId"]).request["topic"] == "Bees"
    response = client.post("/api/generate", json={"script": "Bees dance to talk. The dance says where the flowers are and how far.",
                                                  "customPrompt": "Keep it light", "useMusic": True})
    job = jobs.get(response.json["jobId"])
    assert job.request["script"].startswith("Bees dance") and "topic" not in job.request
    assert job.request["direction"] == "Keep it light" and job.request["noMusic"] is False


@pytest.mark.parametrize(
    "body, message",
    [
        ({}, "videoSubject is required (or send a script)."),
        ({"videoSubject": "   "}, "videoSubject: String should have at least 1 character"),
        ({"videoSubject": "x" * 501}, "videoSubject: String should have at most 500 characters"),
        ({"videoSubject": 5}, "videoSubject: Input should be a valid string"),
        ({"videoSubject": "ok", "paragraphNumber": 0}, "paragraphNumber: Input should be greater than or equal to 1"),
        ({"videoSubject": "ok", "useMusic": "maybe"}, "useMusic: Input should be a valid boolean, unable to interpret input"),
        ({"script": "x" * 5001}, "script: String should have at most 5000 characters"),
        ({"videoSubject": "ok", "voice": "en-us+" + "A" * 40}, "voice: unknown voice 'en-us+" + "A" * 40 + "': use a"
         " language code espeak lists (en-us, fr), optionally with one of its variants (en-us+f3)"),
    ],
)
def test_generate_rejects_bad_bodies(client, body, message):
    response = client.post("/api/generate", json=body)
    assert response.status_code == 400
    assert response.json == {"status": "error", "message": message}
    assert jobs.Job.select().count() == 0


@pytest.mark.parametrize(
    "data, content_type",
    [("{not json", "application/json"), ("[1, 2]", "application/json"), ("", "application/json"),
     ("[" * 100_000, "application/json")],
)
def test_generate_rejects_malformed_json(client, data, content_type):
    response = client.post("/api/generate", data=data, content_type=content_type)
    assert response.status_code == 400
    assert response.json["status"] == "error" and "JSON" in response.json["message"]


def test_oversized_body_is_413(client):
    response = client.post("/api/generate", data="x" * 2_000_000, content_type="application/json")
    assert response.status_code == 413
    assert response.json == {"status": "error", "message": "Request body is too large."}


def test_get_job_has_the_documented_fields(client):
    job_id = create(client)
    body = client.get(f"/api/jobs/{job_id}").json
    assert body["status"] == "success"
    job = body["job"]
    assert list(job) == ["id", "state", "cancelRequested", "resultPath", "errorMessage", "createdAt", "startedAt", "completedAt"]
    assert job["id"] == job_id and job["state"] == "queued" and job["cancelRequested"] is False
    assert ISO.match(job["createdAt"]) and job["startedAt"] is None and job["completedAt"] is None


def test_completed_and_failed_jobs_show_result_and_error(client, worker):
    done = jobs.create("tick", {})
    failed = create(client)
    worker.loop()
    worker.loop()
    completed = client.get(f"/api/jobs/{done.id}").json["job"]
    assert completed["state"] == "completed" and completed["resultPath"].endswith("result.txt")
    assert ISO.match(completed["startedAt"]) and ISO.match(completed["completedAt"])
    failure = client.get(f"/api/jobs/{failed}").json["job"]
    assert failure["state"] == "failed" and "generate" in failure["errorMessage"] and failure["resultPath"] is None


@pytest.mark.parametrize("path", ["/api/jobs/{}", "/api/jobs/{}/events"])
def test_unknown_job_is_404_with_the_documented_message(client, path):
    response = client.get(path.format("a1b2c3d4-e5f6-7890-abcd-ef1234567890"))
    assert response.status_code == 404
    assert response.json == {"status": "error", "message": "Job not found."}


def test_events_poll_incrementally_with_after(client, worker):
    job_id = jobs.create("tick", {}).id
    worker.loop()
    first = client.get(f"/api/jobs/{job_id}/events").json["events"]
    assert [e["message"] for e in first][:3] == ["Job queued.", "Job started.", "tick 0"]
    row = first[2]
    assert set(row) == {"id", "type", "level", "message", "payload", "timestamp"}
    assert row["type"] == "log" and row["level"] == "info" and row["payload"] == {"tick": 0}
    assert isinstance(row["timestamp"], float)
    after = client.get(f"/api/jobs/{job_id}/events?after={first[2]['id']}").json["events"]
    assert [e["id"] for e in after] == [e["id"] for e in first[3:]]
    assert client.get(f"/api/jobs/{job_id}/events?after={first[-1]['id']}").json["events"] == []


@pytest.mark.parametrize("after", ["-1", "abc", "1.5", "１", "99999999999999999999999"])
def test_events_after_must_be_a_non_negative_integer(client, after):
    job_id = create(client)
    response = client.get(f"/api/jobs/{job_id}/events", query_string={"after": after})
    assert response.status_code == 400
    assert response.json == {"status": "error", "message": "Invalid 'after' parameter: expected a non-negative integer."}


def test_events_wait_returns_as_soon_as_an_event_arrives(client):
    job_id = create(client)
    last = events.after(job_id)[-1].id
    threading.Timer(0.3, lambda: events.append(job_id, "log", "late")).start()
    started = time.monotonic()
    found = client.get(f"/api/jobs/{job_id}/events?after={last}&wait=10s").json["events"]
    assert [e["message"] for e in found] == ["late"]
    assert time.monotonic() - started < 5


def test_events_wait_times_out_empty(client):
    job_id = create(client)
    last = events.after(job_id)[-1].id
    assert client.get(f"/api/jobs/{job_id}/events?after={last}&wait=300ms").json["events"] == []


def test_events_wait_must_be_a_duration(client):
    job_id = create(client)
    response = client.get(f"/api/jobs/{job_id}/events?wait=soon")
    assert response.status_code == 400 and "wait" in response.json["message"]


def test_cancel_a_queued_job(client):
    job_id = create(client)
    response = client.post(f"/api/jobs/{job_id}/cancel")
    assert response.status_code == 200
    assert response.json == {"status": "success", "message": "Cancellation requested."}
    assert client.get(f"/api/jobs/{job_id}").json["job"]["state"] == "cancelled"


def test_cancel_a_running_job_sets_cancel_requested(client):
    job_id = create(client)
    jobs.claim("w", 30)
    client.post(f"/api/jobs/{job_id}/cancel")
    job = client.get(f"/api/jobs/{job_id}").json["job"]
    assert job["state"] == "running" and job["cancelRequested"] is True


def test_cancel_a_finished_job_answers_clearly_and_changes_nothing(client):
    job_id = create(client)
    client.post(f"/api/jobs/{job_id}/cancel")
    before = client.get(f"/api/jobs/{job_id}/events").json["events"]
    response = client.post(f"/api/jobs/{job_id}/cancel")
    assert response.status_code == 409
    assert response.json == {"status": "error", "message": "Job is already cancelled."}
    assert client.get(f"/api/jobs/{job_id}/events").json["events"] == before


def test_cancel_unknown_job_is_404(client):
    response = client.post("/api/jobs/nope/cancel")
    assert response.status_code == 404 and response.json == {"status": "error", "message": "Job not found."}


def test_cancel_latest_prefers_running_then_newest_queued(client):
    older, running, newer = create(client), create(client), create(client)
    jobs.transition(running, jobs.State.RUNNING)
    first = client.post("/api/cancel").json
    assert first == {"status": "success", "message": "Cancellation requested.", "jobId": running}
    jobs.transition(running, jobs.State.CANCELLED)
    assert client.post("/api/cancel").json["jobId"] == newer
    assert client.post("/api/cancel").json["jobId"] == older
    response = client.post("/api/cancel")
    assert response.status_code == 404
    assert response.json == {"status": "error", "message": "No active job found."}


def test_wrong_method_and_unknown_endpoint_keep_the_envelope(client):
    assert client.get("/api/generate").status_code == 405
    assert client.get("/api/generate").json["status"] == "error"
    assert client.get("/api/nothing").json == {"status": "error", "message": "No such endpoint."}


def test_every_response_carries_a_request_id(client):
    assert client.get("/api/jobs/x").headers["X-Request-Id"].startswith("req_")
    assert client.get("/api/jobs/x", headers={"X-Request-Id": "abc-1"}).headers["X-Request-Id"] == "abc-1"
