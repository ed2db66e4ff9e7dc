"""MoneyPrinter's job API: /api/generate, /api/jobs/:id, its events, and cancellation.

Shapes follow reference/moneyprinter-jobs-api.md: {"status": "success", ...} or
{"status": "error", "message": ...}, camelCase fields, ISO 8601 job timestamps.
"""

from flask import Blueprint
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from .. import events, jobs
from .auth import authenticate, current_owner
from .errors import dialect
from .inputs import non_negative_int, parse_body, wait_seconds
from .formats import iso

bp = Blueprint("moneyprinter", __name__, url_prefix="/api")
bp.before_request(authenticate)


@dialect("/api")
def envelope(error):
    return {"status": "error", "message": error.message}


class GenerateRequest(BaseModel):
    """MoneyPrinter's generate body; `topic` is accepted for `videoSubject`."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    video_subject: str = Field(
        min_length=1, max_length=500, validation_alias=AliasChoices("videoSubject", "topic"),
        serialization_alias="videoSubject",
    )
    ai_model: str | None = Field(None, max_length=100, alias="aiModel")
    voice: str | None = Field(None, max_length=100)
    paragraph_number: int = Field(1, ge=1, le=10, alias="paragraphNumber")
    custom_prompt: str | None = Field(None, max_length=10_000, alias="customPrompt")
    use_music: bool = Field(False, alias="useMusic")
    subtitles_position: str | None = Field(None, max_length=50, alias="subtitlesPosition")
    color: str | None = Field(None, max_length=50)


def present(job) -> dict:
    return {
        "id": job.id,
        "state": job.state,
        "cancelRequested": job.cancel_requested,
        "resultPath": job.result_path if job.state == jobs.State.COMPLETED else None,
        "errorMessage": (job.error or {}).get("message") if job.state == jobs.State.FAILED else None,
        "createdAt": iso(job.created_at),
        "startedAt": iso(job.started_at),
        "completedAt": iso(job.completed_at),
    }


def present_event(event) -> dict:
    return {
        "id": event.id,
        "type": event.type,
        "level": event.level,
        "message": event.message,
        "payload": event.payload,
        "timestamp": event.timestamp,
    }


@bp.post("/generate")
def generate():
    body = parse_body(GenerateRequest)
    job = jobs.create("generate", body.model_dump(by_alias=True), owner=current_owner())
    return {"status": "success", "message": "Job queued.", "jobId": job.id}


@bp.get("/jobs/<job_id>")
def get_job(job_id):
    return {"status": "success", "job": present(jobs.get(job_id, current_owner()))}


@bp.get("/jobs/<job_id>/events")
def job_events(job_id):
    after = non_negative_int("after")
    wait = wait_seconds()
    job = jobs.get(job_id, current_owner())
    found = events.after(job.id, after)
    if not found and wait:
        found = events.wait(lambda: events.after(job.id, after), wait)
    return {"status": "success", "events": [present_event(event) for event in found]}


@bp.post("/jobs/<job_id>/cancel")
def cancel_job(job_id):
    jobs.request_cancel(job_id, current_owner())
    return {"status": "success", "message": "Cancellation requested."}


@bp.post("/cancel")
def cancel_latest():
    job = jobs.latest_active(current_owner())
    jobs.request_cancel(job.id, current_owner())
    return {"status": "success", "message": "Cancellation requested.", "jobId": job.id}
