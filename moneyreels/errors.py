"""The exceptions MoneyReels raises, each with a machine code and an HTTP status.

Every API dialect maps these to its own envelope in one place (`api/errors.py`),
so code below the API raises domain errors and never builds responses.
"""


class MoneyReelsError(Exception):
    """Base of every error the app reports to a user."""

    status = 500
    code = "internal_error"

    def __init__(self, message, *, code=None, details=None, status=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details = details or {}

    def to_dict(self):
        """Return the structured form stored on failed jobs: {code, message, details}."""
        return {"code": self.code, "message": self.message, "details": self.details}


class InvalidRequest(MoneyReelsError):
    status = 400
    code = "invalid_request"


class Unauthorized(MoneyReelsError):
    status = 401
    code = "unauthorized"


class Forbidden(MoneyReelsError):
    status = 403
    code = "forbidden"


class NotFound(MoneyReelsError):
    status = 404
    code = "not_found"


class Conflict(MoneyReelsError):
    status = 409
    code = "conflict"


class RateLimited(MoneyReelsError):
    status = 429
    code = "rate_limited"

    def __init__(self, message, *, retry_after, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class StorageUnavailable(MoneyReelsError):
    """The bucket of STORAGE_URL did not answer or refused: try again later."""

    status = 503
    code = "storage_unavailable"


class IllegalTransition(Conflict):
    """A job was asked to move between states the state machine does not connect."""

    code = "illegal_transition"


class JobFailed(MoneyReelsError):
    """A job could not finish; `code` names why (Reel Forge's worker error codes among them)."""

    status = 422
    code = "job_failed"


class RenderError(JobFailed):
    """The render engine refused or failed a manifest.

    Codes: invalid_asset_url, impossible_trim, manifest_out_of_bounds, asset_too_large,
    duration_too_long, worker_crash.
    """

    code = "worker_crash"


class JobCancelled(Exception):
    """Raised by a checkpoint when the job's cancellation was requested. Not a failure."""


class WorkerStopping(JobCancelled):
    """Raised by a checkpoint when the worker shuts down: the job is queued to run again."""


class LeaseLost(JobCancelled):
    """Raised to a worker whose lease on its job expired and was taken over: it stops without writing."""

    def __init__(self, message="This worker's lease on the job was lost."):
        super().__init__(message)
