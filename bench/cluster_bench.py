"""The shared queue's overhead and fairness: jobs per minute with 1, 2 and 3 worker processes, and claim latency.

Starts a throwaway PostgreSQL (scripts/postgres.sh; `--database sqlite` uses one SQLite file
instead), one web process (WORKERS=0) and `python app.py worker --concurrency N` for N = 1, 2, 3.
For each N it submits JOBS small renders at once through the web process and reports jobs per
minute from the first submission to the last completion, how many jobs each worker process ran,
and how far the start order strays from the submission order. Then, with three idle workers
racing for each job, it submits one job at a time and reports the claim latency: from the job's
commit to the moment a worker marked it running (the database's own timestamps).

On a 2-core machine the renders compete for the cores, so more workers do not mean more jobs
per minute; the figures show what the queue costs and whether it shares the work out evenly.

    python bench/cluster_bench.py [--jobs 24] [--claims 20] [--database postgres|sqlite]
"""

import argparse
import collections
import logging
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from moneyreels import db  # noqa: E402
from moneyreels.config import load_settings  # noqa: E402
from moneyreels.db import Job  # noqa: E402
from moneyreels.jobs import FINISHED, State  # noqa: E402
from tests.support.cluster import WorkerProcess, shared_settings, wait_for_workers, web_process  # noqa: E402
from tests.support.live import ROOT, wait_for  # noqa: E402
from tests.support.media import image_manifest  # noqa: E402

log = logging.getLogger("cluster_bench")
MANIFEST = image_manifest(output={"width": 64, "height": 112, "fps": 10})


class Sampler:
    """Note which worker process holds each running job, reading the database every 20 ms."""

    def __init__(self):
        self.holder = {}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.done.wait(0.02):
            for job in Job.select(Job.id, Job.lease_owner).where(Job.state == State.RUNNING.value):
                if job.lease_owner:
                    # host:pid:thread:nonce -> the process
                    self.holder.setdefault(job.id, job.lease_owner.split(":")[1])
        db.database.close()


def submit(web, count) -> list[str]:
    ids = []
    for _ in range(count):
        status, body = web.request("POST", "/v1/videos/render", MANIFEST)
        if status // 100 != 2:
            raise RuntimeError(f"submission refused: {status} {body}")
        ids.append(body["job_id"])
    return ids


def finished(ids) -> bool:
    done = [state.value for state in FINISHED]
    return Job.select().where(Job.id.in_(ids) & Job.state.in_(done)).count() == len(ids)


def throughput(web, jobs) -> dict:
    sampler = Sampler()
    sampler.thread.start()
    start = time.perf_counter()
    ids = submit(web, jobs)
    wait_for(lambda: finished(ids), timeout=600, interval=0.05)
    elapsed = time.perf_counter() - start
    sampler.done.set()
    sampler.thread.join()
    rows = {job.id: job for job in Job.select().where(Job.id.in_(ids))}
    failed = sum(rows[i].state != State.COMPLETED for i in ids)
    started = sorted(ids, key=lambda i: rows[i].started_at)
    # How many places each job started away from its place in the queue.
    strays = [abs(started.index(job_id) - place) for place, job_id in enumerate(ids)]
    waits = [rows[i].started_at - rows[i].created_at for i in ids]
    return {"per_minute": 60 * jobs / elapsed, "elapsed": elapsed, "failed": failed,
            "per_worker": sorted(collections.Counter(sampler.holder.values()).values(), reverse=True),
            "unseen": jobs - len(sampler.holder), "max_stray": max(strays), "mean_wait": statistics.mean(waits)}


def claim_latency(web, count) -> list[float]:
    latencies = []
    for _ in range(count):
        [job_id] = submit(web, 1)
        wait_for(lambda: finished([job_id]), timeout=120, interval=0.02)
        job = Job.get_by_id(job_id)
        latencies.append(job.started_at - job.created_at)
        time.sleep(0.3)  # every worker back to waiting
    return latencies


def run(root: Path, database_url: str, jobs: int, claims: int):
    shared = shared_settings(root / "shared", DATABASE_URL=database_url, MONEYREELS_RATE_LIMIT="0",
                             MONEYREELS_API_RATE_LIMIT="0")
    db.open_store(load_settings(environ=shared))
    web = web_process(root / "web", shared).start()
    try:
        for count in (1, 2, 3):
            workers = WorkerProcess(root / f"workers-{count}", concurrency=count, **shared).start()
            try:
                wait_for_workers(web, count)
                figures = throughput(web, jobs)
                print(f"{count} worker process(es): {figures['per_minute']:.1f} jobs/min "
                      f"({jobs} jobs in {figures['elapsed']:.1f} s, {figures['failed']} failed); "
                      f"jobs per process {figures['per_worker']} (+{figures['unseen']} too short to sample); "
                      f"start order strays at most {figures['max_stray']} places; "
                      f"mean wait in queue {figures['mean_wait']:.2f} s")
                if count == 3:
                    latencies = sorted(claim_latency(web, claims))
                    print(f"claim latency, 3 idle workers racing, {claims} jobs one at a time: "
                          f"median {1000 * statistics.median(latencies):.0f} ms, "
                          f"p90 {1000 * latencies[int(0.9 * (len(latencies) - 1))]:.0f} ms, "
                          f"max {1000 * latencies[-1]:.0f} ms")
            finally:
                workers.stop()
                # The stopped processes' roster rows are gone; the next run starts on an empty roster.
    finally:
        web.stop()
        db.database.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=24)
    parser.add_argument("--claims", type=int, default=20)
    parser.add_argument("--database", choices=("postgres", "sqlite"), default="postgres")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="cluster-bench-") as folder:
        root = Path(folder)
        if args.database == "sqlite":
            run(root, f"sqlite:///{root / 'moneyreels.sqlite3'}", args.jobs, args.claims)
            return
        script = str(ROOT / "scripts" / "postgres.sh")
        cluster = tempfile.mkdtemp(prefix="cluster-bench-pg-")  # the server runs as `postgres`: not in a private folder
        url = subprocess.run(["bash", script, "start", cluster], capture_output=True, text=True,
                             check=True).stdout.split()[-1]
        try:
            print(f"PostgreSQL at {url}; renders of 64x112, 1 s, preset ultrafast")
            run(root, url, args.jobs, args.claims)
        finally:
            subprocess.run(["bash", script, "stop", cluster], capture_output=True, check=False)


if __name__ == "__main__":
    main()
