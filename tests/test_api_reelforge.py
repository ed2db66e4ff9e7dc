"""Reel Forge's render API as reference/reelforge-api.md documents it."""

import re
import subprocess
import threading

import pytest

from moneyreels import create_app, db, jobs, kinds
from moneyreels.db import Job
from moneyreels.worker import Worker
from tests.support.media import image_manifest

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def render_worker(app, settings):
    return Worker(settings, kinds.runners())


def submit(client, body=None, **headers):
    return client.post("/v1/videos/render", json=body or image_manifest(), headers=headers)


def assert_error(response, status, code):
    assert response.status_code == status, response.json
    body = response.json
    assert body["success"] is False
    assert set(body["error"]) == {"message", "code", "request_id", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["request_id"] == response.headers["X-Request-Id"]
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def test_render_answers_202_and_the_job_completes(client, render_worker, settings):
    response = submit(client)
    assert response.status_code == 202
    assert set(response.json) == {"success", "job_id", "request_id"}
    assert response.json["request_id"] == response.headers["X-Request-Id"]
    job_id = response.json["job_id"]

    queued = client.get(f"/v1/jobs/{job_id}").json
    assert queued["data"]["status"] == "queued" and queued["data"]["output_url"] is None

    render_worker.loop()
    body = client.get(f"/v1/jobs/{job_id}").json
    assert body["success"] is True and body["request_id"]
    data = body["data"]
    assert list(data) == ["id", "status", "output_url", "error_message", "created_at", "updated_at",
                          "total_duration_seconds", "credit_cost"]
    assert data["status"] == "completed" and data["error_message"] is None
    assert data["output_url"] == f"http://localhost/v1/files/{job_id}/final.mp4"
    assert ISO.match(data["created_at"]) and ISO.match(data["updated_at"])
    assert data["total_duration_seconds"] == pytest.approx(1.0) and data["credit_cost"] == 1
    assert "error" not in body


def test_output_url_serves_the_video_with_ranges(client, render_worker, tmp_path):
    job_id = submit(client).json["job_id"]
    render_worker.loop()
    path = client.get(f"/v1/jobs/{job_id}").json["data"]["output_url"].removeprefix("http://localhost")
    whole = client.get(path)
    assert whole.status_code == 200 and whole.mimetype == "video/mp4"
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert whole.headers["X-Content-Type-Options"] == "nosniff"
    assert whole.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert not whole.headers.get("Content-Disposition", "").startswith("attachment")
    part = client.get(path, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.data == whole.data[100:200]
    video = tmp_path / "got.mp4"
    video.write_bytes(whole.data)
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,width,height",
                            "-of", "csv=p=0", str(video)], capture_output=True, text=True, check=True)
    assert "video,90,160" in probe.stdout and "audio" in probe.stdout


def test_public_url_setting_builds_output_urls(settings, render_worker):
    app = create_app(settings.model_copy(update={"public_url": "https://reels.example.org/"}))
    client = app.test_client()
    job_id = submit(client).json["job_id"]
    render_worker.loop()
    assert client.get(f"/v1/jobs/{job_id}").json["data"]["output_url"] == (
        f"https://reels.example.org/v1/files/{job_id}/final.mp4"
    )


@pytest.mark.parametrize("path", ["/v1/files/{id}/other.mp4", "/v1/files/{id}/..%2Fdata", "/v1/files/nope/final.mp4"])
def test_files_other_than_a_finished_output_are_404(client, render_worker, path):
    job_id = submit(client).json["job_id"]
    render_worker.loop()
    assert_error(client.get(path.format(id=job_id)), 404, "not_found")


def test_unfinished_job_has_no_file(client):
    job_id = submit(client).json["job_id"]
    assert_error(client.get(f"/v1/files/{job_id}/final.mp4"), 404, "not_found")


def test_failed_render_reports_the_structured_error(client, render_worker):
    manifest = image_manifest()
    manifest["composition"]["text_overlays"][0]["time"]["start_seconds"] = 5
    job_id = submit(client, manifest).json["job_id"]
    render_worker.loop()
    body = client.get(f"/v1/jobs/{job_id}").json
    assert body["data"]["status"] == "failed" and body["data"]["output_url"] is None
    assert body["error"]["code"] == "manifest_out_of_bounds"
    assert body["error"]["details"]["total_duration_seconds"] == pytest.approx(1.0)
    assert body["data"]["error_message"] == body["error"]["message"]


def test_running_is_processing_and_cancelled_reads_as_failed(client):
    job_id = submit(client).json["job_id"]
    jobs.claim("w", 30)
    assert client.get(f"/v1/jobs/{job_id}").json["data"]["status"] == "processing"
    jobs.transition(job_id, jobs.State.CANCELLED)
    body = client.get(f"/v1/jobs/{job_id}").json
    assert body["data"]["status"] == "failed" and body["error"]["code"] == "cancelled"


