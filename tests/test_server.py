"""The real server: waitress on 127.0.0.1 in a subprocess, driven over HTTP."""

import os
import signal
import subprocess
import sys
import sqlite3
import time

import pytest

from tests.support.live import ROOT, LiveServer, wait_for

pytestmark = pytest.mark.server


@pytest.fixture
def server(tmp_path):
    live = LiveServer(tmp_path, TICKS=60, TICK_INTERVAL=0.02).start()
    yield live
    live.stop()


def poll_until_finished(server, job_id, timeout=30):
    """Poll events?after=N like a MoneyPrinter client; return every event seen."""
    seen, after = [], 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = server.request("GET", f"/api/jobs/{job_id}/events?after={after}&wait=2s")
        assert status == 200
        seen.extend(body["events"])
        if body["events"]:
            after = body["events"][-1]["id"]
        state = server.request("GET", f"/api/jobs/{job_id}")[1]["job"]["state"]
        if state in ("completed", "failed", "cancelled") and not body["events"]:
            return seen
    raise AssertionError("job did not finish")


def test_polling_sees_every_event_once_in_order(server):
    status, created = server.request("POST", "/api/generate", {"videoSubject": "Tides"})
    assert status == 200
    seen = poll_until_finished(server, created["jobId"])
    ids = [event["id"] for event in seen]
    assert ids == sorted(set(ids))
    ticks = [event["payload"]["tick"] for event in seen if event["type"] == "log"]
    assert ticks == list(range(60))
    assert seen[-1]["payload"]["state"] == "completed"


def test_cancel_over_http_stops_the_job_and_polling_misses_nothing(server):
    job_id = server.request("POST", "/api/generate", {"videoSubject": "Tides"})[1]["jobId"]
    server.request("GET", f"/api/jobs/{job_id}/events?after=2&wait=5s")
    assert server.request("POST", f"/api/jobs/{job_id}/cancel") == (
        200, {"status": "success", "message": "Cancellation requested."}
    )
    seen = poll_until_finished(server, job_id)
    ids = [event["id"] for event in seen]
    assert ids == sorted(set(ids))
    ticks = [event["payload"]["tick"] for event in seen if event["type"] == "log" and event["payload"]]
    assert ticks == list(range(len(ticks))) and len(ticks) < 60
    assert server.request("GET", f"/api/jobs/{job_id}")[1]["job"]["state"] == "cancelled"


def test_sigterm_stops_gracefully_and_the_job_resumes_after_restart(tmp_path):
    live = LiveServer(tmp_path, TICKS=2000, TICK_INTERVAL=0.01).start()
    job_id = live.request("POST", "/api/generate", {"videoSubject": "Tides"})[1]["jobId"]
    live.request("GET", f"/api/jobs/{job_id}/events?after=3&wait=5s")
    live.signal(signal.SIGTERM)
    assert live.wait(20) == 0
    live.log.close()
    with sqlite3.connect(tmp_path / "data" / "moneyreels.sqlite3") as conn:
        assert conn.execute("select state from job where id=?", (job_id,)).fetchone()[0] == "queued"
        last_id = conn.execute("select max(id) from event").fetchone()[0]

    restarted = LiveServer(tmp_path, TICKS=5, TICK_INTERVAL=0.01).start()
    try:
        seen = poll_until_finished(restarted, job_id)
        assert seen[-1]["payload"]["state"] == "completed"
        new_ids = [event["id"] for event in seen if event["id"] > last_id]
        assert new_ids and new_ids == sorted(set(new_ids))
    finally:
        restarted.stop()


# A short lease, so a killed worker's job is taken back within seconds.
SHORT_LEASE = {"MONEYREELS_LEASE_SECONDS": 2, "MONEYREELS_LEASE_RENEW_SECONDS": 0.5}


def established(port) -> list[str]:
    """The server side of the TCP connections open to 127.0.0.1:port (from /proc/net/tcp)."""
    local = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    return [row[2] for row in rows if row[1] == local and row[3] == "01"]


def job_row(database, job_id, *columns):
    with sqlite3.connect(database) as conn:
        return conn.execute(f"select {', '.join(columns)} from job where id=?", (job_id,)).fetchone()


