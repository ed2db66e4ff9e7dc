"""Waiting requests cannot starve the server: bounded long-polls and streams, freed threads, slow headers.

Each test holds a hostile load against the real server and asserts that another client's
health request is still answered (within a generous liveness bound, not a benchmark).
"""

import http.client
import json
import signal
import socket
import threading
import time

import pytest

from tests.support.live import LiveServer

LIVELY = 5  # seconds: a health request must complete within this while the load is held
SCRIPT = {"script": "One two three. Four five six. Seven eight nine."}


def call(server, method, path, key=None, body=None, timeout=30):
    """Send a request with an API key; return (status, headers, body text)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})}
    connection.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    response = connection.getresponse()
    text = response.read().decode()
    connection.close()
    return response.status, dict(response.getheaders()), text


def health_answers(server, key=None) -> bool:
    """Whether /api/v1/health completes within LIVELY seconds."""
    try:
        return call(server, "GET", "/api/v1/health", key, timeout=LIVELY)[0] == 200
    except OSError:  # socket.timeout included
        return False


def in_background(count, target):
    """Start count daemon threads running target(); return them."""
    threads = [threading.Thread(target=target, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads


@pytest.fixture
def server(tmp_path):
    # No worker: the job stays queued and quiet, so every long-poll waits its whole time.
    live = LiveServer(tmp_path, THREADS=8, WORKERS=0, MONEYREELS_API_KEYS="key-a,key-b",
                      MONEYREELS_API_RATE_LIMIT=0, MONEYREELS_RATE_LIMIT=0).start()
    yield live
    live.stop()


def test_one_keys_long_polls_cannot_hold_every_thread(server):
    job_id = json.loads(call(server, "POST", "/api/generate", "key-a", SCRIPT)[2])["jobId"]
    answers = []

    def long_poll():
        started = time.monotonic()
        status, _, text = call(server, "GET", f"/api/jobs/{job_id}/events?after=999999&wait=12s", "key-a")
        answers.append((status, json.loads(text), time.monotonic() - started))

    polls = in_background(12, long_poll)
    time.sleep(1)  # let them all reach the server
    assert health_answers(server, "key-b")
    # Past its share, a long-poll got its normal answer at once instead of waiting.
    early = [a for a in answers if a[2] < 6]
    assert len(early) >= 10 and all(a[0] == 200 and a[1] == {"status": "success", "events": []} for a in early)
    for poll in polls:
        poll.join(30)


def test_one_keys_sse_streams_past_its_share_get_a_snapshot_and_a_retry_hint(server):
    job_id = json.loads(call(server, "POST", "/api/v1/jobs", "key-a", SCRIPT)[2])["id"]
    held = []
    for _ in range(12):
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.request("GET", f"/api/v1/jobs/{job_id}/events", headers={"Authorization": "Bearer key-a"})
        held.append((connection, connection.getresponse()))
    assert health_answers(server, "key-b")
    # The first stream stays open; the rest were answered at once and ended.
    short = [response.read().decode() for _, response in held[1:]]
    assert all(text.startswith("retry: 5000\n") and "event: job:snapshot" in text for text in short)
    for connection, _ in held:
        connection.close()


def test_sse_streams_closed_by_their_clients_free_their_threads(tmp_path):
    # As many streams as threads may be held here: only noticing the hang-ups frees the server.
    server = LiveServer(tmp_path, THREADS=8, WORKERS=0, MONEYREELS_MAX_WAITING=8, MONEYREELS_MAX_WAITING_PER_CLIENT=8,
                        MONEYREELS_API_RATE_LIMIT=0).start()
    try:
        job_id = server.request("POST", "/api/v1/jobs", SCRIPT)[1]["id"]
        streams = []
        for _ in range(8):
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            connection.request("GET", f"/api/v1/jobs/{job_id}/events")
            response = connection.getresponse()
            opening = b""
            while b"event: job:snapshot" not in opening and len(opening) < 65536:  # retry: comes first
                opening += response.read1(4096)
            assert b"event: job:snapshot" in opening  # the stream holds its thread
            streams.append(connection)
        for connection in streams:
            connection.close()
        assert health_answers(server)
    finally:
        server.stop()


def test_slow_header_connections_neither_block_others_nor_stay_forever(tmp_path):
    server = LiveServer(tmp_path, THREADS=8, WORKERS=0).start()
    slow = []
    try:
        for _ in range(150):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            slow.append(sock)
        assert health_answers(server)
        # A client that keeps trickling header bytes is still cut off.
        trickler = slow[0]
        deadline = time.monotonic() + 30
        closed = False
        while not closed and time.monotonic() < deadline:
            try:
                trickler.sendall(b"X")
                trickler.settimeout(1)
                closed = trickler.recv(1) == b""
            except socket.timeout:
                continue
            except OSError:
                closed = True
        assert closed
    finally:
        for sock in slow:
            sock.close()
        server.stop()


def test_sigterm_stops_promptly_with_keep_alive_connections_open(tmp_path):
    # waitress polls its sockets, so closing the listener alone would leave it serving these.
    server = LiveServer(tmp_path, THREADS=8, WORKERS=0).start()
    idle = []
    try:
        for _ in range(3):
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            connection.request("GET", "/api/v1/health")
            connection.getresponse().read()
            idle.append(connection)  # HTTP/1.1: kept open, idle
        server.signal(signal.SIGTERM)
        assert server.wait(10) == 0
    finally:
        for connection in idle:
            connection.close()
        server.stop()
