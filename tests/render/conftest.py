"""Fixtures for render tests: generated media, a local HTTP server, and output inspection."""

import re
import socket
import subprocess
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from moneyreels.manifest import Manifest
from moneyreels.render import RenderOptions, render

from tests.support.video import FFMPEG


def _ffmpeg(*args):
    subprocess.run([FFMPEG, "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="session")
def media(tmp_path_factory) -> Path:
    """Generate every source file the render tests use."""
    root = tmp_path_factory.mktemp("media")
    _ffmpeg("-f", "lavfi", "-i", "color=c=red:s=320x180:r=25:d=3", "-f", "lavfi", "-i", "sine=f=440:d=3",
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(root / "red_land.mp4"))
    for colour, name in (("blue", "blue_port.mp4"), ("lime", "green_port.mp4")):
        _ffmpeg("-f", "lavfi", "-i", f"color=c={colour}:s=180x320:r=25:d=2", "-c:v", "libx264",
                "-pix_fmt", "yuv420p", str(root / name))
    # Luma = 10 x seconds, so a frame's brightness tells which source time it came from; noise
    # coded near-losslessly makes it ~10 MB, far more than sockets buffer, so reads are measurable.
    _ffmpeg("-f", "lavfi", "-i", "color=c=black:s=320x240:r=10:d=20,geq=lum='N':cb=128:cr=128,noise=c0s=12:allf=t",
            "-f", "lavfi", "-i", "sine=f=300:d=20", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "4",
            "-g", "10", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(root / "ramp.mp4"))
    _ffmpeg("-f", "lavfi", "-i", "sine=f=440:d=1:sample_rate=48000", "-af", "volume=0.5", str(root / "tone.wav"))
    halves = Image.new("RGB", (400, 200), (255, 0, 0))
    halves.paste((0, 255, 0), (200, 0, 400, 200))
    halves.save(root / "halves.jpg", quality=95)
    Image.new("RGB", (200, 200), (255, 255, 255)).save(root / "white.png")
    checker = np.kron((np.indices((40, 40)).sum(0) % 2) * 255, np.ones((8, 8))).astype(np.uint8)
    Image.fromarray(checker).convert("RGB").resize((320, 180)).save(root / "checker.png")
    # Smooth random texture: no period for a displacement measure to lock onto, detail below a pixel.
    noise = np.random.default_rng(7).integers(0, 256, (60, 40, 3), dtype=np.uint8)
    Image.fromarray(noise).resize((240, 360), Image.BICUBIC).save(root / "noise.png")
    logo = Image.new("RGBA", (100, 100), (0, 0, 0, 0))
    ImageDraw.Draw(logo).rectangle((25, 25, 74, 74), fill=(0, 0, 255, 255))
    logo.save(root / "logo.png")
    (root / "notes.txt").write_text("not media at all")
    return root


class _Handler(SimpleHTTPRequestHandler):
    """Serve the media folder with Range support, plus misbehaving endpoints."""

    log: list = []

    def setup(self):
        super().setup()
        # A small send buffer makes "sent" close to what the client really read before hanging up.
        self.request.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self._serve(body=False)

    def do_GET(self):
        self._serve(body=True)

    def _serve(self, body: bool):
        path = self.path.split("?")[0]
        self.log.append({"method": self.command, "path": path, "range": self.headers.get("Range"), "sent": 0})
        special = {
            "/status/404": (404, "text/plain", b"missing"),
            "/status/500": (500, "text/plain", b"broken"),
            "/page.html": (200, "text/html", b"<html>hello</html>"),
        }
        if path in special:
            status, kind, data = special[path]
            return self._reply(status, kind, data, body)
        if path == "/redirect-to-file":
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.end_headers()
            return None
        if path == "/head-ok-get-redirects.mp4":  # honest to HEAD, then sends the GET to loopback
            if not body:
                return self._reply(200, "video/mp4", b"", body)
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{self.server.server_address[1]}/red_land.mp4")
            self.end_headers()
            return None
        if path == "/huge.mp4":
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", str(10**12))
            self.end_headers()
            return None
        if path == "/endless.mp4":  # no Content-Length: the size cap must count bytes
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.end_headers()
            if body:
                for _ in range(2000):
                    self.wfile.write(b"\0" * 65536)
            return None
        if path == "/trickle.mp4":  # a byte at a time: every read is quick, the whole never ends
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.end_headers()
            for _ in range(50 if body else 0):
                self.wfile.write(b"\0")
                self.wfile.flush()
                time.sleep(0.1)
            return None
        if path.startswith("/slow/"):
            time.sleep(3)
            path = path[len("/slow"):]
        file = self.server.root / path.lstrip("/")
        if not file.is_file():
            return self._reply(404, "text/plain", b"no such file", body)
        data = file.read_bytes()
        kind = {".mp4": "video/mp4", ".wav": "audio/wav", ".jpg": "image/jpeg", ".png": "image/png"}.get(
            file.suffix, "application/octet-stream")
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range") or "")
        if match:
            start = int(match.group(1))
            end = int(match.group(2)) if match.group(2) else len(data) - 1
            chunk = data[start:end + 1]
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{start + len(chunk) - 1}/{len(data)}")
        else:
            chunk = data
            self.send_response(200)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(chunk)))
        self.end_headers()
        entry = self.log[-1]
        try:
            for offset in range(0, len(chunk) if body else 0, 65536):
                self.wfile.write(chunk[offset:offset + 65536])
                entry["sent"] += len(chunk[offset:offset + 65536])
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client read what it needed and hung up

    def _reply(self, status, kind, data, body):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)


@pytest.fixture(scope="session")
def http_server(media):
    """A threaded HTTP server on 127.0.0.1 serving the media folder; .log records requests."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.root = media
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()


@pytest.fixture
def request_log(http_server):
    _Handler.log.clear()
    return _Handler.log


@pytest.fixture
def render_reel(tmp_path, media):
    """Render a manifest dict into tmp_path; return (result, output path)."""

    def run(manifest: dict, checkpoint=None, **options):
        work = tmp_path / "work"
        work.mkdir(exist_ok=True)
        out = tmp_path / "out.mp4"
        defaults = {"media_dirs": [media], "work_dir": work, "preset": "ultrafast"}
        result = render(Manifest.model_validate(manifest), out, RenderOptions(**{**defaults, **options}),
                        checkpoint=checkpoint)
        return result, out

    return run
