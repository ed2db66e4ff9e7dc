"""Hostile loads against one real server: how fast another client is still answered, how fast cancel lands.

Prints, for each load of issue 13 item 7 held against a real server (THREADS=32), the
latency of a health request from another client; and the seconds from a cancel to the
job reading cancelled while its asset drips one byte a second.

    python bench/hostile_bench.py
"""

import http.client
import json
import signal
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.drip import Drip  # noqa: E402
from tests.support.live import LiveServer  # noqa: E402
from tests.support.video import reel  # noqa: E402

SCRIPT = {"script": "One two three. Four five six. Seven eight nine."}


def call(port, method, path, key=None, body=None, timeout=60):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}
    connection.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    response = connection.getresponse()
    text = response.read()
    connection.close()
    return response.status, json.loads(text or b"null")


def health_ms(port, key=None) -> float:
    """Milliseconds a health request takes; inf when it gets no answer within 60 s."""
    started = time.monotonic()
    try:
        call(port, "GET", "/api/v1/health", key)
    except OSError:
        return float("inf")
    return (time.monotonic() - started) * 1000


def quietly(*args):
    """call(), for background load: the server is stopped under it, and that is expected."""
    try:
        call(*args)
    except OSError:
        pass


def serve(root, **env):
    return LiveServer(Path(tempfile.mkdtemp(dir=root)), THREADS=32, MONEYREELS_API_RATE_LIMIT=0,
                      MONEYREELS_RATE_LIMIT=0, **env).start()


def long_polls(root):
    server = serve(root, WORKERS=0, MONEYREELS_API_KEYS="key-a,key-b")
    try:
        job_id = call(server.port, "POST", "/api/generate", "key-a", SCRIPT)[1]["jobId"]
        path = f"/api/jobs/{job_id}/events?after=999999&wait=20s"
        for _ in range(40):
            threading.Thread(target=quietly, args=(server.port, "GET", path, "key-a"), daemon=True).start()
        time.sleep(1)
        return health_ms(server.port, "key-b")
    finally:
        server.signal(signal.SIGKILL)
        server.stop()


def closed_streams(root):
    server = serve(root, WORKERS=0, MONEYREELS_MAX_WAITING=32, MONEYREELS_MAX_WAITING_PER_CLIENT=32)
    try:
        job_id = call(server.port, "POST", "/api/v1/jobs", body=SCRIPT)[1]["id"]
        streams = []
        for _ in range(32):
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            connection.request("GET", f"/api/v1/jobs/{job_id}/events")
            connection.getresponse().read1(4096)
            streams.append(connection)
        for connection in streams:
            connection.close()
        return health_ms(server.port)
    finally:
        server.stop()


def slow_headers(root):
    server = serve(root, WORKERS=0)
    sockets = []
    try:
        for _ in range(105):
            sock = socket.create_connection(("127.0.0.1", server.port))
            sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            sockets.append(sock)
        return health_ms(server.port)
    finally:
        for sock in sockets:
            sock.close()
        server.stop()


def dripping_cancel(root):
    server = serve(root, RUNNERS="real")
    try:
        with Drip(interval=1.0, total=600) as drip:
            manifest = reel([{"id": "v", "type": "video", "asset_id": "clip",
                              "time": {"start_seconds": 0, "duration_seconds": 1}}],
                            [{"id": "clip", "type": "video", "url": drip.url}])
            job_id = call(server.port, "POST", "/v1/videos/render", body=manifest)[1]["job_id"]
            drip.wait_for_request()
            time.sleep(2)
            started = time.monotonic()
            call(server.port, "POST", f"/api/jobs/{job_id}/cancel")
            deadline = started + 120
            while call(server.port, "GET", f"/api/jobs/{job_id}")[1]["job"]["state"] != "cancelled":
                if time.monotonic() > deadline:
                    return float("inf")
                time.sleep(0.05)
            return (time.monotonic() - started) * 1000
    finally:
        server.stop()


def main():
    with tempfile.TemporaryDirectory() as root:
        rows = [("health while one key holds 40 long-polls (wait=20s)", long_polls(root)),
                ("health right after 32 SSE clients hang up", closed_streams(root)),
                ("health while 105 connections send half a request", slow_headers(root)),
                ("cancel -> cancelled while the asset drips 1 byte/s", dripping_cancel(root))]
    for name, ms in rows:
        print(f"{name:<55} {ms:8.0f} ms")


if __name__ == "__main__":
    main()
