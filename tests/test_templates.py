"""Render templates: stored manifests with {{FIELD}} placeholders, merged and rendered (docs/templates.md)."""

import copy
import json
import re
from pathlib import Path

import numpy as np
import pytest

from moneyreels import kinds
from moneyreels.api.reelforge_templates import MAX_TEMPLATES
from moneyreels.db import Job, Template
from moneyreels.merge_fields import MAX_DEPTH, MAX_FIELDS, MAX_MANIFEST_BYTES, MAX_VALUE_CHARS
from moneyreels.worker import Worker
from tests.support.media import image_manifest
from tests.support.video import frame_at, probe
from tests.test_api_reelforge import assert_error, bearer, keyed  # noqa: F401 (a fixture)

DOC = Path(__file__).parent.parent / "docs" / "templates.md"
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
GOLD = (255, 215, 0)


def card(**changes):
    """A template: an image (its URL a field) in the lower half, a greeting above it, colour and duration fields."""
    manifest = image_manifest(url="{{URL}}", seconds="{{SECONDS}}")
    manifest["composition"]["timeline"][0]["layout"] = {"x": "0%", "y": "50%", "width": "100%", "height": "50%"}
    manifest["composition"]["text_overlays"] = [{
        "id": "greeting", "content": "Hello {{NAME}}, day {{DAY}}!", "style": {"color": "{{COLOR}}", "font_size": 20},
        "layout": {"x": "0%", "y": "0%", "width": "100%", "height": "50%"},
        "time": {"start_seconds": 0, "duration_seconds": "{{SECONDS}}"}}]
    return {"name": "Greeting card", "manifest": manifest, **changes}


VALUES = {"URL": "pic.jpg", "SECONDS": 1.5, "NAME": "Ada", "DAY": 3, "COLOR": "#FFD700"}


def create(client, body=None, **headers):
    response = client.post("/v1/templates", json=body or card(), headers=headers)
    assert response.status_code == 201, response.json
    return response.json["data"]


def render(client, template_id, merge, **extra):
    return client.post("/v1/videos/render", json={"template_id": template_id, "merge": merge, **extra})


@pytest.fixture
def worker(app, settings):
    return Worker(settings, kinds.runners())


def test_create_list_read_replace_delete(client):
    created = create(client)
    assert created["name"] == "Greeting card"
    assert created["fields"] == ["URL", "SECONDS", "NAME", "DAY", "COLOR"]  # in order of first appearance
    other = create(client, card(name="Second"))

    listed = client.get("/v1/templates").json
    assert listed["success"] is True
    assert [t["id"] for t in listed["data"]] == [other["id"], created["id"]]  # newest first
    assert "manifest" not in listed["data"][0] and set(listed["data"][0]) == {
        "id", "name", "fields", "created_at", "updated_at"}

    read = client.get(f"/v1/templates/{created['id']}").json["data"]
    assert read["manifest"] == card()["manifest"] and read["fields"] == created["fields"]

    replaced = client.put(f"/v1/templates/{created['id']}",
                          json={"name": "Renamed", "manifest": image_manifest(url="{{PICTURE}}")})
    assert replaced.status_code == 200
    assert replaced.json["data"] == {"id": created["id"], "name": "Renamed", "fields": ["PICTURE"]}
    again = client.get(f"/v1/templates/{created['id']}").json["data"]
    assert again["name"] == "Renamed" and again["manifest"] == image_manifest(url="{{PICTURE}}")
    assert again["created_at"] == read["created_at"] and again["updated_at"] >= read["updated_at"]

    deleted = client.delete(f"/v1/templates/{created['id']}")
    assert deleted.json == {"success": True, "data": {"id": created["id"], "deleted": True}}
    assert_error(client.get(f"/v1/templates/{created['id']}"), 404, "template_not_found")
    assert_error(client.delete(f"/v1/templates/{created['id']}"), 404, "template_not_found")
    assert [t["id"] for t in client.get("/v1/templates").json["data"]] == [other["id"]]


def test_a_template_without_fields_is_a_saved_manifest(client):
    created = create(client, {"name": "plain", "manifest": image_manifest()})
    assert created["fields"] == []
    assert render(client, created["id"], {}).status_code == 202