def test_sigkill_mid_job_is_recovered_on_restart(tmp_path):
    live = LiveServer(tmp_path, TICKS=2000, TICK_INTERVAL=0.01, **SHORT_LEASE).start()
    job_id = live.request("POST", "/api/generate", {"videoSubject": "Tides"})[1]["jobId"]
    live.request("GET", f"/api/jobs/{job_id}/events?after=3&wait=5s")
    live.signal(signal.SIGKILL)
    live.wait(10)
    live.log.close()
    database = tmp_path / "data" / "moneyreels.sqlite3"
    with sqlite3.connect(database) as conn:
        assert conn.execute("select state from job where id=?", (job_id,)).fetchone()[0] == "running"
        highest = conn.execute("select max(id) from event").fetchone()[0]

    restarted = LiveServer(tmp_path, TICKS=5, TICK_INTERVAL=0.01, **SHORT_LEASE).start()
    try:
        seen = poll_until_finished(restarted, job_id)
        states = [event["payload"]["state"] for event in seen if event["type"] == "status"]
        assert states[-3:] == ["queued", "running", "completed"]
        recovered = [event for event in seen if event["id"] > highest]
        assert recovered[0]["message"].startswith("The server stopped while this job ran")
    finally:
        restarted.stop()
    with sqlite3.connect(database) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_another_worker_process_takes_over_a_killed_workers_job_when_its_lease_expires(tmp_path):
    database = tmp_path / "data" / "moneyreels.sqlite3"
    first = LiveServer(tmp_path, TICKS=400, TICK_INTERVAL=0.02, **SHORT_LEASE).start()
    second = None
    try:
        job_id = first.request("POST", "/api/generate", {"videoSubject": "Tides"})[1]["jobId"]
        wait_for(lambda: job_row(database, job_id, "state")[0] == "running")
        claimed_at = job_row(database, job_id, "started_at")[0]
        second = LiveServer(tmp_path, TICKS=400, TICK_INTERVAL=0.02, **SHORT_LEASE).start()
        # Two leases' length later the first still holds the job: it renews, and the second leaves it be.
        wait_for(lambda: job_row(database, job_id, "lease_expires_at")[0] > claimed_at + 4)
        state, owner, attempts = job_row(database, job_id, "state", "lease_owner", "attempts")
        assert (state, attempts) == ("running", 1) and f":{first.process.pid}:" in owner

        first.signal(signal.SIGKILL)
        first.wait(10)
        seen = poll_until_finished(second, job_id)
        states = [event["payload"]["state"] for event in seen if event["type"] == "status"]
        assert states == ["queued", "running", "queued", "running", "completed"]
        taken_back = next(event for event in seen if event["type"] == "status" and event["id"] > seen[1]["id"]
                          and event["payload"]["state"] == "queued")
        assert taken_back["message"].startswith("The server stopped while this job ran")
        ticks = [event["payload"]["tick"] for event in seen if event["message"].startswith("tick ")]
        assert ticks.count(399) == 1 and ticks[-400:] == list(range(400))
        assert job_row(database, job_id, "attempts", "lease_owner") == (2, None)
    finally:
        first.stop()
        if second:
            second.stop()


def test_a_job_that_crashes_the_process_is_quarantined_not_run_again(tmp_path):
    live = LiveServer(tmp_path, RUNNERS="crash", **SHORT_LEASE).start()
    job_id = live.request("POST", "/api/generate", {"videoSubject": "Tides"})[1]["jobId"]
    assert live.wait(20) == -signal.SIGABRT
    live.log.close()
    database = tmp_path / "data" / "moneyreels.sqlite3"
    with sqlite3.connect(database) as conn:
        assert conn.execute("select state from job where id=?", (job_id,)).fetchone()[0] == "running"

    # Restarted with the crashing kind still installed: it must not be run into the same crash.
    restarted = LiveServer(tmp_path, RUNNERS="crash", **SHORT_LEASE).start()
    try:
        # Taken back once its lease expires.
        wait_for(lambda: job_row(database, job_id, "state")[0] != "running")
        status, body = restarted.request("GET", f"/api/v1/jobs/{job_id}")
        assert status == 200 and body["status"] == "failed"
        assert body["error"]["code"] == "worker_crashed"
        assert "crashed while running this job" in body["error"]["message"]
        assert "Aborted" in body["error"]["details"]["reason"]
        assert restarted.request("GET", "/api/v1/health")[1]["worker"] == "running"
        seen = restarted.request("GET", f"/api/jobs/{job_id}/events")[1]["events"]
        assert [e["message"] for e in seen].count("about to crash") == 1
    finally:
        restarted.stop()
    assert restarted.process.returncode == 0
    with sqlite3.connect(database) as conn:
        assert conn.execute("select attempts from job where id=?", (job_id,)).fetchone()[0] == 1


