"""The user's own media: uploads checked and stored in MEDIA_DIR, listed with tags, duration and thumbnails.

With a bucket (STORAGE_URL) each kept file is also put under the bucket's `media/` prefix, at its
path inside MEDIA_DIR, so a worker on another machine fetches it (`fetch_named`).

On an open install the library is MEDIA_DIR/uploads, so the pipeline's local search and manifests
find it as any other file of MEDIA_DIR. With API keys each key has MEDIA_DIR/.keys/<owner>: a hidden
folder the shared search skips, searched for that key's own jobs only. Tags live in the folder's
`tags.json` (the sidecar the local search reads); what probing found, and thumbnails, in hidden
folders beside. A file is probed before it is kept, and never replaces another.
"""

import json
import logging
import os
import re
import threading
import time
import uuid
from pathlib import Path

import imageio_ffmpeg

from . import posters, storage
from .errors import Conflict, InvalidRequest, NotFound, RenderError, StorageUnavailable
from .providers.media import KINDS, SIDECAR
from .render.job import KEYED_FOLDER
from .render.probe import probe

OPEN_FOLDER = "uploads"
META, THUMBS, INCOMING = ".meta", ".thumbs", ".incoming"
MAX_TAGS, MAX_TAG_CHARS = 20, 40
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._()+-]{0,119}")
KIND_OF = {ext: kind for kind, exts in KINDS.items() for ext in exts}
# The leading bytes each file type starts with: a file must be what its name says (no polyglots).
MAGIC = {
    ".jpg": [(0, b"\xff\xd8\xff")], ".jpeg": [(0, b"\xff\xd8\xff")], ".png": [(0, b"\x89PNG\r\n\x1a\n")],
    ".gif": [(0, b"GIF87a"), (0, b"GIF89a")], ".webp": [(8, b"WEBP")], ".bmp": [(0, b"BM")],
    ".tif": [(0, b"II*\x00"), (0, b"MM\x00*")], ".tiff": [(0, b"II*\x00"), (0, b"MM\x00*")],
    ".mp4": [(4, b"ftyp")], ".mov": [(4, b"ftyp"), (4, b"moov"), (4, b"wide"), (4, b"mdat")], ".m4v": [(4, b"ftyp")],
    ".m4a": [(4, b"ftyp")], ".webm": [(0, b"\x1a\x45\xdf\xa3")], ".mkv": [(0, b"\x1a\x45\xdf\xa3")],
    ".avi": [(8, b"AVI ")], ".wav": [(8, b"WAVE")], ".ogg": [(0, b"OggS")], ".oga": [(0, b"OggS")],
    ".opus": [(0, b"OggS")], ".flac": [(0, b"fLaC")], ".mp3": [(0, b"ID3"), (0, b"\xff\xfb"), (0, b"\xff\xf3"),
                                                             (0, b"\xff\xf2")],
    ".aac": [(0, b"\xff\xf1"), (0, b"\xff\xf9")],
}
_lock = threading.Lock()  # tags.json is read, changed and replaced as a whole
log = logging.getLogger(__name__)


def refuse(message: str, field: str = "file") -> InvalidRequest:
    """An InvalidRequest naming the field, in the API's shape."""
    return InvalidRequest(message, code="invalid_media", details={"errors": [{"field": field, "message": message}]})


def folder(settings, owner: str) -> Path:
    """The library folder of owner ("" on an open install)."""
    media_dir = Path(settings.media_dir)
    return media_dir / KEYED_FOLDER / owner if owner else media_dir / OPEN_FOLDER


def check_name(filename: str) -> tuple[str, str]:
    """Return (name, kind) for an upload's file name, refusing paths, hidden names and other file types."""
    if not filename or "/" in filename or "\\" in filename or ".." in filename or "\x00" in filename:
        raise refuse("the file name must be a plain name: no folders, no '..'", "file")
    if not NAME.fullmatch(filename):
        raise refuse("the file name may use letters, digits, spaces and . _ - ( ) +, up to 120 characters, "
                     "and must not start with a dot", "file")
    kind = KIND_OF.get(Path(filename).suffix.lower())
    if kind is None:
        raise refuse(f"not a media file name: use one of {', '.join(sorted(KIND_OF))}", "file")
    return filename, kind


