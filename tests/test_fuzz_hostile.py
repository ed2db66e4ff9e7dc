"""Hostile values into every field of every job-creating endpoint, against the real server.

Values aimed at the C and ffmpeg boundaries (espeak voices, fonts, colours, numbers, paths, URLs,
filter syntax in text) go into each field of a manifest that uses every feature, and into the
pipeline dialects. The server must stay up, answer no 5xx, and every job it accepted must end
without an internal error: what it cannot do is a 400 before a job exists.
"""

import copy
import time

import pytest

from tests.support.live import LiveServer
from tests.support.media import noise_image

pytestmark = [pytest.mark.fuzz, pytest.mark.server]

VOICES = ["en-us+" + "A" * 37, "en-us+" + "x" * 200, "en-us+../../../../etc/passwd", "en-us+f3\x00", "\x00",
          "en-us+%n%n%n%s", "en-us+f3+f4+" * 8, "+", "en-us+", "gmw/en-US", "mb/mb-en1", "en-us\n+f3",
          "ÄÖÜ+ü", "EN-US+F3", "en_us_001"]
FONTS = ["../../../../etc/passwd", "/etc/passwd", "/dev/zero", "x\x00y", "%s%n", "A" * 200, "☃", "",
         "serif", "DejaVu Sans Bold Italic Oblique"]
COLOURS = ["#GGG", "rgba(1e308,0,0,1)", "rgb(-1,-1,-1)", "hsl(nan,0%,0%)", "rgba(255,0,0,1e-400)", "\x00",
           "red;drawtext=text=x", "red:alpha=0.5", "currentColor", "#" + "f" * 99, "rgb(" + "1," * 40 + ")"]
URLS = ["/dev/zero", "/dev/urandom", "/proc/self/environ", "file:///dev/zero", "concat:/etc/passwd|/etc/hosts",
        "subfile,,start,0,end,10,,:/etc/passwd", "pic.jpg\x00.png", "http://127.0.0.1:1/a.jpg", "http://[::1]:1/x.jpg",
        "data:image/png;base64,AAAA", "ftp://127.0.0.1/x.jpg", "\\\\server\\share\\x.jpg", "C:\\x.jpg", "~/x.jpg",
        "%2e%2e/%2e%2e/etc/passwd", "pic.jpg?x#y", "media/../../pic.jpg", "a" * 5000]
TEXTS = ["%{pts}\\':[a];text='x':fontfile=/etc/passwd", "\u202e\u202d", "\x00", "🙂" * 300, "👩‍👩‍👧‍👦" * 50,
         "\n" * 500, "W" * 2000, " "]
LENGTHS = ["-0", "1e309", "nan", "50%%", "-4096px", 1e-300, "200%"]
NUMBERS = [-1, 0, 5e-324, 1e308, 2**64, 4097, "1", None, True, [1]]
STRINGS = ["", "\x00", "A" * 5000, "☃'; DROP TABLE job; --${jndi:x}"]
POOLS = {"voice": VOICES, "font_family": FONTS, "url": URLS, "content": TEXTS, "text": TEXTS,
         "box_shadow": ["0 0 100px 1000px red", "0 0", "inset 0 0 red", "1e999px 0", "0 0 0 0 " * 50, "none"],
         **dict.fromkeys(["color", "stroke_color", "shadow_color", "highlight_color"], COLOURS),
         **dict.fromkeys(["x", "y", "width", "height", "border_radius"], LENGTHS)}


