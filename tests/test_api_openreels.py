"""OpenReels' /api/v1 REST API as reference/openreels-rest-api.md documents it."""

import os
import threading
import uuid

import pytest

from moneyreels import events, jobs, kinds
from moneyreels.pipeline.request import BYOK_NAMES
from moneyreels.worker import Worker

SCRIPT = "Bees dance to talk. The dance points to flowers. Its length says how far they are."
UNKNOWN = str(uuid.uuid4())


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"output_scale": 0.125})


def create(client, **body):
    response = client.post("/api/v1/jobs", json={"script": SCRIPT, "noMusic": True, **body})
    assert response.status_code == 201, response.json
    return response.json["id"]


def finish(settings):
    Worker(settings, kinds.runners()).loop()


def assert_error(response, status, code=None):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.json
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])
    if code:
        assert body["error"]["code"] == code
    return body["error"]


def test_health_reports_database_worker_dirs_and_keys(client, configure):
    configure(provider_keys={"PEXELS_API_KEY": "px"})
    body = client.get("/api/v1/health").json
    assert body["database"] == "connected" and body["jobsDir"] == "exists"
    assert body["keys"]["PEXELS_API_KEY"] is True and body["keys"]["OPENAI_API_KEY"] is False
    assert body["worker"] == "stopped" and body["status"] == "degraded"
    assert "px" not in str(body["keys"].values())


def test_health_names_every_provider_key_a_job_may_bring(client, configure):
    configure(provider_keys={"GEMINI_API_KEY": "gm"})
    keys = client.get("/api/v1/health").json["keys"]
    assert set(keys) == set(BYOK_NAMES) and keys["GEMINI_API_KEY"] is True


def test_stats_count_jobs_by_state(client, settings):
    create(client)
    done = create(client)
    jobs.transition(done, jobs.State.RUNNING)
    jobs.transition(done, jobs.State.COMPLETED)
    body = client.get("/api/v1/stats").json
    assert {k: body[k] for k in ("totalJobs", "completedJobs", "failedJobs", "activeJobs")} == {
        "totalJobs": 2, "completedJobs": 1, "failedJobs": 0, "activeJobs": 1}
    assert body["totalCost"] == 0


def test_create_validates_every_documented_field(client):
    assert_error(client.post("/api/v1/jobs", json={}), 400, "validation_error")
    assert_error(client.post("/api/v1/jobs", json={"topic": "x" * 501}), 400)
    for field, value in (("archetype", "vaporwave"), ("pacing", "warp"), ("platform", "myspace"),
                         ("direction", 7), ("score", {"scenes": []})):
        error = assert_error(client.post("/api/v1/jobs", json={"topic": "t", field: value}), 400)
        assert field in error["message"] or any(field in e["field"] for e in error["details"]["errors"])
    assert_error(client.post("/api/v1/jobs", json={"topic": "t", "providers": {"tts": "nope"}}), 400,
                 "provider_unavailable")
    assert jobs.Job.select().count() == 0


def test_list_is_newest_first_paged_and_capped(client):
    ids = [create(client) for _ in range(5)]
    body = client.get("/api/v1/jobs?limit=2&offset=1").json
    assert [job["id"] for job in body["jobs"]] == [ids[3], ids[2]]
    assert body["total"] == 5 and "next" in body["_links"] and "prev" in body["_links"]
    assert set(body["jobs"][0]) >= {"id", "topic", "status", "createdAt", "completedAt", "stages"}
    assert client.get("/api/v1/jobs?limit=1000").json["limit"] == 100
    assert client.get("/api/v1/jobs").json["limit"] == 20
    for bad in ("-1", "x", "1e3"):
        assert_error(client.get(f"/api/v1/jobs?limit={bad}"), 400, "invalid_parameter")


