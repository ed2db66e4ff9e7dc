"""The OpenAPI 3.1 document of every route, generated from app.url_map and the pydantic models.

ROUTES describes each (method, rule); building the document fails on a route it does not
describe, so a route added without docs fails the tests. Request schemas come from the very
models the API validates with; response schemas from the small models below.
"""

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel
from pydantic.json_schema import SkipJsonSchema, models_json_schema

from .. import renders
from ..jobs import State
from ..manifest import Manifest
from ..pipeline.request import GenerateRequest, RetryBody
from . import errors, moneyprinter, reelforge
from .auth import authenticate
from .inputs import _DURATION, MAX_WAIT_SECONDS
from .limits import limit_requests
from .moneyprinter import GenerateBody
from .openstory import STATUSES as SEQUENCE_STATUSES
from .openstory import SequenceRequest
from .batch_csv import COLUMNS as CSV_COLUMNS
from .batches import MAX_JOBS as MAX_BATCH_JOBS
from .batches import BatchRequest
from .media import MediaTags, MediaUrl
from .reelforge import DeliveryOptions
from .session import SessionRequest

REF = "#/components/schemas/{model}"
ARGUMENT = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")  # a Flask rule's <converter:name>
# Flask adds `static` for the package's static folder; the page serves the same files under /assets.
UNDOCUMENTED = {"static"}


# -- Response models: what the handlers return, tight enough to catch drift (extra keys fail).

def absent(description=None):
    """A key that is absent or set, never null: its schema allows neither null nor a default."""
    return Field(None, description=description, json_schema_extra=lambda schema: schema.pop("default"))


def links():
    return Field(alias="_links", description="HAL links: the actions available from here, each with its method.")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Link(Strict):
    href: str
    method: Literal["GET", "POST", "PATCH", "DELETE"]
    templated: bool | SkipJsonSchema[None] = absent()
    type: str | SkipJsonSchema[None] = absent()
    title: str | SkipJsonSchema[None] = absent()


Links = dict[str, Link]


class ErrorDetail(Strict):
    code: str
    message: str
    details: dict[str, Any]


class OpenStoryError(Strict):
    """The error envelope of /api/v1 (and of any path no dialect claims)."""

    error: ErrorDetail


class MoneyPrinterError(Strict):
    """MoneyPrinter's error envelope, under /api."""

    status: Literal["error"]
    message: str


class ReelForgeErrorDetail(ErrorDetail):
    request_id: str


class ReelForgeError(Strict):
    """Reel Forge's error envelope, under /v1."""

    success: Literal[False]
    error: ReelForgeErrorDetail


class BatchJob(Strict):
    id: str
    title: str
    status: State
    links: Links = links()


class BatchStatus(Strict):
    id: str
    status: Literal["running", "finished"]
    total: int
    counts: dict[State, int]
    jobs: list[BatchJob]
    links: Links = links()


class MediaItem(Strict):
    name: str
    kind: Literal["image", "video", "audio"]
    durationSeconds: float | None = None
    width: int | None = None
    height: int | None = None
    bytes: int
    addedAt: float | None = None
    tags: list[str]
    path: str = Field(description="the file's path inside MEDIA_DIR, as a manifest's asset url names it")
    links: Links = links()


class MediaList(Strict):
    media: list[MediaItem]
    total: int
    links: Links = links()


class MediaDeleted(Strict):
    name: str
    deleted: Literal[True]
    links: Links = links()


class SessionState(Strict):
    keysRequired: bool
    signedIn: bool
    expiresAt: datetime | None
    links: Links = links()


class JobSummary(Strict):
    id: str
    kind: str
    title: str = Field(description="the request's title, else the topic, the script's or score's first sentence")
    topic: str | None
    status: State
    createdAt: datetime
    completedAt: datetime | None
    stages: dict[str, Any]


class ListedJob(JobSummary):
    links: Links = links()


class JobList(Strict):
    jobs: list[ListedJob]
    total: int
    limit: int
    offset: int
    links: Links = links()


class JobSnapshot(JobSummary):
    archetype: str | None
    startedAt: datetime | None
    cancelRequested: bool
    costEstimate: dict[str, Any] | None
    actualCost: dict[str, Any] | None
    videoPath: str | None
    runDir: str | None
    researchData: dict[str, Any] | None
    score: dict[str, Any] | None
    musicTrack: dict[str, Any] | None
    criticReview: dict[str, Any] | None
    providers: dict[str, Any] | None
    error: ErrorDetail | None
    links: Links = links()


