"""The OpenAPI 3.1 document of every route, generated from app.url_map and each view's contract.

Each view declares its contract beside it (contract.py); building the document fails on a route
whose view declares none, so a route added without docs fails the tests. Request schemas come
from the very models the API validates with, response schemas from the models the views answer with.
"""

import re

from pydantic.json_schema import models_json_schema

from . import errors
from .auth import authenticate
from .contract import WAIT
from .limits import limit_requests

REF = "#/components/schemas/{model}"
ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")  # a Flask rule's <converter:name>
# Flask adds `static` for the package's static folder; the page serves the same files under /assets.
UNDOCUMENTED = {"static"}


# -- Parameters, by name: job ids are UUIDs everywhere.

UUID = {"type": "string", "format": "uuid"}
PATH_PARAMS = {
    "job_id": ("The job's id.", UUID),
    "batch_id": ("The batch's id.", UUID),
    "template_id": ("The render template's id.", UUID),
    "sequence_id": ("The sequence's id: `seq_` and its job's id in hex (a plain job id works too).",
                    {"type": "string", "pattern": "^(seq_[0-9a-f]{32}|[0-9a-fA-F-]{36})$"}),
    "name": ("A file in the job's folder, e.g. final.mp4; or a media file's name.", {"type": "string", "minLength": 1}),
    "filename": ("A file of the page.", {"type": "string", "minLength": 1}),
}
WAIT_HEADERS = {
    "X-Wait-Changed": {"description": "With ?wait: whether the job advanced.", "schema": {"type": "string",
                                                                                          "enum": ["true", "false"]}},
    "X-Wait-Done": {"description": "With ?wait: whether the job is finished.", "schema": {"type": "string",
                                                                                         "enum": ["true", "false"]}},
}