def test_get_job_shows_the_documented_fields_and_links(client):
    job_id = create(client)
    body = client.get(f"/api/v1/jobs/{job_id}").json
    for field in ("id", "topic", "archetype", "status", "createdAt", "completedAt", "stages", "costEstimate",
                  "actualCost", "videoPath", "runDir", "researchData", "score", "criticReview"):
        assert field in body
    assert body["status"] == "queued" and body["stages"]["research"] == {"status": "pending"}
    assert body["_links"]["self"]["href"] == f"/api/v1/jobs/{job_id}"
    assert body["_links"]["cancel"]["method"] == "POST"


@pytest.mark.parametrize("path", ["/api/v1/jobs/{}", "/api/v1/jobs/{}/events", "/api/v1/jobs/{}/artifacts/final.mp4"])
def test_bad_ids_are_400_and_unknown_ids_404(client, path):
    assert_error(client.get(path.format("1; DROP TABLE job")), 400, "invalid_id")
    assert_error(client.get(path.format(UNKNOWN)), 404, "not_found")


def test_delete_refuses_active_jobs_and_removes_files(client, settings):
    job_id = create(client)
    assert_error(client.delete(f"/api/v1/jobs/{job_id}"), 409)
    finish(settings)
    folder = settings.jobs_dir / job_id
    assert (folder / "final.mp4").exists()
    assert client.delete(f"/api/v1/jobs/{job_id}").json["status"] == "deleted"
    assert not folder.exists()
    assert_error(client.get(f"/api/v1/jobs/{job_id}"), 404)


def test_cancel_is_409_once_finished(client, settings):
    job_id = create(client)
    body = client.post(f"/api/v1/jobs/{job_id}/cancel").json
    assert body["status"] == "cancelled" and body["state"] == "cancelled"
    assert_error(client.post(f"/api/v1/jobs/{job_id}/cancel"), 409)


@pytest.fixture
def finished(client, settings):
    job_id = create(client)
    finish(settings)
    return job_id


@pytest.mark.parametrize("path", [
    "../../data/moneyreels.sqlite3", "..%2F..%2Fdata%2Fmoneyreels.sqlite3", "%2e%2e/%2e%2e/etc/passwd",
    "%252e%252e%252f%252e%252e%252fetc%252fpasswd", "/etc/passwd", "%2Fetc%2Fpasswd", "tts/../../x", "C:%5Cwindows",
])
def test_artifact_traversal_is_403(client, finished, path):
    assert_error(client.get(f"/api/v1/jobs/{finished}/artifacts/{path}"), 403, "path_traversal")


def test_artifact_symlink_out_of_the_folder_is_403(client, settings, finished):
    os.symlink("/etc/hostname", settings.jobs_dir / finished / "escape")
    assert_error(client.get(f"/api/v1/jobs/{finished}/artifacts/escape"), 403, "path_traversal")


