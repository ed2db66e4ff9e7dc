"""Script and topic jobs end to end through the worker: stages, events, the reel, cancels, retry."""

import json
import re
import threading

import numpy as np
import pytest

from moneyreels import events, jobs, keyring, kinds
from moneyreels.db import Job
from moneyreels.pipeline import visuals as visual_stage
from moneyreels.pipeline.catalog import ARCHETYPES, CAPTION_STYLES
from moneyreels.providers.tts import EspeakTTS, TTSError
from moneyreels.providers.tts.piper import PiperTTS
from moneyreels.worker import Worker
from tests.support.video import frame_at, integrated_loudness, loudness, probe

SCRIPT = ("Honey never spoils. Archaeologists found pots of it in Egyptian tombs. It was over three thousand "
          "years old. And it was still perfectly edible. Bees make it from nectar. They fan it with their wings "
          "until the water evaporates. That is why it keeps forever.")
SCALE = 0.25


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"output_scale": SCALE})


@pytest.fixture
def run_jobs(app):
    """Run the queued jobs on the app's settings as they are then (`configure` may have changed them)."""
    return lambda: Worker(app.config["SETTINGS"], kinds.runners()).loop()


def stage_events(job_id):
    return [(e.type, e.payload["type"]) for e in events.after(job_id) if e.type.startswith("stage:")]


def outputs(job_id):
    return Job.get_by_id(job_id).outputs


def test_script_job_through_moneyprinter_makes_a_narrated_captioned_reel(client, settings, run_jobs, piper_voice):
    job_id = client.post("/api/generate", json={"script": SCRIPT, "useMusic": True}).json["jobId"]
    run_jobs()
    job = jobs.get(job_id)
    assert job.state == "completed", job.error
    assert {name: s["status"] for name, s in job.stages.items()} == {
        "research": "skipped", "director": "done", "tts": "done", "visuals": "done", "assembly": "done",
        "critic": "done"}
    assert job.stages["research"]["reason"] == "Script provided"
    assert re.match(r"^\d+ assets", job.stages["visuals"]["detail"]) and job.stages["assembly"]["detail"] == "final.mp4"
    assert job.stages["critic"]["detail"].startswith("Score: ")
    kinds = stage_events(job_id)
    for name in ("director", "tts", "visuals", "assembly", "critic"):
        assert (f"stage:{name}", "start") in kinds and (f"stage:{name}", "complete") in kinds
    for expected in [("stage:research", "skipped"), ("stage:director", "score"), ("stage:director", "cost_estimate"),
                     ("stage:visuals", "music"), ("stage:visuals", "music_resolved"), ("stage:critic", "review")]:
        assert expected in kinds
    scenes = outputs(job_id)["score"]["scenes"]
    assert kinds.count(("stage:visuals", "asset")) == len(scenes)

    video = settings.jobs_dir / job_id / "final.mp4"
    info = probe(video)
    assert (info["video"]["width"], info["video"]["height"]) == (270, 480) and info["audio"]
    narration = outputs(job_id)["narration"]
    assert abs(info["duration"] - narration["duration"]) < 0.2

    # The default voice spoke it, and the job and its manifest say so.
    assert narration["speaker"] == {"provider": "piper", "name": "en_US-joe-medium"}
    assert outputs(job_id)["providers"].items() >= {"tts": "piper", "voice": "en_US-joe-medium"}.items()
    manifest = json.loads((settings.jobs_dir / job_id / "manifest.json").read_text())
    assert manifest["metadata"] == {"voice_provider": "piper", "voice": "en_US-joe-medium"}
    assert manifest["composition"]["timeline"][-1]["media_settings"]["duck_under"]["layer"] == "voice"

    words = [word for scene in narration["scenes"] for word in scene["words"]]
    assert [w[0] for w in words] == SCRIPT.split()
    first = words[0]
    assert loudness(video, first[1], first[2] - first[1]) > 10 * loudness(video, narration["duration"] - 0.3, 0.25)
    assert abs(integrated_loudness(video) - (-14)) <= 1

    style = CAPTION_STYLES[ARCHETYPES[job.request["archetype"]].captionStyle]
    highlight = np.array([int(style.highlight_color[i:i + 2], 16) for i in (1, 3, 5)])
    top, bottom = int(480 * 0.62), int(480 * 0.82)
    for text, start, end in words[::9]:
        band = frame_at(video, (start + end) / 2)[top:bottom].reshape(-1, 3).astype(int)
        assert (np.abs(band - highlight).sum(axis=1) < 90).sum() >= 3, f"no highlighted caption for {text!r}"

    middles = [scene["start"] + scene["duration"] / 2 for scene in narration["scenes"]]
    frames = [frame_at(video, t)[: top - 10].astype(int) for t in middles]
    for before, after in zip(frames, frames[1:]):
        assert np.abs(before - after).mean() > 12


