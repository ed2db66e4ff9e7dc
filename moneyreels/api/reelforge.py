"""Reel Forge's render API: POST /v1/videos/render, GET /v1/jobs/:jobId, and the output files.

Shapes follow reference/reelforge-api.md: {"success": true, ...} or
{"success": false, "error": {message, code, request_id, details}}.
"""

import hashlib
import json
import math
import re
from pathlib import Path

from flask import Blueprint, current_app, g, request
from peewee import IntegrityError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .. import jobs, netguard
from ..db import Job
from ..errors import Conflict, InvalidRequest, NotFound
from ..isotime import iso
from ..jobs import State
from ..kinds import render
from ..manifest import Manifest
from ..render.job import CONTENT_TYPES, POSTER_NAME, content_type
from .auth import authenticate, current_owner
from .contract import BAD_RANGE, INVALID, UNKNOWN_JOB, contract, download
from .errors import dialect
from .inputs import field_errors, json_object
from .jobfiles import send_job_file
from .limits import limit_requests
from .reelforge_models import (STATUSES, Deduped, ReelForgeError, RenderJob, RenderReplayed, RenderStatus,
                               RenderSubmitted)
from .unknown_keys import unknown_keys

bp = Blueprint("reelforge", __name__, url_prefix="/v1")
bp.before_request(authenticate)
bp.before_request(limit_requests("reelforge", lambda s: (s.rate_limit, s.rate_window)))

# Files are fetched by players and webhook receivers that cannot send a key: the
# unguessable job id is the capability, as Reel Forge's CDN URLs are.
files = Blueprint("reelforge_files", __name__, url_prefix="/v1/files")

DELIVERY_FIELDS = ("webhook_url", "webhook_headers", "webhook_secret", "idempotency_key", "metadata")
RESERVED_HEADERS = {"content-type", "content-length", "host", "user-agent", "reelforge-signature", "transfer-encoding"}
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")
# A header value the HTTP client can send as it is: printable Latin-1 (tab allowed), no CR/LF.
HEADER_VALUE = re.compile(r"^[\t\x20-\x7e\xa0-\xff]{0,1000}$")
MAX_HEADER_BYTES = 8 * 1024  # all custom headers together
MAX_METADATA_NUMBER = 2**53  # what every JSON reader holds exactly
IDEMPOTENCY_KEY = {"name": "idempotency-key", "in": "header", "schema": {"type": "string", "minLength": 1,
                   "maxLength": 255}, "description": "A replay of a key answers its first job; wins over the "
                   "idempotency_key field."}



@dialect("/v1", ReelForgeError)
def envelope(error):
    return {
        "success": False,
        "error": {"message": error.message, "code": error.code, "request_id": g.get("request_id"),
                  "details": error.details},
    }


class DeliveryOptions(BaseModel):
    """The top-level fields beside the manifest: webhook, idempotency, metadata."""

    model_config = ConfigDict(extra="ignore")

    webhook_url: str | None = Field(None, max_length=2048, pattern=r"^https?://[^\s/]+")
    webhook_headers: dict[str, str] | None = Field(None, max_length=20)
    webhook_secret: str | None = Field(None, min_length=1, max_length=256)
    idempotency_key: str | None = Field(None, min_length=1, max_length=255)
    metadata: dict[str, str | bool | int | float] | None = Field(None, max_length=10)

    @field_validator("webhook_headers")
    @classmethod
    def _headers(cls, headers):
        for name, value in (headers or {}).items():
            if not HEADER_NAME.match(name):
                raise ValueError(f"invalid header name {name!r}")
            if name.lower() in RESERVED_HEADERS:
                raise ValueError(f"header {name!r} is set by the webhook sender")
            if not HEADER_VALUE.match(value):
                raise ValueError(f"invalid value for header {name!r}: at most 1000 printable Latin-1 characters")
        if sum(len(name) + len(value) for name, value in (headers or {}).items()) > MAX_HEADER_BYTES:
            raise ValueError(f"headers are over {MAX_HEADER_BYTES} bytes in all")
        return headers

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, metadata):
        for key, value in (metadata or {}).items():
            if len(key) > 500 or len(str(value)) > 500:
                raise ValueError(f"metadata {key[:40]!r}: keys and values are at most 500 characters")
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if number and not abs(value) <= MAX_METADATA_NUMBER:
                raise ValueError(f"metadata {key[:40]!r}: numbers are at most {MAX_METADATA_NUMBER} in size")
        return metadata


def validate(body: dict) -> tuple[Manifest, DeliveryOptions]:
    """Validate the manifest and the delivery fields together, reporting every error at once."""
    errors = []
    manifest = options = None
    try:
        manifest = Manifest.model_validate({k: v for k, v in body.items() if k not in DELIVERY_FIELDS})
    except ValidationError as exc:
        errors += field_errors(exc)
    try:
        options = DeliveryOptions.model_validate(body)
    except ValidationError as exc:
        errors += field_errors(exc)
    if errors:
        first = errors[0]
        raise InvalidRequest(f"{first['field']}: {first['message']}", code="validation_error",
                             details={"errors": errors})
    return manifest, options


