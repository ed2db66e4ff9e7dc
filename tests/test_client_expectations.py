"""What each dialect's existing client expects, checked against the real server (issue 14).

One test per finding, in the terms of the client that found it: an OpenReels EventSource, a
MoneyPrinter poller, an OpenStory agent, a Reel Forge integration.
"""

import json
import time
import uuid

import pytest

from tests.support.live import LiveServer

pytestmark = pytest.mark.server

SCRIPT = ("Honey never spoils. Archaeologists found pots of it in Egyptian tombs. It was over three thousand "
          "years old. And it was still perfectly edible. Bees make it from nectar. They fan it with their wings "
          "until the water evaporates. That is why it keeps forever.")
# Keys the machine running the tests may have: the server must not see them.
NO_KEYS = {name: "" for name in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GOOGLE_API_KEY", "GEMINI_API_KEY",
                                 "ELEVENLABS_API_KEY", "INWORLD_TTS_API_KEY", "PEXELS_API_KEY", "PIXABAY_API_KEY",
                                 "FAL_KEY", "OPENAI_BASE_URL", "MONEYREELS_LLM_BASE_URL", "MONEYREELS_KOKORO_MODEL")}
QUIET = {**NO_KEYS, "MONEYREELS_RATE_LIMIT": 0, "MONEYREELS_API_RATE_LIMIT": 0,
         "MONEYREELS_OLLAMA_URL": "http://127.0.0.1:9/v1", "MONEYREELS_PRESET": "ultrafast"}
TERMINAL = ("completed", "failed", "cancelled")


@pytest.fixture(scope="module")
def ticking(tmp_path_factory):
    """Generate jobs tick (so they run as long as a test needs); renders render."""
    live = LiveServer(tmp_path_factory.mktemp("ticking"), TICKS=400, TICK_INTERVAL=0.02, **QUIET).start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """The real pipeline, offline, at a tenth of the platform size."""
    root = tmp_path_factory.mktemp("real")
    (root / "media").mkdir()
    live = LiveServer(root, RUNNERS="real", MEDIA_DIR=root / "media", MONEYREELS_OUTPUT_SCALE=0.1, **QUIET).start()
    yield live
    live.stop()