def manifest() -> dict:
    """A tiny manifest using every field the engine reads."""
    second = {"start_seconds": 0, "duration_seconds": 0.5}
    return {
        "version": "v1",
        "output": {"width": 48, "height": 64, "fps": 10, "loudness_lufs": -14},
        "assets": [{"id": "pic", "type": "image", "url": "pic.jpg"}],
        "composition": {
            "timeline": [
                {"id": "a", "type": "image", "asset_id": "pic", "time": second, "trim": {"start_seconds": 0},
                 "layout": {"x": 0, "y": "10%", "width": "90%", "height": 40, "fit": "contain", "z_index": 1},
                 "style": {"opacity": 0.9, "border_radius": 4, "box_shadow": "0 2px 4px black"},
                 "media_settings": {"volume": 1, "fade_in_seconds": 0.1, "fade_out_seconds": 0.1},
                 "motion": {"type": "zoom_in", "intensity": 0.1}},
                {"id": "b", "type": "image", "asset_id": "pic", "time": {"start_seconds": 0.5, "duration_seconds": 0.5},
                 "transition": {"type": "crossfade", "duration_seconds": 0.2}},
            ],
            "text_overlays": [{"id": "t", "content": "Hi", "time": second, "layout": {"y": "70%", "height": "20%"},
                               "style": {"font_size": 12, "font_family": "serif", "font_weight": 700, "color": "white",
                                         "text_align": "center", "letter_spacing": 0.1, "line_height": 1.2,
                                         "stroke_color": "black", "stroke_width": 1, "shadow_color": "black",
                                         "shadow_blur": 2, "shadow_offset_x": 1, "shadow_offset_y": 1}}],
            "captions": [{"words": [{"text": "one", "start_seconds": 0, "end_seconds": 0.4},
                                    {"text": "two", "start_seconds": 0.4, "end_seconds": 0.9}],
                          "highlight_color": "#FFD700", "max_words_per_page": 2, "style": {"font_size": 10}}],
        },
        "metadata": {"n": 1},
    }


def leaves(value, path=()):
    """Every (path, value) of a JSON document's scalars."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))
    else:
        yield path, value


def replaced(document, path, value):
    copied = copy.deepcopy(document)
    target = copied
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return copied


def hostile(document):
    """The document with one field at a time set to each hostile value its kind of field gets."""
    for path, original in leaves(document):
        name = next((key for key in reversed(path) if isinstance(key, str)), "")
        pool = POOLS.get(name) or (NUMBERS if isinstance(original, (int, float)) and not isinstance(original, bool)
                                   else STRINGS)
        for value in pool:
            yield path, replaced(document, path, value)


SCRIPT = "Bees dance to talk. The dance points to flowers. Its length says how far they are."
GENERATE = [("/api/v1/jobs", {"script": SCRIPT}), ("/api/generate", {"script": SCRIPT, "videoSubject": "Bees"})]


@pytest.fixture
def server(tmp_path):
    (tmp_path / "media").mkdir()
    noise_image(tmp_path / "media" / "pic.jpg")
    live = LiveServer(tmp_path, RUNNERS="real", MEDIA_DIR=tmp_path / "media", MONEYREELS_OUTPUT_SCALE="0.05",
                      MONEYREELS_RATE_LIMIT=0, MONEYREELS_API_RATE_LIMIT=0, MONEYREELS_MAX_DURATION=5).start()
    yield live
    live.stop()


def test_hostile_values_never_crash_the_server_nor_fail_a_job_internally(server):
    accepted, answers = [], []
    sent = [("/v1/videos/render", path, body) for path, body in hostile(manifest())]
    sent += [(endpoint, ("voice",), {**base, "voice": voice}) for endpoint, base in GENERATE for voice in VOICES]
    # OpenStory's own fields; its script is the pipeline's, already covered by /api/v1/jobs' base body.
    sequence = {"title": "t", "style": "noir", "targetSeconds": 10, "characters": ["a"], "locations": ["b"]}
    sent += [("/api/v1/sequences", path, {"script": SCRIPT, **body}) for path, body in hostile(sequence)]
    for endpoint, path, body in sent:
        status, answer = server.request("POST", endpoint, body)
        answers.append(status)
        assert status < 500, (endpoint, path, answer)
        assert server.process.poll() is None, (endpoint, path)
        if status in (200, 201, 202):
            job_id = answer.get("job_id") or answer.get("id") or answer.get("jobId") or answer["sequences"][0]["workflowRunId"]
            accepted.append((endpoint, path, job_id))
    assert 400 in answers and len(accepted) > 10

    deadline = time.monotonic() + 240
    broken = []
    for endpoint, path, job_id in accepted:
        while True:
            job = server.request("GET", f"/api/v1/jobs/{job_id}")[1]
            if job["status"] in ("completed", "failed", "cancelled") or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        if job["status"] not in ("completed", "failed") or job["status"] == "failed" and \
                job["error"]["code"] in ("internal_error", "worker_crashed"):
            broken.append((endpoint, path, job["status"], job["error"]))
    assert broken == [], "\n".join(map(repr, broken))
    assert server.process.poll() is None
    assert server.request("GET", "/api/v1/health")[1]["status"] == "healthy"
