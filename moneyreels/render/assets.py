"""Resolve manifest assets to something ffmpeg can read: a checked local file or URL."""

import contextlib
import logging
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import requests

from moneyreels import netguard, transfer

from moneyreels.errors import RenderError
from moneyreels.manifest import Asset, Manifest
from moneyreels.render import relay as relays
from moneyreels.render.probe import POLL_SECONDS, MediaInfo, probe

log = logging.getLogger(__name__)

_GENERIC_BINARY = {"application/octet-stream", "binary/octet-stream", "application/mp4", "application/ogg"}
_SUFFIX = re.compile(r"\.[a-z0-9]{1,5}")
PROBES = 4  # assets probed at once


@dataclass(frozen=True)
class Source:
    """A fetched asset: where ffmpeg reads it and what it holds."""

    asset_id: str
    location: str  # a local path, or the relay URL ffmpeg reads a remote asset at, seeking
    remote: bool
    info: MediaInfo


@dataclass(frozen=True)
class FetchLimits:
    media_dirs: list[Path]
    work_dir: Path
    max_bytes: int
    timeout: tuple[float, float]
    ffmpeg: str
    allow_private: bool = True
    # A whole download's limit: a server sending a byte every few seconds never trips the read timeout.
    max_seconds: float = 300.0
    refused_dirs: list[Path] = field(default_factory=list)  # inside media_dirs, yet not this job's to read

    @property
    def session(self) -> requests.Session:
        return netguard.guarded_session(self.allow_private)


def relayed(limits: FetchLimits):
    """A relay for one render: ffmpeg reads remote assets through it, so through the guarded session."""
    return relays.running(lambda asset, headers, check: _open(asset, limits, "GET", check, headers),
                          (_invalid, _too_large),
                          max_bytes=limits.max_bytes, max_seconds=limits.max_seconds)


def fetch_assets(manifest: Manifest, limits: FetchLimits, checkpoint: Callable[[], None],
                 relay: relays.Relay) -> dict[str, Source]:
    """Fetch and probe every asset the timeline uses, keyed by asset id; remote seeks go through relay.

    Assets are fetched one by one and probed side by side (a probe is mostly ffmpeg starting up);
    the first asset in manifest order that fails is the one reported.
    """
    layers_by_asset: dict[str, list] = {}
    for layer in manifest.composition.timeline:
        layers_by_asset.setdefault(layer.asset_id, []).append(layer)
    abandoned = threading.Event()

    def probed(asset: Asset, location: str) -> MediaInfo:
        return probe(limits.ffmpeg, location, asset_id=asset.id, timeout=limits.timeout[1],
                     checkpoint=lambda: _stop_if(abandoned))

    with ThreadPoolExecutor(PROBES) as pool:
        try:
            fetched = []
            for index, (asset_id, layers) in enumerate(layers_by_asset.items()):
                checkpoint()
                asset = manifest.asset(asset_id)
                # Seek over HTTP only when every use is trimmed media; anything else needs the whole file.
                seek_remotely = asset.type != "image" and all(
                    layer.trim is not None and layer.trim.start_seconds > 0 for layer in layers
                )
                location, remote = _locate(asset, index, limits, relay if seek_remotely else None, checkpoint)
                fetched.append((asset, location, remote, pool.submit(probed, asset, location)))
            sources = {}
            for asset, location, remote, probing in fetched:
                try:
                    info = _result(probing, checkpoint)
                except RenderError as exc:  # "redirects to a private address" beats "undecodable"
                    raise (relay.failure(asset.id) or exc) from None
                sources[asset.id] = Source(asset.id, location, remote, info)
                log.info("asset %s: %s %s", asset.id, "remote" if remote else "local", info)
            return sources
        finally:
            abandoned.set()  # probes still running stop their ffmpeg


class _Abandoned(Exception):
    """The render stopped fetching: a probe nobody waits for stops."""


def _stop_if(abandoned: threading.Event) -> None:
    if abandoned.is_set():
        raise _Abandoned()


def _result(future: Future, checkpoint: Callable[[], None]):
    """Wait for future's result, polling checkpoint (which may raise) while it runs."""
    while True:
        try:
            return future.result(timeout=POLL_SECONDS)
        except TimeoutError:
            checkpoint()


def download(url: str, kind: str, limits: FetchLimits, checkpoint: Callable[[], None] = lambda: None) -> Path:
    """Fetch one http(s) URL of a media kind into limits.work_dir, with every check a manifest's asset gets."""
    asset = Asset(id="url", type=kind, url=url)
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise _invalid(asset, "only http and https URLs are fetched")
    return Path(_locate(asset, 0, limits, None, checkpoint)[0])


