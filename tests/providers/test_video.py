"""Video providers against fakes speaking Veo's (Gemini API) and fal's queue wire formats."""

import pytest

from moneyreels.errors import JobCancelled
from moneyreels.providers import video
from moneyreels.providers.video import veo_seconds
from tests.providers import remote_checks as checks
from tests.support.fakes import FakeServer, Reply

KEYS = {"GEMINI_API_KEY": "gem-key-5a0c93e2", "FAL_KEY": "fal-key-1b7d44f0:9c2e"}
KEY_OF = {"gemini": KEYS["GEMINI_API_KEY"], "fal": KEYS["FAL_KEY"]}
NAMES = ["gemini", "fal"]
PROMPT = "Slow dolly shot through a neon-lit rainy street"
CLIP = b"\x00\x00\x00\x20ftypisom" + b"m" * 2000
OPERATION = "models/veo-3.0-generate-preview/operations/k2f8r0q1"
KLING = "fal-ai/kling-video/v2.1/standard/text-to-video"
REQUEST_ID = "764cabcf-b745-4b3e-ae38-1200304cf45b"
QUEUE = f"/fal-ai/kling-video/requests/{REQUEST_ID}"  # fal's queue URLs name the app, not the endpoint


class Job:
    """A fake long-running job: `running` polls answer in progress, then `finish` answers."""

    def __init__(self, running: int = 2):
        self.running, self.polls = running, 0

    def poll(self) -> bool:
        """Count a poll; True once the job is done."""
        self.polls += 1
        return self.polls > self.running


def veo_routes(fake, job, finish=None):
    def submit(request):
        assert request.headers["x-goog-api-key"] == KEYS["GEMINI_API_KEY"]
        assert request.json == {"instances": [{"prompt": PROMPT}],
                                "parameters": {"aspectRatio": "9:16", "durationSeconds": 8}}
        return {"name": OPERATION}

    def operation(request):
        assert request.headers["x-goog-api-key"] == KEYS["GEMINI_API_KEY"]
        if not job.poll():
            return {"name": OPERATION, "metadata": {"@type": "type.googleapis.com/google.ai.generativelanguage"}}
        return finish or {"name": OPERATION, "done": True, "response": {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
            "generateVideoResponse": {"generatedSamples": [
                {"video": {"uri": f"{fake.url}/v1beta/files/3xq9lz:download?alt=media"}}]}}}

    def download(request):
        assert request.headers["x-goog-api-key"] == KEYS["GEMINI_API_KEY"] and request.query == {"alt": ["media"]}
        return Reply(200, CLIP, headers={"Content-Type": "video/mp4"})

    fake.route("POST", "/v1beta/models/veo-3.0-generate-preview:predictLongRunning", submit)
    fake.route("GET", f"/v1beta/{OPERATION}", operation)
    fake.route("GET", "/v1beta/files/3xq9lz:download", download)


def fal_routes(fake, job, finish=None):
    def submit(request):
        assert request.headers["authorization"] == f"Key {KEYS['FAL_KEY']}"
        assert request.json == {"prompt": PROMPT, "aspect_ratio": "9:16", "duration": "5"}
        return {"request_id": REQUEST_ID, "response_url": fake.url + QUEUE, "status_url": f"{fake.url}{QUEUE}/status",
                "cancel_url": f"{fake.url}{QUEUE}/cancel", "queue_position": 0}

    def status(request):
        assert request.headers["authorization"] == f"Key {KEYS['FAL_KEY']}"
        if not job.poll():
            state = "IN_QUEUE" if job.polls == 1 else "IN_PROGRESS"
            return Reply(202, {"status": state, "request_id": REQUEST_ID, "response_url": fake.url + QUEUE,
                               "queue_position": 0, "logs": None})
        return finish or {"status": "COMPLETED", "request_id": REQUEST_ID, "response_url": fake.url + QUEUE,
                          "logs": None, "metrics": {"inference_time": 61.2}}

    def result(request):
        assert request.headers["authorization"] == f"Key {KEYS['FAL_KEY']}"
        return {"video": {"url": f"{fake.url}/files/zebra/output.mp4", "content_type": "video/mp4",
                          "file_name": "output.mp4", "file_size": len(CLIP)}}

    def download(request):
        assert "authorization" not in request.headers  # fal's media CDN needs no key
        return Reply(200, CLIP, headers={"Content-Type": "video/mp4"})

    fake.route("POST", f"/{KLING}", submit)
    fake.route("GET", f"{QUEUE}/status", status)
    fake.route("GET", QUEUE, result)
    fake.route("GET", "/files/zebra/output.mp4", download)


ROUTES = {"gemini": veo_routes, "fal": fal_routes}


class Checkpoint:
    """Counts its calls; raises JobCancelled on call number `cancel_at`."""

    def __init__(self, cancel_at: int | None = None):
        self.calls, self.cancel_at = 0, cancel_at

    def __call__(self):
        self.calls += 1
        if self.calls == self.cancel_at:
            raise JobCancelled()


