"""Requests the server is not meant to answer: foreign hosts, cross-origin writes, non-JSON bodies."""

import http.client
import json
import uuid

import pytest

from moneyreels import create_app, jobs
from moneyreels.api import gate
from tests.support.live import LiveServer
from tests.support.media import image_manifest

JOB = str(uuid.uuid4())
# Every JSON endpoint of every dialect, with how its error envelope names the message.
ENDPOINTS = [
    ("/v1/videos/render", lambda body: body["error"]["message"]),
    ("/api/generate", lambda body: body["message"]),
    ("/api/cancel", lambda body: body["message"]),
    (f"/api/jobs/{JOB}/cancel", lambda body: body["message"]),
    ("/api/v1/jobs", lambda body: body["error"]["message"]),
    (f"/api/v1/jobs/{JOB}/cancel", lambda body: body["error"]["message"]),
    (f"/api/v1/jobs/{JOB}/retry", lambda body: body["error"]["message"]),
    ("/api/v1/sequences", lambda body: body["error"]["message"]),
]
BODY = json.dumps({"videoSubject": "cats", "topic": "cats"})


@pytest.mark.parametrize("path, message", ENDPOINTS)
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"])
def test_non_json_bodies_are_415_in_each_dialects_envelope(client, path, message, content_type):
    response = client.post(path, data=BODY, content_type=content_type)
    assert response.status_code == 415
    assert "Content-Type: application/json" in message(response.json)
    assert jobs.Job.select().count() == 0


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8",
                                          "application/merge-patch+json"])
def test_json_and_plus_json_bodies_are_accepted(client, content_type):
    response = client.post("/api/generate", data=BODY, content_type=content_type)
    assert response.status_code == 200, response.json
    assert jobs.Job.select().count() == 1


def test_a_body_without_a_content_type_is_415(client):
    response = client.post("/api/generate", data=BODY, headers={"Content-Type": ""})
    assert response.status_code == 415


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example"}, {"Origin": "null"},
                                     {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                                     {"Origin": "http://localhost:3000"}])
@pytest.mark.parametrize("path, message", ENDPOINTS)
def test_cross_origin_browser_writes_are_403(client, headers, path, message):
    response = client.post(path, data=BODY, content_type="application/json", headers=headers)
    assert response.status_code == 403
    assert "Cross-origin" in message(response.json)
    assert jobs.Job.select().count() == 0


@pytest.mark.parametrize("headers", [{}, {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"},
                                     {"Sec-Fetch-Site": "none"}])
def test_the_apps_own_page_and_plain_clients_may_write(client, headers):
    response = client.post("/api/generate", data=BODY, content_type="application/json", headers=headers)
    assert response.status_code == 200, response.json


def test_cross_origin_reads_stay_open(client):
    response = client.get("/api/v1/health", headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 200


@pytest.mark.parametrize("host", ["localhost", "localhost:8080", "127.0.0.1:8080", "[::1]:8080", "LOCALHOST."])
def test_loopback_hosts_are_served_by_default(client, host):
    assert client.get("/api/v1/health", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "127.0.0.1.evil.example", "10.0.0.5", "[::2]"])
def test_other_hosts_are_400_and_never_reach_a_handler(client, host):
    response = client.post("/v1/videos/render", json=image_manifest(), headers={"Host": host})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "misdirected_request"
    assert jobs.Job.select().count() == 0


@pytest.mark.parametrize("update, host, served", [
    ({"allowed_hosts": "reels.lan, Studio.Local"}, "studio.local:8080", True),
    ({"allowed_hosts": "reels.lan"}, "other.lan", False),
    ({"allowed_hosts": "[fd00::7]"}, "[fd00::7]:8080", True),
    ({"allowed_hosts": "*"}, "anything.example", True),
    ({"public_url": "https://reels.example.org/base"}, "reels.example.org", True),
    ({"host": "192.168.1.20"}, "192.168.1.20:8080", True),
    ({"host": "fe80::5"}, "[fe80::5]:8080", True),
    ({"host": "reels.lan"}, "reels.lan", True),
    ({"host": "0.0.0.0"}, "0.0.0.0", False),
])
def test_allowed_hosts_setting(settings, update, host, served):
    app = create_app(settings.model_validate({**settings.model_dump(), **update}))
    status = app.test_client().get("/api/v1/health", headers={"Host": host}).status_code
    assert status == (200 if served else 400)


def test_public_url_is_an_origin_of_the_app_itself(settings):
    app = create_app(settings.model_copy(update={"public_url": "https://reels.example.org/"}))
    response = app.test_client().post("/api/generate", data=BODY, content_type="application/json",
                                      headers={"Host": "reels.example.org", "Origin": "https://reels.example.org"})
    assert response.status_code == 200


def test_host_names_are_parsed_like_browsers_send_them():
    assert gate.host_name("[::1]:8080") == "::1"
    assert gate.host_name("Example.ORG.:443") == "example.org"
    assert gate.host_name("bad[host") == ""


def test_the_real_server_refuses_a_rebound_host_and_keeps_it_out_of_output_urls(tmp_path):
    server = LiveServer(tmp_path).start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.request("POST", "/v1/videos/render", body=json.dumps(image_manifest()),
                           headers={"Host": f"rebind.evil.example:{server.port}", "Content-Type": "application/json"})
        response = connection.getresponse()
        body = json.loads(response.read())
        assert response.status == 400 and body["error"]["code"] == "misdirected_request"
        status, created = server.request("POST", "/v1/videos/render", image_manifest())
        assert status == 202
        status, job = server.request("GET", f"/v1/jobs/{created['job_id']}")
        assert "evil" not in json.dumps(job)
    finally:
        server.stop()