def test_artifacts_serve_files_with_ranges_and_404_when_missing(client, finished):
    video = client.get(f"/api/v1/jobs/{finished}/artifacts/final.mp4")
    assert video.status_code == 200 and video.mimetype == "video/mp4"
    part = client.get(f"/api/v1/jobs/{finished}/artifacts/final.mp4", headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.data == video.data[:10]
    assert client.get(f"/api/v1/jobs/{finished}/artifacts/manifest.json").json["version"] == "v1"
    assert client.get(f"/api/v1/jobs/{finished}/artifacts/tts/scene-001.wav").status_code == 200
    assert_error(client.get(f"/api/v1/jobs/{finished}/artifacts/nothing.mp4"), 404)


@pytest.mark.parametrize("name", ["a" * 5000, "tts/" + "b" * 300 + "/x.wav"])
def test_artifact_names_too_long_for_the_file_system_are_404(client, finished, name):
    assert_error(client.get(f"/api/v1/jobs/{finished}/artifacts/{name}"), 404, "not_found")


def test_job_files_are_sandboxed_and_only_media_show_inline(client, settings, finished):
    (settings.jobs_dir / finished / "page.html").write_text("<script>alert(1)</script>")
    (settings.jobs_dir / finished / "art.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    for name, inline in [("final.mp4", True), ("tts/scene-001.wav", True), ("page.html", False),
                         ("manifest.json", False), ("art.svg", False)]:
        response = client.get(f"/api/v1/jobs/{finished}/artifacts/{name}")
        assert response.status_code == 200, name
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
        disposition = response.headers.get("Content-Disposition", "")
        assert disposition.startswith("attachment") != inline, (name, disposition)


def test_reference_data(client):
    archetypes = client.get("/api/v1/archetypes")
    assert len(archetypes.json) >= 8 and 'rel="self"' in archetypes.headers["Link"]
    assert set(archetypes.json[0]) == {"name", "captionStyle", "artStyle", "mood", "colorPalette", "scenePacing",
                                       "motionIntensity"}
    assert {"name": "youtube", "width": 1080, "height": 1920, "fps": 30, "maxDurationSeconds": 180} in \
        client.get("/api/v1/platforms").json
    providers = client.get("/api/v1/providers").json
    assert {"llm", "tts", "image", "stock", "video", "music"} <= set(providers)
    piper, espeak = providers["tts"][:2]
    assert (piper["key"], piper["available"], piper["voices"]) == ("piper", False, [])  # off in tests (conftest.py)
    assert espeak["key"] == "espeak" and espeak["available"] and any(v["id"] == "en-us" for v in espeak["voices"])
    assert all({"key", "label"} <= set(entry) for entry in providers["llm"])


def test_wait_returns_when_the_job_changes_with_headers(client):
    job_id = create(client)
    threading.Timer(0.2, lambda: events.append(job_id, "log", "tick")).start()
    response = client.get(f"/api/v1/jobs/{job_id}?wait=5s")
    assert response.headers["X-Wait-Changed"] == "true" and response.headers["X-Wait-Done"] == "false"
    quiet = client.get(f"/api/v1/jobs/{job_id}?wait=200ms")
    assert quiet.headers["X-Wait-Changed"] == "false" and quiet.headers["X-Wait-Done"] == "false"
    jobs.request_cancel(job_id)
    done = client.get(f"/api/v1/jobs/{job_id}?wait=5s")
    assert done.headers["X-Wait-Done"] == "true" and done.json["status"] == "cancelled"
    assert_error(client.get(f"/api/v1/jobs/{job_id}?wait=soon"), 400, "invalid_parameter")


def read_stream(client, path, headers=None):
    response = client.get(path, headers=headers or {}, buffered=False)
    assert response.mimetype == "text/event-stream"
    return "".join(chunk.decode() for chunk in response.response)


def frames(text):
    parsed = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
        if "data" in fields:  # a block of only `retry:` dispatches no event
            parsed.append(fields)
    return parsed


def test_sse_for_a_finished_job_is_snapshot_events_then_terminal(client, finished):
    stream = frames(read_stream(client, f"/api/v1/jobs/{finished}/events"))
    assert stream[0]["event"] == "job:snapshot" and '"status":"completed"' in stream[0]["data"]
    assert stream[-1]["event"] == "job:completed" and stream[-1]["data"] == "{}"
    assert len(stream) == 2


def test_sse_replays_what_was_missed_after_last_event_id(client, finished):
    all_events = events.after(finished)
    middle = all_events[len(all_events) // 2].id
    stream = frames(read_stream(client, f"/api/v1/jobs/{finished}/events", {"Last-Event-ID": str(middle)}))
    ids = [int(frame["id"]) for frame in stream[1:-1]]
    assert ids and min(ids) > middle and ids == sorted(ids)
    names = {frame["event"] for frame in stream[1:-1]}
    assert names <= {"stage:critic", "stage:assembly", "log", "progress", "stage:visuals", "stage:tts"}


def test_sse_follows_a_live_job_to_its_end(client, settings):
    job_id = create(client)
    worker = threading.Timer(0.3, finish, args=(settings,))
    worker.start()
    stream = frames(read_stream(client, f"/api/v1/jobs/{job_id}/events"))
    worker.join()  # its last heartbeat lands before this test's database goes
    names = [frame["event"] for frame in stream]
    assert names[0] == "job:snapshot" and names[-1] == "job:completed"
    for name in ("stage:director", "stage:tts", "stage:visuals", "stage:assembly", "stage:critic"):
        assert name in names
    ids = [int(frame["id"]) for frame in stream]
    assert ids == sorted(ids)


def test_sse_sends_heartbeats_while_idle(app, client, monkeypatch):
    job_id = create(client)
    app.config["SSE_HEARTBEAT"] = 0.2
    threading.Timer(0.7, jobs.request_cancel, args=(job_id,)).start()
    text = read_stream(client, f"/api/v1/jobs/{job_id}/events")
    assert text.count(": heartbeat") >= 2
    assert [frame["event"] for frame in frames(text)[-2:]] == ["job:cancelled", "job:failed"]


def test_links_on_every_job_response(client, finished):
    body = client.get(f"/api/v1/jobs/{finished}").json
    assert {"self", "events", "artifacts", "delete", "video"} <= set(body["_links"])
    assert all("href" in link and "method" in link for link in body["_links"].values())
    assert client.get(body["_links"]["video"]["href"]).status_code == 200


def test_api_v1_is_rate_limited_per_second_with_retry_after(settings):
    from moneyreels import create_app

    limited = create_app(settings.model_copy(update={"api_rate_limit": 3})).test_client()
    answers = [limited.get("/api/v1/jobs").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    refused = limited.get("/api/v1/jobs")
    assert_error(refused, 429, "rate_limited")
    assert refused.headers["Retry-After"] == "1"
    # The static catalog a page reads on load is not counted.
    assert all(limited.get(path).status_code == 200 for path in ("/api/v1/platforms", "/api/v1/archetypes") * 3)


def test_retry_validates_its_keys(client):
    job_id = create(client)
    jobs.request_cancel(job_id)
    for bad in ({"keys": "x"}, {"keys": {"OPENAI_BASE_URL": "http://x"}}, {"keys": {"OPENAI_API_KEY": None}}):
        assert_error(client.post(f"/api/v1/jobs/{job_id}/retry", json=bad), 400, "validation_error")
    assert jobs.get(job_id).state == "cancelled"


def test_a_last_event_id_that_is_not_ascii_digits_is_ignored(client, finished):
    stream = frames(read_stream(client, f"/api/v1/jobs/{finished}/events", {"Last-Event-ID": "²"}))
    assert stream[0]["event"] == "job:snapshot" and stream[-1]["event"] == "job:completed"


def test_health_lists_each_worker_with_its_job_heartbeat_and_staleness(app, client, settings):
    from moneyreels.db import WorkerBeat

    seen = []

    def look(ctx):
        seen.append(client.get("/api/v1/health").json)

    worker = Worker(settings, {"look": look})
    job = jobs.create("look", {})
    assert worker.loop() is True
    [running] = seen[0]["workers"]
    assert running["name"] == worker.name and running["pid"] == os.getpid() and running["job"] == job.id
    assert running["stale"] is False and running["heartbeatAgeSeconds"] < settings.lease_seconds
    assert seen[0]["worker"] == "running"
    [idle] = client.get("/api/v1/health").json["workers"]
    assert idle["job"] is None
    # No heartbeat for longer than a lease: the process died or hung.
    WorkerBeat.update(heartbeat_at=WorkerBeat.heartbeat_at - settings.lease_seconds - 1).execute()
    body = client.get("/api/v1/health").json
    assert body["workers"][0]["stale"] is True and body["worker"] == "stopped" and body["status"] == "degraded"
    worker.beats.retire()
    assert client.get("/api/v1/health").json["workers"] == []