def describe(job) -> dict:
    """The job as Reel Forge's GET /v1/jobs/:jobId `data` shows it."""
    duration = job.outputs.get("total_duration_seconds")
    error = render.error_of(job)
    return {
        "id": job.id,
        "status": STATUSES[job.state],
        "output_url": render.output_url(job),
        "error_message": error["message"] if error else None,
        "created_at": iso(job.created_at),
        "updated_at": iso(job.updated_at),
        "total_duration_seconds": duration,
        # Self-hosted renders cost nothing; this is Reel Forge's formula (a credit a started second).
        "credit_cost": math.ceil(duration) if duration and job.state == State.COMPLETED else 0,
        "poster_url": render.poster_url(job),
    }


def fingerprint(body: dict) -> str:
    """Hash the request, less its idempotency key, to tell a replay from a different request."""
    canonical = {k: v for k, v in body.items() if k != "idempotency_key"}
    return hashlib.sha256(json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def check_webhook_url(url):
    """Refuse a webhook the server may not call: a private address unless allowed (MONEYREELS_ALLOW_PRIVATE_URLS)."""
    try:
        netguard.check_url(url, netguard.private_allowed(current_app.config["SETTINGS"]))
    except (OSError, ValueError) as exc:
        reason = str(exc) if isinstance(exc, (ValueError, netguard.BlockedAddress)) else "its host does not resolve"
        raise InvalidRequest(f"webhook_url: cannot be used: {reason}.", code="validation_error",
                             details={"errors": [{"field": "webhook_url", "message": reason}]}) from None


def base_url() -> str:
    return current_app.config["SETTINGS"].public_url or request.host_url


def replay(key, digest):
    """Answer a request whose idempotency key was seen before."""
    job = Job.get((Job.owner == current_owner()) & (Job.idempotency_key == key))
    if job.request_hash != digest:
        raise Conflict(
            "This idempotency key was already used with a different request body.",
            code="idempotency_conflict", details={"idempotency_key": key, "job_id": job.id},
        )
    return RenderReplayed(success=True, data=Deduped(deduped=True, job=RenderJob(**describe(job)))), 200


@bp.post("/videos/render")
@contract("Render a manifest (Reel Forge)",
          {202: ("Queued.", RenderSubmitted), 200: ("A replay of an idempotency key: the first job.", RenderReplayed)},
          errors={**INVALID, 409: "The idempotency key was used with a different body."},
          body=(Manifest, DeliveryOptions), params=(IDEMPOTENCY_KEY,),
          description="The manifest's fields at the top level, beside the delivery fields.")
def submit():
    body = json_object()
    manifest, options = validate(body)
    key = request.headers.get("idempotency-key") or options.idempotency_key
    if key is not None and not 0 < len(key) <= 255:
        raise InvalidRequest("idempotency-key: must be 1 to 255 characters.", code="validation_error")
    if options.webhook_url:
        check_webhook_url(options.webhook_url)
    digest = fingerprint(body)
    if key and Job.select().where((Job.owner == current_owner()) & (Job.idempotency_key == key)).exists():
        return replay(key, digest)
    webhook = None
    if options.webhook_url:
        webhook = {"url": options.webhook_url, "headers": options.webhook_headers or {},
                   "secret": options.webhook_secret or current_app.config["SETTINGS"].webhook_secret}
    try:
        job = render.create(manifest, metadata=options.metadata, webhook=webhook, base_url=base_url(),
                            owner=current_owner(), idempotency_key=key, request_hash=digest)
    except IntegrityError:
        # Another request with this key won the race a moment ago.
        return replay(key, digest)
    warnings = unknown_keys(Manifest, body, extra=DELIVERY_FIELDS)
    return RenderSubmitted(success=True, job_id=job.id, request_id=g.request_id, warnings=warnings or None), 202


@bp.get("/jobs/<job_id>")
@contract("Read a render job (Reel Forge)", {200: ("The job.", RenderStatus)}, errors=UNKNOWN_JOB)
def status(job_id):
    job = jobs.get(job_id, current_owner())
    return RenderStatus(success=True, request_id=g.request_id, data=RenderJob(**describe(job)),
                        error=render.error_of(job) or None)


@files.get("/<job_id>/<name>")
@contract("Download a finished render or its poster, with Range requests (no key: the job id is the capability)",
          download("The video (MP4), the GIF or the MP3 as `output.format` asked; or the poster (JPEG).",
                   {kind: {"schema": {"type": "string", "contentMediaType": kind}} for kind in CONTENT_TYPES.values()}),
          errors={**BAD_RANGE, 404: "No such finished render or file."})
def output(job_id, name):
    """Serve a finished render's output or poster, with Range support so players can seek."""
    job = Job.get_or_none(Job.id == job_id)
    if job is None or job.state != jobs.State.COMPLETED or not job.result_path:
        raise NotFound("File not found.")
    path = Path(job.result_path)
    if name == POSTER_NAME and render.poster_requested(job):
        path = path.with_name(POSTER_NAME)
    if path.name != name or not path.is_file():
        raise NotFound("File not found.")
    return send_job_file(path, mimetype=content_type(name), max_age=3600)