def sse_frames(server, path, headers=None, limit=None):
    """Read an SSE stream from the real server until it closes (or `limit` frames)."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    assert response.status == 200 and response.getheader("Content-Type").startswith("text/event-stream")
    frames, current = [], {}
    while limit is None or len(frames) < limit:
        line = response.fp.readline().decode()
        if not line:
            break
        if line == "\n":
            if "data" in current:  # as an EventSource: a block of only `retry:` is no event
                frames.append(current)
            current = {}
        elif not line.startswith(":"):
            name, _, value = line.rstrip("\n").partition(": ")
            current[name] = value
    connection.close()
    return frames


def test_sse_over_the_real_server_reads_a_whole_job_and_resumes(server):
    job_id = server.request("POST", "/api/v1/jobs", {"script": "One two three. Four five six. Seven eight nine."})[1]["id"]
    # From the first event: a worker may claim the job, and tick, before the stream connects.
    frames = sse_frames(server, f"/api/v1/jobs/{job_id}/events", {"Last-Event-ID": "0"})
    assert frames[0]["event"] == "job:snapshot" and frames[-1]["event"] == "job:completed"
    ids = [int(frame["id"]) for frame in frames]
    assert ids[1:] == sorted(ids[1:])  # after the snapshot (which carries the newest id when it was taken)
    ticks = [frame for frame in frames if frame["event"] == "log"]
    assert len(ticks) == 60

    middle = ids[len(ids) // 2]
    resumed = sse_frames(server, f"/api/v1/jobs/{job_id}/events", {"Last-Event-ID": str(middle)})
    assert resumed[0]["event"] == "job:snapshot" and resumed[-1]["event"] == "job:completed"
    assert [int(f["id"]) for f in resumed[1:-1]] == [i for i in ids[1:-1] if i > middle]


def test_disconnected_sse_clients_free_their_threads(tmp_path):
    live = LiveServer(tmp_path, TICKS=100_000, TICK_INTERVAL=0.05, THREADS=4).start()
    try:
        job_id = live.request("POST", "/api/v1/jobs", {"script": "One two three. Four five six. Seven eight nine."})[1]["id"]
        # More streams than threads, one after another: each must end when its client hangs up.
        for _ in range(6):
            assert sse_frames(live, f"/api/v1/jobs/{job_id}/events", limit=2)[0]["event"] == "job:snapshot"
        assert live.request("GET", f"/api/jobs/{job_id}", timeout=10)[0] == 200
    finally:
        live.stop()


def test_sigterm_ends_open_streams_and_long_polls(tmp_path):
    import http.client
    import threading

    live = LiveServer(tmp_path, TICKS=100_000, TICK_INTERVAL=0.5).start()
    try:
        job_id = live.request("POST", "/api/v1/jobs", {"script": "One two three. Four five six. Seven eight nine."})[1]["id"]
        connection = http.client.HTTPConnection("127.0.0.1", live.port, timeout=30)
        connection.request("GET", f"/api/v1/jobs/{job_id}/events")
        stream = connection.getresponse()
        received = []
        reader = threading.Thread(target=lambda: received.extend(iter(stream.fp.readline, b"")))
        reader.start()
        waiting = threading.Thread(target=lambda: received.append(
            live.request("GET", f"/api/v1/jobs/{job_id}?wait=80s", timeout=60)[0]))
        waiting.start()
        # Both are held once the stream sent its first frame and the server has both connections.
        wait_for(lambda: received and len(established(live.port)) >= 2)
        live.signal(signal.SIGTERM)
        assert live.wait(30) == 0
        reader.join(10)
        waiting.join(10)
        assert b": server stopping\n" in received and 200 in received
    finally:
        live.stop()


@pytest.fixture
def unlimited(tmp_path):
    live = LiveServer(tmp_path, TICKS=5, TICK_INTERVAL=0.01, MONEYREELS_RATE_LIMIT=0,
                      MONEYREELS_API_RATE_LIMIT=0).start()
    yield live
    live.stop()


def test_every_documented_route_answers_through_the_real_server(unlimited):
    """Walk the OpenAPI document: each route, on a finished job, answers as documented (no 5xx, no 429)."""
    import urllib.request

    server = unlimited
    doc = server.request("GET", "/api/v1/openapi.json")[1]
    script = {"script": "One two three. Four five six. Seven eight nine."}
    job_id = server.request("POST", "/api/v1/jobs", script)[1]["id"]
    poll_until_finished(server, job_id)
    names = {"job_id": job_id, "sequence_id": job_id, "batch_id": job_id, "name": "result.txt", "filename": "app.js",
             "template_id": job_id}
    template = {"name": "t", "manifest": {"version": "v1", "output": {"width": 90, "height": 160, "fps": 10},
                                          "composition": {"text_overlays": [
                                              {"content": "{{X}}", "time": {"duration_seconds": 1}}]}}}
    bodies = {"/api/generate": script, "/api/v1/jobs": script, "/api/v1/sequences": script,
              "/v1/videos/render": {"version": "v1"}, "/v1/templates": template}
    checked = []
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            if method == "delete":
                continue  # run last, below: it removes the job the others read
            url = path.format(**names)
            if url.endswith("/events") and url.startswith("/api/v1"):
                with urllib.request.urlopen(server.url + url, timeout=30) as stream:
                    status, body = stream.status, stream.read()
                assert b"event: job:completed" in body
            else:
                status, body = raw(server, method.upper(), url, bodies.get(path))
            assert status != 429 and status < 500 and str(status) in operation["responses"], \
                (method, url, status, body[:200])
            checked.append((method, path))
    deletes = [(path, ops["delete"]) for path, ops in doc["paths"].items() if "delete" in ops]
    for path, operation in deletes:
        status = raw(server, "DELETE", path.format(**names))[0]
        assert status < 500 and str(status) in operation["responses"], (path, status)
    assert raw(server, "GET", f"/api/v1/jobs/{job_id}")[0] == 404  # the job's DELETE removed it
    assert len(checked) + len(deletes) == sum(len(ops) for ops in doc["paths"].values())


def raw(server, method, path, body=None):
    import json as json_module
    import urllib.error
    import urllib.request

    data = None if body is None else json_module.dumps(body).encode()
    request = urllib.request.Request(server.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_the_worker_command_runs_jobs_without_the_web_app(tmp_path):
    """`python app.py worker` beside a server: it takes the jobs the server queued, and never builds Flask."""
    from moneyreels import create_app, db, jobs
    from moneyreels.config import Settings

    settings = Settings(data_dir=tmp_path / "data", jobs_dir=tmp_path / "output")
    create_app(settings)  # the server's side: it queues a job
    job = jobs.create("unknown-kind", {})
    db.database.close()
    # Importing Flask's app class is allowed (moneyreels/__init__ does); building an app is not.
    probe = ("import flask, runpy, sys; flask.Flask.__init__ = lambda *a, **k: sys.exit('Flask app built'); "
             "sys.argv = ['app.py', 'worker']; runpy.run_path('app.py', run_name='__main__')")
    env = {**os.environ, "DATA_DIR": str(tmp_path / "data"), "JOBS_DIR": str(tmp_path / "output"), "WORKERS": "1"}
    with open(tmp_path / "worker.log", "wb") as log:
        worker = subprocess.Popen([sys.executable, "-c", probe], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            state = wait_for(lambda: (row := job_row(tmp_path / "data" / "moneyreels.sqlite3", job.id, "state"))[0]
                             != "queued" and row[0])
        finally:
            worker.send_signal(signal.SIGTERM)
            returncode = worker.wait(20)
    output = (tmp_path / "worker.log").read_text()
    assert state == "failed" and returncode == 0, output
    assert "unsupported_kind" in job_row(tmp_path / "data" / "moneyreels.sqlite3", job.id, "error")[0]