def test_templates_are_scoped_per_api_key(keyed):
    alice, bob = bearer("key-alice"), bearer("key-bob")
    template = create(keyed, **alice)
    path = f"/v1/templates/{template['id']}"
    assert keyed.get("/v1/templates", headers=bob).json["data"] == []
    assert_error(keyed.get(path, headers=bob), 404, "template_not_found")
    assert_error(keyed.put(path, json=card(), headers=bob), 404, "template_not_found")
    assert_error(keyed.delete(path, headers=bob), 404, "template_not_found")
    refused = keyed.post("/v1/videos/render", json={"template_id": template["id"], "merge": VALUES}, headers=bob)
    assert_error(refused, 404, "template_not_found")
    assert Job.select().count() == 0
    assert_error(keyed.get("/v1/templates"), 401, "unauthorized")
    # Alice still has it, untouched.
    assert keyed.get(path, headers=alice).json["data"]["name"] == "Greeting card"
    assert keyed.post("/v1/videos/render", json={"template_id": template["id"], "merge": VALUES},
                      headers=alice).status_code == 202


def test_merge_fills_strings_urls_and_numbers_with_their_json_types(client):
    template = create(client)
    answer = render(client, template["id"], VALUES)
    assert answer.status_code == 202, answer.json
    manifest = Job.get_by_id(answer.json["job_id"]).request["manifest"]
    assert manifest["assets"][0]["url"] == "pic.jpg"
    overlay = manifest["composition"]["text_overlays"][0]
    assert overlay["content"] == "Hello Ada, day 3!"  # a number inside text reads as its JSON
    assert overlay["style"]["color"] == "#FFD700"
    assert overlay["time"]["duration_seconds"] == 1.5  # a lone placeholder takes the value's type
    assert manifest["composition"]["timeline"][0]["time"]["duration_seconds"] == 1.5


def test_values_cannot_inject_json_or_more_placeholders(client):
    template = create(client)
    sneaky = '", "font_size": 400, "x": {"y": 1}} {{URL}}'
    answer = render(client, template["id"], {**VALUES, "NAME": sneaky})
    overlay = Job.get_by_id(answer.json["job_id"]).request["manifest"]["composition"]["text_overlays"][0]
    assert overlay["content"] == f"Hello {sneaky}, day 3!"  # one string, {{URL}} left as it is
    assert overlay["style"] == {"color": "#FFD700", "font_size": 20}


def test_a_missing_field_is_a_400_naming_it_and_makes_no_job(client):
    template = create(client)
    error = assert_error(render(client, template["id"], {k: v for k, v in VALUES.items() if k != "COLOR"}),
                         400, "validation_error")
    assert error["details"]["errors"] == [{"field": "merge.COLOR",
                                           "message": "missing: the template needs a value for this field"}]
    assert error["message"].startswith("merge.COLOR: missing")
    no_merge = assert_error(client.post("/v1/videos/render", json={"template_id": template["id"]}), 400,
                            "validation_error")
    assert [e["field"] for e in no_merge["details"]["errors"]] == [f"merge.{name}" for name in template["fields"]]
    assert Job.select().count() == 0


def test_a_merged_value_that_breaks_the_manifest_is_a_400_naming_the_manifest_field(client):
    template = create(client)
    for name, value, field, blamed in [
            ("SECONDS", -1, "composition.timeline.0.time.duration_seconds", "field SECONDS"),
            ("SECONDS", "long", "composition.timeline.0.time.duration_seconds", "field SECONDS"),
            ("COLOR", "not-a-colour", "composition.text_overlays.0.style.color", "field COLOR"),
            ("NAME", "x" * 2000, "composition.text_overlays.0.content", "fields NAME, DAY")]:
        error = assert_error(render(client, template["id"], {**VALUES, name: value}), 400, "validation_error")
        first = error["details"]["errors"][0]
        assert first["field"] == field, error
        assert first["merge_fields"] == blamed.split(" ", 1)[1].split(", ")
        assert first["message"].endswith(f"(from merge {blamed})")
        assert error["message"].startswith(field)
    assert Job.select().count() == 0