def provider(name, fake, sleeps, **client_options):
    return video.build(name, KEYS, base_url=fake.url,
                       client_options={"sleep": sleeps.append, "timeout": (1, 2), **client_options})


def generate(name, fake, sleeps, tmp_path, *, job=None, finish=None, checkpoint=None, job_timeout=30,
             **client_options):
    ROUTES[name](fake, job or Job(), finish)
    client = provider(name, fake, sleeps, **client_options)
    return lambda: client.generate(PROMPT, 5, tmp_path / "clip.mp4", checkpoint=checkpoint or Checkpoint(),
                                   poll_interval=1, timeout=job_timeout)


@pytest.mark.parametrize("name", NAMES)
def test_submits_polls_and_downloads(fake, sleeps, tmp_path, name):
    checkpoint = Checkpoint()
    out = generate(name, fake, sleeps, tmp_path, checkpoint=checkpoint)()
    assert out == tmp_path / "clip.mp4" and out.read_bytes() == CLIP
    assert sleeps == [1, 1, 1] and checkpoint.calls == 3  # two polls in progress, one done


def test_veo_download_redirect_leaves_the_key_behind(sleeps, tmp_path):
    with FakeServer() as api, FakeServer() as storage:
        done = {"name": OPERATION, "done": True, "response": {"generateVideoResponse": {"generatedSamples": [
            {"video": {"uri": f"{api.url}/v1beta/files/3xq9lz:download?alt=media"}}]}}}
        call = generate("gemini", api, sleeps, tmp_path, finish=done)
        api.route("GET", "/v1beta/files/3xq9lz:download",
                  lambda request: Reply(302, headers={"Location": f"{storage.url}/blob/3xq9lz?sig=abc"}))

        def blob(request):
            assert "x-goog-api-key" not in request.headers and request.query == {"sig": ["abc"]}
            return Reply(200, CLIP)
        storage.route("GET", "/blob/3xq9lz", blob)
        assert call().read_bytes() == CLIP
        assert len(storage.requests) == 1


def test_veo_uri_elsewhere_is_fetched_without_the_key(fake, sleeps, tmp_path):
    with FakeServer() as elsewhere:
        done = {"name": OPERATION, "done": True, "response": {"generateVideoResponse": {"generatedSamples": [
            {"video": {"uri": f"{elsewhere.url}/clip.mp4"}}]}}}
        elsewhere.route("GET", "/clip.mp4", lambda request: Reply(200, CLIP) if "x-goog-api-key" not in
                        request.headers else Reply(403, "key leaked"))
        assert generate("gemini", fake, sleeps, tmp_path, finish=done)().read_bytes() == CLIP


# How each reports a failed generation.
FAILURES = [
    ("gemini", {"name": OPERATION, "done": True, "error": {"code": 3, "message": "Prompt violates policy"}},
     "Prompt violates policy"),
    ("gemini", {"name": OPERATION, "done": True, "response": {"generateVideoResponse": {
        "raiMediaFilteredCount": 1, "raiMediaFilteredReasons": ["Video was filtered for safety"]}}},
     "returned no video (Video was filtered for safety)"),
    ("fal", {"status": "COMPLETED", "request_id": REQUEST_ID, "error": "Internal server error",
             "error_type": "internal_error"}, "fal.ai failed (COMPLETED): Internal server error"),
    ("fal", {"status": "FAILED", "request_id": REQUEST_ID}, "fal.ai failed (FAILED)"),
    ("fal", {"state": "weird"}, "unexpected status"),
]


@pytest.mark.parametrize("name, finish, expected", FAILURES)
def test_a_failed_job_is_an_error(fake, sleeps, tmp_path, name, finish, expected):
    error = checks.raised(generate(name, fake, sleeps, tmp_path, finish=finish))
    assert expected in error.message and not (tmp_path / "clip.mp4").exists()


def test_fal_result_refused_by_the_model_is_an_error(fake, sleeps, tmp_path):
    call = generate("fal", fake, sleeps, tmp_path)
    fake.route("GET", QUEUE, lambda request: Reply(422, {"detail": [
        {"loc": ["body", "prompt"], "msg": "Prompt could not be processed", "type": "content_policy_violation"}]}))
    error = checks.raised(call)
    assert error.http_status == 422 and "fal rejected the request" in error.message


def test_fal_queue_urls_on_another_host_are_refused(fake, sleeps, tmp_path):
    call = generate("fal", fake, sleeps, tmp_path)
    fake.script(Reply(200, {"request_id": REQUEST_ID, "status_url": "https://attacker.example/status",
                            "response_url": "https://attacker.example/result"}))
    assert "queue URL outside" in checks.raised(call).message
    assert len(fake.requests) == 1


@pytest.mark.parametrize("name", NAMES)
def test_a_job_that_never_finishes_times_out(fake, sleeps, tmp_path, name):
    error = checks.raised(generate(name, fake, sleeps, tmp_path, job=Job(running=10**6), job_timeout=3))
    assert "did not finish within 3 s" in error.message and error.retryable
    assert sleeps == [1, 1, 1] and len(fake.requests) == 1 + 3  # submit, then a poll a second


