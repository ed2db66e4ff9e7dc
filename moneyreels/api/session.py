"""POST/GET/DELETE /api/v1/session: the page trades an API key for a session cookie once.

Open without a key (it is how the page gets one); a wrong key counts against the address as
on any other endpoint, and the key itself is never stored or echoed.
"""

from datetime import datetime, timedelta, timezone

from flask import Blueprint, current_app, jsonify
from pydantic import BaseModel, ConfigDict, Field

from . import session_cookie
from .auth import check_key
from .inputs import parse_body
from .openreels import link

bp = Blueprint("session", __name__, url_prefix="/api/v1/session")


class SessionRequest(BaseModel):
    """The key to sign in with."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=500, description="one of the server's MONEYREELS_API_KEYS")


def state(signed_in: bool, expires_at: str | None = None) -> dict:
    keys_required = bool(current_app.config["SETTINGS"].api_keys)
    links = {"self": link(bp.url_prefix), "signIn": link(bp.url_prefix, "POST"), "signOut": link(bp.url_prefix, "DELETE")}
    return {"keysRequired": keys_required, "signedIn": signed_in, "expiresAt": expires_at, "_links": links}


@bp.get("")
def read():
    """Whether the server needs a key, and whether this browser has a session."""
    signed_in = bool(current_app.config["SETTINGS"].api_keys) and session_cookie.owner() is not None
    return state(signed_in)


@bp.post("")
def sign_in():
    body = parse_body(SessionRequest)
    if not current_app.config["SETTINGS"].api_keys:
        return state(False)  # an open install needs no session: every request is let in
    owner = check_key(body.key)
    expires = datetime.now(timezone.utc) + timedelta(seconds=session_cookie.MAX_AGE_SECONDS)
    response = jsonify(state(True, expires.isoformat(timespec="seconds").replace("+00:00", "Z")))
    session_cookie.issue(response, owner)
    return response


@bp.delete("")
def sign_out():
    response = jsonify(state(False))
    session_cookie.end(response)
    return response