class JobCreated(Strict):
    id: str
    topic: str | None
    archetype: str | None
    status: State
    links: Links = links()


class JobDeleted(Strict):
    status: Literal["deleted"]
    links: Links = links()


class JobCancelled(Strict):
    status: Literal["cancelled"]
    state: State
    cancelRequested: bool
    links: Links = links()


class Health(Strict):
    status: Literal["healthy", "degraded"]
    redis: Literal["unused"] = Field(description="OpenReels' field; there is no Redis: the queue is the database.")
    database: Literal["connected", "unavailable"]
    worker: Literal["running", "stopped"]
    jobsDir: Literal["exists", "missing"]
    keys: dict[str, bool]
    links: Links = links()


class Stats(Strict):
    totalJobs: int
    completedJobs: int
    failedJobs: int
    activeJobs: int
    totalCost: float
    links: Links = links()


class Catalog(RootModel[list[dict[str, Any]]]):
    """A JSON array of catalog entries; its self link is in the Link header."""


class Voice(Strict):
    id: str
    label: str
    language: str


class Provider(Strict):
    key: str
    label: str
    available: bool
    requires: list[str] | SkipJsonSchema[None] = absent()
    voices: list[Voice] | SkipJsonSchema[None] = absent()


class ProviderList(Strict):
    llm: list[Provider]
    tts: list[Provider]
    image: list[Provider]
    stock: list[Provider]
    video: list[Provider]
    music: list[Provider]


class Media(Strict):
    status: Literal["ready", "skipped", "pending", "failed"]
    url: str | None


class Frame(Strict):
    index: int
    scriptLine: str
    visualType: str
    image: Media
    video: Media


class FrameCounts(Strict):
    frames: int
    imagesReady: int
    imagesFailed: int
    videosReady: int
    videosFailed: int


class Sequence(Strict):
    id: str
    title: str | None
    status: Literal[tuple(SEQUENCE_STATUSES.values())]
    frames: list[Frame]
    counts: FrameCounts
    music: Media
    poster: str | None
    video: str | None
    error: ErrorDetail | None
    links: Links = links()


class SequenceEntry(Strict):
    id: str
    status: Literal[tuple(SEQUENCE_STATUSES.values())]
    workflowRunId: str
    statusUrl: str
    links: Links = links()
    progress: Sequence | SkipJsonSchema[None] = absent("With ?wait: the first progress snapshot.")
    waitChanged: bool | SkipJsonSchema[None] = absent()
    waitDone: bool | SkipJsonSchema[None] = absent()


class SequencesCreated(Strict):
    sequences: list[SequenceEntry]
    enhancedScript: str | None
    links: Links = links()


class MoneyPrinterJob(Strict):
    id: str
    state: State
    cancelRequested: bool
    resultPath: str | None
    errorMessage: str | None
    createdAt: datetime
    startedAt: datetime | None
    completedAt: datetime | None


class MoneyPrinterEvent(Strict):
    id: int
    type: str
    level: str
    message: str
    payload: dict[str, Any] | None
    timestamp: float


class MoneyPrinterQueued(Strict):
    status: Literal["success"]
    message: str
    jobId: str


class MoneyPrinterJobBody(Strict):
    status: Literal["success"]
    job: MoneyPrinterJob


class MoneyPrinterEvents(Strict):
    status: Literal["success"]
    events: list[MoneyPrinterEvent]


class MoneyPrinterCancelled(Strict):
    status: Literal["success"]
    message: str
    jobId: str | SkipJsonSchema[None] = absent()


class RenderJob(Strict):
    id: str
    status: Literal[tuple(dict.fromkeys(renders.STATUSES.values()))]
    output_url: str | None
    error_message: str | None
    created_at: datetime
    updated_at: datetime
    total_duration_seconds: float | None
    credit_cost: int


class KeyWarning(Strict):
    field: str
    message: str
    suggestion: str | None


class RenderSubmitted(Strict):
    success: Literal[True]
    job_id: str
    request_id: str
    warnings: list[KeyWarning] | SkipJsonSchema[None] = absent("Unknown keys that were ignored, when there are any.")


class Deduped(Strict):
    deduped: Literal[True]
    job: RenderJob


class RenderReplayed(Strict):
    success: Literal[True]
    data: Deduped


