"""/api/v1/media: upload (a file, or a URL fetched through the guarded client), list, tag and delete media.

Uploads are the one JSON-API body that may be multipart; they still must come from the page's own
origin (the gate). A refused upload leaves nothing in MEDIA_DIR.
"""

import shutil
import tempfile
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

import imageio_ffmpeg
from flask import Blueprint, current_app, request
from pydantic import BaseModel, ConfigDict, Field

from .. import media_library, netguard
from ..errors import InvalidRequest, RenderError
from ..render import assets
from ..render.assets import FetchLimits
from . import gate
from .auth import authenticate, current_owner
from .contract import BAD_RANGE, INVALID, STORED, Links, Strict, contract, download, link, links
from .inputs import parse_body
from .jobfiles import send_job_file
from .limits import limit_requests

bp = Blueprint("media", __name__, url_prefix="/api/v1/media")
bp.before_request(authenticate)
# Thumbnails are small static reads, one per file the page shows: not counted.
bp.before_request(limit_requests("api", lambda s: (s.api_rate_limit, 1.0), exempt=("media.media_thumbnail",)))

FETCH_TIMEOUT = (5.0, 30.0)  # connect, read: as a manifest's assets
MULTIPART_OVERHEAD = 64 * 1024  # the form's own bytes around the file


class MediaUrl(BaseModel):
    """A media file to fetch by URL."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2048, description="an http(s) URL naming a media file")
    tags: list[str] = Field(default_factory=list, max_length=media_library.MAX_TAGS)


class MediaTags(BaseModel):
    """The media file's new tags (replacing the old ones)."""

    model_config = ConfigDict(extra="forbid")

    tags: list[str] = Field(max_length=media_library.MAX_TAGS)


class MediaItem(Strict):
    name: str
    kind: Literal["image", "video", "audio"]
    durationSeconds: float | None = None
    width: int | None = None
    height: int | None = None
    bytes: int
    addedAt: float | None = None
    tags: list[str]
    path: str = Field(description="the file's path inside MEDIA_DIR, as a manifest's asset url names it")
    links: Links = links()


class MediaList(Strict):
    media: list[MediaItem]
    total: int
    links: Links = links()


class MediaDeleted(Strict):
    name: str
    deleted: Literal[True]
    links: Links = links()


MEDIA_UPLOAD = {"type": "object", "required": ["file"],
                "properties": {"file": {"type": "string", "contentMediaType": "application/octet-stream",
                                        "description": "an image, video or audio file"},
                               "tags": {"type": "string", "description": "comma-separated tags"}}}
NO_MEDIA = {404: "No such media file (or another key's)."}


def settings():
    return current_app.config["SETTINGS"]


def item(described: dict) -> MediaItem:
    base = f"{bp.url_prefix}/{described['name']}"
    actions = {"self": link(base), "update": link(base, "PATCH"), "delete": link(base, "DELETE")}
    if described.pop("thumbnail"):
        actions["thumbnail"] = link(base + "/thumbnail", type="image/jpeg")
    return MediaItem.model_validate({**described, "_links": actions})


def _from_upload() -> tuple[Path, str, list[str]]:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise media_library.refuse("send the media in the multipart field 'file'", "file")
    name, _ = media_library.check_name(upload.filename)
    tags = media_library.check_tags(request.form.get("tags", ""))
    received = media_library.incoming(settings(), current_owner())
    upload.save(received)
    return received, name, tags


def _from_url() -> tuple[Path, str, list[str]]:
    body = parse_body(MediaUrl)
    name = unquote(Path(urlsplit(body.url).path).name)
    try:
        name, kind = media_library.check_name(name)
    except InvalidRequest:
        raise media_library.refuse("the URL's path must end in a media file name (e.g. clip.mp4)", "url") from None
    tags = media_library.check_tags(body.tags)
    received = media_library.incoming(settings(), current_owner())
    with tempfile.TemporaryDirectory(dir=received.parent) as scratch:
        limits = FetchLimits([], Path(scratch), settings().max_asset_bytes, FETCH_TIMEOUT,
                             imageio_ffmpeg.get_ffmpeg_exe(), allow_private=netguard.private_allowed(settings()),
                             max_seconds=settings().max_fetch_seconds)
        try:
            fetched = assets.download(body.url, kind, limits)
        except RenderError as exc:
            raise media_library.refuse(exc.details.get("reason") or exc.message, "url") from None
        shutil.move(fetched, received)
    return received, name, tags


@bp.post("")
@contract("Add a media file to the caller's library: a multipart upload, or a URL fetched through the guarded client",
          {201: ("Kept (under a new name if the name was taken).", MediaItem)},
          errors={400: "Not media, not what its name says, a name with a folder or '..', or a URL that cannot be "
                       "fetched; nothing was kept.", 409: "Too many files with this name.",
                  413: "Larger than MONEYREELS_MAX_ASSET_BYTES.", **STORED},
          body=(MediaUrl,), upload=MEDIA_UPLOAD,
          description="Probed before it is kept; never replaces another file. With API keys, each key has its own "
                      "folder.")
@gate.accepts_uploads
def upload_media():
    """Add a file to the caller's library: a multipart upload, or a URL to fetch."""
    request.max_content_length = settings().max_asset_bytes + MULTIPART_OVERHEAD
    received, name, tags = _from_upload() if request.mimetype == "multipart/form-data" else _from_url()
    added = media_library.add(settings(), current_owner(), received, name, tags)
    return item(added), 201, {"Location": f"{bp.url_prefix}/{added['name']}"}


@bp.get("")
@contract("List the caller's media, newest first", {200: ("The library.", MediaList)})
def list_media():
    items = [item(found) for found in media_library.listing(settings(), current_owner())]
    return MediaList.model_validate({"media": items, "total": len(items),
                                     "_links": {"self": link(bp.url_prefix), "upload": link(bp.url_prefix, "POST")}})


@bp.get("/<name>")
@contract("Read one media file's details", {200: ("The file.", MediaItem)}, errors=NO_MEDIA)
def get_media(name):
    return item(media_library.describe(settings(), current_owner(), name))


@bp.patch("/<name>")
@contract("Replace a media file's tags", {200: ("Tagged.", MediaItem)}, errors={**INVALID, **NO_MEDIA}, body=(MediaTags,))
def tag_media(name):
    tags = media_library.check_tags(parse_body(MediaTags).tags)
    return item(media_library.set_tags(settings(), current_owner(), name, tags))


@bp.delete("/<name>")
@contract("Delete a media file", {200: ("Deleted.", MediaDeleted)}, errors={**NO_MEDIA, **STORED})
def delete_media(name):
    media_library.remove(settings(), current_owner(), name)
    return MediaDeleted.model_validate({"name": name, "deleted": True, "_links": {"list": link(bp.url_prefix)}})


@bp.get("/<name>/thumbnail")
@contract("A media file's thumbnail (a JPEG frame)", download("The thumbnail.", {"image/jpeg": {"schema": {}}}),
          errors={**NO_MEDIA, **BAD_RANGE})
def media_thumbnail(name):
    return send_job_file(media_library.thumbnail(settings(), current_owner(), name), mimetype="image/jpeg")
