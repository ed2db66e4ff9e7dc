"""/api/v1/media: the user's own media uploaded, listed, tagged, deleted, used; hostile uploads refused."""

import functools
import http.server
import io
import json
import subprocess
import threading
from pathlib import Path

import pytest
from PIL import Image

from moneyreels import create_app, db, jobs, kinds
from moneyreels.worker import Worker
from tests.support.media import image_manifest, noise_image
from tests.support.video import FFMPEG


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> Path:
    """A PNG, a one-second MP4 and a one-second WAV, made once."""
    folder = tmp_path_factory.mktemp("samples")
    Image.new("RGB", (64, 96), (200, 30, 30)).save(folder / "red.png")
    noise_image(folder / "noise.jpg")
    subprocess.run([FFMPEG, "-v", "error", "-f", "lavfi", "-i", "testsrc=s=64x96:d=1:r=10", "-pix_fmt", "yuv420p",
                    str(folder / "clip.mp4")], check=True)
    subprocess.run([FFMPEG, "-v", "error", "-f", "lavfi", "-i", "sine=d=1", str(folder / "tone.wav")], check=True)
    return folder


def upload(client, data: bytes, name: str, tags="", **headers):
    return client.post("/api/v1/media", data={"file": (io.BytesIO(data), name), "tags": tags},
                       content_type="multipart/form-data", headers=headers)


def kept_files(settings) -> list[str]:
    """Every file under MEDIA_DIR but the test's own pic.jpg: what uploads left behind."""
    root = Path(settings.media_dir)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.name != "pic.jpg")


def test_an_image_is_kept_with_its_size_tags_and_thumbnail(client, settings, samples):
    answer = upload(client, (samples / "red.png").read_bytes(), "red.png", tags="Red, sunset ,red")
    assert answer.status_code == 201, answer.json
    item = answer.json
    assert item["name"] == "red.png" and item["kind"] == "image"
    assert (item["width"], item["height"], item["durationSeconds"]) == (64, 96, None)
    assert item["tags"] == ["red", "sunset"] and item["path"] == "uploads/red.png"
    assert (settings.media_dir / "uploads" / "red.png").read_bytes() == (samples / "red.png").read_bytes()
    thumb = client.get(item["_links"]["thumbnail"]["href"])
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(thumb.data)).convert("RGB").getpixel((5, 5))[0] > 150
    assert [m["name"] for m in client.get("/api/v1/media").json["media"]] == ["red.png"]


def test_video_and_audio_carry_their_duration(client, samples):
    video = upload(client, (samples / "clip.mp4").read_bytes(), "clip.mp4").json
    assert video["kind"] == "video" and video["durationSeconds"] == pytest.approx(1, abs=0.1)
    assert "thumbnail" in video["_links"]
    audio = upload(client, (samples / "tone.wav").read_bytes(), "tone.wav").json
    assert audio["kind"] == "audio" and audio["durationSeconds"] == pytest.approx(1, abs=0.1)
    assert "thumbnail" not in audio["_links"]


def test_a_name_in_use_gets_a_new_one_and_nothing_is_overwritten(client, settings, samples):
    first = upload(client, (samples / "red.png").read_bytes(), "pic.png").json
    second = upload(client, (samples / "red.png").read_bytes(), "pic.png").json
    assert (first["name"], second["name"]) == ("pic.png", "pic-2.png")
    assert sorted(m["name"] for m in client.get("/api/v1/media").json["media"]) == ["pic-2.png", "pic.png"]


def test_tags_are_replaced_and_files_deleted(client, settings, samples):
    item = upload(client, (samples / "red.png").read_bytes(), "red.png", tags="old").json
    tagged = client.patch(item["_links"]["update"]["href"], json={"tags": ["Beach", "sun"]})
    assert tagged.status_code == 200 and tagged.json["tags"] == ["beach", "sun"]
    sidecar = json.loads((settings.media_dir / "uploads" / "tags.json").read_text())
    assert sidecar == {"red.png": ["beach", "sun"]}
    bad = client.patch(item["_links"]["update"]["href"], json={"tags": "beach"})
    assert bad.status_code == 400 and bad.json["error"]["details"]["errors"][0]["field"] == "tags"
    assert client.delete(item["_links"]["delete"]["href"]).json["deleted"] is True
    assert client.get("/api/v1/media").json["media"] == []
    assert kept_files(settings) == ["uploads/tags.json"]
    assert client.delete(item["_links"]["delete"]["href"]).status_code == 404
    assert client.patch("/api/v1/media/nothing.png", json={"tags": []}).status_code == 404