def test_script_job_through_api_v1_is_201_and_reads_back(client, run_jobs):
    created = client.post("/api/v1/jobs", json={"script": SCRIPT, "archetype": "neon_cyberpunk", "noMusic": True})
    assert created.status_code == 201
    assert set(created.json) == {"id", "topic", "archetype", "status", "_links"}
    assert created.json["archetype"] == "neon_cyberpunk" and created.json["status"] == "queued"
    run_jobs()
    body = client.get(f"/api/v1/jobs/{created.json['id']}").json
    assert body["status"] == "completed" and body["videoPath"] == "final.mp4"
    assert body["musicTrack"] is None and body["providers"]["tts"] == "espeak"
    assert body["criticReview"]["method"] == "heuristic"
    video = client.get(body["_links"]["video"]["href"])
    assert video.status_code == 200 and video.mimetype == "video/mp4"


def test_dry_run_stops_after_the_score(client, settings, run_jobs):
    job_id = client.post("/api/v1/jobs", json={"script": SCRIPT, "dryRun": True}).json["id"]
    run_jobs()
    job = jobs.get(job_id)
    assert job.state == "completed" and job.result_path is None
    assert job.stages["director"]["status"] == "done"
    for name in ("tts", "visuals", "assembly", "critic"):
        assert job.stages[name] == {"status": "skipped", "reason": "Dry run mode"}
    assert not (settings.jobs_dir / job_id / "final.mp4").exists()


SCORE = {"emotional_arc": "curiosity to awe", "archetype": "science_wonder", "music_mood": "inspirational",
         "scenes": [{"script_line": "Space is silent.", "visual_type": "text_card", "visual_prompt": "Silence"},
                    {"script_line": "Sound needs air to travel.", "visual_type": "ai_image",
                     "visual_prompt": "empty space", "motion": "zoom_out"},
                    {"script_line": "So the loudest explosion makes no noise at all.", "visual_type": "ai_image",
                     "visual_prompt": "supernova", "motion": "pan_left", "transition": "wipe"}]}


def test_a_score_is_replayed_as_given(client, run_jobs):
    job_id = client.post("/api/v1/jobs", json={"topic": "space sound", "score": SCORE, "noMusic": True}).json["id"]
    run_jobs()
    job = jobs.get(job_id)
    assert job.state == "completed", job.error
    assert job.stages["research"]["reason"] == job.stages["director"]["reason"] == "Score provided"
    assert [s["script_line"] for s in outputs(job_id)["score"]["scenes"]] == [s["script_line"] for s in SCORE["scenes"]]


@pytest.mark.parametrize("change", [
    {"scenes": []},
    {"scenes": [{**SCORE["scenes"][1]}] * 3},
    {"archetype": "unknown"},
])
def test_an_invalid_score_is_400(client, change):
    response = client.post("/api/v1/jobs", json={"topic": "t", "score": {**SCORE, **change}})
    assert response.status_code == 400 and response.json["error"]["code"] == "validation_error"
    assert Job.select().count() == 0


def test_direction_over_10_kb_is_400(client):
    response = client.post("/api/v1/jobs", json={"topic": "t", "direction": "x" * 10_241})
    assert response.status_code == 400 and "direction" in response.json["error"]["message"]


def test_a_topic_without_an_llm_fails_at_once_naming_the_ways_out(client, settings, run_jobs):
    assert not settings.provider_values()
    job_id = client.post("/api/v1/jobs", json={"topic": "Why is the sky blue?"}).json["id"]
    run_jobs()
    job = jobs.get(job_id)
    assert job.state == "failed" and job.error["code"] == "no_llm"
    for way_out in ("ANTHROPIC_API_KEY", "Ollama", "script"):
        assert way_out in job.error["message"]
    # The stage that could not run says so; the rest never started.
    assert job.stages["research"] == {"status": "error", "error": job.error["message"]}
    assert all(job.stages[name]["status"] == "pending" for name in ("director", "tts", "visuals", "assembly", "critic"))