def _locate(asset: Asset, index, limits, relay, checkpoint) -> tuple[str, bool]:
    parts = urlsplit(asset.url)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if not limits.allow_private:
            try:
                netguard.check_url(asset.url, allow_private=False)
            except OSError as exc:
                raise _invalid(asset, f"refused: {exc}") from None
        if relay is not None:
            _open(asset, limits, "HEAD", checkpoint).close()
            return relay.add(asset), True
        return str(_download(asset, index, limits, checkpoint)), False
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise _invalid(asset, "file URLs must name a local path")
        return str(_local_file(asset, Path(unquote(parts.path)), limits)), False
    if scheme and not re.fullmatch(r"[a-z]", scheme):  # one letter is a Windows drive, not a scheme
        raise _invalid(asset, f"scheme '{scheme}' is not allowed (use http, https or a local path)")
    return str(_local_file(asset, Path(asset.url), limits)), False


def _local_file(asset: Asset, path: Path, limits: FetchLimits) -> Path:
    """Return path resolved inside one of the media folders, refusing anything that escapes them."""
    roots = [Path(d).resolve() for d in limits.media_dirs]
    refused = [Path(d).resolve() for d in limits.refused_dirs]
    try:
        candidates = [path.resolve()] if path.is_absolute() else [(root / path).resolve() for root in roots]
        inside = [c for c in candidates if any(c.is_relative_to(root) for root in roots)
                  and not any(c.is_relative_to(folder) for folder in refused)]
        if not inside:
            raise _invalid(asset, "local path is outside the allowed media folders")
        found = next((candidate for candidate in inside if candidate.is_file()), None)
    except (ValueError, OSError) as exc:  # a NUL byte, a name too long for the file system
        raise _invalid(asset, f"not a usable local path ({type(exc).__name__})") from None
    if found is None:
        raise _invalid(asset, "local file not found", tried=[str(candidate) for candidate in inside])
    return found


def _open(asset: Asset, limits: FetchLimits, method: str, checkpoint, headers: dict | None = None) -> requests.Response:
    """Send method (HEAD falls back to GET) and check status and Content-Type; redirects pass the guard too.

    Waiting for the answer's headers is on the clock: the fetch's deadline, and checkpoint.
    """
    session = limits.session
    deadline = time.monotonic() + limits.max_seconds

    def send(method):
        return transfer.call(lambda: session.request(method, asset.url, headers=headers, stream=True,
                                                     timeout=limits.timeout, allow_redirects=True),
                             max_seconds=deadline - time.monotonic(), checkpoint=checkpoint)

    try:
        response = send(method)
        if method == "HEAD" and response.status_code in (405, 501):
            response.close()
            response = send("GET")
    except transfer.DeadlineExceeded:
        raise _invalid(asset, f"the server took longer than {limits.max_seconds:g} s to answer") from None
    except requests.RequestException as exc:
        reason = "it resolves to a private address" if "private or reserved" in str(exc) else exc.__class__.__name__
        raise _invalid(asset, f"unreachable: {reason}") from None
    if response.status_code >= 400:
        response.close()
        raise _invalid(asset, f"HTTP {response.status_code}", status=response.status_code)
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type and content_type.split("/")[0] not in ("video", "audio", "image") \
            and content_type not in _GENERIC_BINARY:
        response.close()
        raise _invalid(asset, f"Content-Type {content_type} is not media", content_type=content_type)
    return response


def _download(asset: Asset, index: int, limits: FetchLimits, checkpoint) -> Path:
    """Stream the asset to work_dir, enforcing the size cap before and while reading."""
    suffix = Path(urlsplit(asset.url).path).suffix.lower()
    if not _SUFFIX.fullmatch(suffix):
        suffix = ""  # the name is ours; the suffix only helps ffmpeg pick a demuxer
    target = limits.work_dir / f"asset-{index}{suffix}"
    started = time.monotonic()
    with _open(asset, limits, "GET", checkpoint) as response:
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > limits.max_bytes:
            raise _too_large(asset, limits.max_bytes)
        received = 0
        try:
            remaining = limits.max_seconds - (time.monotonic() - started)  # one deadline for headers and body
            body = transfer.chunks(response, max_seconds=remaining, checkpoint=checkpoint)
            with open(target, "wb") as out, contextlib.closing(body):
                for chunk in body:
                    received += len(chunk)
                    if received > limits.max_bytes:
                        raise _too_large(asset, limits.max_bytes)
                    out.write(chunk)
        except transfer.DeadlineExceeded:
            target.unlink(missing_ok=True)
            raise _invalid(asset, f"download took longer than {limits.max_seconds:g} s") from None
        except requests.RequestException as exc:
            target.unlink(missing_ok=True)
            raise _invalid(asset, f"download failed: {exc.__class__.__name__}") from None
        except BaseException:
            target.unlink(missing_ok=True)
            raise
    return target


def _invalid(asset: Asset, reason: str, **extra) -> RenderError:
    return RenderError(
        f"Asset '{asset.id}' is not usable: {reason}",
        code="invalid_asset_url",
        details={"asset_id": asset.id, "url": asset.url, "reason": reason, **extra},
    )


def _too_large(asset: Asset, limit: int) -> RenderError:
    return RenderError(
        f"Asset '{asset.id}' is larger than the {limit} byte limit",
        code="asset_too_large",
        details={"asset_id": asset.id, "limit_bytes": limit},
    )