def check_tags(tags) -> list[str]:
    """Tags as a clean, de-duplicated list, or a refusal naming the field."""
    if isinstance(tags, str):
        tags = tags.split(",")
    if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
        raise refuse("tags must be a list of words", "tags")
    clean = list(dict.fromkeys(tag.strip().lower() for tag in tags if tag.strip()))
    if len(clean) > MAX_TAGS or any(len(tag) > MAX_TAG_CHARS or "\x00" in tag for tag in clean):
        raise refuse(f"at most {MAX_TAGS} tags of up to {MAX_TAG_CHARS} characters", "tags")
    return clean


def incoming(settings, owner: str) -> Path:
    """A fresh path for a file being received, in a hidden folder of the library (same file system)."""
    place = folder(settings, owner) / INCOMING
    place.mkdir(parents=True, exist_ok=True)
    return place / uuid.uuid4().hex


def _looks_like(path: Path, suffix: str) -> bool:
    head = path.open("rb").read(16)
    return any(head[offset:offset + len(magic)] == magic for offset, magic in MAGIC.get(suffix, ()))


def _check_media(path: Path, name: str, kind: str) -> dict:
    """Probe the received file; return what it holds, or refuse it (it is not what its name says)."""
    suffix = Path(name).suffix.lower()
    if not _looks_like(path, suffix):
        raise refuse(f"the file's content is not {suffix[1:].upper()} as its name says", "file")
    try:
        info = probe(imageio_ffmpeg.get_ffmpeg_exe(), str(path), asset_id=name)
    except RenderError:
        raise refuse("the file is not decodable media", "file") from None
    fits = {"image": info.is_still, "video": info.has_video and not info.is_still,
            "audio": info.has_audio and not (info.has_video and not info.is_still)}[kind]
    if not fits:
        raise refuse(f"the file does not hold {'an ' if kind == 'image' else ''}{kind} as its name says", "file")
    return {"kind": kind, "durationSeconds": info.duration, "width": info.width, "height": info.height}


def _claim_name(library: Path, name: str, received: Path) -> str:
    """Link received into the library under name, or name-2, name-3...: never over another file."""
    stem, suffix = Path(name).stem, Path(name).suffix
    for number in range(1, 1000):
        candidate = name if number == 1 else f"{stem}-{number}{suffix}"
        try:
            os.link(received, library / candidate)
            return candidate
        except FileExistsError:
            continue
    raise Conflict("Too many files with this name already; rename it.", details={"name": name})


def add(settings, owner: str, received: Path, name: str, tags: list[str]) -> dict:
    """Keep a received file in the library if it is the media its name says; the received file is removed."""
    name, kind = check_name(name)
    library = folder(settings, owner)
    try:
        if received.stat().st_size == 0:
            raise refuse("the file is empty", "file")
        facts = _check_media(received, name, kind)
        kept = _claim_name(library, name, received)
    finally:
        received.unlink(missing_ok=True)
    _share(settings, library / kept)
    facts.update(bytes=(library / kept).stat().st_size, addedAt=time.time())
    (library / META).mkdir(exist_ok=True)
    (library / META / f"{kept}.json").write_text(json.dumps(facts))
    if kind != "audio":
        (library / THUMBS).mkdir(exist_ok=True)
        posters.write_frame(library / kept, library / THUMBS / f"{kept}.jpg")
    _write_tags(library, kept, tags)
    return describe(settings, owner, kept)


def _stored_key(settings, path: Path) -> str:
    return storage.key(storage.MEDIA, path.relative_to(Path(settings.media_dir)).as_posix())


def _share(settings, path: Path) -> None:
    """Put a kept file in the bucket for the workers; a failure keeps nothing."""
    store = storage.of(settings)
    if not store.separate:
        return
    try:
        store.put(_stored_key(settings, path), path)
    except Exception as exc:
        path.unlink(missing_ok=True)
        raise _unavailable(exc) from None


