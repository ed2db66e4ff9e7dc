"""POST /api/v1/batches: many reels at once, from a list of create-job bodies or a CSV file.

A batch is the set of jobs whose stored request names it; nothing else is stored. It is made all
at once or not at all: every row is checked, and any refusal lists each bad row with nothing queued.
"""

import uuid
from typing import Literal

from flask import Blueprint, current_app, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .. import jobs, keyring, kinds
from ..db import Job, database, json_member
from ..errors import Conflict, InvalidRequest, NotFound
from ..pipeline.request import GenerateRequest
from ..states import JobState
from ..titles import title_of
from . import gate
from .auth import authenticate, current_owner
from .batch_csv import COLUMNS, read_rows
from .contract import Links, Strict, contract, link, links
from .inputs import field_errors, parse_body
from .limits import limit_requests

bp = Blueprint("batches", __name__, url_prefix="/api/v1/batches")
bp.before_request(authenticate)
bp.before_request(limit_requests("api", lambda s: (s.api_rate_limit, 1.0)))

MAX_JOBS = 100


class BatchRequest(BaseModel):
    """Create-job bodies, each laid over the shared defaults."""

    model_config = ConfigDict(extra="forbid")

    jobs: list[dict] = Field(min_length=1, max_length=MAX_JOBS, description="create-job bodies (POST /api/v1/jobs)")
    defaults: dict = Field(default_factory=dict, description="options every job takes unless it sets its own")


class BatchJob(Strict):
    id: str
    title: str
    status: JobState
    links: Links = links()


class BatchStatus(Strict):
    id: str
    status: Literal["running", "finished"]
    total: int
    counts: dict[JobState, int]
    jobs: list[BatchJob]
    links: Links = links()


def _bodies() -> list[dict]:
    """The batch's create-job bodies, from the JSON body or the CSV in the multipart field `file`."""
    if request.mimetype != "multipart/form-data":
        batch = parse_body(BatchRequest)
        return [{**batch.defaults, **body} for body in batch.jobs]
    upload = request.files.get("file")
    if upload is None:
        raise InvalidRequest("Send the CSV in the multipart field 'file'.", code="validation_error",
                             details={"errors": [{"field": "file", "message": "missing"}]})
    return read_rows(upload.read(), MAX_JOBS)


def _queue(bodies: list[dict], batch_id: str, owner: str) -> list[Job]:
    """Create every job in one transaction, or none, listing each row's problems."""
    created, problems = [], []
    with database.atomic():
        for index, body in enumerate(bodies):
            try:
                created.append(kinds.generate.create(GenerateRequest.model_validate(body),
                                                     current_app.config["SETTINGS"], owner=owner,
                                                     labels={"batch": batch_id, "batchIndex": index}))
            except ValidationError as exc:
                problems += [{**error, "field": f"jobs.{index}.{error['field']}"} for error in field_errors(exc)]
            except InvalidRequest as exc:
                found = exc.details.get("errors") or [{"field": "(body)", "message": exc.message}]
                problems += [{**error, "field": f"jobs.{index}.{error['field']}"} for error in found]
        if problems:  # raising inside the transaction rolls back every job made so far
            for job in created:
                keyring.drop(job.id)
            first = problems[0]
            raise InvalidRequest(f"{first['field']}: {first['message']}"
                                 + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
                                 code="validation_error", details={"errors": problems})
    return created


def members(batch_id: str) -> list[Job]:
    """The caller's jobs of one batch, in the order they were given; 400 for a malformed id, 404 for none."""
    try:
        uuid.UUID(batch_id)
    except ValueError:
        raise InvalidRequest("Invalid batch ID format: expected a UUID.", code="invalid_id") from None
    found = list(Job.select().where((Job.owner == current_owner()) & (json_member(Job.request, "batch") == batch_id))
                 .order_by(json_member(Job.request, "batchIndex", integer=True)))
    if not found:
        raise NotFound("Batch not found.", details={"batch_id": batch_id})
    return found


def status(batch_id: str, found: list[Job]) -> BatchStatus:
    counts = {state.value: 0 for state in jobs.State}
    for job in found:
        counts[job.state] += 1
    active = counts["queued"] + counts["running"]
    base = f"{bp.url_prefix}/{batch_id}"
    actions = {"self": link(base)}
    if active:
        actions["cancel"] = link(base + "/cancel", "POST")
    return BatchStatus.model_validate({
        "id": batch_id,
        "status": "running" if active else "finished",
        "total": len(found),
        "counts": counts,
        "jobs": [{"id": job.id, "title": title_of(job), "status": job.state,
                  "_links": {"self": link(f"/api/v1/jobs/{job.id}")}} for job in found],
        "_links": actions,
    })


CSV_UPLOAD = {"type": "object", "required": ["file"],
              "properties": {"file": {"type": "string", "contentMediaType": "text/csv",
                                      "description": "a header row of option names, then a row per reel"}}}
UNKNOWN_BATCH = {400: "The id is not a UUID.", 404: "No such batch (or another key's)."}


@bp.post("")
@contract("Queue many reels at once: create-job bodies over shared defaults, or a CSV with a column per option",
          {201: ("Queued, every job or none.", BatchStatus)},
          errors={400: "A row is invalid (`details.errors` names `jobs.<row>.<field>`, or `file` for the CSV); "
                       "nothing was queued."},
          body=(BatchRequest,), upload=CSV_UPLOAD,
          description=f"At most {MAX_JOBS} jobs. A CSV's header names the columns ({', '.join(COLUMNS)}); "
                      "an empty cell leaves the option out.")
@gate.accepts_uploads
def create_batch():
    batch_id = str(uuid.uuid4())
    created = _queue(_bodies(), batch_id, current_owner())
    return status(batch_id, created), 201, {"Location": f"{bp.url_prefix}/{batch_id}"}


@bp.get("/<batch_id>")
@contract("Read a batch: counts by status and each job with its title and link", {200: ("The batch.", BatchStatus)},
          errors=UNKNOWN_BATCH)
def get_batch(batch_id):
    return status(batch_id, members(batch_id))


@bp.post("/<batch_id>/cancel")
@contract("Cancel every job of the batch that has not finished", {200: ("The batch after cancelling.", BatchStatus)},
          errors=UNKNOWN_BATCH)
def cancel_batch(batch_id):
    """Cancel every job of the batch that has not finished; finished ones stay as they are."""
    for job in members(batch_id):
        if job.state in jobs.ACTIVE:
            try:
                jobs.request_cancel(job.id, current_owner(), kinds.finished)
            except Conflict:
                pass  # it finished a moment ago: nothing left to cancel
    return status(batch_id, members(batch_id))
