"""Send a job's file so that nothing in it can run in the app's origin: from a folder or from a bucket.

A bucket's files are streamed through the app by default (`MONEYREELS_STORAGE_SERVE=proxy`): the
answer has the same headers as a file's (nosniff, the sandboxing CSP, attachment or inline), the
same origin and the same access rules, and a bucket on a private network needs no public URL.
`redirect` answers with a presigned URL instead, so the bucket sends the bytes (and the Range
replies) and the app's threads stay free; the URL carries the file's type and disposition.
"""

import mimetypes
from pathlib import Path

from flask import redirect, request, send_file
from werkzeug.http import dump_options_header

from .. import storage

# Types a browser shows inline without running anything; SVG is an image that can hold script.
INLINE = ("video/", "audio/", "image/")
HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox; default-src 'none'"}


def kind_of(name: str, mimetype=None) -> tuple[str, bool]:
    """(mimetype, inline) of a file called name: anything but media is an attachment."""
    mimetype = mimetype or mimetypes.guess_type(name)[0] or "application/octet-stream"
    return mimetype, mimetype.startswith(INLINE) and mimetype != "image/svg+xml"


def send_job_file(path: Path, mimetype=None, max_age=0):
    """Serve path with Range support, nosniff and a sandboxing CSP; anything but media as an attachment."""
    mimetype, inline = kind_of(path.name, mimetype)
    response = send_file(path, mimetype=mimetype, conditional=True, max_age=max_age, as_attachment=not inline,
                         download_name=path.name)
    response.headers.update(HEADERS)
    return response


def send_stored(settings, name: str, missing: Exception, mimetype=None, max_age=0):
    """Serve the stored file called name (a key), or raise missing when there is none."""
    store = storage.of(settings)
    if isinstance(store, storage.FileStore):
        if not store.exists(name):
            raise missing
        return send_job_file(store.path(name), mimetype, max_age)
    download_name = name.rsplit("/", 1)[-1]
    mimetype, inline = kind_of(download_name, mimetype)
    if settings.storage_serve == "redirect":
        if not store.exists(name):
            raise missing
        disposition = dump_options_header("inline" if inline else "attachment", {"filename": download_name})
        url = store.presigned_url(name, ResponseContentType=mimetype, ResponseContentDisposition=disposition)
        response = redirect(url, 302)
        response.headers.update({**HEADERS, "Cache-Control": "no-store"})  # the URL expires; the job may go
        return response
    found = store.head(name)
    if found is None:
        raise missing
    size = found["ContentLength"]
    reader = store.reader(name, size)
    bounds = request.range.range_for_length(size) if request.range else None
    reader.stop = bounds[1] if bounds else None
    response = send_file(reader, mimetype=mimetype, conditional=False, max_age=max_age, as_attachment=not inline,
                         download_name=download_name, etag=found["ETag"].strip('"'),
                         last_modified=found["LastModified"])
    response.content_length = size
    try:
        response.make_conditional(request, accept_ranges=True, complete_length=size)
    except Exception:
        reader.close()
        raise
    response.headers.update(HEADERS)
    return response
