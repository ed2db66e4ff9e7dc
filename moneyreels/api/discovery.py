"""Discovery: GET /api/v1 and the OpenAPI document, open without a key so tools can start here.

The document is at /api/v1/openapi.json (OpenStory's place) and /v1/openapi.json (Reel Forge's).
"""

from typing import Any

from flask import Blueprint, current_app
from pydantic import RootModel

from ..pipeline.request import GenerateRequest
from . import openapi
from .contract import Links, Strict, contract, link, links
from .openstory import SequenceRequest

# No authenticate or rate-limit hooks: this blueprint is open by design.
bp = Blueprint("discovery", __name__)

INSTRUCTIONS = """\
MoneyReels makes vertical reels (1080x1920 MP4 with voice, captions, visuals and music).

1. Create a job: POST /api/v1/jobs with {"topic": "..."} to have the script written, or
   {"script": "..."} to have yours narrated as written (schema: schemas.createJob). Or create an
   OpenStory sequence: POST /api/v1/sequences with {"script": "..."} (schema: schemas.createSequence).
   Both answer with the new id and _links; follow the links rather than building paths.
2. Poll: GET /api/v1/jobs/{id}?wait=60s (or /api/v1/sequences/{id}?wait=60s) holds the request until
   the job changes or finishes (at most 90 s); X-Wait-Changed and X-Wait-Done say which.
3. Or follow it live: GET /api/v1/jobs/{id}/events is a Server-Sent Events stream: job:snapshot,
   stage and progress events, then job:completed or job:failed (a cancelled job sends job:cancelled,
   then job:failed), and the stream closes. Reconnect with Last-Event-ID to get exactly what you
   missed.
4. Fetch the video: a completed job's _links.video, under /api/v1/jobs/{id}/artifacts/.

Authentication: when the server sets MONEYREELS_API_KEYS, send a key as `Authorization: Bearer <key>`
or `x-api-key: <key>` (else 401); a key sees only its own jobs. Without keys the API is open.
This root and /api/v1/openapi.json never need a key.

Errors are JSON: {"error": {"code", "message", "details"}} with the HTTP status.

Other dialects on the same server, for their existing clients: MoneyPrinter under /api
(POST /api/generate), Reel Forge under /v1 (POST /v1/videos/render with a manifest). Every route of
every dialect is in /api/v1/openapi.json, and in _links below."""


class Discovery(Strict):
    instructions: str
    schemas: dict[str, dict[str, Any]]
    links: Links = links()


class OpenApiDocument(RootModel[dict[str, Any]]):
    """This document."""


def catalog(document) -> dict:
    """HAL links to every operation of the document, query parameters as URI templates."""
    links = {"self": link("/api/v1")}
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            query = [p["name"] for p in op.get("parameters", ()) if p["in"] == "query"]
            href = path + ("{?" + ",".join(query) + "}" if query else "")
            extra = {"templated": True} if "{" in href else {}
            links[op["operationId"]] = link(href, method.upper(), title=op["summary"], **extra)
    return links


@bp.get("/api/v1")
@contract("API root: instructions, request schemas, links", {200: ("The root.", Discovery)})
def root():
    return Discovery(
        instructions=INSTRUCTIONS,
        schemas={"createJob": GenerateRequest.model_json_schema(),
                 "createSequence": SequenceRequest.model_json_schema()},
        links=catalog(openapi.document(current_app)),
    )


@bp.get("/api/v1/openapi.json")
@contract("This OpenAPI document", {200: ("The document.", OpenApiDocument)})
def openapi_json():
    return OpenApiDocument(openapi.document(current_app))


@bp.get("/v1/openapi.json")
@contract("This OpenAPI document, where Reel Forge clients look for it", {200: ("The document.", OpenApiDocument)})
def reelforge_openapi():
    """The same document where Reel Forge's clients look for it (its own operation id)."""
    return OpenApiDocument(openapi.document(current_app))
