"""STORAGE_URL: jobs' files and uploads in an S3-compatible bucket (moto on 127.0.0.1), served with Range."""

import io
import subprocess
import time

import pytest
import requests
from botocore.exceptions import EndpointConnectionError
from PIL import Image

from moneyreels import create_app, db, jobs, kinds, storage
from moneyreels.config import ConfigurationError, load_settings
from moneyreels.errors import RenderError
from moneyreels.pipeline import run as pipeline_run
from moneyreels.worker import Worker
from tests.support.live import LiveServer, wait_for
from tests.support.media import image_manifest, noise_image
from tests.support.s3 import bucket_keys


@pytest.fixture
def s3_settings(settings, s3_storage_url):
    return settings.model_copy(update={"storage_url": s3_storage_url})


@pytest.fixture
def s3_client(s3_settings):
    app = create_app(s3_settings)
    yield app.test_client()
    db.database.close()


def rendered(client, settings, manifest=None) -> str:
    """Submit a tiny render, run it, return its job id."""
    job_id = client.post("/v1/videos/render", json=manifest or image_manifest()).json["job_id"]
    Worker(settings, kinds.runners()).loop()
    return job_id


def stored(settings, name: str) -> bytes:
    return storage.of(settings).reader(name, storage.of(settings).size(name)).read()


def png(color) -> io.BytesIO:
    picture = io.BytesIO()
    Image.new("RGB", (64, 96), color).save(picture, "PNG")
    picture.seek(0)
    return picture


def test_storage_url_defaults_to_the_jobs_folder_and_bad_ones_are_named(tmp_path):
    assert load_settings({}).storage_url is None
    store = storage.of(load_settings({"JOBS_DIR": str(tmp_path)}))
    assert isinstance(store, storage.FileStore) and store.root == tmp_path and not store.separate
    bucket = "s3://reels.bucket-1/some/prefix"
    assert load_settings({"STORAGE_URL": bucket}).storage_url == bucket
    for bad in ("http://example.org/x", "s3://", "s3://Upper_Case", "/just/a/path"):
        with pytest.raises(ConfigurationError, match="STORAGE_URL"):
            load_settings({"STORAGE_URL": bad})
    with pytest.raises(ConfigurationError, match="MONEYREELS_STORAGE_SERVE"):
        load_settings({"MONEYREELS_STORAGE_SERVE": "sideways"})


@pytest.mark.parametrize("bad", ["..", "a/../b", "", "/etc/passwd", "a//b", "./a", "a\\..\\b", "a\x00b", "a/"])
def test_keys_are_relative_paths_of_clean_segments(bad):
    with pytest.raises(storage.BadKey):
        storage.key("job", bad)


def test_a_render_on_s3_is_uploaded_served_with_ranges_and_deleted(s3_client, s3_settings, tmp_path):
    job_id = rendered(s3_client, s3_settings)
    job = jobs.get(job_id)
    assert job.state == "completed", job.error
    url = s3_settings.storage_url
    assert job.result_path == f"{url}/{job_id}/final.mp4"
    assert bucket_keys(url) == [f"studio/{job_id}/final.mp4", f"studio/{job_id}/poster.jpg"]
    assert not (s3_settings.jobs_dir / job_id).exists()  # the scratch folder went after the upload
    video = stored(s3_settings, f"{job_id}/final.mp4")

    path = s3_client.get(f"/v1/jobs/{job_id}").json["data"]["output_url"].removeprefix("http://localhost")
    for route in (path, f"/api/v1/jobs/{job_id}/artifacts/final.mp4"):
        whole = s3_client.get(route)
        assert whole.status_code == 200 and whole.mimetype == "video/mp4" and whole.data == video
        assert whole.headers["Accept-Ranges"] == "bytes" and whole.headers["ETag"]
        assert whole.headers["X-Content-Type-Options"] == "nosniff"
        assert whole.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
        assert whole.headers["Content-Disposition"] == "inline; filename=final.mp4"
        part = s3_client.get(route, headers={"Range": "bytes=100-199"})
        assert part.status_code == 206 and part.data == video[100:200]
        assert part.headers["Content-Range"] == f"bytes 100-199/{len(video)}"
        tail = s3_client.get(route, headers={"Range": "bytes=-10"})
        assert tail.status_code == 206 and tail.data == video[-10:]
        head = s3_client.head(route)
        assert head.status_code == 200 and head.headers["Content-Length"] == str(len(video)) and not head.data
        assert s3_client.get(route, headers={"Range": f"bytes={len(video) + 5}-"}).status_code == 416
        again = s3_client.get(route, headers={"If-None-Match": whole.headers["ETag"]})
        assert again.status_code == 304
    probe_path = tmp_path / "got.mp4"
    probe_path.write_bytes(video)
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,width,height",
                            "-of", "csv=p=0", str(probe_path)], capture_output=True, text=True, check=True)
    assert "video,90,160" in probe.stdout

    poster = s3_client.get(f"/api/v1/jobs/{job_id}").json["_links"]["poster"]["href"]
    assert s3_client.get(poster).data[:3] == b"\xff\xd8\xff"
    assert s3_client.get(f"/v1/files/{job_id}/other.mp4").status_code == 404
    assert s3_client.get(f"/api/v1/jobs/{job_id}/artifacts/missing.json").status_code == 404

    assert s3_client.delete(f"/api/v1/jobs/{job_id}").status_code == 200
    assert bucket_keys(url) == []
    assert s3_client.get(path).status_code == 404