@pytest.mark.parametrize(
    "mutate, field",
    [
        (lambda m: m.pop("version"), "version"),
        (lambda m: m["output"].update(width=0), "output.width"),
        (lambda m: m["output"].update(fps="fast"), "output.fps"),
        (lambda m: m["assets"][0].update(type="gif"), "assets.0.type"),
        (lambda m: m["composition"]["timeline"][0].update(asset_id="missing"), "asset"),
        (lambda m: m.update(metadata={f"k{n}": n for n in range(11)}), "metadata"),
        (lambda m: m.update(metadata={"k": "v" * 501}), "metadata"),
        (lambda m: m.update(metadata={"k": {"nested": True}}), "metadata.k"),
        (lambda m: m.update(webhook_url="ftp://example.org/x"), "webhook_url"),
        (lambda m: m.update(webhook_headers={"Bad Header": "x"}), "webhook_headers"),
        (lambda m: m.update(webhook_headers={"User-Agent": "x"}), "webhook_headers"),
        (lambda m: m.update(webhook_headers={"X-A": "x\r\nInjected: 1"}), "webhook_headers"),
        (lambda m: m.update(webhook_headers={"X-A": "snow \u2603"}), "webhook_headers"),
        (lambda m: m.update(webhook_headers={"X-A": "bell \x07"}), "webhook_headers"),
        (lambda m: m.update(webhook_headers={f"X-{n}": "v" * 1000 for n in range(9)}), "webhook_headers"),
        (lambda m: m.update(idempotency_key=""), "idempotency_key"),
        (lambda m: m["assets"][0].update(url="red\x00.png"), "assets.0.url"),
    ],
)
def test_invalid_requests_are_400_naming_the_field_and_create_nothing(client, mutate, field):
    manifest = image_manifest()
    mutate(manifest)
    error = assert_error(submit(client, manifest), 400, "validation_error")
    assert field in error["message"] or any(field in e["field"] for e in error["details"]["errors"])
    assert Job.select().count() == 0


@pytest.mark.parametrize("data", ["{", "[]", "", "null"])
def test_malformed_json_is_400(client, data):
    response = client.post("/v1/videos/render", data=data, content_type="application/json")
    assert_error(response, 400, "invalid_json")


def test_unknown_job_is_404(client):
    assert_error(client.get("/v1/jobs/8f1fd0fe-63a5-4fef-8f2c-8f1225f6d309"), 404, "not_found")


def test_unexpected_failure_is_a_500_in_the_envelope_without_a_trace(client, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("database exploded at /secret/path")

    monkeypatch.setattr(jobs, "get", explode)
    error = assert_error(client.get("/v1/jobs/x"), 500, "internal_error")
    assert "secret" not in error["message"] and "Traceback" not in error["message"]


def test_idempotent_replay_answers_200_with_the_job(client, render_worker):
    first = submit(client, image_manifest(idempotency_key="order-1"))
    replay = submit(client, image_manifest(idempotency_key="order-1"))
    assert replay.status_code == 200
    assert replay.json == {"success": True, "data": {"deduped": True, "job": client.get(
        f"/v1/jobs/{first.json['job_id']}").json["data"]}}
    render_worker.loop()
    finished = submit(client, image_manifest(idempotency_key="order-1")).json["data"]["job"]
    assert finished["status"] == "completed" and finished["id"] == first.json["job_id"]
    assert Job.select().count() == 1


def test_idempotency_header_wins_over_the_field(client):
    first = submit(client, image_manifest(idempotency_key="field-key"), **{"idempotency-key": "header-key"})
    # The field's key was not used: the header's was.
    second = submit(client, image_manifest(idempotency_key="field-key"))
    assert second.status_code == 202 and second.json["job_id"] != first.json["job_id"]
    replay = submit(client, image_manifest(), **{"idempotency-key": "header-key"})
    assert replay.status_code == 200 and replay.json["data"]["job"]["id"] == first.json["job_id"]


def test_idempotency_key_with_a_different_body_is_409(client):
    submit(client, image_manifest(idempotency_key="k"))
    changed = image_manifest(idempotency_key="k", metadata={"x": 1})
    error = assert_error(submit(client, changed), 409, "idempotency_conflict")
    assert "different request body" in error["message"]


def test_concurrent_submissions_with_one_key_make_one_job(app, settings):
    barrier, answers = threading.Barrier(6), []

    def post():
        client = app.test_client()
        barrier.wait()
        answers.append(submit(client, image_manifest(idempotency_key="race")).status_code)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200] * 5 + [202]
    assert Job.select().count() == 1


