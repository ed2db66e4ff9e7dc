"""The browser page: `/` and its static files (plain ES modules and CSS, no build step)."""

from flask import Blueprint, render_template

bp = Blueprint("pages", __name__, template_folder="templates", static_folder="static", static_url_path="/assets")

# Everything the page loads comes from this server; nothing inline, nothing from elsewhere.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


@bp.get("/")
def index():
    return render_template("index.html"), 200, {"Content-Security-Policy": CSP}


@bp.after_request
def revalidate(response):
    """Let browsers keep the assets but check them on every load, so an upgrade is seen at once."""
    response.headers.setdefault("Cache-Control", "no-cache")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