def finish(server, job_id, timeout=180) -> dict:
    """Poll OpenReels' job until it is finished; return it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = server.request("GET", f"/api/v1/jobs/{job_id}?wait=10s")[1]
        if job["status"] in TERMINAL:
            return job
    raise AssertionError(f"job {job_id} did not finish")


def printer_events(server, job_id) -> list[dict]:
    return server.request("GET", f"/api/jobs/{job_id}/events")[1]["events"]


def tiny_manifest(**style) -> dict:
    return {"version": "v1", "output": {"width": 90, "height": 160, "fps": 10},
            "composition": {"text_overlays": [{"content": "Hi", "time": {"start_seconds": 0, "duration_seconds": 1},
                                               "style": style}]}}


# 1. OpenReels SSE: a cancelled job's stream ends with a documented terminal event.

def test_a_cancelled_jobs_stream_ends_with_job_failed_and_has_a_retry_hint(ticking):
    job_id = ticking.request("POST", "/api/v1/jobs", {"topic": "Tides"})[1]["id"]
    ticking.request("GET", f"/api/jobs/{job_id}/events?after=0&wait=5s")
    ticking.request("POST", f"/api/v1/jobs/{job_id}/cancel")
    stream = ticking.sse(f"/api/v1/jobs/{job_id}/events")
    names = [name for name, _ in stream]
    assert names[0] == "retry" and stream[0][1]["retry"] > 0
    assert names[1] == "job:snapshot"
    # A client closing on job:completed / job:failed (the documented terminals) closes here.
    assert names[-2:] == ["job:cancelled", "job:failed"]
    assert "cancelled" in stream[-1][1]["error"]
    # Reconnecting to the finished job gets the same ending at once: no reconnect loop.
    again = ticking.sse(f"/api/v1/jobs/{job_id}/events", headers={"Last-Event-ID": "0"})
    assert [name for name, _ in again][-1] == "job:failed"


# 3. Reel Forge clients find the schema at /v1/openapi.json.

def test_reel_forge_clients_find_the_openapi_document_under_v1(ticking):
    status, headers, body = ticking.exchange("GET", "/v1/openapi.json")
    document = json.loads(body)
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    assert document["openapi"].startswith("3.1") and "/v1/videos/render" in document["paths"]
    assert document == ticking.request("GET", "/api/v1/openapi.json")[1]


# 4. OpenReels health: `redis` as its clients read it (a string), truthfully.

def test_health_has_a_truthful_redis_string(ticking):
    health = ticking.request("GET", "/api/v1/health")[1]
    assert health["redis"] == "unused" and health["status"] == "healthy"
    assert isinstance(health["keys"], dict) and all(value is False for value in health["keys"].values())


# 5. The OpenReels job list: generate jobs only, renders on request.

def test_the_job_list_shows_generate_jobs_unless_renders_are_asked_for(ticking):
    render_id = ticking.request("POST", "/v1/videos/render", tiny_manifest())[1]["job_id"]
    topic_id = ticking.request("POST", "/api/v1/jobs", {"topic": "Tides", "dryRun": True})[1]["id"]

    def listed(query=""):
        return {job["id"]: job for job in ticking.request("GET", f"/api/v1/jobs?limit=100{query}")[1]["jobs"]}

    default = listed()
    assert topic_id in default and render_id not in default
    assert all(job["kind"] == "generate" and job["topic"] for job in default.values())
    assert render_id in listed("&kind=render") and topic_id not in listed("&kind=render")
    assert {render_id, topic_id} <= set(listed("&kind=all"))
    status, body = ticking.request("GET", "/api/v1/jobs?kind=renders")
    assert status == 400 and body["error"]["details"] == {"parameter": "kind"}


# 8 (second half). A queued job cancelled at once reads cancelRequested: true.

def test_a_queued_job_cancelled_at_once_reads_cancel_requested(ticking):
    running = ticking.request("POST", "/api/generate", {"videoSubject": "Tides"})[1]["jobId"]
    queued = ticking.request("POST", "/api/generate", {"videoSubject": "Moons"})[1]["jobId"]
    assert ticking.request("GET", f"/api/jobs/{queued}")[1]["job"]["state"] == "queued"
    assert ticking.request("POST", f"/api/jobs/{queued}/cancel")[0] == 200
    job = ticking.request("GET", f"/api/jobs/{queued}")[1]["job"]
    assert job["state"] == "cancelled" and job["cancelRequested"] is True
    ticking.request("POST", f"/api/jobs/{running}/cancel")


# 9. The smaller ones.

def test_providers_are_only_categories_with_the_link_in_a_header(ticking):
    status, headers, body = ticking.exchange("GET", "/api/v1/providers")
    providers = json.loads(body)
    assert status == 200 and headers["Link"] == '</api/v1/providers>; rel="self"'
    assert set(providers) == {"llm", "tts", "image", "stock", "video", "music"}
    for category, entries in providers.items():
        assert isinstance(entries, list) and all({"key", "label"} <= set(entry) for entry in entries), category


def test_sequence_ids_are_seq_ids_and_plain_job_ids_still_resolve(ticking):
    created = ticking.request("POST", "/api/v1/sequences", {"script": SCRIPT})[1]
    [sequence] = created["sequences"]
    assert sequence["id"].startswith("seq_") and sequence["statusUrl"] == f"/api/v1/sequences/{sequence['id']}"
    status, document = ticking.request("GET", sequence["statusUrl"])
    assert status == 200 and document["id"] == sequence["id"]
    assert document["_links"]["self"]["href"] == sequence["statusUrl"]
    # An id handed out before `seq_` ids existed (the job's UUID) still reads the same sequence.
    assert ticking.request("GET", f"/api/v1/sequences/{sequence['workflowRunId']}")[1]["id"] == sequence["id"]
    for bad in ("seq_nothex", "seq_" + "0" * 31, "42", "seq_..%2F..%2Fetc"):
        status, body = ticking.request("GET", f"/api/v1/sequences/{bad}")
        assert status in (400, 404) and set(body) == {"error"}, bad
    assert ticking.request("GET", f"/api/v1/sequences/seq_{uuid.uuid4().hex}")[0] == 404
    assert ticking.request("GET", "/api/v1/sequences/seq_nothex")[0] == 400
    ticking.request("POST", f"/api/v1/jobs/{sequence['workflowRunId']}/cancel")


def test_an_empty_wait_is_a_400_not_a_read_that_does_not_wait(ticking):
    job_id = ticking.request("POST", "/api/v1/jobs", {"topic": "Tides", "dryRun": True})[1]["id"]
    for path in (f"/api/v1/jobs/{job_id}?wait=", "/api/v1/sequences?wait=", f"/api/jobs/{job_id}/events?wait="):
        method, body = ("POST", {"script": SCRIPT}) if "sequences" in path else ("GET", None)
        status, answer = ticking.request(method, path, body)
        assert status == 400, path
        assert "wait" in json.dumps(answer), path


def test_unknown_manifest_keys_come_back_as_warnings_with_a_suggestion(ticking):
    manifest = tiny_manifest(fontSize=40, color="white")
    manifest["composition"]["auto_stich"] = True
    status, body = ticking.request("POST", "/v1/videos/render", {**manifest, "webhook_urll": "x"})
    assert status == 202 and body["success"] is True
    by_field = {warning["field"]: warning for warning in body["warnings"]}
    assert by_field["composition.text_overlays.0.style.fontSize"]["suggestion"] == "font_size"
    assert "font_size" in by_field["composition.text_overlays.0.style.fontSize"]["message"]
    assert by_field["composition.auto_stich"]["suggestion"] == "auto_stitch"
    assert by_field["webhook_urll"]["suggestion"] == "webhook_url"
    assert len(body["warnings"]) == 3
    # Still ignored otherwise: the render runs, and a clean manifest gets no `warnings` key at all.
    assert "warnings" not in ticking.request("POST", "/v1/videos/render", tiny_manifest(font_size=40))[1]
    assert finish(ticking, body["job_id"])["status"] == "completed"


# 2 (named providers), 6, 7 and 8 (the log story) need the real pipeline.

def test_named_providers_without_keys_give_way_to_the_local_defaults(real):
    body = {"script": SCRIPT, "noMusic": True,
            "providers": {"tts": "elevenlabs", "image": "gemini", "stock": "pexels", "video": "gemini"}}
    status, created = real.request("POST", "/api/v1/jobs", body)
    assert status == 201
    job = finish(real, created["id"])
    assert job["status"] == "completed", job["error"]
    assert job["providers"] == {"llm": None, "tts": "piper", "voice": "en_US-joe-medium", "image": "local",
                                "stock": "local", "video": None, "music": None}
    assert "piper: elevenlabs needs ELEVENLABS_API_KEY" in job["stages"]["tts"]["detail"]
    assert "local: pexels needs PEXELS_API_KEY" in job["stages"]["visuals"]["detail"]
    warnings = [e for e in printer_events(real, created["id"]) if e["type"] == "log" and e["level"] == "warning"]
    said = {(e["payload"]["category"], e["payload"]["requested"], e["payload"]["used"])
            for e in warnings if e["payload"] and "category" in e["payload"]}
    assert said == {("tts", "elevenlabs", "piper"), ("image", "gemini", "local"), ("stock", "pexels", "local"),
                    ("video", "gemini", None)}


def test_score_replay_skips_research_director_and_critic(real):
    planned = finish(real, real.request("POST", "/api/v1/jobs", {"script": SCRIPT, "dryRun": True})[1]["id"])
    assert planned["status"] == "completed" and planned["score"]
    replay = real.request("POST", "/api/v1/jobs", {"topic": "Honey", "score": planned["score"], "noMusic": True})[1]
    job = finish(real, replay["id"])
    assert job["status"] == "completed", job["error"]
    for name in ("research", "director", "critic"):
        assert job["stages"][name] == {"status": "skipped", "reason": "Score provided"}, name
    assert job["criticReview"] is None
    assert [job["stages"][name]["status"] for name in ("tts", "visuals", "assembly")] == ["done"] * 3


def test_a_failed_pipeline_names_its_failing_stage_before_job_failed(real):
    job_id = real.request("POST", "/api/v1/jobs", {"topic": "Why is the sky blue?"})[1]["id"]
    job = finish(real, job_id)
    assert job["status"] == "failed"
    assert job["stages"]["research"] == {"status": "error", "error": job["error"]["message"]}
    stream = real.sse(f"/api/v1/jobs/{job_id}/events", headers={"Last-Event-ID": "0"})
    names = [name for name, _ in stream]
    error = names.index("stage:research", names.index("job:snapshot"))
    assert stream[error][1] == {"stage": "research", "type": "error", "error": job["error"]["message"]}
    assert names[-1] == "job:failed" and error < len(names) - 1
    assert stream[-1][1]["error"] == job["error"]["message"]


def test_a_moneyprinter_client_reads_the_whole_story_in_log_events(real):
    job_id = real.request("POST", "/api/generate", {"videoSubject": "Honey", "script": SCRIPT})[1]["jobId"]
    job = finish(real, job_id)
    assert job["status"] == "completed", job["error"]
    every = printer_events(real, job_id)
    logs = [event for event in every if event["type"] == "log"]
    steps = {(event["payload"]["stage"], event["payload"]["type"]): event for event in logs
             if event["payload"] and "stage" in event["payload"]}
    assert steps["research", "skipped"]["message"] == "Research skipped: Script provided"
    for name in ("director", "tts", "visuals", "assembly", "critic"):
        assert (name, "start") in steps, name
        done = steps[name, "complete"]
        assert done["level"] == "success" and job["stages"][name]["detail"] in done["message"], name
        assert done["payload"]["detail"] == job["stages"][name]["detail"]
    milestones = [event["payload"]["progress"] for event in logs if event["payload"] and "progress" in event["payload"]]
    assert milestones == sorted(set(milestones)) and milestones[-1] == 1.0 and len(milestones) >= 2
    # The log now carries more of the story than the progress bar's updates.
    assert len(logs) > len([event for event in every if event["type"] == "progress"])
