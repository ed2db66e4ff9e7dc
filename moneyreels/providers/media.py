"""Index the user's local media folder by tags and find the file that best matches a query.

Tags come from file names, folder names and an optional `tags.json` sidecar in the folder's
root ({"relative/path.jpg": ["tag", ...]}). The index is cached per folder and rebuilt only when
the modification times of its directories or of the sidecar change, so searching is cheap to
repeat for every scene of every job.
"""

import json
import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SIDECAR = "tags.json"
KINDS = {
    "image": frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"}),
    "video": frozenset({".mp4", ".mov", ".m4v", ".webm", ".mkv", ".avi"}),
    "audio": frozenset({".mp3", ".wav", ".m4a", ".aac", ".ogg", ".oga", ".flac", ".opus"}),
}
_KIND_OF = {ext: kind for kind, exts in KINDS.items() for ext in exts}
# Words that say nothing about content: articles, prepositions, media nouns and camera prefixes.
STOP_WORDS = frozenset("""
    a an the and or but of in on at to for with without by from into over under about as is are was
    be it its this that these those my your our their some very
    img image images pic picture photo photos video videos clip clips footage stock vid dsc pxl mov
    final copy edit edited new old version untitled
""".split())
_SEPARATORS = re.compile(r"[-_.\s]+")
_CAMEL_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


@dataclass(frozen=True)
class MediaFile:
    path: Path
    kind: str  # image | video | audio
    tags: frozenset[str]


@dataclass(frozen=True)
class _Index:
    signature: tuple
    directories: tuple[Path, ...]
    files: tuple[MediaFile, ...]


_cache: dict[Path, _Index] = {}
_lock = threading.Lock()


def index(media_dir: Path) -> list[MediaFile]:
    """Return the folder's media files with their tags (empty when the folder is missing)."""
    root = Path(os.path.abspath(media_dir))
    if not root.is_dir():
        return []
    cached = _cache.get(root)
    if cached is None or _signature(root, cached.directories) != cached.signature:
        cached = _build(root)
        with _lock:
            _cache[root] = cached
    return list(cached.files)


def search(media_dir: Path, query: str, kind: str, *, exclude: set[Path] = frozenset()) -> MediaFile | None:
    """Return the file of `kind` whose tags share the most words with `query`, or None if none shares any.

    Ties go to the file with fewer tags (the more specific match), then to the first path in order.
    """
    wanted = {stem(word) for word in words(query)}
    skip = {Path(os.path.abspath(p)) for p in exclude}
    best, best_key = None, None
    for file in index(media_dir):
        if file.kind != kind or file.path in skip:
            continue
        overlap = len(wanted & {stem(tag) for tag in file.tags})
        key = (-overlap, len(file.tags), str(file.path))
        if overlap and (best_key is None or key < best_key):
            best, best_key = file, key
    return best


def words(text: str) -> list[str]:
    """Split text into lower-case words: on - _ . and spaces, and between camelCase parts; drop stop words."""
    found = (w.lower() for part in _SEPARATORS.split(text) for w in _CAMEL_WORDS.findall(part))
    return [w for w in found if w not in STOP_WORDS and not w.isdigit()]


def stem(word: str) -> str:
    """Fold plurals and -ing forms together: 'beaches' -> 'beach', 'running' -> 'run', 'makes' -> 'mak'."""
    if word.endswith("ing") and len(word) > 5:
        word = word[:-3]
        if len(word) > 2 and word[-1] == word[-2] and word[-1] not in "lsaeiou":
            word = word[:-1]  # running -> run, but not falling -> fal
    elif word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith(("ches", "shes", "sses", "xes")):
        word = word[:-2]
    elif word.endswith("s") and len(word) > 3 and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    # 'make' and 'mak(ing)' meet at 'mak'.
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def _build(root: Path) -> _Index:
    """Walk the folder and tag every media file."""
    real_root = root.resolve()
    sidecar = _sidecar(root / SIDECAR)
    directories, files = [root], []
    for dirpath, dirnames, filenames in os.walk(root):  # does not descend into symlinked folders
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        directories.extend(here / d for d in dirnames)
        for name in sorted(filenames):
            path = here / name
            kind = _KIND_OF.get(path.suffix.lower())
            if name.startswith(".") or kind is None or not _inside(path, real_root):
                continue
            relative = path.relative_to(root)
            tags = set(words(path.stem))
            tags.update(w for folder in relative.parts[:-1] for w in words(folder))
            tags.update(w for tag in sidecar.get(relative.as_posix(), ()) for w in words(tag))
            files.append(MediaFile(path, kind, frozenset(tags)))
    directories = tuple(directories)
    return _Index(_signature(root, directories), directories, tuple(files))


def _signature(root: Path, directories: tuple[Path, ...]) -> tuple:
    """Return what changes when a file is added, removed or renamed, or the sidecar is edited.

    A directory's mtime changes with its entries (a new subfolder changes its parent's), so the
    directories seen at the last walk are enough to notice any change of the tree.
    """
    stamps = []
    for path in (*directories, root / SIDECAR):
        try:
            stat = path.stat()
            stamps.append((stat.st_mtime_ns, stat.st_size))
        except OSError:
            stamps.append(None)
    return tuple(stamps)


def _inside(path: Path, real_root: Path) -> bool:
    """Tell whether the path, symlinks followed, stays inside the media folder."""
    try:
        return path.resolve(strict=True).is_relative_to(real_root)
    except (OSError, RuntimeError):  # broken link or a loop
        return False


def _sidecar(path: Path) -> dict[str, list[str]]:
    """Read the tags sidecar; warn and ignore it when it is not a mapping of paths to lists of strings."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("ignoring media tags file %s: %s", path, exc)
        return {}
    valid = isinstance(data, dict) and all(
        isinstance(tags, list) and all(isinstance(t, str) for t in tags) for tags in data.values())
    if not valid:
        log.warning("ignoring media tags file %s: expected {\"relative/path.jpg\": [\"tag\", ...]}", path)
        return {}
    return {Path(key).as_posix(): tags for key, tags in data.items()}
