"""ProviderClient against a fake HTTP API: retries, Retry-After, limits, and key redaction."""

import email.utils
import json
import logging
import socket
import time

import pytest

from moneyreels import transfer
from moneyreels.errors import JobCancelled
from moneyreels.providers.http import EXCERPT_CHARS, ProviderClient, ProviderError
from tests.support.drip import Drip
from tests.support.fakes import Reply

TOKEN = "tok-5c1e9a07b2"  # not key-shaped: only the client's own knowledge can redact it
API_KEY = "apikey-93d1f04e"
EXTRA = "extra-secret-61ab"


def client_for(url, sleeps, **options) -> ProviderClient:
    options = {"timeout": (2, 2), "retries": 3, **options}
    return ProviderClient(
        "acme", url, headers={"Authorization": f"Bearer {TOKEN}", "x-api-key": API_KEY},
        secrets=(EXTRA,), sleep=sleeps.append, **options,
    )


@pytest.fixture
def client(fake, sleeps):
    return client_for(fake.url, sleeps)


def raised(call) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        call()
    return info.value


def test_returns_json_and_sends_headers_and_params(fake, client):
    fake.route("GET", "/v1/things", lambda request: {"things": [1, 2]})
    assert client.request("GET", "/v1/things", params={"q": "cats"}, headers={"X-Trace": "t1"}) == {"things": [1, 2]}
    (request,) = fake.requests
    assert request.query == {"q": ["cats"]}
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["x-api-key"] == API_KEY
    assert request.headers["x-trace"] == "t1"


def test_posts_json_body(fake, client):
    fake.route("POST", "/v1/things", lambda request: {"echo": request.json})
    assert client.request("POST", "v1/things", json={"a": [1]}) == {"echo": {"a": [1]}}
    assert fake.requests[0].headers["content-type"] == "application/json"


@pytest.mark.parametrize("headers", [{}, {"Content-Length": None}], ids=["declared", "undeclared"])
def test_bytes_up_to_max_bytes(fake, client, headers):
    fake.route("GET", "/file", lambda request: Reply(200, b"\x01" * 100_000, headers))
    assert client.request("GET", "/file", expect="bytes") == b"\x01" * 100_000
    assert client.request("GET", "/file", expect="bytes", max_bytes=100_000) == b"\x01" * 100_000
    error = raised(lambda: client.request("GET", "/file", expect="bytes", max_bytes=99_999))
    assert "larger than 99999 bytes" in error.message
    assert not error.retryable


def test_stream_returns_the_open_response(fake, client):
    fake.route("GET", "/file", lambda request: Reply(200, b"abc" * 1000))
    response = client.request("GET", "/file", stream=True)
    with response:
        assert b"".join(response.iter_content(100)) == b"abc" * 1000


def test_server_errors_back_off_exponentially(fake, client, sleeps):
    fake.route("GET", "/x", lambda request: {"ok": True})
    fake.script(Reply(503), Reply(502), Reply(500))
    assert client.request("GET", "/x") == {"ok": True}
    assert sleeps == [1.0, 2.0, 4.0]
    assert len(fake.requests) == 4


def test_gives_up_after_the_retries(fake, client, sleeps):
    fake.route("GET", "/x", lambda request: Reply(502, {"error": {"message": "upstream down"}}))
    error = raised(lambda: client.request("GET", "/x"))
    assert len(fake.requests) == 4 and sleeps == [1.0, 2.0, 4.0]
    assert error.retryable and error.http_status == 502 and error.provider == "acme"
    assert error.message == "acme failed after 4 attempts: HTTP 502: upstream down"
    assert error.status == 502 and error.code == "provider_error"


def test_retry_after_as_http_date(fake, client, sleeps):
    fake.route("GET", "/x", lambda request: {"ok": True})
    fake.script(Reply(429, headers={"Retry-After": email.utils.formatdate(time.time() + 10, usegmt=True)}))
    assert client.request("GET", "/x") == {"ok": True}
    (waited,) = sleeps
    assert 8 <= waited <= 10


def test_retry_after_beyond_the_cap_fails_at_once(fake, client, sleeps):
    fake.route("GET", "/x", lambda request: {"ok": True})
    fake.script(Reply(429, {"error": {"message": "slow down"}}, {"Retry-After": "120"}))
    error = raised(lambda: client.request("GET", "/x"))
    assert error.retryable and error.http_status == 429
    assert "120 s" in error.message and "30 s" in error.message and "slow down" in error.message
    assert sleeps == [] and len(fake.requests) == 1


