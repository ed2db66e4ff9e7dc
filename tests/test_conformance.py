"""Every request example of the reference docs, replayed verbatim against the real server.

The examples are read from the docs themselves (tests/reference/, copies of the documents in
the project's shared reference folder), so a doc and this suite cannot drift apart. Only these
are changed, each for a stated reason:

- asset URLs (`https://example.com/...`) point at a loopback server of small generated media,
  and webhook URLs at a loopback receiver: tests never reach the internet;
- Reel Forge's `output` is scaled from 1080x1920 to 108x192 to keep the suite quick: no example
  is about the output size (layouts are in percent); every other key, duration and fps is kept;
- the doc's own broken example (Recipe 5's cURL body) is replayed as written first, then fixed.

Each example's answer is checked against the status and shape the same doc documents.
"""

import json
import re
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.support.fakes import FakeServer, Reply, WebhookReceiver
from tests.support.live import LiveServer
from tests.support.video import FFMPEG, probe
from tests.test_client_expectations import QUIET, SCRIPT, real  # noqa: F401 - `real` is a fixture

pytestmark = pytest.mark.server

DOCS = Path(__file__).parent / "reference"
SCALED = {"width": 108, "height": 192}
# What each recipe's "The Goal" asks for, in seconds of output.
GOAL_SECONDS = {"Recipe 1": 15, "Recipe 2": 15, "Recipe 3": 10, "Recipe 4": 10, "Recipe 5": 9}


def read(name) -> str:
    return (DOCS / name).read_text()


def json_after(text, marker, opening="{"):
    """The JSON value opening at the first `opening` after `marker` (the docs' `{ ... }` elisions read as {})."""
    start = text.index(opening, text.index(marker) + len(marker))
    return json.JSONDecoder().raw_decode(text[start:].replace("{ ... }", "{}"))[0]


def assert_shape(documented, actual, where="body"):
    """Every key the doc shows is there, holding the same JSON type (null where the doc shows a value is fine).

    A `"…"` key is the doc's elision of the keys it does not list.
    """
    if isinstance(documented, dict):
        assert isinstance(actual, dict), where
        for key, value in documented.items():
            if key == "…":
                continue
            assert key in actual, f"{where}.{key} missing"
            if actual[key] is not None and value is not None and value != {}:
                assert_shape(value, actual[key], f"{where}.{key}")
    elif isinstance(documented, list) and documented and actual:
        for item in actual:
            assert_shape(documented[0], item, f"{where}[]")
    elif isinstance(documented, (int, float)) and not isinstance(documented, bool):
        assert isinstance(actual, (int, float)) and not isinstance(actual, bool), where
    else:
        assert type(actual) is type(documented), where


# -- Reel Forge: every manifest, cURL body and snippet of reelforge-api.md.

def reel_forge_examples() -> list[tuple[str, str, str]]:
    """(section, kind, raw text) of each code block: kind is `json` or `curl` (its -d body)."""
    text = read("reelforge-api.md")
    headings = [(m.start(), m.group(1), m.group(2)) for m in re.finditer(r"^(#{2,4}) (.*)$", text, re.M)]
    found = []
    for block in re.finditer(r"```(\w+)\n(.*?)```", text, re.S):
        h2 = next(title for at, level, title in reversed(headings) if at < block.start() and level == "##")
        h3 = next((title for at, level, title in reversed(headings) if at < block.start() and level != "##"), "")
        section = " ".join(h2.split()[:3]) + " / " + " ".join(h3.split()[:4])
        body = re.search(r"-d '(.*)'", block.group(2), re.S)
        if block.group(1) == "json":
            found.append((section, "json", block.group(2)))
        elif block.group(1) == "bash" and body:
            found.append((section, "curl", body.group(1)))
    return found


EXAMPLES = reel_forge_examples()
RESPONSE_KEYS = ({"success"}, {"code", "message"}, {"id", "type", "data", "created_at"})


def is_response(value) -> bool:
    return any(keys <= set(value) for keys in RESPONSE_KEYS)


def parses(raw) -> bool:
    try:
        json.loads(raw)
    except ValueError:
        return False
    return True