def test_unknown_merge_keys_are_ignored_with_a_warning(client):
    template = create(client)
    answer = render(client, template["id"], {**VALUES, "COLOUR": "red"}, metadata={"run": 1}, merj={})
    assert answer.status_code == 202
    assert answer.json["warnings"] == [
        {"field": "merge.COLOUR", "message": "unknown key 'COLOUR' ignored; did you mean 'COLOR'?",
         "suggestion": "COLOR"},
        {"field": "merj", "message": "unknown key 'merj' ignored; did you mean 'merge'?", "suggestion": "merge"}]


@pytest.mark.parametrize("merge, field", [
    ({"NAME": None}, "merge.NAME"),
    ({"NAME": {"a": 1}}, "merge.NAME"),
    ({"NAME": [1]}, "merge.NAME"),
    ({"NAME": "x" * (MAX_VALUE_CHARS + 1)}, "merge.NAME"),
    ({"DAY": 2**60}, "merge.DAY"),
    ("NAME=Ada", "merge"),
    ({f"K{i}": 1 for i in range(2 * MAX_FIELDS + 1)}, "merge"),
])
def test_bad_merge_values_are_400s(client, merge, field):
    template = create(client)
    error = assert_error(render(client, template["id"], merge), 400, "validation_error")
    assert [e["field"] for e in error["details"]["errors"]] == [field]


def test_render_refuses_manifest_keys_beside_a_template_and_unknown_templates(client):
    template = create(client)
    error = assert_error(render(client, template["id"], VALUES, version="v1"), 400, "validation_error")
    assert error["details"]["errors"] == [{"field": "version", "message": "not allowed beside template_id"}]
    assert_error(render(client, UNKNOWN_ID, VALUES), 404, "template_not_found")
    assert_error(render(client, "", VALUES), 400, "validation_error")
    assert_error(render(client, 7, VALUES), 400, "validation_error")


def deep(levels):
    value = "x"
    for _ in range(levels):
        value = {"a": value}
    return value


def many_fields(count):
    manifest = image_manifest()
    manifest["composition"]["text_overlays"][0]["content"] = "".join(f"{{{{F{i}}}}}" for i in range(count))
    return manifest


def bigger_than_allowed():
    manifest = image_manifest()
    manifest["composition"]["text_overlays"][0]["content"] = "x" * MAX_MANIFEST_BYTES
    return manifest


def broken(path, value):
    manifest = card()["manifest"]
    target = manifest
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return manifest


@pytest.mark.parametrize("body, field", [
    ({"manifest": image_manifest()}, "name"),
    ({"name": "", "manifest": image_manifest()}, "name"),
    ({"name": "n" * 201, "manifest": image_manifest()}, "name"),
    ({"name": "t"}, "manifest"),
    ({"name": "t", "manifest": [image_manifest()]}, "manifest"),
    ({"name": "t", "manifest": image_manifest(), "merge": {}}, "merge"),
    ({"name": "t", "manifest": broken(["version"], "{{bad name}}")}, "manifest.version"),
    ({"name": "t", "manifest": broken(["version"], "{{" + "A" * 65 + "}}")}, "manifest.version"),
    ({"name": "t", "manifest": broken(["version"], "{{}}")}, "manifest.version"),
    ({"name": "t", "manifest": many_fields(MAX_FIELDS + 1)}, "manifest"),
    ({"name": "t", "manifest": bigger_than_allowed()}, "manifest"),
    ({"name": "t", "manifest": {**image_manifest(), "deep": deep(MAX_DEPTH + 1)}}, "manifest"),
    # Errors away from any placeholder are the template's own, refused now.
    ({"name": "t", "manifest": broken(["output", "width"], 0)}, "manifest.output.width"),
    ({"name": "t", "manifest": broken(["composition", "timeline", 0, "type"], "gif")},
     "manifest.composition.timeline.0.type"),
    ({"name": "t", "manifest": {k: v for k, v in card()["manifest"].items() if k != "output"}}, "manifest.output"),
])
def test_bad_template_bodies_are_400s_naming_the_field(client, body, field):
    for response in (client.post("/v1/templates", json=body),
                     client.put(f"/v1/templates/{create(client)['id']}", json=body)):
        error = assert_error(response, 400, "validation_error")
        assert error["details"]["errors"][0]["field"] == field, error
        assert error["message"].startswith(field)
    assert Template.select().where(Template.name == "t").count() == 0


