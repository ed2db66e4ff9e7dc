"""The LLM providers against fakes of their real wire formats; generate_json; from_settings."""

import json
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from pydantic import BaseModel, Field

from moneyreels.providers.http import ProviderError
from moneyreels.providers.llm import (
    Anthropic, Gemini, OpenAICompatible, available, from_settings, generate_json, merge_keys,
)
from tests.support.fakes import FakeServer, Reply, Request

# Not key-shaped on purpose: redaction must come from the client knowing its key.
OPENAI_KEY = "test-openai-key-7f3a91"
ANTHROPIC_KEY = "test-anthropic-key-c2e4b8"
GEMINI_KEY = "test-gemini-key-5d9e06"


def openai_reply(text: str) -> dict:
    return {
        "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG", "object": "chat.completion", "created": 1741570283,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": None, "annotations": []},
                     "logprobs": None, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
        "service_tier": "default", "system_fingerprint": "fp_06737a9306",
    }


def openai_error(status: int, message: str) -> dict:
    kind = {401: "invalid_request_error", 429: "requests"}.get(status, "server_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def anthropic_reply(text: str) -> dict:
    half = len(text) // 2
    return {
        "id": "msg_013Zva2CMHLNnXjNJJKqJ2EF", "type": "message", "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [{"type": "text", "text": text[:half]}, {"type": "text", "text": text[half:]}],
        "stop_reason": "end_turn", "stop_sequence": None,
        "usage": {"input_tokens": 20, "output_tokens": 9,
                  "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
    }


def anthropic_error(status: int, message: str) -> dict:
    kind = {401: "authentication_error", 429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")
    return {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"}


def gemini_reply(text: str) -> dict:
    return {
        "candidates": [{
            "content": {"role": "model",
                        "parts": [{"text": "Planning the answer...", "thought": True}, {"text": text}]},
            "finishReason": "STOP", "index": 0,
        }],
        "usageMetadata": {"promptTokenCount": 8, "candidatesTokenCount": 5, "totalTokenCount": 43,
                          "thoughtsTokenCount": 30, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 8}]},
        "modelVersion": "gemini-2.5-flash", "responseId": "mOjJaPqxGdKnz7IPm-qz-QQ",
    }


def gemini_error(status: int, message: str) -> dict:
    kind = {400: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE"}.get(status, "INTERNAL")
    return {"error": {"code": status, "message": message, "status": kind}}


@dataclass(frozen=True)
class Api:
    """One provider's wire format, as its fake serves it."""

    name: str
    cls: type
    prefix: str  # what base_url adds to the fake's address
    path: str
    key: str
    presented: Callable[[Request], str | None]  # the key a request carries
    reply: Callable[[str], dict]
    error: Callable[[int, str], dict]
    rejected: int  # what a bad key gets: Gemini answers 400 API_KEY_INVALID, not 401
    overloaded: int

    def serve(self, fake: FakeServer, *texts: str) -> None:
        """Answer like the real API: check the key and the body, then reply with each text in turn."""
        replies = list(texts)

        def handle(request: Request) -> Reply | dict:
            assert request.headers["content-type"] == "application/json"
            if self.presented(request) != self.key:
                message = f"Incorrect API key provided: {self.presented(request)}."
                return Reply(self.rejected, self.error(self.rejected, message))
            return self.reply(replies.pop(0) if len(replies) > 1 else replies[0])

        fake.route("POST", self.path, handle)

    def client(self, fake: FakeServer, sleeps: list, key: str | None = None, **options):
        options = {"timeout": (2, 2), "retries": 2, "sleep": sleeps.append, **options}
        return self.cls(key or self.key, base_url=fake.url + self.prefix, **options)


OPENAI = Api("openai", OpenAICompatible, "/v1", "/v1/chat/completions", OPENAI_KEY,
             lambda request: request.headers.get("authorization", "").removeprefix("Bearer ") or None,
             openai_reply, openai_error, 401, 500)
ANTHROPIC = Api("anthropic", Anthropic, "", "/v1/messages", ANTHROPIC_KEY,
                lambda request: request.headers.get("x-api-key"), anthropic_reply, anthropic_error, 401, 529)
GEMINI = Api("gemini", Gemini, "", "/v1beta/models/gemini-2.5-flash:generateContent", GEMINI_KEY,
             lambda request: request.headers.get("x-goog-api-key"), gemini_reply, gemini_error, 400, 503)
APIS = pytest.mark.parametrize("api", [OPENAI, ANTHROPIC, GEMINI], ids=lambda api: api.name)


def raised(call) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        call()
    return info.value


# --- the exact requests each provider is sent -------------------------------------------------

def test_openai_request(fake, sleeps):
    OPENAI.serve(fake, '{"a": 1}')
    llm = OPENAI.client(fake, sleeps)
    assert llm.complete("You write JSON.", "Go", json_mode=True, max_tokens=123, temperature=0.2) == '{"a": 1}'
    assert llm.complete("Be brief.", "Hi") == '{"a": 1}'
    first, second = fake.requests
    assert first.path == "/v1/chat/completions" and first.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert first.json == {
        "model": "gpt-4o-mini",
        "messages": [{"role": "system", "content": "You write JSON."}, {"role": "user", "content": "Go"}],
        "max_tokens": 123, "temperature": 0.2, "response_format": {"type": "json_object"},
    }
    assert second.json == {
        "model": "gpt-4o-mini",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        "max_tokens": 2000, "temperature": 0.7,
    }
    assert llm.usage == {"input_tokens": 24, "output_tokens": 10}


def test_openai_json_mode_mentions_json(fake, sleeps):
    OPENAI.serve(fake, "{}")
    OPENAI.client(fake, sleeps).complete("Be brief.", "Hi", json_mode=True)
    assert "JSON" in fake.requests[0].json["messages"][0]["content"]


def test_openai_compatible_server_without_key(fake, sleeps):
    def keyless(request: Request) -> Reply | dict:
        assert "authorization" not in request.headers
        return openai_reply("hi")

    fake.route("POST", "/v1/chat/completions", keyless)
    llm = OpenAICompatible(base_url=f"{fake.url}/v1", model="llama3.2", sleep=sleeps.append)
    assert (llm.key, llm.label) == ("openai-compatible", "OpenAI-compatible server")
    assert llm.complete("s", "u") == "hi"
    assert fake.requests[0].json["model"] == "llama3.2"


@pytest.mark.parametrize("base_url, key", [
    (None, "openai"), ("https://api.openai.com/v1/", "openai"), ("http://localhost:11434/v1", "ollama"),
    ("http://gpu-box:8000/v1", "openai-compatible"),
])
def test_openai_compatible_names_itself_after_the_server(base_url, key):
    assert OpenAICompatible("k", base_url=base_url).key == key


def test_anthropic_request(fake, sleeps):
    ANTHROPIC.serve(fake, "Hello there")
    llm = ANTHROPIC.client(fake, sleeps, model="claude-haiku-4-5")
    assert llm.complete("sys", "user says", json_mode=True, max_tokens=50, temperature=0.1) == "Hello there"
    (request,) = fake.requests
    assert request.path == "/v1/messages"
    assert request.headers["x-api-key"] == ANTHROPIC_KEY and request.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in request.headers
    assert request.json == {
        "model": "claude-haiku-4-5", "system": "sys",
        "messages": [{"role": "user", "content": "user says"}], "max_tokens": 50, "temperature": 0.1,
    }
    assert llm.usage == {"input_tokens": 20, "output_tokens": 9}
    assert Anthropic("k").model == "claude-sonnet-4-5"


def test_gemini_request(fake, sleeps):
    GEMINI.serve(fake, '{"ok": true}')
    llm = GEMINI.client(fake, sleeps)
    assert llm.complete("sys", "user says", json_mode=True, max_tokens=64, temperature=0.3) == '{"ok": true}'
    assert llm.complete("sys", "again") == '{"ok": true}'
    first, second = fake.requests
    assert first.path == "/v1beta/models/gemini-2.5-flash:generateContent" and first.query == {}
    assert first.headers["x-goog-api-key"] == GEMINI_KEY
    assert first.json == {
        "systemInstruction": {"parts": [{"text": "sys"}]},
        "contents": [{"role": "user", "parts": [{"text": "user says"}]}],
        "generationConfig": {"maxOutputTokens": 64, "temperature": 0.3, "responseMimeType": "application/json"},
    }
    assert second.json["generationConfig"] == {"maxOutputTokens": 2000, "temperature": 0.7}
    assert llm.usage == {"input_tokens": 16, "output_tokens": 70}  # thinking tokens are billed as output


# --- failures, the same for every provider -----------------------------------------------------

@APIS
def test_rejected_key_fails_at_once_without_the_key(fake, sleeps, api):
    api.serve(fake, "unused")
    llm = api.client(fake, sleeps, key="wrong-key-0042")
    error = raised(lambda: llm.complete("s", "u"))
    assert error.http_status == api.rejected and not error.retryable and error.provider == llm.key
    assert error.message.startswith(f"{llm.key} rejected the request (HTTP {api.rejected}: Incorrect API key")
    assert "wrong-key-0042" not in json.dumps(error.to_dict()) and "[redacted]" in error.message
    assert len(fake.requests) == 1 and sleeps == []


@APIS
def test_rate_limit_waits_what_retry_after_says(fake, sleeps, api):
    api.serve(fake, "after the wait")
    fake.script(Reply(429, api.error(429, "Rate limit reached"), {"Retry-After": "7"}))
    assert api.client(fake, sleeps).complete("s", "u") == "after the wait"
    assert sleeps == [7.0] and len(fake.requests) == 2


def test_gemini_rate_limit_waits_what_retry_info_says(fake, sleeps):
    GEMINI.serve(fake, "after the wait")
    body = gemini_error(429, "You exceeded your current quota.")
    body["error"]["details"] = [
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaMetric": "requests"}]},
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "3s"},
    ]
    fake.script(Reply(429, body))
    assert GEMINI.client(fake, sleeps).complete("s", "u") == "after the wait"
    assert sleeps == [3.0]


@APIS
def test_server_error_then_success(fake, sleeps, api):
    api.serve(fake, "recovered")
    fake.script(Reply(api.overloaded, api.error(api.overloaded, "Overloaded")))
    assert api.client(fake, sleeps).complete("s", "u") == "recovered"
    assert sleeps == [1.0] and len(fake.requests) == 2


@APIS
def test_server_error_forever_fails_after_the_retries(fake, sleeps, api):
    fake.route("POST", api.path, lambda request: Reply(api.overloaded, api.error(api.overloaded, "Overloaded")))
    llm = api.client(fake, sleeps)
    error = raised(lambda: llm.complete("s", "u"))
    assert error.retryable and error.http_status == api.overloaded
    assert error.message == f"{llm.key} failed after 3 attempts: HTTP {api.overloaded}: Overloaded"
    assert sleeps == [1.0, 2.0] and len(fake.requests) == 3


@APIS
def test_timeout(fake, sleeps, api):
    fake.route("POST", api.path, lambda request: Reply(200, api.reply("too late"), delay=2))
    llm = api.client(fake, sleeps, timeout=(2, 0.2), retries=1)
    error = raised(lambda: llm.complete("s", "u"))
    assert "timed out" in error.message and error.retryable
    assert sleeps == [1.0] and len(fake.requests) == 2


@APIS
@pytest.mark.parametrize("reply", [
    Reply(200, "<html><body>502 Bad Gateway</body></html>", {"Content-Type": "text/html"}),
    Reply(200, {"id": "x", "object": "unexpected"}),
    Reply(200, [1, 2, 3]),
], ids=["html", "missing-fields", "list"])
def test_malformed_body(fake, sleeps, api, reply):
    fake.route("POST", api.path, lambda request: reply)
    llm = api.client(fake, sleeps)
    error = raised(lambda: llm.complete("s", "u"))
    assert error.message.startswith(f"{llm.key} returned a malformed response")
    assert not error.retryable and len(fake.requests) == 1


@APIS
def test_error_body_echoing_the_key_is_redacted(fake, sleeps, api, caplog):
    echo = f"Invalid request from key {api.key}; headers were {{'Authorization': 'Bearer {api.key}'}}"
    fake.script(Reply(api.overloaded, api.error(api.overloaded, echo)), Reply(400, api.error(400, echo)))
    with caplog.at_level(logging.DEBUG):
        error = raised(lambda: api.client(fake, sleeps).complete("s", "u"))
    assert "Invalid request from key [redacted]" in error.message
    assert api.key not in " ".join([str(error), json.dumps(error.to_dict()), caplog.text])
    assert "retrying" in caplog.text


# --- generate_json -----------------------------------------------------------------------------

class Scene(BaseModel):
    text: str
    seconds: float = Field(gt=0)


class Score(BaseModel):
    title: str
    scenes: list[Scene]


GOOD = '{"title": "Cats", "scenes": [{"text": "Cats sleep 16 hours.", "seconds": 4}]}'
SCORE = Score(title="Cats", scenes=[Scene(text="Cats sleep 16 hours.", seconds=4)])


@pytest.mark.parametrize("reply", [
    f"```json\n{GOOD}\n```",
    f"Here is the {{score}} you asked for:\n\n{GOOD}\n\nHope that helps {{:)}}",
], ids=["fenced", "prose"])
def test_generate_json_extracts_the_object(fake, sleeps, reply):
    OPENAI.serve(fake, reply)
    assert generate_json(OPENAI.client(fake, sleeps), "You plan reels.", "Cats", Score) == SCORE
    (request,) = fake.requests
    assert request.json["response_format"] == {"type": "json_object"}
    system = request.json["messages"][0]["content"]
    assert system.startswith("You plan reels.") and '"seconds"' in system  # the schema is in the prompt


def test_generate_json_repairs_what_pydantic_rejects(fake, sleeps):
    bad = '{"scenes": [{"text": "Cats", "seconds": -1}]}'
    OPENAI.serve(fake, bad, GOOD)
    llm = OPENAI.client(fake, sleeps)
    assert generate_json(llm, "You plan reels.", "Cats", Score) == SCORE
    repair = fake.requests[1].json["messages"][1]["content"]
    assert repair.startswith("Cats") and bad in repair
    assert "- title: Field required" in repair and "- scenes.0.seconds: Input should be greater than 0" in repair
    assert llm.usage == {"input_tokens": 24, "output_tokens": 10}


def test_generate_json_repairs_what_validate_rejects(fake, sleeps):
    long = '{"title": "Cats", "scenes": [{"text": "Cats", "seconds": 90}]}'
    OPENAI.serve(fake, long, GOOD)

    def short_enough(score: Score) -> list[str]:
        total = sum(scene.seconds for scene in score.scenes)
        return [f"the scenes last {total:g} s; keep them under 60 s"] if total > 60 else []

    assert generate_json(OPENAI.client(fake, sleeps), "s", "Cats", Score, validate=short_enough) == SCORE
    assert "- the scenes last 90 s; keep them under 60 s" in fake.requests[1].json["messages"][1]["content"]


def test_generate_json_gives_up_with_what_was_wrong(fake, sleeps):
    OPENAI.serve(fake, "I'd rather not.", '{"title": "Cats"}')
    llm = OPENAI.client(fake, sleeps)
    error = raised(lambda: generate_json(llm, "s", "Cats", Score, attempts=2))
    assert error.code == "invalid_llm_output" and len(fake.requests) == 2
    assert "the reply contains no JSON object" in fake.requests[1].json["messages"][1]["content"]
    assert error.message == "OpenAI-compatible server gave no valid Score in 2 attempts: scenes: Field required"
    assert error.details["problems"] == ["scenes: Field required"]


# --- choosing a provider -----------------------------------------------------------------------

ALL_KEYS = {"ANTHROPIC_API_KEY": ANTHROPIC_KEY, "OPENAI_API_KEY": OPENAI_KEY, "GOOGLE_API_KEY": GEMINI_KEY}


@pytest.mark.parametrize("keys, expected", [
    ({**ALL_KEYS, "MONEYREELS_LLM_BASE_URL": "http://gpu-box:8000/v1"}, "openai-compatible"),
    ({**ALL_KEYS, "OPENAI_BASE_URL": "http://localhost:11434/v1"}, "ollama"),
    (ALL_KEYS, "anthropic"),
    ({"OPENAI_API_KEY": OPENAI_KEY, "GOOGLE_API_KEY": GEMINI_KEY}, "openai"),
    ({"GEMINI_API_KEY": GEMINI_KEY}, "gemini"),
])
def test_picks_the_first_usable_provider(keys, expected):
    assert from_settings(None, keys, probe_local=False).key == expected


def test_no_provider_is_none():
    assert from_settings(None, {}, probe_local=False) is None
    with socket.socket() as sock:  # nothing listens here
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    assert from_settings(None, {}, ollama_url=url) is None


def ollama_models(request: Request) -> dict:
    return {"object": "list", "data": [
        {"id": "qwen2.5:7b", "object": "model", "created": 1737000000, "owned_by": "library"},
        {"id": "llama3.2:latest", "object": "model", "created": 1736000000, "owned_by": "library"},
    ]}


def test_probes_a_local_ollama_last(fake, sleeps):
    fake.route("GET", "/v1/models", ollama_models)
    url = f"{fake.url}/v1"
    assert from_settings(None, {"GEMINI_API_KEY": GEMINI_KEY}, ollama_url=url).key == "gemini"
    assert fake.requests == []
    llm = from_settings(None, {}, ollama_url=url)
    assert (llm.key, llm.label, llm.model, llm.base_url) == ("ollama", "Ollama", "qwen2.5:7b", url)
    assert from_settings(None, {"MONEYREELS_LLM_MODEL": "llama3.2:latest"}, ollama_url=url).model == "llama3.2:latest"
    assert from_settings(None, {}, ollama_url=url, probe_local=False) is None
    assert available({}, ollama_url=url)["ollama"] is True


def test_probe_gives_up_quickly(fake):
    fake.route("GET", "/v1/models", lambda request: Reply(200, ollama_models(request), delay=2))
    started = time.monotonic()
    assert from_settings(None, {}, ollama_url=f"{fake.url}/v1") is None
    assert time.monotonic() - started < 1


def test_job_keys_override_the_environment():
    environ = {"ANTHROPIC_API_KEY": "env-anthropic", "OPENAI_API_KEY": "env-openai", "PATH": "/bin"}
    keys = merge_keys(environ, {"ANTHROPIC_API_KEY": "job-anthropic", "OPENAI_API_KEY": "", "HOME": "/root"})
    assert keys == {"ANTHROPIC_API_KEY": "job-anthropic", "OPENAI_API_KEY": "env-openai"}
    assert from_settings(None, keys, probe_local=False).client.headers["x-api-key"] == "job-anthropic"


def test_a_job_server_never_gets_the_operators_openai_key():
    keys = merge_keys({"OPENAI_API_KEY": "env-openai"}, {"MONEYREELS_LLM_BASE_URL": "http://job-server:8000/v1"})
    llm = from_settings(None, keys, probe_local=False)
    assert llm.key == "openai-compatible" and llm.client.headers == {}
    brought = merge_keys({"OPENAI_API_KEY": "env-openai"}, {"OPENAI_BASE_URL": "http://x/v1", "OPENAI_API_KEY": "job"})
    assert brought["OPENAI_API_KEY"] == "job"


@pytest.mark.parametrize("name, setting", [
    ("anthropic", "ANTHROPIC_API_KEY"), ("openai", "OPENAI_API_KEY"),
    ("gemini", "GOOGLE_API_KEY or GEMINI_API_KEY"), ("openai-compatible", "MONEYREELS_LLM_BASE_URL"),
])
def test_a_named_provider_without_its_key_fails_naming_it(name, setting):
    error = raised(lambda: from_settings(name, {"UNRELATED": "x"}, probe_local=False))
    assert (error.code, error.status, error.provider) == ("missing_key", 400, name)
    assert setting in error.message


def test_an_unknown_provider_fails():
    error = raised(lambda: from_settings("skynet", ALL_KEYS))
    assert (error.code, error.status) == ("unknown_provider", 400)


def test_named_providers_take_model_and_base_url():
    keys = {**ALL_KEYS, "MONEYREELS_LLM_MODEL": "custom-model", "OPENAI_BASE_URL": "http://gpu-box:8000/v1"}
    anthropic = from_settings("anthropic", keys)
    assert (anthropic.model, anthropic.base_url) == ("custom-model", "https://api.anthropic.com")
    gemini = from_settings("gemini", keys, model="gemini-2.5-pro", base_url="http://proxy:9000")
    assert (gemini.model, gemini.base_url) == ("gemini-2.5-pro", "http://proxy:9000")
    openai = from_settings("openai", {"OPENAI_API_KEY": OPENAI_KEY})
    assert (openai.key, openai.model, openai.base_url) == ("openai", "gpt-4o-mini", "https://api.openai.com/v1")
    local = from_settings("openai", {"OPENAI_BASE_URL": "http://localhost:11434/v1"})  # no key needed
    assert local.key == "ollama" and local.client.headers == {}
    assert from_settings("ollama", {}).model == "llama3.2"


def test_available():
    keys = {"GEMINI_API_KEY": GEMINI_KEY, "OPENAI_API_KEY": ""}
    assert available(keys, probe_local=False) == {
        "openai-compatible": False, "anthropic": False, "openai": False, "gemini": True, "ollama": False,
    }
