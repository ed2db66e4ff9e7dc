"""Each route's declared contract holds for what the route really answers.

Every route that answers JSON is called on jobs in each state (one of them a real, finished
reel), with good and bad input; each answer must be exactly its declared model (or its
dialect's error envelope) and nothing more. A field a handler adds without its model fails.
"""

import io

import pytest
from PIL import Image
from pydantic import ValidationError

from moneyreels import kinds
from moneyreels.api import errors, openreels
from moneyreels.api.contract import contract
from moneyreels.api.openapi import COMMON_ERRORS, contracts
from moneyreels.api.openreels_models import JobDeleted
from moneyreels.worker import Worker
from tests.support.media import image_manifest

SCRIPT = "A lighthouse keeper hears a whale sing. Each night he sings back. One morning the whale is gone."
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
TEMPLATE = {"name": "still", "manifest": image_manifest(url="{{URL}}")}
# Bodies each route with a body takes (a render with an unknown key, then one replayed by its idempotency
# key), beside the empty body most refuse.
BODIES = {"/api/v1/jobs": [{"script": SCRIPT}], "/api/v1/sequences": [{"script": SCRIPT}],
          "/api/generate": [{"videoSubject": "bees"}], "/api/v1/jobs/<job_id>/retry": [{"keys": {}}],
          "/v1/videos/render": [image_manifest(unknown_key=1)] + [image_manifest(idempotency_key="k")] * 2,
          "/api/v1/batches": [{"jobs": [{"script": SCRIPT, "dryRun": True}]}], "/api/v1/session": [{"key": "k"}],
          "/api/v1/media/<name>": [{"tags": ["sea"]}], "/v1/templates": [TEMPLATE],
          "/v1/templates/<template_id>": [TEMPLATE]}


def upload(client, name):
    """Add a small PNG to the media library through the multipart form."""
    data = io.BytesIO()
    Image.new("RGB", (32, 32), "teal").save(data, "PNG")
    data.seek(0)
    return client.post("/api/v1/media", data={"file": (data, name)}, content_type="multipart/form-data")


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"output_scale": 0.125})


@pytest.fixture
def seeded(client, settings):
    """Job ids in every state: a real finished reel, a render, a failed, a cancelled and a queued job."""
    ids = {"reel": client.post("/api/v1/sequences", json={"script": SCRIPT, "motion": False}).json["sequences"][0][
        "workflowRunId"], "render": client.post("/v1/videos/render", json=image_manifest()).json["job_id"]}
    Worker(settings, kinds.runners()).loop()
    Worker(settings, kinds.runners()).loop()
    ids["failed"] = client.post("/api/v1/jobs", json={"script": SCRIPT}).json["id"]
    Worker(settings, {}).loop()  # no runner for its kind: it fails
    ids["cancelled"] = client.post("/api/generate", json={"videoSubject": "bees"}).json["jobId"]
    client.post(f"/api/jobs/{ids['cancelled']}/cancel")
    ids["queued"] = client.post("/api/v1/jobs", json={"topic": "bees"}).json["id"]
    return ids


def json_routes(app):
    """(method, rule, contract) of every route that answers with a model."""
    return [(method, rule.rule, route) for method, rule, route in contracts(app)
            if any(isinstance(answer, type) for _, answer in route.responses.values())]


@pytest.fixture
def others(client):
    """A batch, a media file and a render template, for the routes that name one."""
    return {"<batch_id>": client.post("/api/v1/batches", json=BODIES["/api/v1/batches"][0]).json["id"],
            "<name>": upload(client, "sea.png").json["name"],
            "<template_id>": client.post("/v1/templates", json=TEMPLATE).json["data"]["id"]}


def requests(method, rule, route, ids, others):
    """The calls to make on a route: every seeded job (and unknown ones), with and without ?wait, good and bad bodies."""
    values = [*ids.values(), UNKNOWN_ID, "not-an-id"]
    paths = [rule.replace("<job_id>", value) for value in values] if "<job_id>" in rule else [rule]
    for name, known in others.items():
        if name in rule:
            paths = [rule.replace(name, value) for value in (known, UNKNOWN_ID, "not-an-id")]
    if "<sequence_id>" in rule:
        paths = [rule.replace("<sequence_id>", value) for value in
                 values + ["seq_" + value.replace("-", "") for value in ids.values()]]
    if any(param["name"] == "wait" for param in route.params):
        paths += [path + "?wait=10ms" for path in paths]
    bodies = [*BODIES[rule], {}] if rule in BODIES else [None]
    return [(path, body) for path in paths for body in bodies]


