"""Transitions and output formats over HTTP: the catalogue, GIF/MP3 files, poster_url (400s: test_bounds.py)."""

import json

from moneyreels import kinds
from moneyreels.transitions import TRANSITIONS
from moneyreels.webhooks import Dispatcher
from moneyreels.worker import Worker
from tests.support.fakes import WebhookReceiver
from tests.support.media import image_manifest


def manifest(**output):
    body = image_manifest(seconds=2.0)
    body["output"].update(output)
    return body


def render_job(client, settings, body):
    response = client.post("/v1/videos/render", json=body)
    assert response.status_code == 202, response.json
    Worker(settings, kinds.runners()).loop()
    return client.get(f"/v1/jobs/{response.json['job_id']}").json


def test_transitions_lists_every_name_with_its_kind(client):
    response = client.get("/api/v1/transitions")
    assert response.status_code == 200 and 'rel="self"' in response.headers["Link"]
    listed = {entry["name"]: entry for entry in response.json}
    assert list(listed) == list(TRANSITIONS)
    assert listed["crossfade"]["kind"] == "built-in" and listed["crossfade"]["xfade"] == "fade"
    assert listed["circleopen"] == {"name": "circleopen", "kind": "xfade", "xfade": "circleopen",
                                    "description": TRANSITIONS["circleopen"].description}
    assert all(entry["description"] for entry in response.json)


def test_a_gif_with_a_poster_is_served_as_gif_and_jpeg_and_announced(client, settings):
    with WebhookReceiver() as receiver:
        body = manifest(format="gif", poster={"time_seconds": 1.5})
        body["webhook_url"] = receiver.hook_url
        status = render_job(client, settings, body)
        job_id = status["data"]["id"]
        assert Dispatcher().loop() == 1
        event = json.loads(receiver.requests[0].body)
    data = status["data"]
    assert data["status"] == "completed"
    assert data["output_url"] == f"http://localhost/v1/files/{job_id}/final.gif"
    assert data["poster_url"] == f"http://localhost/v1/files/{job_id}/final.jpg"
    assert list(event["data"]) == ["job_id", "status", "output_url", "poster_url", "error", "metadata"]
    assert (event["data"]["output_url"], event["data"]["poster_url"]) == (data["output_url"], data["poster_url"])
    gif = client.get(data["output_url"].removeprefix("http://localhost"))
    assert gif.status_code == 200 and gif.mimetype == "image/gif" and gif.data.startswith(b"GIF89a")
    poster = client.get(data["poster_url"].removeprefix("http://localhost"))
    assert poster.status_code == 200 and poster.mimetype == "image/jpeg" and poster.data.startswith(b"\xff\xd8")
    assert client.get(f"/v1/files/{job_id}/final.mp4").status_code == 404


def test_an_mp3_is_served_as_audio_and_has_no_poster(client, settings):
    data = render_job(client, settings, manifest(format="mp3"))["data"]
    job_id = data["id"]
    assert data["output_url"].endswith(f"/v1/files/{job_id}/final.mp3") and "poster_url" not in data
    mp3 = client.get(data["output_url"].removeprefix("http://localhost"))
    assert mp3.status_code == 200 and mp3.mimetype == "audio/mpeg"
    assert client.get(f"/v1/files/{job_id}/final.jpg").status_code == 404


def test_a_poster_after_the_end_fails_the_job_with_the_field_named(client, settings):
    body = render_job(client, settings, manifest(poster={"time_seconds": 5}))
    assert body["data"]["status"] == "failed" and "poster_url" not in body["data"]
    assert body["error"]["code"] == "manifest_out_of_bounds"
    assert body["error"]["details"]["field"] == "output.poster.time_seconds"


def test_the_openapi_document_shows_formats_posters_transitions_and_poster_url(client):
    document = client.get("/v1/openapi.json").json
    schemas = document["components"]["schemas"]
    assert schemas["Output"]["properties"]["format"]["enum"] == ["mp4", "gif", "mp3"]
    assert schemas["Poster"]["required"] == ["time_seconds"]
    assert schemas["Transition"]["properties"]["type"]["enum"] == list(TRANSITIONS)
    assert "poster_url" in schemas["RenderJob"]["properties"] and "poster_url" not in schemas["RenderJob"]["required"]
    listing = document["paths"]["/api/v1/transitions"]["get"]["responses"]["200"]["content"]["application/json"]
    assert listing["schema"] == {"$ref": "#/components/schemas/TransitionList"}
    files = document["paths"]["/v1/files/{job_id}/{name}"]["get"]["responses"]["200"]["content"]
    assert {"video/mp4", "image/gif", "audio/mpeg", "image/jpeg"} <= set(files)