class RenderStatus(Strict):
    success: Literal[True]
    request_id: str
    data: RenderJob
    error: ErrorDetail | SkipJsonSchema[None] = absent("Present when the render failed.")


class Discovery(Strict):
    instructions: str
    schemas: dict[str, dict[str, Any]]
    links: Links = links()


class OpenApiDocument(RootModel[dict[str, Any]]):
    """This document."""


# -- Parameters, by name: job ids are UUIDs everywhere.

UUID = {"type": "string", "format": "uuid"}
PATH_PARAMS = {
    "job_id": ("The job's id.", UUID),
    "batch_id": ("The batch's id.", UUID),
    "sequence_id": ("The sequence's id: `seq_` and its job's id in hex (a plain job id works too).",
                    {"type": "string", "pattern": "^(seq_[0-9a-f]{32}|[0-9a-fA-F-]{36})$"}),
    "filename": ("A file of the page.", {"type": "string", "minLength": 1}),
    "name": ("A file in the job's folder, e.g. final.mp4; or a media file's name.", {"type": "string", "minLength": 1}),
}
WAIT = {"name": "wait", "in": "query", "schema": {"type": "string", "pattern": _DURATION.pattern},
        "description": f"Long-poll: hold the request until the job changes or finishes, at most this long (30, 60s, "
                       f"2m, 1500ms; capped at {MAX_WAIT_SECONDS:g} s). X-Wait-Changed and X-Wait-Done say which."}
AFTER = {"name": "after", "in": "query", "description": "Only events with a greater id.",
         "schema": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1, "default": 0}}
LIMIT = {"name": "limit", "in": "query", "description": "Jobs per page; more than 100 reads as 100.",
         "schema": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1, "default": 20}}
KIND = {"name": "kind", "in": "query", "description": "Which jobs: `generate` (OpenReels' jobs, the default), "
        "`render` (Reel Forge renders) or `all`.", "schema": {"type": "string", "enum": ["generate", "render", "all"],
                                                               "default": "generate"}}
OFFSET = {"name": "offset", "in": "query", "description": "Jobs to skip, newest first.",
          "schema": {"type": "integer", "minimum": 0, "maximum": 10**9, "default": 0}}
RESUME = ({"name": "lastEventId", "in": "query", "description": "Resume after this event id (as Last-Event-ID does).",
           "schema": {"type": "string"}},
          {"name": "Last-Event-ID", "in": "header", "description": "Resume after this event id.",
           "schema": {"type": "string"}})
IDEMPOTENCY_KEY = {"name": "idempotency-key", "in": "header", "schema": {"type": "string", "minLength": 1,
                   "maxLength": 255}, "description": "A replay of a key answers its first job; wins over the "
                   "idempotency_key field."}
WAIT_HEADERS = {
    "X-Wait-Changed": {"description": "With ?wait: whether the job advanced.", "schema": {"type": "string",
                                                                                          "enum": ["true", "false"]}},
    "X-Wait-Done": {"description": "With ?wait: whether the job is finished.", "schema": {"type": "string",
                                                                                         "enum": ["true", "false"]}},
}


# -- The table: every route, described.

@dataclass(frozen=True)
class Route:
    summary: str
    responses: dict  # status -> (description, response model, or a `content` map for other media)
    errors: dict = field(default_factory=dict)  # dialect error statuses beyond the common ones
    body: tuple = ()  # the models the JSON body must satisfy, all of them
    body_required: bool = True
    params: tuple = ()  # query and header parameters
    description: str = ""
    upload: dict = field(default_factory=dict)  # a multipart/form-data body's schema, when one is taken


SSE = {"text/event-stream": {"schema": {"type": "string"}}}
ANY_FILE = {"*/*": {"schema": {}}}
INVALID = {400: "Invalid JSON or a field out of range; `details.errors` names each field."}
BAD_ID = {400: "The id is not a UUID, or a parameter is malformed.", 404: "No such job (or another key's)."}
UNKNOWN_JOB = {404: "No such job (or another key's)."}
BAD_RANGE = {416: "The Range lies outside the file."}
MEDIA_UPLOAD = {"type": "object", "required": ["file"],
                "properties": {"file": {"type": "string", "contentMediaType": "application/octet-stream",
                                        "description": "an image, video or audio file"},
                               "tags": {"type": "string", "description": "comma-separated tags"}}}
