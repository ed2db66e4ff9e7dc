"""POST/DELETE /api/v1/session: the page's key traded for a signed, expiring, same-origin-only cookie."""

import stat
import time

import pytest
from itsdangerous import TimestampSigner

from moneyreels import create_app, db
from moneyreels.api import session_cookie

SCRIPT = "Honey never spoils. Archaeologists found pots of honey in Egyptian tombs."


@pytest.fixture
def keyed(settings):
    app = create_app(settings.model_copy(update={"api_keys": ("alpha-key", "beta-key")}))
    yield app
    db.database.close()


@pytest.fixture
def browser(keyed):
    """A test client that keeps cookies, as a browser does."""
    return keyed.test_client()


def sign_in(client, key="alpha-key"):
    return client.post("/api/v1/session", json={"key": key})


def session_cookie_of(client):
    return client.get_cookie(session_cookie.NAME)


def test_before_signing_in_the_page_learns_a_key_is_needed(browser):
    assert browser.get("/api/v1/session").json | {"_links": None} == {
        "keysRequired": True, "signedIn": False, "expiresAt": None, "_links": None}
    assert browser.get("/api/v1/jobs").status_code == 401


def test_a_key_becomes_an_http_only_strict_expiring_cookie_that_never_holds_the_key(browser, settings):
    answer = sign_in(browser)
    assert answer.status_code == 200
    assert answer.json["signedIn"] is True and answer.json["expiresAt"].endswith("Z")
    header = answer.headers["Set-Cookie"]
    for attribute in ("HttpOnly", "SameSite=Strict", f"Max-Age={12 * 3600}", "Path=/"):
        assert attribute in header
    assert "alpha-key" not in header and "alpha-key" not in answer.get_data(as_text=True)
    secret = settings.data_dir / session_cookie.SECRET_FILE
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert browser.get("/api/v1/session").json["signedIn"] is True


def test_a_session_sees_only_its_keys_jobs(browser, keyed):
    sign_in(browser)
    created = browser.post("/api/v1/jobs", json={"script": SCRIPT})
    assert created.status_code == 201
    job_id = created.json["id"]
    assert [job["id"] for job in browser.get("/api/v1/jobs").json["jobs"]] == [job_id]
    assert browser.get(f"/api/v1/jobs/{job_id}").status_code == 200
    other = keyed.test_client()
    sign_in(other, "beta-key")
    assert other.get("/api/v1/jobs").json["jobs"] == []
    assert other.get(f"/api/v1/jobs/{job_id}").status_code == 404
    by_key = keyed.test_client().get("/api/v1/jobs", headers={"x-api-key": "alpha-key"}).json["jobs"]
    assert [job["id"] for job in by_key] == [job_id]


def test_sign_out_ends_the_session(browser):
    sign_in(browser)
    answer = browser.delete("/api/v1/session")
    assert answer.status_code == 200 and answer.json["signedIn"] is False
    assert session_cookie_of(browser) is None
    assert browser.get("/api/v1/jobs").status_code == 401


@pytest.mark.parametrize("headers", [{"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                                     {"Origin": "http://evil.example"}])
def test_the_cookie_counts_only_from_the_pages_own_origin(browser, headers):
    sign_in(browser)
    assert browser.get("/api/v1/jobs", headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200
    refused = browser.get("/api/v1/jobs", headers=headers)
    assert refused.status_code == 401 and refused.json["error"]["code"] == "unauthorized"
    assert browser.post("/api/v1/jobs", json={"script": SCRIPT}, headers=headers).status_code in (401, 403)


def test_a_tampered_or_expired_cookie_is_no_session(browser, monkeypatch):
    sign_in(browser)
    value = session_cookie_of(browser).value
    browser.set_cookie(session_cookie.NAME, value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert browser.get("/api/v1/jobs").status_code == 401
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 13 * 3600)
    sign_in(browser)
    monkeypatch.undo()
    assert session_cookie_of(browser) is not None
    assert browser.get("/api/v1/jobs").status_code == 401


def test_a_session_ends_when_its_key_is_removed(browser, settings):
    sign_in(browser)
    cookie = session_cookie_of(browser).value
    db.database.close()
    only_beta = create_app(settings.model_copy(update={"api_keys": ("beta-key",)})).test_client()
    only_beta.set_cookie(session_cookie.NAME, cookie)
    assert only_beta.get("/api/v1/jobs").status_code == 401


@pytest.mark.parametrize("body, status, field", [
    ({"key": "wrong"}, 401, None), ({}, 400, "key"), ({"key": ""}, 400, "key"), ({"key": 5}, 400, "key"),
])
def test_bad_sign_ins_are_refused_in_the_envelope_and_set_no_cookie(browser, body, status, field):
    answer = browser.post("/api/v1/session", json=body)
    assert answer.status_code == status
    assert "error" in answer.json and "Set-Cookie" not in answer.headers
    if field:
        assert [error["field"] for error in answer.json["error"]["details"]["errors"]] == [field]


def test_sign_in_takes_json_only_and_only_from_the_page(browser):
    form = browser.post("/api/v1/session", data="key=alpha-key", content_type="application/x-www-form-urlencoded")
    assert form.status_code == 415
    foreign = browser.post("/api/v1/session", json={"key": "alpha-key"}, headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403 and "Set-Cookie" not in foreign.headers


def test_an_open_install_needs_no_session(client):
    assert client.get("/api/v1/session").json["keysRequired"] is False
    answer = client.post("/api/v1/session", json={"key": "anything"})
    assert answer.status_code == 200 and answer.json["signedIn"] is False
    assert "Set-Cookie" not in answer.headers
