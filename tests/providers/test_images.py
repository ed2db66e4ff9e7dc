"""Image providers against fakes speaking OpenAI's and Gemini's real wire formats."""

import base64
import io

import pytest
from PIL import Image

from moneyreels.providers import images
from tests.providers import remote_checks as checks
from tests.support.fakes import Reply

# Not key-shaped: only the provider's own knowledge of its key can redact these.
KEYS = {"OPENAI_API_KEY": "oai-key-3f9a27c1", "GEMINI_API_KEY": "gem-key-81d0e5b4"}
PROMPT = "A lighthouse at dawn. Vertical 9:16 composition."
PORTRAIT = (1080, 1920)


def picture(fmt="PNG", size=(64, 96)) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 80, 30)).save(buffer, fmt)
    return base64.b64encode(buffer.getvalue()).decode()


def openai_reply(request, b64=None):
    assert request.headers["authorization"] == f"Bearer {KEYS['OPENAI_API_KEY']}"
    body = request.json
    assert body["model"] == "gpt-image-1" and body["prompt"] == PROMPT and body["n"] == 1
    return {"created": 1760000000, "data": [{"b64_json": b64 or picture("JPEG")}],
            "usage": {"input_tokens": 20, "output_tokens": 1056, "total_tokens": 1076}}


def gemini_reply(request, b64=None):
    assert request.headers["x-goog-api-key"] == KEYS["GEMINI_API_KEY"]
    body = request.json
    assert body["contents"][0]["parts"] == [{"text": PROMPT}]
    assert body["generationConfig"]["responseModalities"] == ["IMAGE"]
    return {
        "candidates": [{
            "content": {"role": "model", "parts": [
                {"text": "Here is your lighthouse."},
                {"inlineData": {"mimeType": "image/png", "data": b64 or picture()}},
            ]},
            "finishReason": "STOP", "index": 0,
        }],
        "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 1290, "totalTokenCount": 1302},
        "modelVersion": "gemini-2.5-flash-image",
    }


ROUTES = {
    "openai": ("/v1/images/generations", openai_reply),
    "gemini": ("/v1beta/models/gemini-2.5-flash-image:generateContent", gemini_reply),
}
# Each API's real answer to a wrong key (Gemini's is a 400), and a bare 401.
UNAUTHORIZED = [
    ("openai", Reply(401, {"error": {"message": "Incorrect API key provided: oai-k***27c1.", "type":
                                     "invalid_request_error", "param": None, "code": "invalid_api_key"}})),
    ("gemini", Reply(400, {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                                     "status": "INVALID_ARGUMENT"}})),
    ("gemini", Reply(401, {"error": {"code": 401, "message": "Unauthorized", "status": "UNAUTHENTICATED"}})),
]
KEY_OF = {"openai": KEYS["OPENAI_API_KEY"], "gemini": KEYS["GEMINI_API_KEY"]}


def provider(name, fake, sleeps, **client_options):
    path, handler = ROUTES[name]
    fake.route("POST", path, handler)
    return images.build(name, KEYS, base_url=fake.url,
                        client_options={"sleep": sleeps.append, "timeout": (1, 2), **client_options})


def generate(name, fake, sleeps, tmp_path, **client_options):
    return lambda: provider(name, fake, sleeps, **client_options).generate(PROMPT, PORTRAIT, tmp_path / "out.jpg")


@pytest.mark.parametrize("name", ["openai", "gemini"])
def test_generates_a_jpeg(fake, sleeps, tmp_path, name):
    out = generate(name, fake, sleeps, tmp_path)()
    assert out == tmp_path / "out.jpg"
    with Image.open(out) as image:
        assert image.format == "JPEG" and image.size == (64, 96)
    assert len(fake.requests) == 1


def test_saves_png_when_asked(fake, sleeps, tmp_path):
    out = provider("openai", fake, sleeps).generate(PROMPT, PORTRAIT, tmp_path / "out.png")
    with Image.open(out) as image:
        assert image.format == "PNG"


@pytest.mark.parametrize("size, shape, aspect", [
    ((1080, 1920), "1024x1536", "9:16"), ((1920, 1080), "1536x1024", "16:9"),
    ((1000, 1000), "1024x1024", "1:1"), ((1080, 1350), "1024x1536", "4:5"),
])
def test_asks_for_the_nearest_shape(fake, sleeps, tmp_path, size, shape, aspect):
    for name in ("openai", "gemini"):
        provider(name, fake, sleeps).generate(PROMPT, size, tmp_path / f"{name}.jpg")
    openai, gemini = (request.json for request in fake.requests)
    assert openai["size"] == shape and openai["quality"] == "medium"
    assert gemini["generationConfig"]["imageConfig"] == {"aspectRatio": aspect}


@pytest.mark.parametrize("name", ["openai", "gemini"])
@pytest.mark.parametrize("b64", [base64.b64encode(b"<html>not an image</html>").decode(), "%%% not base64 %%%",
                                 picture()[:200]], ids=["html", "not-base64", "truncated"])