NO_MEDIA = {404: "No such media file (or another key's)."}
CSV_UPLOAD = {"type": "object", "required": ["file"],
              "properties": {"file": {"type": "string", "contentMediaType": "text/csv",
                                      "description": "a header row of option names, then a row per reel"}}}


def download(description, content) -> dict:
    """A file's answers: whole, or the byte range the Range header asked for."""
    return {200: (description, content), 206: ("The range asked for.", content)}


ROUTES = {
    ("GET", "/api/v1"): Route("API root: instructions, request schemas, links", {200: ("The root.", Discovery)}),
    ("GET", "/api/v1/openapi.json"): Route("This OpenAPI document", {200: ("The document.", OpenApiDocument)}),
    ("GET", "/v1/openapi.json"): Route("This OpenAPI document, where Reel Forge clients look for it",
                                       {200: ("The document.", OpenApiDocument)}),
    ("GET", "/api/v1/health"): Route("Health of the database, worker and jobs folder", {200: ("Health.", Health)}),
    ("GET", "/api/v1/stats"): Route("Job counts and cost totals", {200: ("The caller's totals.", Stats)}),
    ("POST", "/api/v1/jobs"): Route(
        "Create a job from a topic, a script or a director's score", {201: ("Queued.", JobCreated)},
        errors=INVALID, body=(GenerateRequest,)),
    ("GET", "/api/v1/jobs"): Route(
        "List the caller's jobs, newest first", {200: ("A page of jobs.", JobList)},
        errors={400: "limit or offset is not a non-negative integer, or kind is unknown."},
        params=(LIMIT, OFFSET, KIND)),
    ("GET", "/api/v1/jobs/<job_id>"): Route(
        "Read a job", {200: ("The job.", JobSnapshot)}, errors=BAD_ID, params=(WAIT,)),
    ("DELETE", "/api/v1/jobs/<job_id>"): Route(
        "Delete a finished job and its files", {200: ("Deleted.", JobDeleted)},
        errors={**BAD_ID, 409: "The job is queued or running; cancel it first."}),
    ("POST", "/api/v1/jobs/<job_id>/cancel"): Route(
        "Cancel a job: at once when queued, at its next checkpoint when running",
        {200: ("Cancellation recorded.", JobCancelled)}, errors={**BAD_ID, 409: "The job already finished."}),
    ("POST", "/api/v1/jobs/<job_id>/retry"): Route(
        "Resume a failed or cancelled generate job from its first unfinished stage",
        {202: ("Queued again.", JobSnapshot)}, body=(RetryBody,), body_required=False,
        errors={**BAD_ID, 400: "Invalid JSON, or keys the job needs are missing (`keys_required`).",
                409: "Not a generate job, or not failed or cancelled."}),
    ("GET", "/api/v1/jobs/<job_id>/events"): Route(
        "Follow a job as Server-Sent Events", {200: ("job:snapshot, then stage/log/progress events, then a "
                                                     "terminal job:completed or job:failed (a cancelled job: "
                                                     "job:cancelled, then job:failed).", SSE)},
        errors=BAD_ID, params=RESUME),
    ("GET", "/api/v1/jobs/<job_id>/artifacts/<anypath:name>"): Route(
        "Download a file of the job (the video, the score, images...), with Range requests",
        download("The file.", ANY_FILE),
        errors={**BAD_ID, **BAD_RANGE, 403: "The path leaves the job's folder.", 404: "No such job or file."}),
    ("GET", "/api/v1/archetypes"): Route("List the visual archetypes", {200: ("The archetypes.", Catalog)}),
    ("GET", "/api/v1/platforms"): Route("List the target platforms", {200: ("The platforms.", Catalog)}),
    ("GET", "/api/v1/providers"): Route("List the providers and whether each is usable",
                                        {200: ("The providers.", ProviderList)}),
    ("POST", "/api/v1/sequences"): Route(
        "Create a sequence from a script (OpenStory)", {202: ("Created; poll statusUrl.", SequencesCreated)},
        errors=INVALID, body=(SequenceRequest,),
        params=({**WAIT, "description": "Hold the answer until each new sequence's first progress (same format)."},)),
    ("GET", "/api/v1/sequences/<sequence_id>"): Route(
        "Read a sequence's status document", {200: ("The status, derived from the database.", Sequence)},
        errors={**BAD_ID, 404: "No such sequence (or another key's)."}, params=(WAIT,),
        description="A completed sequence can still count failed frames: check `counts`."),
    ("POST", "/api/generate"): Route(
        "Queue a reel from a subject (MoneyPrinter)", {200: ("Queued.", MoneyPrinterQueued)},
        errors={400: "Invalid JSON, or no videoSubject (nor script)."}, body=(GenerateBody,)),
    ("GET", "/api/jobs/<job_id>"): Route(
        "Read a job (MoneyPrinter)", {200: ("The job.", MoneyPrinterJobBody)}, errors=UNKNOWN_JOB),
    ("GET", "/api/jobs/<job_id>/events"): Route(
        "Read a job's events, oldest first, at most 500 a call (MoneyPrinter)",
        {200: ("The events.", MoneyPrinterEvents)},
        errors={**UNKNOWN_JOB, 400: "after or wait is malformed."},
        params=(AFTER, {**WAIT, "description": "Long-poll: hold the request until an event arrives (same format)."})),
    ("POST", "/api/jobs/<job_id>/cancel"): Route(
        "Cancel a job (MoneyPrinter)", {200: ("Cancellation requested.", MoneyPrinterCancelled)},
        errors={**UNKNOWN_JOB, 409: "The job already finished."}),
    ("POST", "/api/cancel"): Route(
        "Cancel the running job, else the newest queued one (MoneyPrinter)",
        {200: ("Cancellation requested.", MoneyPrinterCancelled)}, errors={404: "No active job."}),
    ("POST", "/v1/videos/render"): Route(
        "Render a manifest (Reel Forge)",
        {202: ("Queued.", RenderSubmitted), 200: ("A replay of an idempotency key: the first job.", RenderReplayed)},
        errors={**INVALID, 409: "The idempotency key was used with a different body."},
        body=(Manifest, DeliveryOptions), params=(IDEMPOTENCY_KEY,),
        description="The manifest's fields at the top level, beside the delivery fields."),
    ("GET", "/v1/jobs/<job_id>"): Route(
        "Read a render job (Reel Forge)", {200: ("The job.", RenderStatus)}, errors=UNKNOWN_JOB),
    ("GET", "/v1/files/<job_id>/<name>"): Route(
        "Download a finished render, with Range requests (no key: the job id is the capability)",
        download("The video.", {"video/mp4": {"schema": {"type": "string", "contentMediaType": "video/mp4"}}}),
        errors={**BAD_RANGE, 404: "No such finished render or file."}),
    ("POST", "/api/v1/batches"): Route(
        "Queue many reels at once: create-job bodies over shared defaults, or a CSV with a column per option",
        {201: ("Queued, every job or none.", BatchStatus)},
        errors={400: "A row is invalid (`details.errors` names `jobs.<row>.<field>`, or `file` for the CSV); "
                     "nothing was queued."},
        body=(BatchRequest,), upload=CSV_UPLOAD,
        description=f"At most {MAX_BATCH_JOBS} jobs. A CSV's header names the columns ({', '.join(CSV_COLUMNS)}); "
                    "an empty cell leaves the option out."),
    ("GET", "/api/v1/batches/<batch_id>"): Route(
        "Read a batch: counts by status and each job with its title and link", {200: ("The batch.", BatchStatus)},
        errors={400: "The id is not a UUID.", 404: "No such batch (or another key's)."}),
    ("POST", "/api/v1/batches/<batch_id>/cancel"): Route(
        "Cancel every job of the batch that has not finished", {200: ("The batch after cancelling.", BatchStatus)},
        errors={400: "The id is not a UUID.", 404: "No such batch (or another key's)."}),
    ("POST", "/api/v1/media"): Route(
        "Add a media file to the caller's library: a multipart upload, or a URL fetched through the guarded client",
        {201: ("Kept (under a new name if the name was taken).", MediaItem)},
        errors={400: "Not media, not what its name says, a name with a folder or '..', or a URL that cannot be "
                     "fetched; nothing was kept.", 409: "Too many files with this name.",
                413: "Larger than MONEYREELS_MAX_ASSET_BYTES."},
        body=(MediaUrl,), upload=MEDIA_UPLOAD,
        description="Probed before it is kept; never replaces another file. With API keys, each key has its own "
                    "folder."),
    ("GET", "/api/v1/media"): Route("List the caller's media, newest first", {200: ("The library.", MediaList)}),
    ("GET", "/api/v1/media/<name>"): Route("Read one media file's details", {200: ("The file.", MediaItem)},
                                           errors=NO_MEDIA),
    ("PATCH", "/api/v1/media/<name>"): Route("Replace a media file's tags", {200: ("Tagged.", MediaItem)},
                                             errors={**INVALID, **NO_MEDIA}, body=(MediaTags,)),
    ("DELETE", "/api/v1/media/<name>"): Route("Delete a media file", {200: ("Deleted.", MediaDeleted)},
                                              errors=NO_MEDIA),
    ("GET", "/api/v1/media/<name>/thumbnail"): Route(
        "A media file's thumbnail (a JPEG frame)", download("The thumbnail.", {"image/jpeg": {"schema": {}}}),
        errors={**NO_MEDIA, **BAD_RANGE}),
    ("GET", "/api/v1/session"): Route(
        "Whether the server needs a key, and whether this browser has a session", {200: ("The state.", SessionState)}),
    ("POST", "/api/v1/session"): Route(
        "Sign the page in: trade an API key for an HttpOnly, SameSite=Strict session cookie (12 h)",
        {200: ("Signed in (or no keys are set: nothing to do).", SessionState)},
        errors={**INVALID, 401: "Not one of the server's keys.", 429: "Too many wrong keys from this address."},
        body=(SessionRequest,)),
    ("DELETE", "/api/v1/session"): Route("Sign out: expire the session cookie", {200: ("Signed out.", SessionState)}),
    ("GET", "/"): Route("The browser page", {200: ("The page.", {"text/html": {"schema": {"type": "string"}}})}),
    ("GET", "/assets/<path:filename>"): Route(
        "A script, stylesheet or recipe of the page", download("The file.", ANY_FILE),
        errors={**BAD_RANGE, 404: "No such file."}),
}

