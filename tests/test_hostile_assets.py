"""Hostile asset servers against the real server: one that drips, one that redirects ffmpeg to loopback."""

import subprocess
import time

from tests.support.drip import Drip
from tests.support.fakes import FakeServer, Reply
from tests.support.live import LiveServer
from tests.support.video import FFMPEG, reel

BOUND = 10  # seconds: generous, a liveness bound (the fix answers within about one poll interval)


def one_video(url, **layer):
    return reel([{"id": "v", "type": "video", "asset_id": "clip", "time": {"start_seconds": 0, "duration_seconds": 1},
                  **layer}], [{"id": "clip", "type": "video", "url": url}])


def state_within(server, job_id, states, seconds):
    """Poll the job (OpenReels view) until its state is one of states, or seconds pass; return the last view."""
    deadline = time.monotonic() + seconds
    while True:
        job = server.request("GET", f"/api/v1/jobs/{job_id}?wait=1s")[1]
        if job["status"] in states or time.monotonic() > deadline:
            return job


def test_cancel_lands_and_the_deadline_fires_while_an_asset_drips(tmp_path):
    server = LiveServer(tmp_path, RUNNERS="real", MONEYREELS_RATE_LIMIT=0, MONEYREELS_MAX_FETCH_SECONDS=2).start()
    try:
        with Drip(interval=1.0, total=600) as drip:  # a byte a second for ten minutes
            job_id = server.request("POST", "/v1/videos/render", one_video(drip.url))[1]["job_id"]
            assert drip.wait_for_request()
            assert server.request("POST", f"/api/jobs/{job_id}/cancel")[0] == 200
            assert state_within(server, job_id, {"cancelled"}, BOUND)["status"] == "cancelled"
            assert drip.wait_for_hang_up() and not drip.finished.is_set()

            drip.requested.clear()
            job_id = server.request("POST", "/v1/videos/render", one_video(drip.url))[1]["job_id"]
            job = state_within(server, job_id, {"failed", "completed"}, BOUND)
            assert job["status"] == "failed"
            assert job["error"]["code"] == "invalid_asset_url"
            assert "longer than 2 s" in job["error"]["message"]
    finally:
        server.stop()


def test_a_smart_trim_asset_that_redirects_its_get_to_loopback_fails_the_job(tmp_path):
    secret = tmp_path / "secret.mp4"
    subprocess.run([FFMPEG, "-v", "error", "-f", "lavfi", "-i", "color=red:s=90x160:d=3", "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", str(secret)], check=True)
    # The guard is on; the server lets "localhost" through as if it were public, 127.0.0.1 stays refused.
    server = LiveServer(tmp_path, RUNNERS="real", MONEYREELS_RATE_LIMIT=0, MONEYREELS_ALLOW_PRIVATE_URLS="false",
                        GUARD_PASSES="localhost").start()
    try:
        with FakeServer() as hostile:
            hostile.route("HEAD", "/clip.mp4", lambda request: Reply(200, headers={"Content-Type": "video/mp4"}))
            hostile.route("GET", "/clip.mp4", lambda request: Reply(302, headers={"Location": hostile.url + "/secret.mp4"}))
            hostile.route("GET", "/secret.mp4", lambda request: Reply(200, secret.read_bytes(),
                                                                      headers={"Content-Type": "video/mp4"}))
            url = hostile.url.replace("127.0.0.1", "localhost") + "/clip.mp4"
            job_id = server.request("POST", "/v1/videos/render", one_video(url, trim={"start_seconds": 0.5}))[1]["job_id"]
            job = state_within(server, job_id, {"failed", "completed"}, 60)
            assert job["status"] == "failed", job
            assert job["error"]["code"] == "invalid_asset_url" and "private address" in job["error"]["message"]
            assert [r.path for r in hostile.requests if r.path == "/secret.mp4"] == []
            assert not list((tmp_path / "output").rglob("*.mp4"))
    finally:
        server.stop()