def cancel_when_called(monkeypatch, target, name):
    """Make `target.name` request the running job's cancellation the first time it is called."""
    original = getattr(target, name)
    fired = threading.Event()

    def wrapper(*args, **kwargs):
        if not fired.is_set():
            fired.set()
            running = Job.get(Job.state == "running")
            jobs.request_cancel(running.id)
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, wrapper)


@pytest.mark.parametrize("target, name, stage", [
    (EspeakTTS, "synthesize", "tts"),
    (visual_stage, "draw", "visuals"),
])
def test_cancel_during_a_stage_stops_at_the_next_checkpoint(client, run_jobs, monkeypatch, target, name, stage):
    cancel_when_called(monkeypatch, target, name)
    job_id = client.post("/api/v1/jobs", json={"script": SCRIPT}).json["id"]
    run_jobs()
    job = jobs.get(job_id)
    assert job.state == "cancelled"
    assert job.stages[stage]["status"] == "pending"
    assert job.stages["critic"]["status"] == "pending"


def test_cancel_during_the_render(client, settings, run_jobs, monkeypatch):
    from moneyreels.pipeline import assembly

    cancel_when_called(monkeypatch, assembly, "compile_manifest")
    job_id = client.post("/api/v1/jobs", json={"script": SCRIPT}).json["id"]
    run_jobs()
    assert jobs.get(job_id).state == "cancelled"
    assert not (settings.jobs_dir / job_id / "final.mp4").exists()


def test_retry_resumes_from_the_first_unfinished_stage(client, run_jobs, monkeypatch):
    cancel_when_called(monkeypatch, visual_stage, "draw")
    job_id = client.post("/api/v1/jobs", json={"script": SCRIPT}).json["id"]
    run_jobs()
    assert jobs.get(job_id).stages["tts"]["status"] == "done"
    tts_starts = stage_events(job_id).count(("stage:tts", "start"))

    retried = client.post(f"/api/v1/jobs/{job_id}/retry")
    assert retried.status_code == 202 and retried.json["status"] == "queued"
    run_jobs()
    job = jobs.get(job_id)
    assert job.state == "completed"
    assert stage_events(job_id).count(("stage:tts", "start")) == tts_starts
    assert stage_events(job_id).count(("stage:visuals", "start")) == 2
    assert outputs(job_id)["providers"]["voice"] == "en-us"  # the voice it spoke with, before the retry


def test_retry_refuses_jobs_that_did_not_fail(client):
    job_id = client.post("/api/v1/jobs", json={"script": SCRIPT}).json["id"]
    assert client.post(f"/api/v1/jobs/{job_id}/retry").status_code == 409


def test_byok_keys_lost_in_a_restart_fail_the_job_clearly(client, run_jobs):
    job_id = client.post("/api/v1/jobs", json={"script": SCRIPT, "keys": {"PEXELS_API_KEY": "px-secret"}}).json["id"]
    keyring.drop(job_id)
    run_jobs()
    job = jobs.get(job_id)
    assert job.state == "failed" and job.error["code"] == "keys_lost" and "again" in job.error["message"]


@pytest.mark.parametrize("voice", ["en-us+" + "x" * 37, "en-us+f3/../../x", "klingon", "en-us+", "+f3"])
def test_a_voice_espeak_does_not_list_is_a_400_naming_voice_before_a_job_exists(client, voice):
    response = client.post("/api/v1/jobs", json={"script": SCRIPT, "voice": voice, "providers": {"tts": "espeak"}})
    assert response.status_code == 400, response.json
    error = response.json["error"]
    assert error["code"] == "validation_error" and error["message"].startswith("voice: unknown voice")
    assert error["details"]["errors"][0]["field"] == "voice"
    assert jobs.Job.select().count() == 0


@pytest.mark.parametrize("voice", ["en-us", "EN-GB", "fr", "en-us+f3", "en-us+Mr serious", "de+whisper"])
def test_voices_and_variants_espeak_lists_are_accepted_and_spoken(voice, tmp_path):
    from moneyreels.providers.tts import voice_problem

    assert voice_problem("espeak", voice, {}) is None
    assert EspeakTTS().synthesize("Hello there.", tmp_path / "v.wav", voice=voice).duration > 0.3