def manifests() -> list:
    """The distinct request bodies, whole or cURL, in doc order (a cURL that repeats its JSON is one case)."""
    seen, cases = [], []
    for section, kind, raw in EXAMPLES:
        if not parses(raw):
            continue
        body = json.loads(raw)
        if "version" in body and body not in seen:
            seen.append(body)
            cases.append(pytest.param(section, raw, id=f"{section} ({kind})"))
    return cases


def snippets() -> list:
    return [pytest.param(section, raw, id=section) for section, kind, raw in EXAMPLES
            if kind == "json" and "version" not in json.loads(raw) and not is_response(json.loads(raw))]


def make_media(root: Path) -> dict[str, Path]:
    """Small media standing in for each kind of file the examples name."""
    def ffmpeg(*args):
        subprocess.run([FFMPEG, "-v", "error", "-y", *args], check=True)

    files = {"clip5": root / "clip5.mp4", "clip15": root / "clip15.mp4", "long": root / "long.mp4",
             "beat": root / "beat.mp3", "logo": root / "logo.png"}
    clips = (("clip5", 5, "96x54", 30), ("clip15", 15, "96x54", 30), ("long", 100, "48x28", 5))
    for name, seconds, size, rate in clips:
        ffmpeg("-f", "lavfi", "-i", f"testsrc2=s={size}:r={rate}:d={seconds}", "-f", "lavfi", "-i",
               f"sine=f=330:d={seconds}", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
               "-c:a", "aac", "-b:a", "32k", "-shortest", "-movflags", "+faststart", str(files[name]))
    ffmpeg("-f", "lavfi", "-i", "sine=f=440:d=4", "-c:a", "libmp3lame", "-b:a", "64k", str(files["beat"]))
    logo = np.zeros((40, 40, 4), np.uint8)
    logo[10:30, 10:30] = (255, 215, 0, 255)
    Image.fromarray(logo).save(files["logo"])
    return files


def media_for(path: str, files) -> Path:
    name = path.rsplit("/", 1)[-1]
    if name in ("intro.mp4", "middle.mp4", "outro.mp4"):  # Recipe 1: "three separate 5-second video clips"
        return files["clip5"]
    if name == "full-2-hour-podcast.mp4":  # Recipe 3 trims from 90 s in
        return files["long"]
    return files[{".mp4": "clip15", ".mp3": "beat", ".png": "logo"}[Path(name).suffix]]


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    """Serve every example.com path the docs name, at its own path, on 127.0.0.1."""
    files = make_media(tmp_path_factory.mktemp("media"))
    text = read("reelforge-api.md")
    kinds = {".mp4": "video/mp4", ".mp3": "audio/mpeg", ".png": "image/png"}
    with FakeServer() as server:
        for path in set(re.findall(r"https://example\.com(/[\w./-]+)", text)):
            data = media_for(path, files).read_bytes()
            reply = Reply(200, data, {"Content-Type": kinds[Path(path).suffix]})
            for method in ("HEAD", "GET"):  # Smart Trim checks a remote asset with HEAD first
                server.route(method, path, lambda request, reply=reply: reply)
        yield server


@pytest.fixture(scope="module")
def receiver():
    with WebhookReceiver() as hooks:
        yield hooks


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    live = LiveServer(tmp_path_factory.mktemp("conformance"), TICKS=20, TICK_INTERVAL=0.02, **QUIET).start()
    yield live
    live.stop()


def localised(raw: str, assets, receiver) -> dict:
    """The example with its URLs on loopback and its output scaled down (see the module docstring)."""
    raw = raw.replace("https://api.example.com/reelforge/webhooks", receiver.hook_url)
    body = json.loads(raw.replace("https://example.com", assets.url))
    if "output" in body:
        body["output"] = {**body["output"], **SCALED}
    return body


def submit(server, body: dict, headers=None):
    # The docs' `Authorization: Bearer ` header, as written (this server needs no key).
    headers = {"Content-Type": "application/json", "Authorization": "Bearer ", **(headers or {})}
    status, _, answer = server.exchange("POST", "/v1/videos/render", json.dumps(body).encode(), headers)
    return status, json.loads(answer)


