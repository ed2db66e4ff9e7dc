"""The HTTP APIs, one blueprint per dialect, sharing errors, auth and input parsing."""

import re
import uuid

from flask import g, request

from . import (batches, discovery, errors, gate, media, moneyprinter, openreels, openstory, reelforge, reelforge_templates,
               session)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


def register(app):
    errors.install(app)

    @app.before_request
    def assign_request_id():
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if _REQUEST_ID.match(given) else f"req_{uuid.uuid4().hex}"

    gate.install(app)

    @app.after_request
    def send_request_id(response):
        response.headers["X-Request-Id"] = g.get("request_id", "")
        return response

    for blueprint in (discovery.bp, session.bp, batches.bp, media.bp, openreels.bp, openstory.bp, moneyprinter.bp, reelforge.bp,
                      reelforge.files, reelforge_templates.bp):
        app.register_blueprint(blueprint)