def test_a_template_is_checked_as_far_as_its_placeholders_allow(client):
    # A colour field (no stand-in fits a colour) and an asset reference that only a value resolves.
    manifest = card()["manifest"]
    manifest["composition"]["timeline"][0]["asset_id"] = "{{ASSET}}"
    assert create(client, card(manifest=manifest))["fields"] == ["URL", "ASSET", "SECONDS", "NAME", "DAY", "COLOR"]
    answer = render(client, Template.get().id, {**VALUES, "ASSET": "pic"})
    assert answer.status_code == 202, answer.json
    wrong = assert_error(render(client, Template.get().id, {**VALUES, "ASSET": "nope"}), 400, "validation_error")
    assert "no asset has id 'nope'" in wrong["message"]


def test_the_number_of_templates_a_key_keeps_is_bounded(client, monkeypatch):
    monkeypatch.setattr("moneyreels.api.reelforge_templates.MAX_TEMPLATES", 2)
    create(client)
    create(client)
    error = assert_error(client.post("/v1/templates", json=card()), 409, "too_many_templates")
    assert error["details"] == {"limit": 2}
    assert MAX_TEMPLATES == 1000


def count_colour(frame, colour, tolerance=60):
    return int((np.abs(frame.astype(int) - colour).max(axis=2) <= tolerance).sum())


def test_a_merged_render_renders_and_outlives_its_template(client, worker, settings):
    template = create(client)
    job_id = render(client, template["id"], {**VALUES, "NAME": "Bo"}).json["job_id"]
    assert client.delete(f"/v1/templates/{template['id']}").status_code == 200
    worker.loop()
    status = client.get(f"/v1/jobs/{job_id}").json["data"]
    assert status["status"] == "completed", status
    video = settings.jobs_dir / job_id / "final.mp4"
    assert probe(video)["duration"] == pytest.approx(1.5, abs=0.15)  # SECONDS, merged as a number
    frame = frame_at(video, 0.7)
    top, bottom = frame[:80], frame[80:]
    assert count_colour(top, GOLD) > 40  # the greeting, in the merged colour, on black
    assert top[:15].max() < 40 and top[-15:].max() < 40  # black above and below it: no image up there
    assert bottom[10:-10, 35:55].std() > 15  # the merged URL's noise image
    assert status["total_duration_seconds"] == pytest.approx(1.5)


def doc_examples():
    """The JSON blocks of docs/templates.md: the create body, its answer, the render body."""
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", DOC.read_text(), re.DOTALL)]


def test_the_docs_worked_example_works_verbatim(client, worker, settings):
    create_body, created_answer, render_body, *_ = doc_examples()
    answer = client.post("/v1/templates", json=create_body)
    assert answer.status_code == 201
    documented_id = created_answer["data"]["id"]
    assert answer.json["data"] == {**created_answer["data"], "id": answer.json["data"]["id"]}
    render_body = json.loads(json.dumps(render_body).replace(documented_id, answer.json["data"]["id"]))
    submitted = client.post("/v1/videos/render", json=copy.deepcopy(render_body))
    assert submitted.status_code == 202, submitted.json
    worker.loop()
    job = Job.get_by_id(submitted.json["job_id"])
    assert job.state == "completed", job.error
    overlays = job.request["manifest"]["composition"]["text_overlays"]
    merge = render_body["merge"]
    assert merge["QUOTE"] in overlays[0]["content"] and merge["AUTHOR"] in overlays[1]["content"]
    video = settings.jobs_dir / job.id / "final.mp4"
    assert probe(video)["duration"] == pytest.approx(merge["SECONDS"], abs=0.15)
    assert count_colour(frame_at(video, 1.0), GOLD) > 500  # the quote, in the merged colour
