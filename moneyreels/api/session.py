"""POST/GET/DELETE /api/v1/session: the page trades an API key for a session cookie once.

Open without a key (it is how the page gets one); a wrong key counts against the address as
on any other endpoint, and the key itself is never stored or echoed.
"""

from datetime import datetime, timedelta, timezone

from flask import Blueprint, after_this_request, current_app
from pydantic import BaseModel, ConfigDict, Field

from . import session_cookie
from .auth import check_key
from .contract import INVALID, Links, Strict, contract, link, links
from .inputs import parse_body

bp = Blueprint("session", __name__, url_prefix="/api/v1/session")


class SessionRequest(BaseModel):
    """The key to sign in with."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=500, description="one of the server's MONEYREELS_API_KEYS")


class SessionState(Strict):
    keysRequired: bool
    signedIn: bool
    expiresAt: datetime | None
    links: Links = links()


def state(signed_in: bool, expires_at: str | None = None) -> SessionState:
    keys_required = bool(current_app.config["SETTINGS"].api_keys)
    actions = {"self": link(bp.url_prefix), "signIn": link(bp.url_prefix, "POST"),
               "signOut": link(bp.url_prefix, "DELETE")}
    return SessionState.model_validate({"keysRequired": keys_required, "signedIn": signed_in, "expiresAt": expires_at,
                                        "_links": actions})


@bp.get("")
@contract("Whether the server needs a key, and whether this browser has a session", {200: ("The state.", SessionState)})
def read():
    """Whether the server needs a key, and whether this browser has a session."""
    signed_in = bool(current_app.config["SETTINGS"].api_keys) and session_cookie.owner() is not None
    return state(signed_in)


@bp.post("")
@contract("Sign the page in: trade an API key for an HttpOnly, SameSite=Strict session cookie (12 h)",
          {200: ("Signed in (or no keys are set: nothing to do).", SessionState)},
          errors={**INVALID, 401: "Not one of the server's keys.", 429: "Too many wrong keys from this address."},
          body=(SessionRequest,))
def sign_in():
    body = parse_body(SessionRequest)
    if not current_app.config["SETTINGS"].api_keys:
        return state(False)  # an open install needs no session: every request is let in
    owner = check_key(body.key)
    expires = datetime.now(timezone.utc) + timedelta(seconds=session_cookie.MAX_AGE_SECONDS)

    @after_this_request
    def issue(response):
        session_cookie.issue(response, owner)
        return response

    return state(True, expires.isoformat(timespec="seconds").replace("+00:00", "Z"))


@bp.delete("")
@contract("Sign out: expire the session cookie", {200: ("Signed out.", SessionState)})
def sign_out():
    @after_this_request
    def end(response):
        session_cookie.end(response)
        return response

    return state(False)
