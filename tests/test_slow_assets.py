"""A dripping asset cannot hold the worker: cancel lands and the download deadline fires, on the real server."""

import time

from tests.support.drip import Drip
from tests.support.live import LiveServer
from tests.support.video import reel

BOUND = 10  # seconds: generous, a liveness bound (the fix answers within about one poll interval)


def one_video(url):
    return reel([{"id": "v", "type": "video", "asset_id": "clip", "time": {"start_seconds": 0, "duration_seconds": 1}}],
                [{"id": "clip", "type": "video", "url": url}])


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