JPEG_HEAD = b"\xff\xd8\xff\xe0" + b"\x00" * 60


@pytest.mark.parametrize("make, name, words", [
    (lambda s: b"just some words, not a picture", "notes.jpg", "content is not JPG"),
    (lambda s: b"<html><script>alert(1)</script></html>", "page.mp4", "content is not MP4"),
    (lambda s: b"PK\x03\x04" + (s / "red.png").read_bytes(), "zip.png", "content is not PNG"),  # a polyglot
    (lambda s: (s / "clip.mp4").read_bytes(), "clip.jpg", "content is not JPG"),
    (lambda s: JPEG_HEAD + b"<?php system($_GET['c']); ?>", "shell.jpg", "does not hold an image"),
    (lambda s: (s / "tone.wav").read_bytes(), "tone.mp4", "content is not MP4"),
    (lambda s: (s / "red.png").read_bytes(), "../../escape.png", "no folders"),
    (lambda s: (s / "red.png").read_bytes(), "..\\escape.png", "no folders"),
    (lambda s: (s / "red.png").read_bytes(), ".hidden.png", "must not start with a dot"),
    (lambda s: (s / "red.png").read_bytes(), "tags.json", "not a media file name"),
    (lambda s: (s / "red.png").read_bytes(), "image.svg", "not a media file name"),
    (lambda s: b"", "empty.png", "empty"),
])
def test_hostile_uploads_are_refused_clearly_and_nothing_is_kept(client, settings, samples, make, name, words):
    answer = upload(client, make(samples), name)
    assert answer.status_code == 400, answer.json
    error = answer.json["error"]
    assert error["details"]["errors"][0]["field"] == "file"
    assert words in error["message"]
    assert kept_files(settings) == []
    assert client.get("/api/v1/media").json["media"] == []


def test_an_upload_over_the_size_cap_is_413_and_nothing_is_kept(settings, samples):
    app = create_app(settings.model_copy(update={"max_asset_bytes": 2_000}))
    client = app.test_client()
    big = Image.effect_noise((200, 200), 64).convert("RGB")
    out = io.BytesIO()
    big.save(out, "PNG")
    assert len(out.getvalue()) > 70_000
    answer = upload(client, out.getvalue(), "big.png")
    assert answer.status_code == 413 and "error" in answer.json
    assert kept_files(settings) == []
    db.database.close()


def test_uploads_come_from_the_page_only_and_json_elsewhere(client, samples):
    foreign = upload(client, (samples / "red.png").read_bytes(), "red.png", Origin="http://evil.example")
    assert foreign.status_code == 403 and foreign.json["error"]["code"] == "cross_origin"
    plain = client.post("/api/v1/media", data="red.png", content_type="text/plain")
    assert plain.status_code == 415
    missing = client.post("/api/v1/media", data={"other": "x"}, content_type="multipart/form-data")
    assert missing.status_code == 400 and missing.json["error"]["details"]["errors"][0]["field"] == "file"
    form_tags = client.patch("/api/v1/media/red.png", data={"tags": "x"}, content_type="multipart/form-data")
    assert form_tags.status_code == 415


@pytest.fixture
def files_server(samples):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(samples))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_url_is_fetched_through_the_guarded_client(client, settings, files_server, samples):
    answer = client.post("/api/v1/media", json={"url": f"{files_server}/clip.mp4", "tags": ["waves"]})
    assert answer.status_code == 201, answer.json
    assert answer.json["kind"] == "video" and answer.json["tags"] == ["waves"]
    assert (settings.media_dir / "uploads" / "clip.mp4").read_bytes() == (samples / "clip.mp4").read_bytes()