def test_a_stored_job_with_a_voice_espeak_lacks_fails_cleanly(client, run_jobs):
    # Queued before voices were checked at creation: the provider check runs again when the job does.
    job_id = client.post("/api/v1/jobs", json={"script": SCRIPT, "providers": {"tts": "espeak"}}).json["id"]
    stored = {**Job.get_by_id(job_id).request, "voice": "en-us+" + "A" * 60}
    Job.update(request=stored).where(Job.id == job_id).execute()
    run_jobs()
    job = jobs.get(job_id)
    assert job.state == "failed" and job.error["code"] == "validation_error"
    assert job.error["message"].startswith("voice: unknown voice")


def test_the_engine_itself_never_hands_an_unlisted_variant_to_the_library(tmp_path):
    with pytest.raises(TTSError, match="unknown voice"):
        EspeakTTS().synthesize("Hello.", tmp_path / "v.wav", voice="en-us+" + "A" * 60)


def test_a_remote_voice_name_is_left_to_its_service(client, configure):
    configure(provider_keys={"ELEVENLABS_API_KEY": "el-test"})
    response = client.post("/api/v1/jobs", json={"script": SCRIPT, "voice": "JBFqnCBsd6RMkjVDRZzb",
                                                 "providers": {"tts": "elevenlabs", "image": "local"}})
    assert response.status_code == 201, response.json


def test_a_named_remote_voice_without_its_key_gives_way_to_espeak(client, settings, run_jobs):
    assert "ELEVENLABS_API_KEY" not in settings.provider_keys
    response = client.post("/api/v1/jobs", json={"script": SCRIPT, "providers": {"tts": "elevenlabs"}})
    assert response.status_code == 201
    run_jobs()
    job = client.get(f"/api/v1/jobs/{response.json['id']}").json
    assert job["status"] == "completed" and job["providers"]["tts"] == "espeak"
    assert "elevenlabs needs ELEVENLABS_API_KEY" in job["stages"]["tts"]["detail"]


def test_a_failing_remote_voice_falls_back_to_espeak(client, settings, run_jobs, monkeypatch):
    from tests.support.fakes import FakeServer, Reply

    with FakeServer() as fake:
        fake.route("POST", "/v1/audio/speech", lambda request: Reply(401, {"error": {"message": "bad key"}}))
        monkeypatch.setattr("moneyreels.providers.tts.openai.OpenAITTS.default_base_url", fake.url)
        job_id = client.post("/api/v1/jobs", json={"script": SCRIPT, "providers": {"tts": "openai-tts", "image": "local"},
                                                   "keys": {"OPENAI_API_KEY": "sk-test"}}).json["id"]
        run_jobs()
    job = jobs.get(job_id)
    assert job.state == "completed", job.error
    assert job.stages["tts"]["detail"].endswith("(espeak fallback)")
    assert ("stage:tts", "error") in stage_events(job_id)
    assert outputs(job_id)["narration"]["provider"] == "espeak"


def test_a_piper_voice_that_cannot_load_falls_back_to_espeak(client, configure, run_jobs, tmp_path, piper_voice):
    folder = tmp_path / "voices"
    folder.mkdir()
    (folder / "en_GB-broken-low.onnx").write_bytes(b"not a model")
    (folder / "en_GB-broken-low.onnx.json").write_text("{}")
    configure(piper_voices_dir=str(folder))
    body = {"script": SCRIPT, "voice": "en_GB-broken-low", "noMusic": True}
    job_id = client.post("/api/v1/jobs", json=body).json["id"]
    run_jobs()
    job = jobs.get(job_id)
    assert job.state == "completed", job.error
    assert job.stages["tts"]["detail"].endswith("(espeak fallback)")
    assert outputs(job_id)["narration"]["speaker"] == {"provider": "espeak", "name": "en-us"}
    assert outputs(job_id)["providers"]["tts"] == "espeak"


def test_cancel_while_piper_speaks_stops_before_the_next_line(client, settings, run_jobs, monkeypatch, piper_voice):
    cancel_when_called(monkeypatch, PiperTTS, "synthesize")
    job_id = client.post("/api/v1/jobs", json={"script": SCRIPT}).json["id"]
    run_jobs()
    job = jobs.get(job_id)
    assert job.state == "cancelled" and job.stages["tts"]["status"] == "pending"
    assert len(list((settings.jobs_dir / job_id / "tts").glob("scene-*.wav"))) == 1  # one line, then the checkpoint


