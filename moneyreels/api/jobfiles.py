"""Send a job's file so that nothing in it can run in the app's origin."""

import mimetypes
from pathlib import Path

from flask import send_file

# Types a browser shows inline without running anything; SVG is an image that can hold script.
INLINE = ("video/", "audio/", "image/")
HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox; default-src 'none'"}


def send_job_file(path: Path, mimetype=None, max_age=0):
    """Serve path with Range support, nosniff and a sandboxing CSP; anything but media as an attachment."""
    mimetype = mimetype or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    inline = mimetype.startswith(INLINE) and mimetype != "image/svg+xml"
    response = send_file(path, mimetype=mimetype, conditional=True, max_age=max_age, as_attachment=not inline,
                         download_name=path.name)
    response.headers.update(HEADERS)
    return response