@pytest.mark.parametrize("url, words", [
    ("file:///etc/passwd", "media file name"),
    ("file:///tmp/x.png", "only http and https"),
    ("{server}/", "media file name"),
    ("{server}/missing.png", "404"),
])
def test_bad_urls_are_refused_naming_the_url(client, settings, files_server, url, words):
    answer = client.post("/api/v1/media", json={"url": url.format(server=files_server)})
    assert answer.status_code == 400, answer.json
    assert answer.json["error"]["details"]["errors"][0]["field"] == "url"
    assert words in answer.json["error"]["message"]
    assert kept_files(settings) == []


def test_a_private_address_is_refused_when_the_server_is_public(settings, files_server):
    app = create_app(settings.model_copy(update={"allow_private_urls": False}))
    answer = app.test_client().post("/api/v1/media", json={"url": f"{files_server}/red.png"})
    assert answer.status_code == 400 and "refused" in answer.json["error"]["message"]
    assert kept_files(settings) == []
    db.database.close()


def test_each_key_has_its_own_library(settings, samples):
    app = create_app(settings.model_copy(update={"api_keys": ("alpha", "beta")}))
    client = app.test_client()
    item = upload(client, (samples / "red.png").read_bytes(), "red.png", **{"x-api-key": "alpha"}).json
    assert item["path"].startswith(".keys/") and item["path"].endswith("/red.png")
    assert client.get("/api/v1/media", headers={"x-api-key": "beta"}).json["media"] == []
    assert client.delete("/api/v1/media/red.png", headers={"x-api-key": "beta"}).status_code == 404
    assert client.get("/api/v1/media").status_code == 401
    assert (settings.media_dir / item["path"]).is_file()
    db.database.close()


def test_a_manifest_renders_its_own_keys_uploads_and_never_another_keys(settings, samples):
    keyed = settings.model_copy(update={"api_keys": ("alpha", "beta")})
    client = create_app(keyed).test_client()
    path = upload(client, (samples / "red.png").read_bytes(), "red.png", **{"x-api-key": "alpha"}).json["path"]
    by = {key: client.post("/v1/videos/render", json=image_manifest(url=path), headers={"x-api-key": key}).json["job_id"]
          for key in ("alpha", "beta")}
    for _ in by:
        Worker(keyed, kinds.runners()).loop()
    assert jobs.get(by["alpha"]).state == "completed", jobs.get(by["alpha"]).error
    refused = jobs.get(by["beta"])
    assert refused.state == "failed" and refused.error["code"] == "invalid_asset_url"
    db.database.close()


def test_a_manifest_renders_an_uploaded_picture(client, settings, samples):
    item = upload(client, (samples / "red.png").read_bytes(), "red.png").json
    job_id = client.post("/v1/videos/render", json=image_manifest(url=item["path"])).json["job_id"]
    Worker(settings, kinds.runners()).loop()
    assert jobs.get(job_id).state == "completed", jobs.get(job_id).error


SCRIPT = "Honey never spoils in sealed jars. Bees make honey from flower nectar. It keeps for thousands of years."


@pytest.mark.parametrize("mine", [True, False])
def test_a_script_job_uses_uploaded_media_and_prefers_it_when_asked(client, settings, samples, mine):
    settings = settings.model_copy(update={"output_scale": 0.25})
    item = upload(client, (samples / "noise.jpg").read_bytes(), "golden.jpg", tags="honey, jars").json
    assert "thumbnail" in item["_links"]  # a JPEG has its thumbnail too
    job_id = client.post("/api/v1/jobs", json={"script": SCRIPT, "noMusic": True, "useMyMedia": mine}).json["id"]
    Worker(settings, kinds.runners()).loop()
    job = jobs.get(job_id)
    assert job.state == "completed", job.error
    used = [visual for visual in job.outputs["assets"] if visual["source"] == "media"]
    assert [Path(visual["file"]).name for visual in used] == ["golden.jpg"]
    if mine:  # preferred over every other source, whatever the scene's type
        assert used[0]["sceneIndex"] == 0
