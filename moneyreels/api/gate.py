"""Refuse requests this server is not meant to answer, before any dialect sees them.

A web page in the user's browser can send requests to a local install: simple cross-site
POSTs (text/plain bodies, no preflight) and DNS rebinding (a hostile name resolving to
127.0.0.1, so the page is "same-origin" with the server). Three checks close that door:
the Host must be one the server answers to, a state-changing request from a browser must
come from the server's own origin, and a body sent to a JSON endpoint must say it is JSON.
"""

from urllib.parse import urlsplit

from flask import current_app, request

from ..errors import Forbidden, InvalidRequest, MoneyReelsError

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARD_BINDS = ("", "0.0.0.0", "::")
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Fetch metadata a browser sends; "none" is the user typing the URL or a bookmark.
TRUSTED_FETCH_SITES = ("same-origin", "none")


def host_name(host: str) -> str:
    """The name part of a Host header or URL netloc, lowercased, without port or brackets."""
    try:
        return (urlsplit("//" + host).hostname or "").rstrip(".")
    except ValueError:
        return ""


def allowed_hosts(settings) -> frozenset[str]:
    """Loopback names, the bound HOST when specific, PUBLIC_URL's host, and MONEYREELS_ALLOWED_HOSTS."""
    # Settings name hosts bare or bracketed ("::1", "[::1]"); Host headers bracket IPv6.
    names = set(LOOPBACK_NAMES) | {name.strip("[]").lower().rstrip(".") for name in settings.allowed_hosts}
    if settings.host not in WILDCARD_BINDS:
        names.add(settings.host.strip("[]").lower())
    if settings.public_url:
        names.add(host_name(urlsplit(settings.public_url).netloc))
    return frozenset(names)


def check_host():
    """400 for a Host the server does not answer to (DNS rebinding, misdirected requests)."""
    settings = current_app.config["SETTINGS"]
    given = request.headers.get("Host")
    if given is None or "*" in settings.allowed_hosts:
        return  # HTTP/1.0 clients may omit Host; browsers never do
    hosts = current_app.extensions.get("moneyreels.hosts")
    if hosts is None:
        hosts = current_app.extensions.setdefault("moneyreels.hosts", allowed_hosts(settings))
    if host_name(given) not in hosts:
        raise InvalidRequest(
            "This server does not answer to that host name; add it to MONEYREELS_ALLOWED_HOSTS if it should.",
            code="misdirected_request", details={"host": given[:200]},
        )


def own_origins() -> set[str]:
    origins = {f"{request.scheme}://{request.host}".lower()}
    public = current_app.config["SETTINGS"].public_url
    if public:
        parts = urlsplit(public)
        origins.add(f"{parts.scheme}://{parts.netloc}".lower())
    return origins


def foreign_request() -> bool:
    """Whether a browser says this request comes from a page of another origin."""
    site = request.headers.get("Sec-Fetch-Site")
    origin = request.headers.get("Origin")
    foreign_site = site is not None and site.lower() not in TRUSTED_FETCH_SITES
    foreign_origin = origin is not None and origin.lower() not in own_origins()
    return foreign_site or foreign_origin


def check_origin():
    """403 for a state-changing browser request that did not come from this server's own page."""
    if request.method not in UNSAFE_METHODS:
        return
    if foreign_request():
        site = request.headers.get("Sec-Fetch-Site")
        origin = request.headers.get("Origin")
        raise Forbidden("Cross-origin requests are not accepted; call the API from its own page or a non-browser client.",
                        code="cross_origin", details={"origin": (origin or "")[:200], "fetch_site": site})


def is_json(mimetype: str) -> bool:
    return mimetype == "application/json" or (mimetype.startswith("application/") and mimetype.endswith("+json"))


def accepts_uploads(view):
    """Mark a view that also takes multipart/form-data file uploads (the origin check still applies)."""
    view.accepts_uploads = True
    return view


def check_content_type():
    """415 for a state-changing request whose body (or declared type) is not JSON (or an upload, where taken)."""
    if request.method not in UNSAFE_METHODS:
        return
    view = current_app.view_functions.get(request.endpoint)
    if request.mimetype == "multipart/form-data" and getattr(view, "accepts_uploads", False):
        return
    declared = request.headers.get("Content-Type")
    has_body = bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if (declared is not None or has_body) and not is_json(request.mimetype):
        raise MoneyReelsError(
            "Request body must be JSON: send it with 'Content-Type: application/json'.",
            code="unsupported_media_type", status=415, details={"content_type": (declared or "")[:200]},
        )


def install(app):
    for check in (check_host, check_origin, check_content_type):
        app.before_request(check)
