"""The browser page: `/` and its static files (plain ES modules and CSS, no build step)."""

from flask import Blueprint, render_template

from .api.contract import ANY_FILE, BAD_RANGE, contract, download

bp = Blueprint("pages", __name__, template_folder="templates", static_folder="static", static_url_path="/assets")
# The route Flask adds for the static folder serves this method: its contract goes on it.
bp.send_static_file = contract("A script, stylesheet or recipe of the page", download("The file.", ANY_FILE),
                               errors={**BAD_RANGE, 404: "No such file."})(bp.send_static_file)

# Everything the page loads comes from this server; nothing inline, nothing from elsewhere.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


@bp.get("/")
@contract("The browser page", {200: ("The page.", {"text/html": {"schema": {"type": "string"}}})})
def index():
    return render_template("index.html"), 200, {"Content-Security-Policy": CSP}


@bp.after_request
def revalidate(response):
    """Let browsers keep the assets but check them on every load, so an upgrade is seen at once."""
    response.headers.setdefault("Cache-Control", "no-cache")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
