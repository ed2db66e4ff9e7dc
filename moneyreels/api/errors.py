"""One error mechanism for every API dialect: exceptions in, the dialect's envelope out.

Each dialect registers how its errors look under its URL prefix; the longest matching
prefix wins. Nothing else in the app builds an error response.
"""

import logging

from flask import g, jsonify, request
from werkzeug.exceptions import HTTPException

from ..errors import MoneyReelsError, RateLimited
from .contract import ErrorDetail, Strict

log = logging.getLogger(__name__)

_dialects: dict[str, callable] = {}


def dialect(prefix, model):
    """Register the function that turns a MoneyReelsError into the body for URLs under prefix, and its model."""

    def register(envelope):
        envelope.model = model
        _dialects[prefix] = envelope
        return envelope

    return register


class OpenStoryError(Strict):
    """The error envelope of /api/v1 (and of any path no dialect claims)."""

    error: ErrorDetail


@dialect("", OpenStoryError)
@dialect("/api/v1", OpenStoryError)
def default_envelope(error):
    """OpenStory's envelope, used by /api/v1 and by any path no dialect claims."""
    return {"error": {"code": error.code, "message": error.message, "details": error.details}}


def dialects() -> dict:
    """The envelope of each URL prefix."""
    return dict(_dialects)


def envelope_for(path):
    matches = [prefix for prefix in _dialects if prefix == "" or path == prefix or path.startswith(prefix + "/")]
    return _dialects[max(matches, key=len)]


def respond(error: MoneyReelsError):
    response = jsonify(envelope_for(request.path)(error))
    response.status_code = error.status
    if isinstance(error, RateLimited):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def from_http(exc: HTTPException) -> MoneyReelsError:
    """Translate werkzeug's 404/405/413/... into a MoneyReelsError with the same status."""
    codes = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type"}
    messages = {
        404: "No such endpoint.",
        405: f"Method {request.method} is not allowed here.",
        413: "Request body is too large.",
    }
    status = exc.code or 500
    return MoneyReelsError(
        messages.get(status, exc.description or exc.name), code=codes.get(status, "http_error"), status=status
    )


def install(app):
    """Route every error the app can raise through `respond`."""

    @app.errorhandler(MoneyReelsError)
    def on_domain_error(exc):
        return respond(exc)

    @app.errorhandler(HTTPException)
    def on_http_error(exc):
        return respond(from_http(exc))

    @app.errorhandler(Exception)
    def on_unexpected(exc):
        log.exception("unhandled error on %s %s (request %s)", request.method, request.path, g.get("request_id"))
        return respond(MoneyReelsError("Internal server error."))
