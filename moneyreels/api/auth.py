"""MoneyReels' own API keys: one mechanism for every dialect.

With no keys configured (a local hobby install) the API is open and every job belongs to
owner "". With keys, each request must carry one, and a key sees only its own jobs.
"""

import hashlib
import hmac
import math

from flask import current_app, g, request

from ..errors import RateLimited, Unauthorized
from . import session_cookie
from .limits import RateLimiter

# Wrong keys one client address may send per window before it must wait: guessing stays slow,
# and a valid key costs nothing extra.
FAILED_KEYS_ALLOWED, FAILED_KEYS_WINDOW = 10, 60.0


def presented_key():
    """Return the key from `Authorization: Bearer` or `x-api-key`, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("x-api-key") or None


def owner_of(key: str) -> str:
    """A stable, non-reversible name for a key, stored on the jobs it creates."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def authenticate():
    """Set g.owner for this request (from its key, else the page's session), or raise Unauthorized."""
    keys = current_app.config["SETTINGS"].api_keys
    if not keys:
        g.owner = ""
        return
    key = presented_key()
    if key is None:
        g.owner = session_owner(keys)
        return
    g.owner = check_key(key)


def session_owner(keys) -> str:
    """The owner of the request's session cookie while its key is still configured, or raise Unauthorized."""
    owner = session_cookie.owner()
    if owner is None or not any(hmac.compare_digest(owner, owner_of(key)) for key in keys):
        raise Unauthorized("Missing API key: send 'Authorization: Bearer <key>' or 'x-api-key'.")
    return owner


def check_key(key: str) -> str:
    """Return the owner of a configured key, or raise Unauthorized (RateLimited after many wrong ones)."""
    keys = current_app.config["SETTINGS"].api_keys
    failures = current_app.extensions.setdefault(
        "moneyreels.failed_keys", RateLimiter(FAILED_KEYS_ALLOWED, FAILED_KEYS_WINDOW, name="failed_keys"))
    client = request.remote_addr or ""
    # Checked before the key: a throttled client learns nothing, not even from a right guess.
    wait = failures.hit(client, record=False)
    if wait:
        raise RateLimited(f"Too many invalid API keys from this address; try again in {math.ceil(wait)} s.",
                          retry_after=max(1, math.ceil(wait)),
                          details={"limit": FAILED_KEYS_ALLOWED, "window_seconds": FAILED_KEYS_WINDOW})
    # Compare with every key, in constant time, so timing tells nothing about which matched.
    matched = False
    for candidate in keys:
        matched |= hmac.compare_digest(candidate.encode(), key.encode())
    if not matched:
        failures.hit(client)
        raise Unauthorized("Invalid API key.")
    return owner_of(key)


def current_owner() -> str:
    return g.owner
