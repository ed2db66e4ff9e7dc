"""The self-describing surface: GET /api/v1 and the OpenAPI document, open without a key."""

import re
import uuid

import pytest
from openapi_spec_validator import validate

from moneyreels import create_app, db
from moneyreels.api import openapi
from moneyreels.api.openstory import SequenceRequest
from moneyreels.pipeline.request import GenerateRequest

DISCOVERY = ("/api/v1", "/api/v1/openapi.json")
SESSION = "/api/v1/session"  # open: it is where the page trades a key for a session


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").json


@pytest.fixture
def keyed(settings):
    """A client of an app with MONEYREELS_API_KEYS=k and a rate limit of 1 request a second."""
    app = create_app(settings.model_copy(update={"api_keys": ("k",), "api_rate_limit": 1}))
    yield app.test_client()
    db.database.close()


def operations(document):
    return [(path, method, op) for path, ops in document["paths"].items() for method, op in ops.items()]


def concrete(path):
    return re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_route_of_every_dialect_is_documented(app, document):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in openapi.UNDOCUMENTED:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in document["paths"][openapi.openapi_path(rule.rule)], (method, rule.rule)
    assert {tag for *_, op in operations(document) for tag in op["tags"]} >= {
        "Discovery", "OpenReels", "OpenStory", "MoneyPrinter", "Reel Forge"}


def test_a_route_without_an_entry_fails_the_build(app):
    app.add_url_rule("/api/v1/undocumented", "undocumented", lambda: {})
    with pytest.raises(KeyError, match="GET /api/v1/undocumented"):
        openapi.build(app)


def test_operations_document_bodies_params_and_dialect_errors(document):
    by_id = {op["operationId"]: op for *_, op in operations(document)}
    body = lambda op: op["requestBody"]["content"]["application/json"]["schema"]  # noqa: E731
    envelope = lambda op, status: op["responses"][status]["content"]["application/json"]["schema"]["$ref"]  # noqa: E731
    create = by_id["openreels.create_job"]
    assert body(create) == {"$ref": "#/components/schemas/GenerateRequest"}
    assert {"400", "401", "413", "429", "500"} <= set(create["responses"])
    get = by_id["openreels.get_job"]
    assert {p["name"]: p["schema"].get("format") for p in get["parameters"]} == {"job_id": "uuid", "wait": None}
    assert envelope(get, "404").endswith("/OpenStoryError")
    assert envelope(by_id["moneyprinter.get_job"], "404").endswith("/MoneyPrinterError")
    assert envelope(by_id["reelforge.status"], "404").endswith("/ReelForgeError")
    assert body(by_id["reelforge.submit"]) == {"allOf": [{"$ref": "#/components/schemas/RenderSource"},
                                                         {"$ref": "#/components/schemas/DeliveryOptions"}]}
    assert document["components"]["schemas"]["RenderSource"]["anyOf"] == [
        {"$ref": "#/components/schemas/Manifest"}, {"$ref": "#/components/schemas/TemplateRender"}]
    assert "429" not in by_id["moneyprinter.generate"]["responses"]  # MoneyPrinter's routes are not rate limited
    files = by_id["reelforge_files.output"]  # open: the job id is the capability
    assert files["security"] == [] and "401" not in files["responses"] and "206" in files["responses"]


def test_security_is_optional_without_keys_and_required_with_them(document, keyed):
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"]["scheme"] == "bearer" and schemes["apiKey"]["name"] == "x-api-key"
    open_get = next(op for *_, op in operations(document) if op["operationId"] == "openreels.get_job")
    assert open_get["security"] == [{"bearer": []}, {"apiKey": []}, {}]
    keyed_doc = keyed.get("/api/v1/openapi.json").json
    keyed_get = next(op for *_, op in operations(keyed_doc) if op["operationId"] == "openreels.get_job")
    assert keyed_get["security"] == [{"bearer": []}, {"apiKey": []}]


def test_root_has_the_narrative_the_create_schemas_and_links_to_every_operation(client, document):
    root = client.get("/api/v1").json
    for words in ("topic", "script", "?wait", "/events", "artifacts", "Authorization: Bearer", "x-api-key",
                  "MONEYREELS_API_KEYS", "/api/generate", "/v1/videos/render", "openapi.json"):
        assert words in root["instructions"], words
    assert root["schemas"] == {"createJob": GenerateRequest.model_json_schema(),
                               "createSequence": SequenceRequest.model_json_schema()}
    links = root["_links"]
    assert links["self"] == {"href": "/api/v1", "method": "GET"}
    assert {op["operationId"] for *_, op in operations(document)} <= set(links)
    for link in links.values():
        assert link["method"] in ("GET", "POST", "PUT", "PATCH", "DELETE")
        assert link.get("templated", False) == ("{" in link["href"]), link
    assert links["openreels.list_jobs"]["href"] == "/api/v1/jobs{?limit,offset,kind}"
    assert links["openreels.cancel_job"] == {"href": "/api/v1/jobs/{job_id}/cancel", "method": "POST",
                                             "title": links["openreels.cancel_job"]["title"], "templated": True}


def test_discovery_is_open_and_unlimited_when_the_rest_needs_a_key(keyed):
    for _ in range(3):  # the rate limit is 1 a second
        for path in DISCOVERY:
            assert keyed.get(path).status_code == 200, path
    document = keyed.get("/api/v1/openapi.json").json
    for path, method, op in operations(document):
        if path.startswith("/api/v1") and path not in (*DISCOVERY, SESSION):
            response = keyed.open(concrete(path), method=method.upper())
            assert response.status_code == 401, (method, path)
    assert keyed.get("/api/v1/jobs", headers={"x-api-key": "k"}).status_code == 200


def test_every_api_v1_json_object_answer_has_links(client, document):
    # The OpenAPI document is exempt: its root may hold only OpenAPI's fields and x- extensions.
    readable = [path for path, method, op in operations(document)
                if method == "get" and path.startswith("/api/v1") and "{" not in path and path != DISCOVERY[1]]
    assert len(readable) >= 6
    for path in readable:
        response = client.get(path)
        assert response.status_code == 200, path
        # Documented shapes with no room for `_links` (arrays, the providers' categories) link by header.
        assert "_links" in response.json if "Link" not in response.headers else "_links" not in response.json, path
