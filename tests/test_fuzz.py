"""Fuzz every documented operation with schemathesis: no 5xx, and every answer as documented.

Random ids only ever reach the 400/404 paths, so each operation is also fuzzed on jobs that
exist, one in each state, made through the API and finished by stand-in runners.
"""

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from moneyreels import api as apis
from moneyreels import kinds, pages
from moneyreels.render.job import OUTPUT_NAME
from moneyreels.api import inputs
from moneyreels.api.openapi import contracts, openapi_path
from moneyreels.worker import Worker
from tests.support.media import image_manifest


def operations() -> list:
    """(method, path) of every documented operation, read from the routes of an app with no database."""
    bare = Flask(__name__)
    apis.register(bare)
    bare.register_blueprint(pages.bp)
    return [(method, openapi_path(rule.rule)) for method, rule, _ in contracts(bare)]


# One test per operation, named from the routes at collection time. (schemathesis' own
# fixture-based parametrize does not run on pytest 9.)
OPERATIONS = operations()
SSE_PATH = "/api/v1/jobs/{job_id}/events"
SCRIPT = "Bees dance to talk. The dance points to flowers. Its length says how far they are."
# Valid beyond what a schema can say (archetype names, reachable assets), so random bodies seldom are.
BODIES = {("POST", "/api/v1/jobs"): {"script": SCRIPT}, ("POST", "/v1/videos/render"): image_manifest()}
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


def video(ctx):
    """Stand in for a render: finish with a final.mp4."""
    ctx.dir.mkdir(parents=True, exist_ok=True)
    (ctx.dir / OUTPUT_NAME).write_bytes(b"\0" * 64)
    return ctx.dir / OUTPUT_NAME


@pytest.fixture
def seeded(app, settings):
    """Job ids by state: failed, completed (generate and render), cancelled, queued."""
    client = app.test_client()

    def generate(runners=None):
        job_id = client.post("/api/v1/jobs", json={"script": SCRIPT}).json["id"]
        if runners is not None:
            Worker(settings, runners).loop()
        return job_id

    ids = {"failed": generate({}), "completed": generate({kinds.generate.KIND: video})}
    ids["render"] = client.post("/v1/videos/render", json=image_manifest()).json["job_id"]
    Worker(settings, {kinds.render.KIND: video}).loop()
    ids["cancelled"] = generate()
    client.post(f"/api/v1/jobs/{ids['cancelled']}/cancel")
    ids["queued"] = generate()
    return ids


@pytest.fixture
def api(app, seeded, monkeypatch):
    # Nothing runs the jobs the fuzzer creates: a ?wait on one would hold the full 90 s.
    monkeypatch.setattr(inputs, "MAX_WAIT_SECONDS", 0.01)
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def cases(operation, method, path, seeded):
    """Random inputs, positive and negative, also on each seeded job, and a valid body where random ones fail."""
    strategies = [operation.as_strategy(mode) for mode in GenerationMode]
    # A job's event stream lasts as long as the job: only finished jobs' streams end.
    states = [state for state in seeded if path != SSE_PATH or state != "queued"]
    for name in ("job_id", "sequence_id"):
        if "{" + name + "}" in path:
            for state in states:
                variants = [{name: seeded[state]}]
                if "{name}" in path:  # and the file a finished job has
                    variants.append({name: seeded[state], "name": OUTPUT_NAME})
                strategies += [operation.as_strategy(mode, path_parameters=params) for mode in GenerationMode
                               for params in variants]
    if (method, path) in BODIES:
        strategies.append(operation.as_strategy(body=BODIES[method, path]))
    return st.one_of(strategies)


@pytest.mark.fuzz
@pytest.mark.parametrize("method, path", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation(api, seeded, method, path):
    # The event stream is text/event-stream, not JSON: only its JSON errors have a schema.
    checks = CHECKS[:2] if path == SSE_PATH else CHECKS

    statuses = []

    @settings(max_examples=25, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(cases(api[path][method], method, path, seeded))
    def call(case):
        statuses.append(case.call_and_validate(checks=checks).status_code)

    call()
    # Beyond schemathesis' checks (which raise): the operation was exercised, and never failed with a 5xx.
    assert statuses and max(statuses) < 500