def test_a_failing_image_provider_falls_back_to_drawn_art(client, settings, run_jobs, monkeypatch):
    from tests.support.fakes import FakeServer, Reply

    with FakeServer() as fake:
        fake.route("POST", "/v1/images/generations", lambda request: Reply(401, {"error": {"message": "no"}}))
        monkeypatch.setattr("moneyreels.providers.images.OpenAIImages.default_base_url", fake.url)
        job_id = client.post("/api/v1/jobs", json={"script": SCRIPT, "providers": {"image": "openai"},
                                                   "keys": {"OPENAI_API_KEY": "sk-test"}}).json["id"]
        run_jobs()
    job = jobs.get(job_id)
    assert job.state == "completed", job.error
    errors = [e for e in events.after(job_id) if e.type == "stage:visuals" and e.payload["type"] == "error"]
    ai_images = [i for i, s in enumerate(outputs(job_id)["score"]["scenes"]) if s["visual_type"] == "ai_image"]
    assert [e.payload["sceneIndex"] for e in errors] == ai_images and all(e.payload["fallback"] for e in errors)
    assert {outputs(job_id)["assets"][i]["source"] for i in ai_images} == {"drawn"}
    assert outputs(job_id)["providers"]["image"] == "openai"


def test_stock_scenes_use_the_stock_provider_when_it_answers(client, settings, run_jobs, monkeypatch, tmp_path):
    from tests.support.fakes import FakeServer, Reply
    from tests.support.media import noise_image

    photo = noise_image(tmp_path / "photo.jpg", 1080, 1920).read_bytes()
    with FakeServer() as fake:
        fake.route("GET", "/v1/search", lambda request: {"photos": [{
            "id": 7, "width": 1080, "height": 1920, "url": "https://www.pexels.com/photo/7",
            "src": {"original": fake.url + "/files/7.jpg", "large2x": fake.url + "/files/7.jpg"}}]})
        fake.route("GET", "/files/7.jpg", lambda request: Reply(200, photo, {"Content-Type": "image/jpeg"}))
        monkeypatch.setattr("moneyreels.providers.stock.Pexels.default_base_url", fake.url)
        job_id = client.post("/api/v1/jobs", json={"script": SCRIPT, "providers": {"stock": "pexels"},
                                                   "keys": {"PEXELS_API_KEY": "px-test"}}).json["id"]
        run_jobs()
    job = jobs.get(job_id)
    assert job.state == "completed", job.error
    stock = [a for a in outputs(job_id)["assets"] if a["visualType"] == "stock_image"]
    assert stock and stock[0]["source"] == "pexels" and stock[0]["credit"] == "https://www.pexels.com/photo/7"
    assert outputs(job_id)["actualCost"]["breakdown"]["stock"] == 0


@pytest.mark.parametrize("script, words", [(" ".join(["word"] * 900) + ".", "words: cut "), ("Hi.", "too short")])
def test_a_script_that_cannot_fit_is_refused_at_creation(client, script, words):
    response = client.post("/api/v1/jobs", json={"script": script})
    assert response.status_code == 400
    assert response.json["error"]["message"].startswith("script: ") and words in response.json["error"]["message"]
    assert response.json["error"]["details"]["errors"][0]["field"] == "script"


def test_a_script_job_works_with_relative_folders_as_a_fresh_install_has_them(tmp_path, monkeypatch):
    from moneyreels import create_app
    from moneyreels.config import Settings

    # The defaults: data/, output/ and media/ relative to where `python app.py` runs.
    monkeypatch.chdir(tmp_path)
    settings = Settings(output_scale=0.125, ollama_url="http://127.0.0.1:9/v1", rate_limit=0, api_rate_limit=0)
    client = create_app(settings).test_client()
    job_id = client.post("/api/v1/jobs", json={"script": SCRIPT}).json["id"]
    Worker(settings, kinds.runners()).loop()
    job = jobs.get(job_id)
    assert job.state == "completed", job.error
    assert job.result_path == str(tmp_path / "output" / job_id / "final.mp4")
    assert client.get(f"/api/v1/jobs/{job_id}/artifacts/final.mp4").status_code == 200
    assert client.get(f"/api/jobs/{job_id}").json["job"]["resultPath"] == job.result_path
