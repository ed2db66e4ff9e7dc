"""The page's session cookie: an API key's owner, signed and expiring, read only from the page's own origin.

The page cannot put a key on an EventSource, a <video> or a download link; a cookie rides on all of
them. It carries the key's owner name (a hash, never the key), signed with a secret kept in DATA_DIR
so sessions outlive a restart. Requests from other sites never count it (the gate's rule), and its
SameSite=Strict keeps browsers from sending it along from them in the first place.
"""

import os
import secrets
from pathlib import Path

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from .gate import foreign_request

NAME = "moneyreels_session"
MAX_AGE_SECONDS = 12 * 3600
SECRET_FILE = "session-secret"
SALT = "moneyreels.session"


def _secret(data_dir: Path) -> str:
    """The signing secret, created once (readable by this user only) and kept in data_dir."""
    path = Path(data_dir) / SECRET_FILE
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


def _signer() -> URLSafeTimedSerializer:
    signer = current_app.extensions.get("moneyreels.session_signer")
    if signer is None:
        secret = _secret(current_app.config["SETTINGS"].data_dir)
        signer = current_app.extensions.setdefault("moneyreels.session_signer", URLSafeTimedSerializer(secret, SALT))
    return signer


def issue(response, owner: str) -> None:
    """Set the session cookie for owner on response."""
    response.set_cookie(NAME, _signer().dumps({"owner": owner}), max_age=MAX_AGE_SECONDS, httponly=True,
                        samesite="Strict", secure=request.is_secure, path="/")


def end(response) -> None:
    """Expire the session cookie on response."""
    response.delete_cookie(NAME, httponly=True, samesite="Strict", secure=request.is_secure, path="/")


def owner() -> str | None:
    """The owner a valid, unexpired session cookie names, when the request comes from the page's own origin."""
    token = request.cookies.get(NAME)
    if not token or foreign_request():
        return None
    try:
        data = _signer().loads(token, max_age=MAX_AGE_SECONDS)
    except BadSignature:  # includes SignatureExpired
        return None
    return data.get("owner") if isinstance(data, dict) and isinstance(data.get("owner"), str) else None