def test_redirect_mode_hands_out_a_presigned_url_that_serves_ranges(s3_settings):
    redirecting = s3_settings.model_copy(update={"storage_serve": "redirect"})
    client = create_app(redirecting).test_client()
    job_id = rendered(client, redirecting)
    video = stored(redirecting, f"{job_id}/final.mp4")
    answer = client.get(f"/v1/files/{job_id}/final.mp4")
    assert answer.status_code == 302 and answer.headers["Cache-Control"] == "no-store"
    part = requests.get(answer.headers["Location"], headers={"Range": "bytes=0-99"}, timeout=10)
    assert part.status_code == 206 and part.content == video[:100]
    assert part.headers["Content-Type"] == "video/mp4"
    assert client.get(f"/api/v1/jobs/{job_id}/artifacts/nothing.mp4").status_code == 404
    db.database.close()


@pytest.mark.parametrize("name", ["../{other}/final.mp4", "..%2f{other}%2ffinal.mp4", "%2e%2e/{other}/final.mp4",
                                  "%252e%252e%252f{other}%252ffinal.mp4", "..%5c{other}%5cfinal.mp4",
                                  "./final.mp4", "x/../final.mp4", "%2fstudio/{other}/final.mp4"])
def test_artifact_paths_never_leave_the_jobs_prefix(s3_client, s3_settings, name):
    first, other = rendered(s3_client, s3_settings), rendered(s3_client, s3_settings)
    answer = s3_client.get(f"/api/v1/jobs/{first}/artifacts/" + name.format(other=other))
    assert answer.status_code == 403 and answer.json["error"]["code"] == "path_traversal"
    assert s3_client.get(f"/v1/files/{first}/" + name.format(other=other)).status_code == 404


def test_an_upload_is_put_in_the_bucket_and_rendered_by_a_worker_without_it(s3_client, s3_settings, tmp_path):
    item = s3_client.post("/api/v1/media", data={"file": (png((200, 30, 30)), "red.png")},
                          content_type="multipart/form-data").json
    assert item["path"] == "uploads/red.png"
    assert "studio/media/uploads/red.png" in bucket_keys(s3_settings.storage_url)
    # A worker on another machine: its own, empty MEDIA_DIR and jobs folder.
    elsewhere = s3_settings.model_copy(update={"media_dir": tmp_path / "other-media",
                                               "jobs_dir": tmp_path / "other-jobs"})
    job_id = s3_client.post("/v1/videos/render", json=image_manifest(url=item["path"])).json["job_id"]
    Worker(elsewhere, kinds.runners()).loop()
    assert jobs.get(job_id).state == "completed", jobs.get(job_id).error
    assert not (tmp_path / "other-jobs" / job_id).exists()
    served = s3_client.get(f"/v1/files/{job_id}/final.mp4")
    assert served.status_code == 200 and served.data == stored(s3_settings, f"{job_id}/final.mp4")

    assert s3_client.delete("/api/v1/media/red.png").status_code == 200
    assert "studio/media/uploads/red.png" not in bucket_keys(s3_settings.storage_url)
    gone = s3_client.post("/v1/videos/render", json=image_manifest(url=item["path"])).json["job_id"]
    Worker(elsewhere, kinds.runners()).loop()
    assert jobs.get(gone).state == "failed" and jobs.get(gone).error["code"] == "invalid_asset_url"