def check(route, path, response):
    """The answer is its declared model, exactly, or its dialect's envelope for a declared error."""
    status = response.status_code
    declared = route.responses.get(status, (None, None))[1]
    if isinstance(declared, type):
        model = declared
    else:
        assert status in route.errors or status in COMMON_ERRORS, (path, status, response.json)
        assert status < 500, (path, response.json)
        model = errors.envelope_for(path).model
    body = response.json
    assert model.model_validate(body).model_dump(mode="json", by_alias=True) == body, (path, model)
    return isinstance(declared, type)


def test_every_json_route_answers_exactly_its_declared_models(app, client, seeded, others):
    answered = {}  # rule -> the statuses answered with a model
    # Reads first, deletes last: each route meets every job while it still exists.
    routes = sorted(json_routes(app), key=lambda entry: (entry[0] == "DELETE", entry[0] != "GET"))
    assert len(routes) >= 20
    for method, rule, route in routes:
        # And a job still queued for this route alone, since an earlier route may have cancelled the others.
        ids = {**seeded, "fresh": client.post("/api/v1/jobs", json={"topic": "bees"}).json["id"]}
        calls = [client.open(path, method=method, json=body) for path, body in requests(method, rule, route, ids, others)]
        if (method, rule) == ("POST", "/api/v1/media"):
            calls.append(upload(client, "more.png"))
        for response in calls:
            if check(route, response.request.path, response):
                answered.setdefault((method, rule), set()).add(response.status_code)
    assert set(answered) == {(method, rule) for method, rule, _ in routes}  # each one answered with its model
    assert answered["POST", "/v1/videos/render"] == {200, 202}  # a first render and an idempotent replay
    assert answered["POST", "/api/v1/jobs/<job_id>/retry"] == {202}


def test_a_field_the_handler_adds_without_its_model_fails_the_route(client, monkeypatch, caplog):
    job_id = client.post("/api/v1/jobs", json={"script": SCRIPT}).json["id"]
    real = openreels.snapshot
    monkeypatch.setattr(openreels, "snapshot", lambda job: {**real(job), "eta": 5})
    response = client.get(f"/api/v1/jobs/{job_id}")
    assert response.status_code == 500 and "eta" not in response.json["error"]["message"]
    [failure] = [record for record in caplog.records if record.exc_info]
    assert isinstance(failure.exc_info[1], ValidationError) and "eta\n  Extra inputs" in str(failure.exc_info[1])


def test_a_view_must_answer_with_the_model_its_contract_declares():
    deleted = JobDeleted(status="deleted", links={})

    @contract("Delete", {200: ("Deleted.", JobDeleted)})
    def model():
        return deleted

    @contract("Delete", {200: ("Deleted.", JobDeleted)})
    def plain():
        return {"status": "deleted", "_links": {}, "extra": 1}

    @contract("Delete", {200: ("Deleted.", JobDeleted)})
    def undeclared_status():
        return deleted, 202

    assert model() == {"status": "deleted", "_links": {}}
    with pytest.raises(TypeError, match="plain answered 200 with dict, but its contract says JobDeleted"):
        plain()
    with pytest.raises(TypeError, match="answered 202 with JobDeleted, but its contract says None"):
        undeclared_status()


def test_the_document_shows_each_routes_declared_models(app, client):
    document = client.get("/api/v1/openapi.json").json
    for method, rule, route in json_routes(app):
        path = rule.replace("<", "{").replace(">", "}")
        for status, (_, model) in route.responses.items():
            schema = document["paths"][path][method.lower()]["responses"][str(status)]["content"]["application/json"]
            assert schema["schema"]["$ref"] == f"#/components/schemas/{model.__name__}", (method, rule)
            expected = model.model_json_schema(ref_template="#/components/schemas/{model}")
            expected.pop("$defs", None)
            assert document["components"]["schemas"][model.__name__] == expected, model.__name__