@pytest.mark.parametrize(
    "body, expected",
    [
        ({"error": {"message": "model not found", "type": "invalid_request_error"}}, "model not found"),
        ({"error": "model 'llama9' not found"}, "model 'llama9' not found"),
        ({"message": "Bad input"}, "Bad input"),
        ({"detail": "Not Found"}, "Not Found"),
        ("<html><body>Nope</body></html>", "<html><body>Nope</body></html>"),
    ],
)
def test_client_errors_fail_at_once_with_the_providers_message(fake, client, sleeps, body, expected):
    fake.route("POST", "/x", lambda request: Reply(404, body))
    error = raised(lambda: client.request("POST", "/x", json={}))
    assert error.message == f"acme rejected the request (HTTP 404: {expected})"
    assert not error.retryable and error.http_status == 404
    assert sleeps == [] and len(fake.requests) == 1


def test_long_error_bodies_are_cut_after_redaction(fake, client):
    fake.route("GET", "/x", lambda request: Reply(400, "x" * (EXCERPT_CHARS - 8) + TOKEN + "y" * 5000))
    error = raised(lambda: client.request("GET", "/x"))
    assert len(error.message) < EXCERPT_CHARS + 60
    assert TOKEN[:6] not in error.message


def test_redirects_are_not_followed(fake, client):
    fake.route("GET", "/x", lambda request: Reply(302, headers={"Location": "http://127.0.0.1:9/elsewhere"}))
    error = raised(lambda: client.request("GET", "/x"))
    assert "redirect" in error.message and error.http_status == 302 and not error.retryable
    assert len(fake.requests) == 1


def test_non_json_success_is_malformed(fake, client):
    fake.route("GET", "/x", lambda request: Reply(200, "<html>maintenance</html>", {"Content-Type": "text/html"}))
    error = raised(lambda: client.request("GET", "/x"))
    assert error.message == "acme returned a malformed response (not JSON: text/html)"


def test_timeouts_are_retried(fake, sleeps):
    fake.route("GET", "/x", lambda request: Reply(200, {"ok": True}, delay=2))
    client = client_for(fake.url, sleeps, timeout=(2, 0.2), retries=1)
    error = raised(lambda: client.request("GET", "/x"))
    assert "timed out" in error.message and error.retryable and error.http_status is None
    assert sleeps == [1.0] and len(fake.requests) == 2


def test_refused_connections_are_retried_without_leaking_query_keys(sleeps):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    client = client_for(url, sleeps, retries=2)
    error = raised(lambda: client.request("GET", "/x", params={"key": "query-secret-77"}))
    assert "connection failed" in error.message and error.retryable
    assert "query-secret-77" not in error.message and "key=[redacted]" in error.message
    assert sleeps == [1.0, 2.0]


def test_redact_covers_known_secrets_and_key_shaped_text(client):
    text = (
        f"token {TOKEN}, key {API_KEY}, extra {EXTRA}; Authorization: Bearer other-token-1; "
        '{"x-goog-api-key": "goog-2"} url?alt=json&key=query-3 sk-proj-abcdefghijklmnopqrstuv '
        "AIzaSyA1234567890abcdefghijklmnopqrstu"
    )
    redacted = client.redact(text)
    for secret in (TOKEN, API_KEY, EXTRA, "other-token-1", "goog-2", "query-3", "sk-proj-abc", "AIzaSy"):
        assert secret not in redacted
    assert redacted.count("[redacted]") == 8


def test_echoed_secrets_never_reach_errors_or_logs(fake, sleeps, caplog):
    client = client_for(fake.url, sleeps, retries=1)
    echo = {"error": {"message": f"bad Authorization: Bearer {TOKEN} and x-api-key {API_KEY} ({EXTRA})"}}
    fake.script(Reply(500, echo), Reply(400, echo))
    with caplog.at_level(logging.DEBUG):
        error = raised(lambda: client.request("GET", "/x"))
    assert "[redacted]" in error.message and "retrying" in caplog.text
    everything = " ".join([str(error), json.dumps(error.to_dict()), caplog.text])
    for secret in (TOKEN, API_KEY, EXTRA):
        assert secret not in everything


@pytest.mark.parametrize("status", [200, 503])  # a body, or an error page read for its message
def test_a_dripping_response_hits_its_deadline_and_is_hung_up_on(sleeps, status):
    with Drip(interval=0.2, total=150, status=status) as drip:
        client = client_for(drip.url.rsplit("/", 1)[0], sleeps, retries=0, max_seconds=1)
        with pytest.raises(ProviderError, match="longer than 1 s"):
            client.request("GET", "/drip.mp4", expect="bytes", max_bytes=10_000)
        assert drip.wait_for_hang_up() and not drip.finished.is_set()


def test_cancel_lands_while_a_provider_download_drips(sleeps):
    with Drip(interval=0.2, total=150) as drip:
        client = client_for(drip.url.rsplit("/", 1)[0], sleeps, retries=0)
        with transfer.cancellable(drip.cancel_once_requested()), pytest.raises(JobCancelled):
            client.request("GET", "/drip.mp4", expect="bytes")
        assert drip.wait_for_hang_up() and not drip.finished.is_set()