def test_another_keys_upload_is_never_fetched_from_the_bucket(s3_settings, tmp_path):
    keyed = s3_settings.model_copy(update={"api_keys": ("alpha", "beta")})
    client = create_app(keyed).test_client()
    path = client.post("/api/v1/media", data={"file": (png((30, 30, 200)), "blue.png")},
                       content_type="multipart/form-data", headers={"x-api-key": "alpha"}).json["path"]
    elsewhere = keyed.model_copy(update={"media_dir": tmp_path / "other-media"})
    by = {key: client.post("/v1/videos/render", json=image_manifest(url=path),
                           headers={"x-api-key": key}).json["job_id"] for key in ("alpha", "beta")}
    for _ in by:
        Worker(elsewhere, kinds.runners()).loop()
    assert jobs.get(by["alpha"]).state == "completed", jobs.get(by["alpha"]).error
    assert jobs.get(by["beta"]).state == "failed" and jobs.get(by["beta"]).error["code"] == "invalid_asset_url"
    db.database.close()


def test_a_job_whose_upload_fails_is_failed_never_completed_without_files(s3_client, s3_settings, monkeypatch):
    real_put = storage.S3Store.put
    calls = []

    def flaky(store, name, source):
        calls.append(name)
        if len(calls) > 1:
            raise ConnectionError("the bucket went away")
        real_put(store, name, source)

    monkeypatch.setattr(storage.S3Store, "put", flaky)
    job_id = rendered(s3_client, s3_settings)
    job = jobs.get(job_id)
    assert job.state == "failed" and job.error["code"] == "storage_unavailable" and job.result_path is None
    body = s3_client.get(f"/v1/jobs/{job_id}").json
    assert body["data"]["status"] == "failed" and body["data"]["output_url"] is None
    assert s3_client.get(f"/v1/files/{job_id}/final.mp4").status_code == 404


def test_a_bucket_that_refuses_an_upload_is_a_clear_503_and_nothing_is_kept(s3_client, s3_settings, monkeypatch):
    monkeypatch.setattr(storage.S3Store, "put", lambda *args: (_ for _ in ()).throw(ConnectionError("down")))
    answer = s3_client.post("/api/v1/media", data={"file": (png((200, 30, 30)), "red.png")},
                            content_type="multipart/form-data")
    assert answer.status_code == 503 and answer.json["error"]["code"] == "storage_unavailable"
    assert s3_client.get("/api/v1/media").json["total"] == 0


def test_file_storage_keeps_jobs_in_the_jobs_folder(client, settings):
    job_id = rendered(client, settings)
    job = jobs.get(job_id)
    assert job.result_path == str((settings.jobs_dir / job_id / "final.mp4").resolve())
    assert (settings.jobs_dir / job_id / "poster.jpg").is_file()
    assert client.delete(f"/api/v1/jobs/{job_id}").status_code == 200
    assert not (settings.jobs_dir / job_id).exists()