def _unavailable(exc) -> StorageUnavailable:
    log.warning("the bucket refused a media file: %s", exc)
    return StorageUnavailable("The media could not be stored in the bucket; try again later.")


def fetch_named(settings, owner: str, urls, folder: Path) -> list[Path]:
    """Fetch from the bucket the uploads of owner (or the open library) that urls name by path and
    this machine's MEDIA_DIR lacks, into folder at the same paths; return [folder] when there is one."""
    store = storage.of(settings)
    if not store.separate:
        return []
    own = (KEYED_FOLDER, owner) if owner else (OPEN_FOLDER,)
    for url in urls:
        parts = tuple(url.split("/"))
        if parts[:len(own)] != own or len(parts) != len(own) + 1 or (Path(settings.media_dir) / url).is_file():
            continue
        try:
            store.fetch(storage.key(storage.MEDIA, url), folder / url)
        except storage.BadKey:
            continue  # not a path the library could have made; the render refuses it as it would any
    return [folder]


def _read_tags(library: Path) -> dict:
    try:
        data = json.loads((library / SIDECAR).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_tags(library: Path, name: str, tags: list[str] | None) -> None:
    """Set (or, with None, drop) a file's tags in the folder's tags.json, replaced atomically."""
    with _lock:
        data = _read_tags(library)
        if tags is None:
            data.pop(name, None)
        else:
            data[name] = tags
        partial = library / f".{SIDECAR}.{uuid.uuid4().hex}"
        partial.write_text(json.dumps(data, indent=1, sort_keys=True))
        partial.replace(library / SIDECAR)


def _file(settings, owner: str, name: str) -> Path:
    """The library file called name, or NotFound (names that are not plain never match)."""
    path = folder(settings, owner) / name
    if not NAME.fullmatch(name) or ".." in name or name == SIDECAR or not path.is_file():
        raise NotFound("No such media file.", details={"name": name[:200]})
    return path


def describe(settings, owner: str, name: str) -> dict:
    path = _file(settings, owner, name)
    library = path.parent
    try:
        facts = json.loads((library / META / f"{name}.json").read_text())
    except (OSError, ValueError):
        facts = {"kind": KIND_OF.get(path.suffix.lower()), "bytes": path.stat().st_size}
    media_dir = Path(settings.media_dir)
    return {"name": name, **facts, "tags": _read_tags(library).get(name, []),
            "path": path.relative_to(media_dir).as_posix(),
            "thumbnail": (library / THUMBS / f"{name}.jpg").is_file()}


def listing(settings, owner: str) -> list[dict]:
    """The library's files, newest first."""
    library = folder(settings, owner)
    if not library.is_dir():
        return []
    names = [entry.name for entry in library.iterdir()
             if entry.is_file() and not entry.name.startswith(".") and entry.name != SIDECAR]
    items = [describe(settings, owner, name) for name in names]
    return sorted(items, key=lambda item: (-(item.get("addedAt") or 0), item["name"]))


def set_tags(settings, owner: str, name: str, tags: list[str]) -> dict:
    path = _file(settings, owner, name)
    _write_tags(path.parent, name, tags)
    return describe(settings, owner, name)


def thumbnail(settings, owner: str, name: str) -> Path:
    path = _file(settings, owner, name).parent / THUMBS / f"{name}.jpg"
    if not path.is_file():
        raise NotFound("This media file has no thumbnail.", details={"name": name[:200]})
    return path


def remove(settings, owner: str, name: str) -> None:
    path = _file(settings, owner, name)
    library = path.parent
    if storage.of(settings).separate:
        try:
            storage.of(settings).delete(_stored_key(settings, path))
        except Exception as exc:
            raise _unavailable(exc) from None
    path.unlink()
    for extra in (library / META / f"{name}.json", library / THUMBS / f"{name}.jpg"):
        extra.unlink(missing_ok=True)
    _write_tags(library, name, None)