def test_refuses_a_reply_that_is_not_an_image(fake, sleeps, tmp_path, name, b64):
    path, handler = ROUTES[name]
    fake.route("POST", path, lambda request: handler(request, b64))
    client = images.build(name, KEYS, base_url=fake.url, client_options={"sleep": sleeps.append})
    error = checks.raised(lambda: client.generate(PROMPT, PORTRAIT, tmp_path / "out.jpg"))
    assert "returned no image" in error.message
    assert not (tmp_path / "out.jpg").exists()


@pytest.mark.parametrize("body, why", [
    ({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}}, "prompt blocked: PROHIBITED_CONTENT"),
    ({"candidates": [{"content": {"parts": [{"text": "I can't draw that."}]}, "finishReason": "STOP"}]},
     "I can't draw that."),
    ({"candidates": [{"finishReason": "IMAGE_SAFETY"}]}, "finish reason IMAGE_SAFETY"),
])
def test_gemini_says_why_no_image_came(fake, sleeps, tmp_path, body, why):
    fake.script(Reply(200, body))
    error = checks.raised(generate("gemini", fake, sleeps, tmp_path))
    assert "returned no image" in error.message and why in error.message


def test_openai_reply_without_data_is_no_image(fake, sleeps, tmp_path):
    checks.malformed(fake, generate("openai", fake, sleeps, tmp_path), Reply(200, {"created": 1, "data": []}),
                     "returned no image")


@pytest.mark.parametrize("name, reply", UNAUTHORIZED)
def test_rejected_key_fails_at_once(fake, sleeps, tmp_path, name, reply):
    checks.rejected(fake, sleeps, generate(name, fake, sleeps, tmp_path), provider=name, key=KEY_OF[name],
                    reply=reply)


@pytest.mark.parametrize("name", ["openai", "gemini"])
def test_429_waits_as_asked_then_succeeds(fake, sleeps, tmp_path, name):
    reply = Reply(429, {"error": {"message": "Rate limit reached"}}, headers={"Retry-After": "2"})
    assert checks.retried(fake, sleeps, generate(name, fake, sleeps, tmp_path), reply, 2.0).exists()


def test_gemini_429_retry_delay_is_honoured(fake, sleeps, tmp_path):
    reply = Reply(429, {"error": {"code": 429, "message": "Resource exhausted", "status": "RESOURCE_EXHAUSTED",
                                  "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                                               "retryDelay": "3s"}]}})
    assert checks.retried(fake, sleeps, generate("gemini", fake, sleeps, tmp_path), reply, 3.0).exists()


@pytest.mark.parametrize("name", ["openai", "gemini"])
def test_500_is_retried(fake, sleeps, tmp_path, name):
    reply = Reply(500, {"error": {"message": "The server had an error"}})
    assert checks.retried(fake, sleeps, generate(name, fake, sleeps, tmp_path), reply, 1.0).exists()


@pytest.mark.parametrize("name", ["openai", "gemini"])
def test_timeout(fake, sleeps, tmp_path, name):
    checks.timed_out(fake, generate(name, fake, sleeps, tmp_path, timeout=(1, 0.2), retries=1), key=KEY_OF[name])


@pytest.mark.parametrize("name", ["openai", "gemini"])
def test_malformed_body(fake, sleeps, tmp_path, name):
    checks.malformed(fake, generate(name, fake, sleeps, tmp_path), Reply(200, "<html>gateway</html>"),
                     "malformed response")


@pytest.mark.parametrize("name", ["openai", "gemini"])
def test_key_echoed_in_an_error_is_redacted(fake, sleeps, tmp_path, name):
    reply = Reply(403, {"error": {"message": f"Key {KEY_OF[name]} may not use this model"}})
    checks.echoed_key_redacted(fake, generate(name, fake, sleeps, tmp_path), key=KEY_OF[name], reply=reply)


@pytest.mark.parametrize("name, setting", [("openai", "OPENAI_API_KEY"), ("gemini", "GOOGLE_API_KEY")])
def test_missing_key_names_the_setting(name, setting):
    error = checks.raised(lambda: images.build(name, {"PEXELS_API_KEY": "px-value-1"}))
    assert error.code == "missing_key" and error.status == 400
    assert setting in error.message and "px-value-1" not in str(error.to_dict())


def test_gemini_accepts_either_google_key(fake, sleeps, tmp_path):
    fake.route("POST", ROUTES["gemini"][0], gemini_reply)
    client = images.build("gemini", {"GOOGLE_API_KEY": KEYS["GEMINI_API_KEY"]}, base_url=fake.url)
    assert client.generate(PROMPT, PORTRAIT, tmp_path / "out.jpg").exists()


def test_registry():
    assert [spec["key"] for spec in images.PROVIDERS] == list(images.IMAGE_PROVIDERS) == ["openai", "gemini"]
    assert images.available({"GEMINI_API_KEY": "k"}) == {"openai": False, "gemini": True}
    assert checks.raised(lambda: images.build("dalle", KEYS)).code == "unknown_provider"


def test_build_prompt_adds_style_and_framing():
    prompt = images.build_prompt("  A fox in the snow. ", "soft watercolor, muted tones.")
    assert prompt == ("A fox in the snow. Style: soft watercolor, muted tones. "
                      "Vertical 9:16 composition. No text, letters, captions or watermarks.")
    assert images.build_prompt("A fox", None).startswith("A fox. Vertical 9:16")

