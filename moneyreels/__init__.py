"""MoneyReels: a self-hosted reel factory. `create_app` builds the Flask app; nothing runs at import.

Importing the package is cheap, so a render that needs only moneyreels.render does not load
Flask and the API dialects: create_app imports them itself, as flask's tutorial app does.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def create_app(settings=None, **overrides) -> "Flask":
    """Build the app on `settings` (default: from the environment), with its database ready."""
    from flask import Flask

    from . import api, db, pages
    from .config import load_settings
    from .render import fonts

    settings = settings or load_settings(**overrides)
    app = Flask(__name__)
    app.config["SETTINGS"] = settings
    fonts.use_folder(settings.fonts_dir)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False
    # Answer //x with a JSON error (or a 403 for artifact paths), never an HTML redirect.
    app.url_map.merge_slashes = False
    db.open_store(settings)
    api.register(app)
    app.register_blueprint(pages.bp)
    return app
