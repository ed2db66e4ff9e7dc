"""The answers of Reel Forge's routes under /v1: what the handlers build and the document shows."""

from typing import Literal

from pydantic.json_schema import SkipJsonSchema

from ..states import JobState
from .contract import ErrorDetail, Strict, Timestamp, absent

# Reel Forge's job statuses; it has no "cancelled", so a cancelled render reads as failed.
STATUSES = {
    JobState.QUEUED: "queued",
    JobState.RUNNING: "processing",
    JobState.COMPLETED: "completed",
    JobState.FAILED: "failed",
    JobState.CANCELLED: "failed",
}


class ReelForgeErrorDetail(ErrorDetail):
    request_id: str


class ReelForgeError(Strict):
    """Reel Forge's error envelope, under /v1."""

    success: Literal[False]
    error: ReelForgeErrorDetail


class RenderJob(Strict):
    id: str
    status: Literal[tuple(dict.fromkeys(STATUSES.values()))]
    output_url: str | None
    error_message: str | None
    created_at: Timestamp
    updated_at: Timestamp
    total_duration_seconds: float | None
    credit_cost: int
    poster_url: str | SkipJsonSchema[None] = absent("An extension: the JPEG of the manifest's `output.poster`, "
                                                    "once the render completed.")


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
