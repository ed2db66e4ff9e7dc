"""A cluster on one machine for tests and benchmarks: web processes and worker processes on one store.

Every process gets the same settings (the database, the jobs folder or bucket, the media folder),
as the README's cluster example has them; web processes run no workers (WORKERS=0), worker
processes run `python app.py worker --concurrency N`.
"""

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.live import ROOT, LiveServer, wait_for
from tests.support.media import noise_image

# Short leases: a killed worker's job is taken back within seconds.
LEASES = {"MONEYREELS_LEASE_SECONDS": "3", "MONEYREELS_LEASE_RENEW_SECONDS": "1"}


def shared_settings(root: Path, **extra) -> dict:
    """The environment every process of a cluster on `root` shares (a SQLite file and a jobs folder by default).

    DATABASE_URL and STORAGE_URL in `extra` name a shared database and bucket instead.
    """
    media = root / "media"
    media.mkdir(parents=True, exist_ok=True)
    noise_image(media / "pic.jpg")
    return {"DATA_DIR": str(root / "data"), "JOBS_DIR": str(root / "output"), "MEDIA_DIR": str(media),
            "MONEYREELS_PRESET": "ultrafast", **LEASES, **extra}


def own_folders(root: Path) -> dict:
    """A machine's own DATA_DIR and JOBS_DIR (scratch): what it keeps apart from the cluster's database and bucket."""
    return {"DATA_DIR": str(root / "data"), "JOBS_DIR": str(root / "output")}


class WorkerProcess:
    """One `python app.py worker --concurrency N` command, logging to its own file."""

    def __init__(self, root: Path, concurrency=1, **env):
        root.mkdir(parents=True, exist_ok=True)
        self.command = [sys.executable, "app.py", "worker", "--concurrency", str(concurrency)]
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), **{key: str(value) for key, value in env.items()}}
        self.log_path = root / "worker.log"
        self.process = None

    def start(self):
        self.log = open(self.log_path, "ab")
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        return self

    @property
    def pid(self):
        return self.process.pid

    def stop(self, timeout=30) -> int | None:
        """SIGTERM (a graceful stop), then SIGKILL if it does not end within `timeout` seconds."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        return self.process.returncode


def web_process(root: Path, shared: dict) -> LiveServer:
    """A `python app.py serve` with no workers of its own, on a free port."""
    root.mkdir(parents=True, exist_ok=True)
    return LiveServer(root, command=("app.py", "serve"), WORKERS="0", **shared)


def roster(web: LiveServer) -> list[dict]:
    """The workers the health endpoint lists."""
    status, body = web.request("GET", "/api/v1/health")
    assert status == 200, body
    return body["workers"]


def wait_for_workers(web: LiveServer, count, timeout=60) -> list[dict]:
    """Wait until `count` fresh workers are listed; return them."""
    return wait_for(lambda: (fresh := [w for w in roster(web) if not w["stale"]]) and len(fresh) >= count and fresh,
                    timeout=timeout)