def finished(server, job_id, timeout=240) -> dict:
    """Poll GET /v1/jobs/:jobId as the docs' workflow says, until completed or failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = server.request("GET", f"/v1/jobs/{job_id}")
        assert status == 200
        if body["data"]["status"] in ("completed", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"render {job_id} did not finish")


def render_and_check(server, body, tmp_path) -> dict:
    """Submit, expect the documented 202, poll to the documented 200, and check the MP4 served."""
    text = read("reelforge-api.md")
    status, accepted = submit(server, body)
    assert status == 202, accepted
    assert_shape(json_after(text, "Response Example (`202 Accepted`)"), accepted)
    assert "warnings" not in accepted, accepted["warnings"]
    done = finished(server, accepted["job_id"])
    assert done["data"]["status"] == "completed", done.get("error")
    assert_shape(json_after(text, "Response Example (`200 OK`)\n```json"), done)
    status, _, video = server.exchange("GET", done["data"]["output_url"].removeprefix(server.url))
    assert status == 200
    (tmp_path / "out.mp4").write_bytes(video)
    info = probe(tmp_path / "out.mp4")
    assert (info["video"]["width"], info["video"]["height"]) == (SCALED["width"], SCALED["height"])
    assert abs(info["duration"] - done["data"]["total_duration_seconds"]) < 0.2
    return done


@pytest.mark.parametrize("section,raw", manifests())
def test_reel_forge_request_examples_render(server, assets, receiver, section, raw, tmp_path):
    body = localised(raw, assets, receiver)
    done = render_and_check(server, body, tmp_path)
    goal = next((seconds for recipe, seconds in GOAL_SECONDS.items() if section.startswith(recipe)), None)
    if goal:
        assert done["data"]["total_duration_seconds"] == pytest.approx(goal, abs=0.05), section
    if "webhook_url" in body:
        event = delivered(receiver, done["data"]["id"])
        assert_shape(json_after(read("reelforge-api.md"), "### Event Payload Contract"), event)
        assert event["type"] == "video.render.completed" and event["data"]["metadata"] == body.get("metadata", {})


def delivered(receiver, job_id, timeout=30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for request in receiver.requests:
            event = request.json
            if event["data"]["job_id"] == job_id:
                assert request.headers["user-agent"] == "ReelForge-Webhooks/1.0"
                assert request.headers["x-environment"] == "production"
                return event
        time.sleep(0.1)
    raise AssertionError(f"no webhook for {job_id}")


def test_the_node_fetch_example_renders_and_calls_its_webhook(server, assets, receiver, tmp_path):
    # "Request Example (Node.js fetch with webhook config)": its body is a JavaScript object
    # literal (not JSON), copied here key for key.
    body = {"version": "v1", "output": {"width": 1080, "height": 1920, "fps": 30},
            "assets": [{"id": "clip1", "type": "video", "url": "https://example.com/clip1.mp4"}],
            "composition": {"auto_stitch": True, "timeline": [{"id": "video-1", "type": "video", "asset_id": "clip1"}]},
            "webhook_url": "https://api.example.com/reelforge/webhooks",
            "webhook_headers": {"X-Environment": "production"},
            "metadata": {"make_scenario_id": "12345", "user_email": "test@test.com"}}
    body = localised(json.dumps(body), assets, receiver)
    done = render_and_check(server, body, tmp_path)
    assert delivered(receiver, done["data"]["id"])["data"]["metadata"] == body["metadata"]


def test_recipe_5_curl_body_is_broken_in_the_doc_and_its_fix_is_the_recipes_payload(server, assets, receiver):
    [(section, raw)] = [(section, raw) for section, kind, raw in EXAMPLES if kind == "curl" and not parses(raw)]
    assert section.startswith("Recipe 5")
    # As written, the body has a trailing comma after the music layer and one `}` too many at
    # the end: any JSON parser refuses it, and so does the server, in Reel Forge's envelope.
    status, _, answer = server.exchange("POST", "/v1/videos/render", raw.encode(),
                                        {"Content-Type": "application/json", "Authorization": "Bearer "})
    refused = json.loads(answer)
    assert status == 400 and refused["error"]["code"] == "invalid_json"
    assert_shape(json_after(read("reelforge-api.md"), "### Synchronous API Errors"), refused)
    # Corrected (comma and extra brace dropped), it is exactly the recipe's JSON payload, which
    # test_reel_forge_request_examples_render renders.
    fixed, end = json.JSONDecoder().raw_decode(re.sub(r",(\s*[\]}])", r"\1", raw))
    assert fixed == json.loads(next(raw for s, kind, raw in EXAMPLES if s.startswith("Recipe 5") and kind == "json"))


def wrapped(fragment: dict, assets) -> dict:
    """A snippet (one layer, one text overlay, or a composition) in the smallest manifest around it.

    Snippet layers name assets the snippet does not define: each gets a doc-named media URL of its
    type. A video or audio layer without `time` is shown with `auto_stitch`, as the doc allows; an
    image layer without it gets the `time` the doc says images must have.
    """
    if "composition" in fragment:
        composition = fragment["composition"]
    elif "content" in fragment:
        composition = {"text_overlays": [fragment]}
    else:
        layer = dict(fragment)
        if layer["type"] == "image" and "time" not in layer:
            layer["time"] = {"start_seconds": 0, "duration_seconds": 2}
        composition = {"timeline": [layer], "auto_stitch": "time" not in layer}
    urls = {"video": "/video1.mp4", "audio": "/looping-beat.mp3", "image": "/logo.png"}
    used = {layer["asset_id"]: layer["type"] for layer in composition.get("timeline", [])}
    return {"version": "v1", "output": {"fps": 30, **SCALED},
            "assets": [{"id": asset, "type": kind, "url": assets.url + urls[kind]} for asset, kind in used.items()],
            "composition": composition}


@pytest.mark.parametrize("section,raw", snippets())
def test_reel_forge_snippets_render_in_a_minimal_manifest(server, assets, section, raw, tmp_path):
    render_and_check(server, wrapped(json.loads(raw), assets), tmp_path)


def test_reel_forge_idempotent_replay_answers_the_documented_200(server, assets, receiver):
    raw = next(raw for section, kind, raw in EXAMPLES if kind == "curl" and section.startswith("API Reference"))
    body = localised(raw, assets, receiver)
    first = submit(server, body, {"idempotency-key": "conformance-replay"})
    again = submit(server, body, {"idempotency-key": "conformance-replay"})
    assert first[0] == 202 and again[0] == 200
    assert_shape(json_after(read("reelforge-api.md"), "Response Example (`200 OK`, idempotent replay)"), again[1])
    assert again[1]["data"]["job"]["id"] == first[1]["job_id"]


# -- OpenReels: the create body, and each documented GET.

REST = read("openreels-rest-api.md")


def test_openreels_create_body_is_accepted_as_documented(server):
    body = json_after(REST, "Request Body")
    status, created = server.request("POST", "/api/v1/jobs", body)
    assert status == 201, created
    assert_shape(json_after(REST, "Response 201 Created"), created)
    assert (created["topic"], created["archetype"], created["status"]) == (body["topic"], body["archetype"], "queued")
    status, job = server.request("GET", f"/api/v1/jobs/{created['id']}")
    assert status == 200
    documented = json_after(REST, "full metadata")
    # The doc shows a finished job; a queued one has the same stages, without details yet.
    assert_shape({k: v for k, v in documented.items() if k != "stages"}, job)
    assert set(job["stages"]) == set(documented["stages"])
    statuses = REST[REST.index("Stage statuses:"):].split("\n", 1)[0]
    assert all(f'"{stage["status"]}"' in statuses for stage in job["stages"].values())
    # The stream a client opens next ends with a documented terminal event.
    stream = server.sse(f"/api/v1/jobs/{created['id']}/events")
    assert stream[1][0] == "job:snapshot" and stream[-1][0] in ("job:completed", "job:failed")


@pytest.mark.parametrize("path,marker", [("/api/v1/health", "GET /api/v1/health"),
                                         ("/api/v1/stats", "GET /api/v1/stats"),
                                         ("/api/v1/jobs", "GET /api/v1/jobs\n")])
def test_openreels_reads_have_the_documented_shape(server, path, marker):
    server.request("POST", "/api/v1/jobs", {"topic": "The history of the Roman Colosseum"})
    status, body = server.request("GET", path)
    assert status == 200
    assert_shape(json_after(REST, marker), body)


@pytest.mark.parametrize("path", ["/api/v1/archetypes", "/api/v1/platforms"])
def test_openreels_catalogs_are_documented_arrays(server, path):
    status, body = server.request("GET", path)
    assert status == 200 and body
    assert_shape(json_after(REST, f"GET {path}", opening="["), body)


def test_openreels_providers_have_the_documented_categories_and_keys(server):
    documented = json_after(REST, "GET /api/v1/providers")
    status, body = server.request("GET", "/api/v1/providers")
    assert status == 200
    assert_shape(documented, body)
    for category, entries in documented.items():
        assert {entry["key"] for entry in entries} <= {entry["key"] for entry in body[category]}, category


def test_openreels_cancel_and_delete_answer_as_documented(server):
    job_id = server.request("POST", "/api/v1/jobs", {"topic": "Black holes explained"})[1]["id"]
    cancelled = server.request("POST", f"/api/v1/jobs/{job_id}/cancel")
    assert cancelled[0] == 200 and cancelled[1]["status"] == json_after(REST, "POST /api/v1/jobs/:id/cancel")["status"]
    finished_at = time.monotonic() + 30
    while server.request("GET", f"/api/v1/jobs/{job_id}")[1]["status"] != "cancelled":
        assert time.monotonic() < finished_at
        time.sleep(0.1)
    assert server.request("POST", f"/api/v1/jobs/{job_id}/cancel")[0] == 409
    status, deleted = server.request("DELETE", f"/api/v1/jobs/{job_id}")
    assert status == 200 and deleted["status"] == json_after(REST, "DELETE /api/v1/jobs/:id")["status"]
    assert server.request("GET", f"/api/v1/jobs/{job_id}")[0] == 404


def test_openreels_artifact_examples_name_ids_of_another_format(server):
    # OpenReels' ids are counters ("1"); MoneyReels' are UUIDs, so the doc's own artifact
    # examples are the documented 400 "Invalid job ID format", never a 404 or a file.
    for path in re.findall(r"^GET (/api/v1/jobs/1/artifacts/\S+?\.(?:mp4|png))", REST, re.M):
        status, body = server.request("GET", path)
        assert status == 400 and body["error"]["code"] == "invalid_id", path


SSE_DOC = read("openreels-sse-events.md")
# Documented stage events an offline job cannot send: research results need an LLM, and
# music_generated an AI music provider (MoneyReels synthesizes its music).
NOT_OFFLINE = {"results", "music_generated"}


def documented_events() -> list[tuple[str, dict]]:
    """Each `event:` / `data:` example of the SSE doc, its elisions (`[...]`, `{...}`) read as empty."""
    found = []
    for match in re.finditer(r"^event: (\S+)\ndata: (\{.*)$", SSE_DOC, re.M):
        data = match.group(2).replace("[...]", "[]").replace("{...}", "{}")
        found.append((match.group(1), json.JSONDecoder().raw_decode(data)[0]))
    return found


def test_openreels_sse_events_have_the_documented_shapes(real):
    completed = real.request("POST", "/api/v1/jobs", {"script": SCRIPT})[1]["id"]
    failed = real.request("POST", "/api/v1/jobs", {"topic": "Black holes"})[1]["id"]
    streams = [real.sse(f"/api/v1/jobs/{job_id}/events?lastEventId=0", timeout=180) for job_id in (completed, failed)]
    sent = [(name, data) for stream in streams for name, data in stream]
    assert [stream[-1][0] for stream in streams] == ["job:completed", "job:failed"]
    for name, documented in documented_events():
        kind = documented.get("type")
        if kind in NOT_OFFLINE:
            continue
        # Stage events match by their `type`: start, complete, error... are alike for every stage.
        ours = [(event, data) for event, data in sent
                if (event == name if kind is None else event.startswith("stage:") and data.get("type") == kind)]
        assert ours, (name, kind)
        if name == "job:snapshot":
            # The doc's snapshot is of a job mid-research; the stage names are what every snapshot shares.
            assert all(set(data["stages"]) == set(documented["stages"]) for _, data in ours)
            documented = {key: value for key, value in documented.items() if key != "stages"}
        for event, data in ours:
            assert_shape(documented, data, f"{event} {kind or ''}")
            if kind:
                assert event == f"stage:{data['stage']}", (event, data)


# -- OpenStory: the create call and the poll that follows.

STORY = read("openstory-public-api.md")


def test_openstory_create_call_and_poll_work_as_documented(server):
    body = json.loads(re.search(r"-d '(\{.*?\})'", STORY, re.S).group(1))
    headers = {"Authorization": "Bearer os-example-key", "Content-Type": "application/json"}
    status, _, raw = server.exchange("POST", "/api/v1/sequences", json.dumps(body).encode(), headers)
    created = json.loads(raw)
    assert status == 202, created
    assert_shape(json_after(STORY, "Response (202):"), created)
    [sequence] = created["sequences"]
    assert sequence["id"].startswith("seq_") and sequence["status"] == "draft"
    poll = re.search(r'curl "https://openstory\.so(/api/v1/sequences/seq_…\?wait=60s)"', STORY).group(1)
    status, headers, raw = server.exchange("GET", poll.replace("seq_…", sequence["id"]))
    assert status == 200 and {"X-Wait-Changed", "X-Wait-Done"} <= set(headers)
    document = json.loads(raw)
    assert {"status", "frames", "music", "poster", "video", "counts", "_links"} <= set(document)


def test_openstory_discovery_is_open_and_errors_are_the_json_envelope(server):
    for path in ("/api/v1", "/api/v1/openapi.json"):
        assert server.request("GET", path)[0] == 200, path
    status, body = server.request("GET", "/api/v1/sequences/seq_nothex")
    assert status == 400 and set(body) == {"error"} and {"code", "message"} <= set(body["error"])


# -- MoneyPrinter: each documented call, first as written, then on a live job.

PRINTER = read("moneyprinter-jobs-api.md")


def printer_calls() -> list[tuple[str, str]]:
    # The doc's `events?after= 42` has a space its page layout put there; the call is `after=42`.
    return [(method or "GET", path.replace("after= 42", "after=42"))
            for method, path in re.findall(r"^curl (?:-X (\w+) )?http://localhost:8080(\S+(?: 42)?)$", PRINTER, re.M)]


def test_moneyprinter_calls_as_written_get_the_documented_errors(server):
    calls = printer_calls()
    assert len(calls) == 5
    for method, path in calls[:-1]:
        # The doc's example id names no job here: each answers the doc's "Error Response".
        assert server.request(method, path) == (404, {"status": "error", "message": "Job not found."}), path


def test_moneyprinter_calls_on_a_live_job_answer_the_documented_shapes(server):
    *job_calls, (cancel_method, cancel_any) = printer_calls()
    example_id = "a1b2c3d4-e5f6-7890-abcd-ef1234567890"
    job_id = server.request("POST", "/api/generate", {"videoSubject": "Tides"})[1]["jobId"]
    job, events, cancelled, cancelled_any = [json.JSONDecoder().raw_decode(PRINTER[m.end():])[0]
                                             for m in re.finditer(r"Example Response\n", PRINTER)]
    # The two events calls share one example response.
    for (method, path), documented in zip(job_calls, (job, events, events, cancelled)):
        status, body = server.request(method, path.replace(example_id, job_id))
        assert status == 200, path
        assert_shape({k: v for k, v in documented.items() if k != "events"}, body)
        if "events" in body:
            for event in body["events"]:
                assert set(event) == set(documented["events"][0]), event
    status, body = server.request(cancel_method, cancel_any)
    assert status in (200, 404)
    if status == 200:
        assert_shape(cancelled_any, body)
    else:
        assert body == {"status": "error", "message": "No active job found."}
