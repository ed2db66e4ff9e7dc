"""Find and fetch stock footage and photos: Pexels and Pixabay.

A search keeps the provider's relevance order but prefers portrait hits, skips clips shorter
than asked and ids already used in the reel, and picks per hit the file that fits a 1080-wide
frame. Downloads carry no key: both serve media from a CDN that needs none.
"""

import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple, Protocol

from . import remote
from .remote import RemoteProvider

log = logging.getLogger(__name__)

Kind = Literal["video", "image"]
OUTPUT_WIDTH = 1080
PER_PAGE = 30
PIXABAY_QUERY_CHARS = 100  # Pixabay refuses a longer q
PIXABAY_LARGE_SIDE = 1280  # largeImageURL is scaled to fit this box


@dataclass(frozen=True)
class StockHit:
    id: str  # "<provider>:<kind>:<provider's id>", unique across providers
    kind: Kind
    url: str  # the media file itself
    width: int
    height: int
    duration: float  # seconds; 0 for images
    provider: str
    page_url: str  # the provider's page, for attribution


class StockProvider(Protocol):
    key: str
    label: str
    requires: tuple[str, ...]

    def search(self, query: str, kind: Kind, *, min_seconds: float = 0,
               exclude: set[str] = frozenset()) -> StockHit | None:
        """Return the best unused hit for the query, or None."""
        ...

    def download(self, hit: StockHit, out_path: Path, *, max_bytes: int) -> Path:
        """Fetch the hit's file to out_path, refusing one larger than max_bytes."""
        ...


class StockFile(NamedTuple):
    url: str
    width: int
    height: int


def best_file(files: list[StockFile]) -> StockFile | None:
    """Return the smallest file at least OUTPUT_WIDTH wide (4K only costs bytes), else the largest."""
    usable = [file for file in files if file.url and file.width > 0 and file.height > 0]
    wide = [file for file in usable if file.width >= OUTPUT_WIDTH]
    if wide:
        return min(wide, key=lambda file: file.width * file.height)
    return max(usable, key=lambda file: file.width * file.height, default=None)


def pick(hits: list[StockHit], *, min_seconds: float, exclude: set[str]) -> StockHit | None:
    """Return the first portrait hit long enough and unused, else the first landscape one."""
    fitting = [hit for hit in hits if hit.id not in exclude and (hit.kind == "image" or hit.duration >= min_seconds)]
    return min(fitting, key=lambda hit: hit.width > hit.height, default=None)  # min keeps the first of equals


class _RemoteStock(RemoteProvider, ABC):
    def search(self, query: str, kind: Kind, *, min_seconds: float = 0,
               exclude: set[str] = frozenset()) -> StockHit | None:
        """Search the provider and return the best unused hit, or None."""
        if kind not in ("video", "image"):
            raise ValueError(f"kind must be 'video' or 'image', not {kind!r}")
        hits = []
        for entry in self._entries(query, kind):
            try:
                hit = self._hit(entry, kind)
            except (KeyError, IndexError, TypeError, ValueError, AttributeError, ArithmeticError):
                hit = None  # one odd entry should not cost the whole search
            if hit is not None:
                hits.append(hit)
        found = pick(hits, min_seconds=min_seconds, exclude=exclude)
        log.info("%s: %d %s hits for %r; chose %s", self.key, len(hits), kind, query, found and found.id)
        return found

    def download(self, hit: StockHit, out_path: Path, *, max_bytes: int) -> Path:
        """Fetch the hit's file to out_path, refusing one larger than max_bytes."""
        return self._download(hit.url, out_path, max_bytes=max_bytes)

    def _list(self, data: Any, field: str) -> list:
        if not isinstance(data, dict) or not isinstance(data.get(field), list):
            raise self.client.error(f"{self.key} returned a malformed response (no {field} list)")
        return data[field]

    @abstractmethod
    def _entries(self, query: str, kind: Kind) -> list:
        """Return the provider's raw search results, in its relevance order."""

    @abstractmethod
    def _hit(self, entry: dict, kind: Kind) -> StockHit | None:
        """Return a result as a hit with its best file, or None if it has no usable file."""

    def _make(self, entry_id: Any, kind: Kind, file: StockFile | None, duration: float,
              page_url: str) -> StockHit | None:
        if file is None:
            return None
        return StockHit(f"{self.key}:{kind}:{entry_id}", kind, file.url, file.width, file.height,
                        float(duration), self.key, page_url)


class Pexels(_RemoteStock):
    """Pexels API: the key is the whole Authorization header."""

    key, label, requires = "pexels", "Pexels", ("PEXELS_API_KEY",)
    default_base_url = "https://api.pexels.com"

    def _auth_headers(self, api_key):
        return {"Authorization": api_key}

    def _entries(self, query, kind):
        path, field = ("/videos/search", "videos") if kind == "video" else ("/v1/search", "photos")
        params = {"query": query, "orientation": "portrait", "per_page": PER_PAGE}
        return self._list(self.client.request("GET", path, params=params), field)

    def _hit(self, entry, kind):
        if kind == "video":
            files = [StockFile(f["link"], f["width"], f["height"]) for f in entry["video_files"]
                     if f.get("file_type") == "video/mp4" and isinstance(f.get("width"), int)
                     and isinstance(f.get("height"), int)]
            return self._make(entry["id"], kind, best_file(files), entry["duration"], entry["url"])
        src = entry["src"]
        # The original is full size; large2x (fits 1880x1300) is the fallback when it is missing.
        url = src.get("original") or src["large2x"]
        return self._make(entry["id"], kind, StockFile(url, entry["width"], entry["height"]), 0, entry["url"])


class Pixabay(_RemoteStock):
    """Pixabay API: the key travels as the `key` query parameter (redacted from every error)."""

    key, label, requires = "pixabay", "Pixabay", ("PIXABAY_API_KEY",)
    default_base_url = "https://pixabay.com"

    def _entries(self, query, kind):
        params = {"key": self._api_key, "q": query[:PIXABAY_QUERY_CHARS], "per_page": PER_PAGE,
                  "safesearch": "true"}
        if kind == "video":
            return self._list(self.client.request("GET", "/api/videos/", params=params), "hits")
        params |= {"image_type": "photo", "orientation": "vertical"}
        return self._list(self.client.request("GET", "/api/", params=params), "hits")

    def _hit(self, entry, kind):
        if kind == "video":
            # Renditions Pixabay does not have come as {"url": "", "width": 0, ...}.
            files = [StockFile(v["url"], v["width"], v["height"]) for v in entry["videos"].values()]
            return self._make(entry["id"], kind, best_file(files), entry["duration"], entry["pageURL"])
        width, height = entry["imageWidth"], entry["imageHeight"]
        scale = min(1.0, PIXABAY_LARGE_SIDE / max(width, height))  # imageWidth/Height are the original's
        file = StockFile(entry["largeImageURL"], round(width * scale), round(height * scale))
        return self._make(entry["id"], kind, file, 0, entry["pageURL"])


STOCK_PROVIDERS = {cls.key: cls for cls in (Pexels, Pixabay)}
PROVIDERS = remote.describe(STOCK_PROVIDERS)


def available(keys: Mapping[str, str]) -> dict[str, bool]:
    """Return, per stock provider, whether `keys` can drive it."""
    return remote.available(STOCK_PROVIDERS, keys)


def build(name: str, keys: Mapping[str, str], **options) -> StockProvider:
    """Construct the named stock provider (options: base_url, client_options)."""
    return remote.build(STOCK_PROVIDERS, "stock", name, keys, **options)
