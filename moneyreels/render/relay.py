"""Serve remote assets to ffmpeg from 127.0.0.1, every byte fetched through the guarded client.

Handing ffmpeg an asset's own URL lets ffmpeg resolve names and follow redirects itself,
past the address checks of the guarded session: a URL whose HEAD looks fine can redirect
its GET to a private address. So ffmpeg reads a per-render relay instead (a random port
and an unguessable path), which forwards each request, Range included so seeking still
downloads only what is decoded, through the guarded session: every redirect hop and every
connection is checked. What the relay could not fetch is kept, so a failed probe or render
can name the real reason.
"""

import contextlib
import logging
import re
import secrets
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import requests

from moneyreels import transfer
from moneyreels.errors import RenderError
from moneyreels.manifest import Asset

log = logging.getLogger(__name__)

_RANGE = re.compile(r"bytes=\d{1,18}-(\d{1,18})?")
_FORWARDED = ("Content-Type", "Content-Length", "Content-Range", "Accept-Ranges")
_SUFFIX = re.compile(r"\.[a-z0-9]{1,5}")
# Small socket buffers on both legs: when ffmpeg seeks it hangs up, and whatever the buffers
# held was downloaded for nothing. Smart Trim exists to download little.
_BUFFER_BYTES = 1 << 14

# open_upstream(asset, headers, checkpoint) -> an open streamed response, or RenderError saying why not.
Opener = Callable[[Asset, dict, Callable[[], None]], requests.Response]
# invalid(asset, reason) and too_large(asset, limit): the RenderErrors assets.py reports.
Refusals = tuple[Callable[[Asset, str], RenderError], Callable[[Asset, int], RenderError]]


class _Closed(Exception):
    """The render ended: stop relaying."""


@contextlib.contextmanager
def running(open_upstream: Opener, refusals: Refusals, *, max_bytes: int, max_seconds: float):
    """A Relay on 127.0.0.1 for the duration of the block, serving from its first asset on."""
    relay = Relay(open_upstream, refusals, max_bytes=max_bytes, max_seconds=max_seconds)
    try:
        yield relay
    finally:
        relay.close()


class Relay:
    """The assets one render reads remotely, served at http://127.0.0.1:<port>/<token>/<n>."""

    def __init__(self, open_upstream: Opener, refusals: Refusals, *, max_bytes: int, max_seconds: float):
        self.open_upstream = open_upstream
        self.invalid, self.too_large = refusals
        self.max_bytes = max_bytes
        self.max_seconds = max_seconds
        self.token = secrets.token_urlsafe(24)
        self.closed = threading.Event()
        self._assets: list[Asset] = []
        self._served: dict[str, int] = {}
        self._failures: dict[str, RenderError] = {}
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.relay = self
        # Served from the first remote asset on: a render of local files never waits for a
        # serving loop to notice its shutdown.
        self._serving: threading.Thread | None = None

    def add(self, asset: Asset) -> str:
        """Register asset; return the URL ffmpeg reads it at."""
        suffix = Path(urlsplit(asset.url).path).suffix.lower()
        with self._lock:
            self._assets.append(asset)
            index = len(self._assets) - 1
            if self._serving is None:
                self._serving = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True,
                                                 name="asset-relay")
                self._serving.start()
        # The suffix only helps ffmpeg guess a demuxer; the format whitelist still applies.
        return f"http://127.0.0.1:{self.server.server_address[1]}/{self.token}/{index}" + (
            suffix if _SUFFIX.fullmatch(suffix) else "")

    def close(self) -> None:
        """Stop serving: requests in flight see the render has ended."""
        self.closed.set()
        if self._serving is not None:
            self.server.shutdown()
        self.server.server_close()

    def failure(self, asset_id: str) -> RenderError | None:
        """Why relaying this asset failed, if it did."""
        with self._lock:
            return self._failures.get(asset_id)

    def first_failure(self) -> RenderError | None:
        with self._lock:
            return next(iter(self._failures.values()), None)

    def lookup(self, path: str) -> Asset | None:
        token, _, rest = path.lstrip("/").partition("/")
        index = rest.split(".", 1)[0]
        if not secrets.compare_digest(token.encode(), self.token.encode()) or not index.isdigit():
            return None
        with self._lock:
            return self._assets[int(index)] if int(index) < len(self._assets) else None

    def record(self, asset: Asset, error: RenderError) -> None:
        log.warning("relay: %s", error.message)
        with self._lock:
            self._failures.setdefault(asset.id, error)

    def count(self, asset: Asset, size: int) -> bool:
        """Add size bytes to what was served of asset; False once past max_bytes."""
        with self._lock:
            self._served[asset.id] = self._served.get(asset.id, 0) + size
            return self._served[asset.id] <= self.max_bytes

    def check(self) -> None:
        if self.closed.is_set():
            raise _Closed()


class _Handler(BaseHTTPRequestHandler):
    server_version = "MoneyReelsRelay"

    def setup(self):
        super().setup()
        self.request.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _BUFFER_BYTES)

    def log_message(self, format, *args):
        log.debug("relay: " + format, *args)

    def do_GET(self):
        relay: Relay = self.server.relay
        asset = relay.lookup(self.path.split("?", 1)[0])
        if asset is None:
            self.send_error(404)
            return
        wanted = self.headers.get("Range", "")
        headers = {"Range": wanted} if _RANGE.fullmatch(wanted) else {}
        try:
            upstream = relay.open_upstream(asset, headers, relay.check)
        except _Closed:
            return
        except RenderError as exc:
            relay.record(asset, exc)
            self.send_error(502)
            return
        with upstream:
            upstream_socket = transfer.socket_of(upstream)
            if upstream_socket is not None:
                upstream_socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _BUFFER_BYTES)
            self.send_response(upstream.status_code)
            for name in _FORWARDED:
                if name in upstream.headers:
                    self.send_header(name, upstream.headers[name])
            self.end_headers()
            self._copy(relay, asset, upstream)

    def _copy(self, relay: Relay, asset: Asset, upstream: requests.Response):
        body = transfer.chunks(upstream, max_seconds=relay.max_seconds, checkpoint=relay.check,
                               chunk_bytes=_BUFFER_BYTES)
        with contextlib.closing(body):
            try:
                for chunk in body:
                    if not relay.count(asset, len(chunk)):
                        relay.record(asset, relay.too_large(asset, relay.max_bytes))
                        return
                    self.wfile.write(chunk)
            except transfer.DeadlineExceeded as exc:
                relay.record(asset, relay.invalid(asset, str(exc)))
            except requests.RequestException as exc:
                relay.record(asset, relay.invalid(asset, f"download failed: {exc.__class__.__name__}"))
            except (_Closed, OSError):
                pass  # the render ended, or ffmpeg hung up after reading what it needed

