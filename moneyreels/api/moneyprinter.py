"""MoneyPrinter's job API: /api/generate, /api/jobs/:id, its events, and cancellation.

Shapes follow reference/moneyprinter-jobs-api.md: {"status": "success", ...} or
{"status": "error", "message": ...}, camelCase fields, ISO 8601 job timestamps.
"""

import re

from flask import Blueprint, current_app
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from .. import events, jobs, kinds
from ..providers import tts
from ..errors import InvalidRequest
from ..pipeline import choices
from ..pipeline.request import GenerateRequest
from . import holds
from .auth import authenticate, current_owner
from .contract import UNKNOWN_JOB, WAIT, contract
from .errors import dialect
from .inputs import non_negative_int, parse_body, wait_seconds
from .moneyprinter_models import (MoneyPrinterCancelled, MoneyPrinterError, MoneyPrinterEvent, MoneyPrinterEvents,
                                  MoneyPrinterJob, MoneyPrinterJobBody, MoneyPrinterQueued)

bp = Blueprint("moneyprinter", __name__, url_prefix="/api")
bp.before_request(authenticate)

AFTER = {"name": "after", "in": "query", "description": "Only events with a greater id.",
         "schema": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1, "default": 0}}


@dialect("/api", MoneyPrinterError)
def envelope(error):
    return {"status": "error", "message": error.message}


class GenerateBody(BaseModel):
    """MoneyPrinter's generate body; `topic` is accepted for `videoSubject`, and `script` beside it."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    video_subject: str | None = Field(
        None, min_length=1, max_length=500, validation_alias=AliasChoices("videoSubject", "topic"),
    )
    script: str | None = None
    ai_model: str | None = Field(None, max_length=100, alias="aiModel")
    voice: str | None = Field(None, max_length=100)
    paragraph_number: int = Field(1, ge=1, le=10, alias="paragraphNumber")
    custom_prompt: str | None = Field(None, max_length=10_000, alias="customPrompt")
    use_music: bool = Field(False, alias="useMusic")
    subtitles_position: str | None = Field(None, max_length=50, alias="subtitlesPosition")
    color: str | None = Field(None, max_length=50)

    def pipeline_request(self, settings) -> dict:
        """The same job in the pipeline's terms."""
        return {
            "topic": self.video_subject,
            "script": self.script,
            "voice": local_voice(self.voice, settings),
            "direction": self.custom_prompt,
            "noMusic": not self.use_music,
        }


# MoneyPrinter's TikTok voice ids (en_us_001, fr_001, ...) name a language: a Piper voice speaks
# it when one is installed for it (English always), else eSpeak NG.
_TIKTOK_LANGUAGES = {"en_us": "en-us", "en_uk": "en-gb", "en_au": "en", "jp": "ja", "kr": "ko", "br": "pt-br"}


def local_voice(voice, settings):
    if not voice or not re.fullmatch(r"[a-z]{2}(_[a-z]{2})?_\d{3}", voice):
        return voice
    prefix = voice.rsplit("_", 1)[0]
    return tts.language_voice(_TIKTOK_LANGUAGES.get(prefix, prefix.split("_")[0]), choices.provider_keys(settings, {}))


def present(job) -> MoneyPrinterJob:
    return MoneyPrinterJob(
        id=job.id,
        state=job.state,
        cancelRequested=job.cancel_requested,
        resultPath=job.result_path if job.state == jobs.State.COMPLETED else None,
        errorMessage=(job.error or {}).get("message") if job.state == jobs.State.FAILED else None,
        createdAt=job.created_at,
        startedAt=job.started_at,
        completedAt=job.completed_at,
    )


def present_event(event) -> MoneyPrinterEvent:
    return MoneyPrinterEvent(id=event.id, type=event.type, level=event.level, message=event.message,
                             payload=event.payload, timestamp=event.timestamp)


@bp.post("/generate")
@contract("Queue a reel from a subject (MoneyPrinter)", {200: ("Queued.", MoneyPrinterQueued)},
          errors={400: "Invalid JSON, or no videoSubject (nor script)."}, body=(GenerateBody,))
def generate():
    body = parse_body(GenerateBody)
    if not body.video_subject and not body.script:
        raise InvalidRequest("videoSubject is required (or send a script).")
    settings = current_app.config["SETTINGS"]
    job = kinds.generate.create(parse_body(GenerateRequest, body.pipeline_request(settings)), settings,
                                owner=current_owner())
    return MoneyPrinterQueued(status="success", message="Job queued.", jobId=job.id)


@bp.get("/jobs/<job_id>")
@contract("Read a job (MoneyPrinter)", {200: ("The job.", MoneyPrinterJobBody)}, errors=UNKNOWN_JOB)
def get_job(job_id):
    return MoneyPrinterJobBody(status="success", job=present(jobs.get(job_id, current_owner())))


@bp.get("/jobs/<job_id>/events")
@contract("Read a job's events, oldest first, at most 500 a call (MoneyPrinter)",
          {200: ("The events.", MoneyPrinterEvents)}, errors={**UNKNOWN_JOB, 400: "after or wait is malformed."},
          params=(AFTER, {**WAIT, "description": "Long-poll: hold the request until an event arrives (same format)."}))
def job_events(job_id):
    after = non_negative_int("after")
    wait = wait_seconds()
    job = jobs.get(job_id, current_owner())
    found = events.after(job.id, after)
    if not found and wait:
        found = holds.wait(lambda: events.after(job.id, after), wait)
    return MoneyPrinterEvents(status="success", events=[present_event(event) for event in found])


@bp.post("/jobs/<job_id>/cancel")
@contract("Cancel a job (MoneyPrinter)", {200: ("Cancellation requested.", MoneyPrinterCancelled)},
          errors={**UNKNOWN_JOB, 409: "The job already finished."})
def cancel_job(job_id):
    jobs.request_cancel(job_id, current_owner(), kinds.finished)
    return MoneyPrinterCancelled(status="success", message="Cancellation requested.")


@bp.post("/cancel")
@contract("Cancel the running job, else the newest queued one (MoneyPrinter)",
          {200: ("Cancellation requested.", MoneyPrinterCancelled)}, errors={404: "No active job."})
def cancel_latest():
    job = jobs.latest_active(current_owner())
    jobs.request_cancel(job.id, current_owner(), kinds.finished)
    return MoneyPrinterCancelled(status="success", message="Cancellation requested.", jobId=job.id)