@pytest.mark.parametrize("name", NAMES)
def test_cancel_stops_polling_at_once(fake, sleeps, tmp_path, name):
    checkpoint = Checkpoint(cancel_at=2)
    checks.raised(generate(name, fake, sleeps, tmp_path, job=Job(running=10**6), checkpoint=checkpoint),
                  JobCancelled)
    assert len(fake.requests) == 2 and checkpoint.calls == 2  # submit and one poll: none after the cancel


@pytest.mark.parametrize("name", NAMES)
def test_401_fails_at_once(fake, sleeps, tmp_path, name):
    reply = Reply(401, {"detail": "Invalid API key"} if name == "fal" else
                  {"error": {"code": 401, "message": "Unauthenticated", "status": "UNAUTHENTICATED"}})
    checks.rejected(fake, sleeps, generate(name, fake, sleeps, tmp_path), provider=name, key=KEY_OF[name],
                    reply=reply)


@pytest.mark.parametrize("name", NAMES)
def test_429_waits_as_asked_then_succeeds(fake, sleeps, tmp_path, name):
    reply = Reply(429, {"detail": "Too many requests"}, headers={"Retry-After": "2"})
    assert checks.retried(fake, sleeps, generate(name, fake, sleeps, tmp_path), reply, 2.0).read_bytes() == CLIP


@pytest.mark.parametrize("name", NAMES)
def test_500_is_retried(fake, sleeps, tmp_path, name):
    reply = Reply(500, {"detail": "Internal Server Error"})
    assert checks.retried(fake, sleeps, generate(name, fake, sleeps, tmp_path), reply, 1.0).read_bytes() == CLIP


@pytest.mark.parametrize("name", NAMES)
def test_timeout(fake, sleeps, tmp_path, name):
    checks.timed_out(fake, generate(name, fake, sleeps, tmp_path, timeout=(1, 0.2), retries=1), key=KEY_OF[name])


@pytest.mark.parametrize("name", NAMES)
def test_malformed_body(fake, sleeps, tmp_path, name):
    checks.malformed(fake, generate(name, fake, sleeps, tmp_path), Reply(200, "<html>oops</html>"),
                     "malformed response")


@pytest.mark.parametrize("name, reply", [
    ("gemini", Reply(200, {"name": "../../evil?x=1"})), ("gemini", Reply(200, {"done": False})),
    ("fal", Reply(200, {"request_id": REQUEST_ID})),
])
def test_submit_answer_without_a_job_is_malformed(fake, sleeps, tmp_path, name, reply):
    checks.malformed(fake, generate(name, fake, sleeps, tmp_path), reply, "malformed response")
    assert len(fake.requests) == 1


@pytest.mark.parametrize("name", NAMES)
def test_key_echoed_in_an_error_is_redacted(fake, sleeps, tmp_path, name):
    reply = Reply(403, {"error": {"message": f"key {KEY_OF[name]} has no access to this model"}})
    checks.echoed_key_redacted(fake, generate(name, fake, sleeps, tmp_path), key=KEY_OF[name], reply=reply)


@pytest.mark.parametrize("model, seconds, expected", [
    ("veo-3.0-generate-preview", 5, 8), ("veo-3.1-generate-preview", 5, 6), ("veo-3.1-generate-preview", 12, 8),
    ("veo-2.0-generate-001", 5, 5), ("veo-2.0-generate-001", 4, 5),
])
def test_veo_seconds(model, seconds, expected):
    assert veo_seconds(model, seconds) == expected


def test_model_can_be_chosen_per_call(fake, sleeps, tmp_path):
    fal_routes(fake, Job(running=0))
    pro = "fal-ai/kling-video/v2.1/pro/text-to-video"
    fake.route("POST", f"/{pro}", lambda request: {"request_id": REQUEST_ID, "status_url": f"{fake.url}{QUEUE}/status",
                                                   "response_url": fake.url + QUEUE})
    provider("fal", fake, sleeps).generate(PROMPT, 8, tmp_path / "clip.mp4", checkpoint=Checkpoint(), model=pro,
                                           poll_interval=1)
    assert fake.requests[0].path == f"/{pro}"
    assert fake.requests[0].json == {"prompt": PROMPT, "aspect_ratio": "9:16", "duration": "10"}


@pytest.mark.parametrize("name, setting", [("gemini", "GOOGLE_API_KEY"), ("fal", "FAL_KEY")])
def test_missing_key_names_the_setting(name, setting):
    error = checks.raised(lambda: video.build(name, {"PEXELS_API_KEY": "px-value-1"}))
    assert error.code == "missing_key" and error.status == 400
    assert setting in error.message and "px-value-1" not in str(error.to_dict())


def test_registry():
    assert [spec["key"] for spec in video.PROVIDERS] == list(video.VIDEO_PROVIDERS) == NAMES
    assert video.available({"FAL_KEY": "k"}) == {"gemini": False, "fal": True}
    assert checks.raised(lambda: video.build("sora", KEYS)).code == "unknown_provider"