def test_a_shared_folder_as_storage_url_gets_the_files_and_the_scratch_goes(settings, tmp_path):
    shared = settings.model_copy(update={"storage_url": f"file://{tmp_path / 'shared'}"})
    client = create_app(shared).test_client()
    job_id = rendered(client, shared)
    assert jobs.get(job_id).result_path == str((tmp_path / "shared" / job_id / "final.mp4").resolve())
    assert not (shared.jobs_dir / job_id).exists()
    part = client.get(f"/v1/files/{job_id}/final.mp4", headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.data == (tmp_path / "shared" / job_id / "final.mp4").read_bytes()[:10]
    assert client.delete(f"/api/v1/jobs/{job_id}").status_code == 200
    assert not (tmp_path / "shared" / job_id).exists()
    db.database.close()


def test_a_worker_start_sweeps_objects_of_deleted_jobs_and_nothing_else(s3_client, s3_settings):
    kept = rendered(s3_client, s3_settings)
    store = storage.of(s3_settings)
    orphan = "0b5e1c1e-59c4-4a8e-9d43-3f1f0c2b7a11"
    for name in (f"{orphan}/final.mp4", "notes/readme.txt", "media/uploads/x.png"):
        store.put(name, s3_settings.media_dir / "pic.jpg")
    assert storage.sweep_orphans(store, jobs.unknown) == [orphan]
    assert bucket_keys(s3_settings.storage_url) == sorted([f"studio/{kept}/final.mp4", f"studio/{kept}/poster.jpg",
                                                            "studio/media/uploads/x.png", "studio/notes/readme.txt"])


def test_a_script_job_on_s3_keeps_every_artifact_in_the_bucket(s3_client, s3_settings):
    small = s3_settings.model_copy(update={"output_scale": 0.125})
    job_id = s3_client.post("/api/v1/jobs", json={"script": "Bees dance to talk. The dance points to flowers.",
                                                  "noMusic": True}).json["id"]
    Worker(small, kinds.runners()).loop()
    job = s3_client.get(f"/api/v1/jobs/{job_id}").json
    assert job["status"] == "completed", (job.get("error"), job["stages"])
    keys = bucket_keys(s3_settings.storage_url)
    assert f"studio/{job_id}/final.mp4" in keys and f"studio/{job_id}/manifest.json" in keys
    assert not (s3_settings.jobs_dir / job_id).exists()
    video = s3_client.get(job["_links"]["video"]["href"], headers={"Range": "bytes=0-99"})
    assert video.status_code == 206 and video.data == stored(s3_settings, f"{job_id}/final.mp4")[:100]
    manifest = s3_client.get(f"/api/v1/jobs/{job_id}/artifacts/manifest.json")
    assert manifest.status_code == 200 and manifest.headers["Content-Disposition"].startswith("attachment")
    assert manifest.json["output"]["width"] > 0


def test_a_real_server_streams_a_bucket_video_with_ranges(s3_storage_url, tmp_path):
    """Through waitress (its file wrapper reads the object as a file), in a process of its own."""
    (tmp_path / "media").mkdir()
    noise_image(tmp_path / "media" / "pic.jpg")
    server = LiveServer(tmp_path, STORAGE_URL=s3_storage_url, MEDIA_DIR=tmp_path / "media",
                        MONEYREELS_PRESET="ultrafast").start()
    try:
        status, body = server.request("POST", "/v1/videos/render", image_manifest())
        assert status == 202, body
        job_id = body["job_id"]
        data = wait_for(lambda: (found := server.request("GET", f"/v1/jobs/{job_id}")[1]["data"])["status"]
                        in ("completed", "failed") and found)
        assert data["status"] == "completed", data
        path = f"/v1/files/{job_id}/final.mp4"
        status, headers, whole = server.exchange("GET", path)
        assert status == 200 and whole[4:8] == b"ftyp" and headers["Content-Length"] == str(len(whole))
        status, headers, part = server.exchange("GET", path, headers={"Range": "bytes=1000-1999"})
        assert status == 206 and part == whole[1000:2000]
        assert headers["Content-Range"] == f"bytes 1000-1999/{len(whole)}"
        assert server.exchange("GET", f"/v1/files/{job_id}/x.mp4")[0] == 404
    finally:
        server.stop()


def test_a_failed_jobs_files_are_stored_and_its_retry_elsewhere_resumes_from_them(s3_client, s3_settings, tmp_path):
    def first_stage_then_fail(ctx):
        ctx.dir.mkdir(parents=True, exist_ok=True)
        (ctx.dir / "stage-1.json").write_text('{"done": true}')
        raise RenderError("the second stage broke")

    def resume(ctx):
        assert (ctx.dir / "stage-1.json").read_text() == '{"done": true}'  # fetched from the bucket
        (ctx.dir / "final.txt").write_text("done")
        return ctx.dir / "final.txt"

    job = jobs.create("staged", {})
    Worker(s3_settings, {"staged": first_stage_then_fail}).loop()
    assert jobs.get(job.id).state == "failed"
    assert bucket_keys(s3_settings.storage_url) == [f"studio/{job.id}/stage-1.json"]
    assert not (s3_settings.jobs_dir / job.id).exists()

    jobs.transition(job.id, jobs.State.QUEUED, message="Retry.")
    elsewhere = s3_settings.model_copy(update={"jobs_dir": tmp_path / "other-jobs"})
    Worker(elsewhere, {"staged": resume}).loop()
    done = jobs.get(job.id)
    assert done.state == "completed" and done.result_path == f"{s3_settings.storage_url}/{job.id}/final.txt"
    assert stored(s3_settings, f"{job.id}/final.txt") == b"done"


def test_a_bucket_that_does_not_answer_is_a_clear_503_and_a_delete_leaves_objects_for_the_sweep(
        s3_client, s3_settings, monkeypatch):
    job_id = rendered(s3_client, s3_settings)
    client = storage.of(s3_settings).client

    def unreachable(**params):
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")

    for operation in ("head_object", "delete_objects", "list_objects_v2"):
        monkeypatch.setattr(client, operation, unreachable)
    answer = s3_client.get(f"/v1/files/{job_id}/final.mp4")
    assert answer.status_code == 503 and answer.json["error"]["code"] == "storage_unavailable"
    assert s3_client.get(f"/api/v1/jobs/{job_id}/artifacts/final.mp4").status_code == 503
    shown = s3_client.get(f"/api/v1/jobs/{job_id}")
    assert shown.status_code == 200 and "poster" not in shown.json["_links"]
    assert s3_client.delete(f"/api/v1/jobs/{job_id}").status_code == 200
    assert storage.sweep_orphans(storage.of(s3_settings), jobs.unknown) == []
    monkeypatch.undo()
    assert len(bucket_keys(s3_settings.storage_url)) == 2
    assert storage.sweep_orphans(storage.of(s3_settings), jobs.unknown) == [job_id]
    assert bucket_keys(s3_settings.storage_url) == []


@pytest.mark.parametrize("backend", ["file", "s3"])
def test_both_stores_keep_fetch_list_and_delete_by_prefix(backend, request, tmp_path):
    url = request.getfixturevalue("s3_storage_url") if backend == "s3" else f"file://{tmp_path / 'kept'}"
    store = storage.parse(url, tmp_path / "jobs")
    assert store.separate
    source = tmp_path / "clip.bin"
    source.write_bytes(bytes(range(256)) * 4)
    for name in ("job-a/clip.bin", "job-a/sub/clip.bin", "job-b/clip.bin"):
        store.put(name, source)
    assert store.exists("job-a/sub/clip.bin") and not store.exists("job-a/none.bin")
    assert store.size("job-a/clip.bin") == 1024
    assert store.list("job-a") == ["job-a/clip.bin", "job-a/sub/clip.bin"]
    assert store.prefixes() == {"job-a", "job-b"}
    assert store.fetch("job-a/sub/clip.bin", tmp_path / "back" / "clip.bin")
    assert (tmp_path / "back" / "clip.bin").read_bytes() == source.read_bytes()
    assert not store.fetch("job-a/none.bin", tmp_path / "back" / "none.bin")
    assert (store.presigned_url("job-a/clip.bin") is None) == (backend == "file")
    store.delete_prefix("job-a")
    assert store.list("job-a") == [] and store.exists("job-b/clip.bin")


class Killed(BaseException):
    """The worker process dies here (as by SIGKILL): nothing after it runs."""


def test_a_script_job_whose_worker_dies_resumes_on_another_machine_from_the_stages_in_the_bucket(
        s3_client, s3_settings, tmp_path, monkeypatch):
    small = s3_settings.model_copy(update={"output_scale": 0.125})
    job_id = s3_client.post("/api/v1/jobs", json={"script": "Bees dance to talk. The dance points to flowers.",
                                                  "noMusic": True}).json["id"]

    def die(plan, chosen):
        raise Killed()

    steps = dict(pipeline_run.STEPS)
    monkeypatch.setattr(pipeline_run, "STEPS", tuple((name, die if name == "assembly" else step)
                                                     for name, step in steps.items()))
    with pytest.raises(Killed):
        Worker(small, kinds.runners()).loop()
    keys = bucket_keys(s3_settings.storage_url)
    assert any(key.startswith(f"studio/{job_id}/tts/") for key in keys), keys
    assert any(key.startswith(f"studio/{job_id}/visuals/") for key in keys), keys

    monkeypatch.setattr(pipeline_run, "STEPS", tuple(steps.items()))
    assert [job.id for job in jobs.recover(now=time.time() + 3600)] == [job_id]
    elsewhere = small.model_copy(update={"jobs_dir": tmp_path / "other-jobs"})
    Worker(elsewhere, kinds.runners()).loop()
    job = s3_client.get(f"/api/v1/jobs/{job_id}").json
    assert job["status"] == "completed", (job.get("error"), job["stages"])
    events = s3_client.get(f"/api/jobs/{job_id}/events").json
    started = [event["message"] for event in events["events"] if event["message"].endswith(" started.")]
    # Each start is told twice (a stage event and a log line); only assembly ran again.
    once = started.count("Tts started.")
    assert once and started.count("Visuals started.") == once and started.count("Assembly started.") == 2 * once
    assert s3_client.get(job["_links"]["video"]["href"]).status_code == 200


def test_an_upload_the_bucket_cannot_send_fails_the_render_as_storage_unavailable(s3_client, s3_settings, tmp_path,
                                                                                  monkeypatch):
    path = s3_client.post("/api/v1/media", data={"file": (png((9, 9, 9)), "dark.png")},
                          content_type="multipart/form-data").json["path"]

    def unreachable(*args, **kwargs):
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")

    monkeypatch.setattr(storage.of(s3_settings).client, "download_file", unreachable)
    job_id = s3_client.post("/v1/videos/render", json=image_manifest(url=path)).json["job_id"]
    Worker(s3_settings.model_copy(update={"media_dir": tmp_path / "other-media"}), kinds.runners()).loop()
    job = jobs.get(job_id)
    assert job.state == "failed" and job.error["code"] == "storage_unavailable"
