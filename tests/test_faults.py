"""The real server under faults: killed mid-render and mid-webhook, starved of disk."""

import json
import signal
import sqlite3
import subprocess

import pytest

from tests.support.video import probe
from tests.support.live import LiveServer, wait_for
from tests.support.media import noise_image
from tests.support.fakes import Reply, WebhookReceiver

pytestmark = [pytest.mark.server, pytest.mark.faults]


def manifest(seconds, width=360, height=640, **extra):
    return {"version": "v1", "output": {"width": width, "height": height, "fps": 30},
            "assets": [{"id": "pic", "type": "image", "url": "pic.jpg"}],
            "composition": {"timeline": [{"id": "still", "type": "image", "asset_id": "pic",
                                          "motion": {"type": "zoom_in"},
                                          "time": {"start_seconds": 0, "duration_seconds": seconds}}]},
            **extra}


@pytest.fixture
def root(tmp_path):
    (tmp_path / "media").mkdir()
    noise_image(tmp_path / "media" / "pic.jpg", 720, 1280)
    return tmp_path


def start(root, **env):
    return LiveServer(root, RUNNERS="real", MEDIA_DIR=root / "media", MONEYREELS_RATE_LIMIT=0, **env).start()


def events(server, job_id):
    return server.request("GET", f"/api/jobs/{job_id}/events")[1]["events"]


def database(root):
    return sqlite3.connect(root / "data" / "moneyreels.sqlite3")


def our_ffmpegs(root) -> list[int]:
    """PIDs of ffmpeg processes writing a partial file under this test's jobs folder."""
    found = subprocess.run(["pgrep", "-f", f"{root / 'output'}.*\\.part"], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


# A short lease, so a killed server's job is taken back within seconds.
SHORT_LEASE = {"MONEYREELS_LEASE_SECONDS": 2, "MONEYREELS_LEASE_RENEW_SECONDS": 0.5}


def test_sigkill_mid_render_requeues_and_renders_again_cleanly(root):
    server = start(root, **SHORT_LEASE)
    # 30 s at 540x960 takes several seconds to render: the kill lands mid-render.
    job_id = server.request("POST", "/v1/videos/render", manifest(30, 540, 960))[1]["job_id"]
    wait_for(lambda: any(e["type"] == "progress" and e["payload"]["progress"] > 0.2 for e in events(server, job_id)))
    before = max(e["id"] for e in events(server, job_id))
    server.signal(signal.SIGKILL)
    server.wait()
    job_dir = root / "output" / job_id
    assert not (job_dir / "final.mp4").exists() and list(job_dir.glob(".*.part"))
    orphans = our_ffmpegs(root)
    assert orphans, "the killed server's ffmpeg lives on as an orphan until the next start"

    restarted = start(root, **SHORT_LEASE)
    try:
        # Once the lease expires the job is taken back, its dead server's ffmpeg stopped first
        # (the requeued job may already render again: only the orphans must be gone).
        wait_for(lambda: not set(orphans) & set(our_ffmpegs(root)), 30)
        wait_for(lambda: restarted.request("GET", f"/v1/jobs/{job_id}")[1]["data"]["status"] == "completed", 120)
        after = events(restarted, job_id)
        assert [e["id"] for e in after] == sorted({e["id"] for e in after})
        recovered = [e for e in after if e["id"] > before]
        assert recovered[0]["message"].startswith("The server stopped while this job ran")
        assert abs(probe(job_dir / "final.mp4")["duration"] - 30) < 0.2
        assert not list(job_dir.glob(".*.part"))
    finally:
        restarted.stop()
    with database(root) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("select attempts from job where id=?", (job_id,)).fetchone()[0] == 2


def test_sigkill_during_a_webhook_retry_still_delivers_after_restart(root):
    with WebhookReceiver() as receiver:
        receiver.script(Reply(500))
        server = start(root)
        job_id = server.request("POST", "/v1/videos/render",
                                manifest(1, 90, 160, webhook_url=receiver.hook_url, webhook_secret="s"))[1]["job_id"]
        def delivery():
            with database(root) as conn:
                return conn.execute("select state, attempts from delivery").fetchone()

        # Killed once the failed first attempt is recorded, inside the 5 s before its retry.
        wait_for(lambda: receiver.requests and delivery() == ("pending", 1), 60)
        server.signal(signal.SIGKILL)
        server.wait()
        assert delivery() == ("pending", 1) and len(receiver.requests) == 1

        restarted = start(root)
        try:
            wait_for(lambda: len(receiver.requests) == 2, 30)
            # The receiver has the request a moment before the server records its answer.
            assert wait_for(lambda: delivery()[0] == "delivered", 10)
        finally:
            restarted.stop()
    first, second = (json.loads(hit.body) for hit in receiver.requests)
    assert first == second and first["data"]["job_id"] == job_id and first["type"] == "video.render.completed"


def test_a_full_disk_mid_render_fails_the_job_cleanly(root):
    # The server and its ffmpeg may write files of at most 2 MB: the database fits, the video does not.
    server = LiveServer(root, wrapper=["prlimit", f"--fsize={2 * 1024 * 1024}"], RUNNERS="real",
                        MEDIA_DIR=root / "media", MONEYREELS_RATE_LIMIT=0).start()
    try:
        job_id = server.request("POST", "/v1/videos/render", manifest(20, 720, 1280))[1]["job_id"]
        body = wait_for(lambda: (lambda b: b if b["data"]["status"] in ("completed", "failed") else None)(
            server.request("GET", f"/v1/jobs/{job_id}")[1]), 120)
        assert body["data"]["status"] == "failed" and body["error"]["code"] == "worker_crash"
        job_dir = root / "output" / job_id
        assert not (job_dir / "final.mp4").exists() and not list(job_dir.glob(".*.part"))
        small = server.request("POST", "/v1/videos/render", manifest(1, 90, 160))[1]["job_id"]
        wait_for(lambda: server.request("GET", f"/v1/jobs/{small}")[1]["data"]["status"] == "completed", 60)
        assert server.request("GET", "/api/v1/health")[1]["database"] == "connected"
    finally:
        server.stop()