TAGS = {  # blueprint -> tag
    "discovery": "Discovery", "openreels": "OpenReels", "openstory": "OpenStory", "moneyprinter": "MoneyPrinter",
    "reelforge": "Reel Forge", "reelforge_files": "Reel Forge", "pages": "Page", "session": "Session",
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
ENVELOPES = {errors.default_envelope: OpenStoryError, moneyprinter.envelope: MoneyPrinterError,
             reelforge.envelope: ReelForgeError}
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


def models_of(route: Route) -> list:
    named = [value[1] for value in route.responses.values()] + list(route.body)
    return [model for model in named if isinstance(model, type)]


def content(model_or_content, refs) -> dict:
    if isinstance(model_or_content, dict):
        return model_or_content
    return {"application/json": {"schema": refs[model_or_content, "validation"]}}


def guards(app, blueprint) -> tuple[bool, bool]:
    """Whether the blueprint's requests need a key, and whether they are rate limited: read from its hooks."""
    hooks = app.before_request_funcs.get(blueprint, ())
    limited = any(hook.__qualname__.startswith(limit_requests.__qualname__ + ".") for hook in hooks)
    return authenticate in hooks, limited


def responses(route: Route, path: str, authed: bool, limited: bool, refs) -> dict:
    out = {}
    for status, (description, body) in route.responses.items():
        out[str(status)] = {"description": description, "content": content(body, refs)}
        if WAIT in route.params:
            out[str(status)]["headers"] = WAIT_HEADERS
    common = {401: authed, 413: bool(route.body), 415: bool(route.body), 429: limited, 500: True}
    failures = {**{status: COMMON_ERRORS[status] for status, applies in common.items() if applies}, **route.errors}
    envelope = refs[ENVELOPES[errors.envelope_for(path)], "validation"]
    for status in sorted(failures):
        out[str(status)] = {"description": failures[status], "content": {"application/json": {"schema": envelope}}}
        if status == 429:
            out["429"]["headers"] = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}
    return out


def operation(app, rule, route: Route, refs) -> dict:
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


def build(app) -> dict:
    """The document for `app`; raises KeyError naming a route ROUTES does not describe."""
    described = []  # (method, rule, route)
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if rule.endpoint in UNDOCUMENTED:
                continue
            if (method, rule.rule) not in ROUTES:
                raise KeyError(f"{method} {rule.rule} is not described in moneyreels/api/openapi.py ROUTES")
            described.append((method, rule, ROUTES[method, rule.rule]))
    models = list(dict.fromkeys(model for *_, route in described for model in models_of(route)))
    refs, defs = models_json_schema([(model, "validation") for model in models + list(ENVELOPES.values())],
                                    ref_template=REF)
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