TAGS = {  # blueprint -> tag
    "discovery": "Discovery", "openreels": "OpenReels", "openstory": "OpenStory", "moneyprinter": "MoneyPrinter",
    "reelforge": "Reel Forge", "reelforge_files": "Reel Forge",
    "reelforge_templates": "Reel Forge", "pages": "Page", "session": "Session",
    "batches": "Batches", "media": "Media",
}
TAG_DESCRIPTIONS = {
    "Discovery": "Open without a key: start here.",
    "OpenReels": "Jobs, their events and artifacts, under /api/v1 (OpenReels' API, OpenStory's conventions).",
    "OpenStory": "Script-to-video sequences with pollable status documents.",
    "MoneyPrinter": "MoneyPrinter's job API under /api.",
    "Reel Forge": "Reel Forge's manifest render API under /v1.",
    "Page": "The browser page.",
    "Batches": "Many reels at once, followed and cancelled together.",
    "Media": "The caller's own images, videos and sounds, for manifests and script jobs.",
    "Session": "The page's sign-in: an API key traded for a session cookie, honoured from the page's own origin.",
}
COMMON_ERRORS = {
    401: "Missing or unknown API key (only when MONEYREELS_API_KEYS is set).",
    413: "The body is larger than MONEYREELS_MAX_BODY_BYTES.",
    415: "The body is not sent as JSON (Content-Type application/json or */*+json).",
    429: "Rate limited; Retry-After says how many seconds to wait.",
    500: "Internal error.",
}
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer <key>`."},
    "apiKey": {"type": "apiKey", "in": "header", "name": "x-api-key", "description": "`x-api-key: <key>`."},
}
DESCRIPTION = """\
MoneyReels turns a topic, a script or a render manifest into a vertical reel. One server speaks
four dialects, each with its own error envelope: OpenReels and OpenStory under /api/v1,
MoneyPrinter under /api, Reel Forge under /v1. Start at GET /api/v1.

Authentication: when the server sets MONEYREELS_API_KEYS, every operation that lists a security
requirement needs a key, as `Authorization: Bearer <key>` or `x-api-key: <key>` (else 401), and a
key sees only its own jobs. Without keys those operations are open: this document then lists the
empty requirement too. Discovery and finished-render downloads never need a key."""


def openapi_path(rule: str) -> str:
    """Flask's /jobs/<job_id>/<anypath:name> -> OpenAPI's /jobs/{job_id}/{name}."""
    return ARGUMENT.sub(r"{\1}", rule)


def content(model_or_content, refs) -> dict:
    if isinstance(model_or_content, dict):
        return model_or_content
    return {"application/json": {"schema": refs[model_or_content, "validation"]}}


def guards(app, blueprint) -> tuple[bool, bool]:
    """Whether the blueprint's requests need a key, and whether they are rate limited: read from its hooks."""
    hooks = app.before_request_funcs.get(blueprint, ())
    limited = any(hook.__qualname__.startswith(limit_requests.__qualname__ + ".") for hook in hooks)
    return authenticate in hooks, limited


def responses(route, path: str, authed: bool, limited: bool, refs) -> dict:
    out = {}
    for status, (description, body) in route.responses.items():
        out[str(status)] = {"description": description, "content": content(body, refs)}
        if WAIT in route.params:
            out[str(status)]["headers"] = WAIT_HEADERS
    common = {401: authed, 413: bool(route.body), 415: bool(route.body), 429: limited, 500: True}
    failures = {**{status: COMMON_ERRORS[status] for status, applies in common.items() if applies}, **route.errors}
    envelope = refs[errors.envelope_for(path).model, "validation"]
    for status in sorted(failures):
        out[str(status)] = {"description": failures[status], "content": {"application/json": {"schema": envelope}}}
        if status == 429:
            out["429"]["headers"] = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}
    return out


def operation(app, rule, route, refs) -> dict:
    blueprint = rule.endpoint.rpartition(".")[0]
    authed, limited = guards(app, blueprint)
    parameters = [{"name": name, "in": "path", "required": True, "description": PATH_PARAMS[name][0],
                   "schema": PATH_PARAMS[name][1]} for name in ARGUMENT.findall(rule.rule)]
    parameters += list(route.params)
    op = {"operationId": rule.endpoint, "summary": route.summary, "tags": [TAGS[blueprint]]}
    if route.description:
        op["description"] = route.description
    if parameters:
        op["parameters"] = parameters
    if route.body:
        schemas = [refs[model, "validation"] for model in route.body]
        schema = schemas[0] if len(schemas) == 1 else {"allOf": schemas}
        op["requestBody"] = {"required": route.body_required, "content": {"application/json": {"schema": schema}}}
        if route.upload:
            op["requestBody"]["content"]["multipart/form-data"] = {"schema": route.upload}
    op["responses"] = responses(route, rule.rule, authed, limited, refs)
    keys = app.config["SETTINGS"].api_keys
    op["security"] = ([{"bearer": []}, {"apiKey": []}] + ([] if keys else [{}])) if authed else []
    return op


def contracts(app) -> list:
    """(method, rule, contract) of every documented route; raises KeyError naming a view without a contract."""
    described = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if rule.endpoint in UNDOCUMENTED:
                continue
            route = getattr(app.view_functions[rule.endpoint], "contract", None)
            if route is None:
                raise KeyError(f"{method} {rule.rule} declares no @contract (moneyreels/api/contract.py)")
            described.append((method, rule, route))
    return described


def build(app) -> dict:
    """The document for `app`; raises KeyError naming a route whose view declares no contract."""
    described = contracts(app)
    envelopes = list(dict.fromkeys(envelope.model for envelope in errors.dialects().values()))
    models = list(dict.fromkeys(model for *_, route in described for model in route.models()))
    refs, defs = models_json_schema([(model, "validation") for model in models + envelopes], ref_template=REF)
    paths = {}
    for method, rule, route in described:
        paths.setdefault(openapi_path(rule.rule), {})[method.lower()] = operation(app, rule, route, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "MoneyReels", "version": "1.0.0", "description": DESCRIPTION},
        "tags": [{"name": name, "description": text} for name, text in TAG_DESCRIPTIONS.items()],
        "paths": paths,
        "components": {"schemas": defs.get("$defs", {}), "securitySchemes": SECURITY_SCHEMES},
    }


def document(app) -> dict:
    """The document for `app`, built once: routes and settings are fixed once the app serves."""
    if "moneyreels.openapi" not in app.extensions:
        app.extensions["moneyreels.openapi"] = build(app)
    return app.extensions["moneyreels.openapi"]