@pytest.fixture
def keyed(settings):
    app = create_app(settings.model_copy(update={"api_keys": ("key-alice", "key-bob")}))
    yield app.test_client()
    db.database.close()


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


def test_keys_are_required_when_configured(keyed):
    assert_error(submit(keyed), 401, "unauthorized")
    assert_error(submit(keyed, Authorization="Bearer wrong"), 401, "unauthorized")
    assert_error(submit(keyed, Authorization="Basic a2V5LWFsaWNl"), 401, "unauthorized")
    assert submit(keyed, **bearer("key-alice")).status_code == 202
    assert submit(keyed, **{"x-api-key": "key-bob"}).status_code == 202


def test_wrong_keys_are_throttled_per_address_and_valid_keys_are_not(keyed):
    for _ in range(20):
        assert keyed.get("/v1/jobs/x", headers=bearer("key-alice")).status_code == 404
    for _ in range(10):
        assert_error(keyed.get("/v1/jobs/x", headers=bearer("guess")), 401, "unauthorized")
    refused = keyed.get("/v1/jobs/x", headers=bearer("guess"))
    assert_error(refused, 429, "rate_limited")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # Throttled before the key is compared: a right guess from that address is refused too.
    assert_error(keyed.get("/v1/jobs/x", headers=bearer("key-alice")), 429, "rate_limited")
    other = {"REMOTE_ADDR": "127.0.0.2"}
    assert keyed.get("/v1/jobs/x", headers=bearer("key-alice"), environ_base=other).status_code == 404


def test_a_key_never_sees_another_keys_jobs(keyed):
    job_id = submit(keyed, **bearer("key-alice")).json["job_id"]
    assert keyed.get(f"/v1/jobs/{job_id}", headers=bearer("key-alice")).status_code == 200
    assert_error(keyed.get(f"/v1/jobs/{job_id}", headers=bearer("key-bob")), 404, "not_found")


def test_idempotency_keys_are_scoped_per_api_key(keyed):
    alice = submit(keyed, image_manifest(idempotency_key="same"), **bearer("key-alice"))
    bob = submit(keyed, image_manifest(idempotency_key="same"), **bearer("key-bob"))
    assert alice.status_code == bob.status_code == 202
    assert alice.json["job_id"] != bob.json["job_id"]


def test_rate_limit_is_per_client_with_retry_after(settings):
    limited = create_app(settings.model_copy(update={"rate_limit": 3, "api_keys": ("a", "b")})).test_client()
    for _ in range(3):
        assert limited.get("/v1/jobs/x", headers=bearer("a")).status_code == 404
    refused = limited.get("/v1/jobs/x", headers=bearer("a"))
    error = assert_error(refused, 429, "rate_limited")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert error["details"] == {"limit": 3, "window_seconds": 60.0}
    assert limited.get("/v1/jobs/x", headers=bearer("b")).status_code == 404


def test_rate_limiter_window_slides(app):
    from moneyreels.api.limits import RateLimiter

    now = [0.0]
    limiter = RateLimiter(2, 10, clock=lambda: now[0])
    assert limiter.hit("c") == 0 and limiter.hit("c") == 0
    assert limiter.hit("c") == pytest.approx(10)
    now[0] = 9.5
    assert limiter.hit("c") == pytest.approx(0.5)
    now[0] = 10.01
    assert limiter.hit("c") == 0


def test_duck_under_an_unknown_layer_is_400_naming_the_field(client):
    manifest = image_manifest()
    manifest["assets"].append({"id": "song", "type": "audio", "url": "song.mp3"})
    manifest["composition"]["timeline"].append({
        "id": "music", "type": "audio", "asset_id": "song", "time": {"start_seconds": 0, "duration_seconds": 1},
        "media_settings": {"duck_under": {"layer": "voice", "depth_db": 14}}})
    error = assert_error(submit(client, manifest), 400, "validation_error")
    assert "media_settings.duck_under.layer" in error["message"] and "'voice'" in error["message"]
    assert Job.select().count() == 0


def test_a_rate_limit_is_shared_by_every_limiter_on_the_database(app):
    """Two web processes each hold their own limiter; the count they share lives in the database."""
    from moneyreels.api.limits import RateLimiter

    now = [100.0]
    one, other = (RateLimiter(2, 10, clock=lambda: now[0], name="api") for _ in range(2))
    assert one.hit("c") == 0 and other.hit("c") == 0
    assert one.hit("c") == pytest.approx(10) and other.hit("c") == pytest.approx(10)
    assert RateLimiter(2, 10, clock=lambda: now[0], name="reelforge").hit("c") == 0  # another limit counts apart
    assert other.hit("d") == 0  # and so does another client
    now[0] = 110.5
    assert other.hit("c", record=False) == 0 and one.hit("c") == 0
