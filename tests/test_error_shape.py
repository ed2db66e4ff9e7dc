"""Every error, on every route, comes in its dialect's envelope (after datasette's test)."""

import re

import pytest

from moneyreels import create_app

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def envelope_of(path):
    if path.startswith("/v1/") or path == "/v1":
        return "reelforge"
    if path.startswith("/api/v1/") or path == "/api/v1":
        return "openstory"
    if path.startswith("/api/"):
        return "moneyprinter"
    return "default"


def assert_envelope(path, response):
    body = response.get_json()
    assert response.status_code >= 400 and body is not None, (path, response.status_code)
    kind = envelope_of(path)
    if kind == "moneyprinter":
        assert set(body) == {"status", "message"} and body["status"] == "error"
        assert isinstance(body["message"], str) and body["message"]
    elif kind == "reelforge":
        assert set(body) == {"success", "error"} and body["success"] is False
        assert set(body["error"]) == {"message", "code", "request_id", "details"}
        assert body["error"]["request_id"] == response.headers["X-Request-Id"]
    else:
        assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])
    assert "Traceback" not in response.get_data(as_text=True)


def routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: UNKNOWN_ID if "id" in m.group(1) else "x", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, path


@pytest.fixture
def strict_app(settings):
    return create_app(settings.model_copy(update={"api_keys": ("k",)}))


def test_unknown_ids_are_errors_in_the_dialects_envelope(client, app):
    checked = 0
    for method, path in routes(app):
        response = client.open(path, method=method, json={})
        if response.status_code >= 400:
            assert_envelope(path, response)
            checked += 1
    assert checked >= 6


def test_missing_keys_are_errors_in_the_dialects_envelope(strict_app):
    client = strict_app.test_client()
    for method, path in routes(strict_app):
        # Render downloads, discovery and the page's sign-in are open by design.
        discovery = path in ("/api/v1", "/api/v1/openapi.json", "/v1/openapi.json", "/api/v1/session")
        if path.startswith(("/api/", "/v1/")) and not path.startswith("/v1/files/") and not discovery:
            response = client.open(path, method=method, json={})
            assert response.status_code == 401, path
            assert_envelope(path, response)


@pytest.mark.parametrize("prefix", ["/api", "/v1", "/api/v1", ""])
def test_unknown_paths_and_methods_keep_the_envelope(client, prefix):
    missing = client.get(f"{prefix}/no/such/thing")
    assert missing.status_code == 404
    assert_envelope(f"{prefix}/no/such/thing", missing)


def test_wrong_method_keeps_the_envelope(client):
    for path in ("/api/generate", "/v1/videos/render"):
        response = client.delete(path)
        assert response.status_code == 405
        assert_envelope(path, response)
