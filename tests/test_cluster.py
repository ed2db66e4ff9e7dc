"""A cluster on one machine: two web processes and three worker processes on one shared store.

Jobs go in through both web processes, a worker is killed with SIGKILL in the middle of a job,
and every job still completes exactly once, each webhook is sent once, every event id is seen
in order by a client following the jobs, and every video downloads from either web process.
"""

import collections
import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from moneyreels import db
from moneyreels.config import load_settings
from moneyreels.db import Event, Job
from tests.support.cluster import WorkerProcess, own_folders, roster, shared_settings, wait_for_workers, web_process
from tests.support.fakes import WebhookReceiver
from tests.support.live import wait_for
from tests.support.media import image_manifest
from tests.support.s3 import bucket_keys

pytestmark = pytest.mark.cluster

JOBS = 30


@pytest.fixture
def shared(tmp_path, database_url, s3_storage_url):
    """The settings every process shares: the test's database (SQLite, or PostgreSQL on its pass) and a bucket."""
    database = database_url or f"sqlite:///{tmp_path / 'shared' / 'moneyreels.sqlite3'}"
    return shared_settings(tmp_path / "shared", DATABASE_URL=database, STORAGE_URL=s3_storage_url,
                           MONEYREELS_RATE_LIMIT="0", MONEYREELS_API_RATE_LIMIT="0")


@pytest.fixture
def cluster(tmp_path, shared):
    """Two web processes; worker processes: one command with two, one with one. Each as on a machine of its own:
    its own data and scratch folders, only the database and the bucket in common."""
    webs = [web_process(tmp_path / name, {**shared, **own_folders(tmp_path / name)}) for name in ("web1", "web2")]
    workers = [WorkerProcess(tmp_path / name, concurrency=count, **{**shared, **own_folders(tmp_path / name)})
               for name, count in (("workers-a", 2), ("workers-b", 1))]
    try:
        for web in webs:
            web.start()  # one after the other: the first creates the schema
        for worker in workers:
            worker.start()
        yield webs, workers
    finally:
        for process in (*workers, *webs):
            process.stop()


class Follower:
    """A client following every job's events with ?after=, from one web process then the other."""

    def __init__(self, webs):
        self.webs = webs
        self.seen = collections.defaultdict(list)
        self.jobs = []
        self.done = threading.Event()
        self.problems = []
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        turn = 0
        while not self.done.is_set():
            self.read_all(turn)
            turn += 1
        self.read_all(turn)

    def read_all(self, turn):
        for index, job_id in enumerate(list(self.jobs)):
            web = self.webs[(turn + index) % 2]
            after = self.seen[job_id][-1] if self.seen[job_id] else 0
            status, body = web.request("GET", f"/api/jobs/{job_id}/events?after={after}")
            if status != 200:
                self.problems.append((job_id, status))
                continue
            ids = [event["id"] for event in body["events"]]
            if ids != sorted(set(ids)) or (ids and ids[0] <= after):
                self.problems.append((job_id, after, ids))
            self.seen[job_id].extend(ids)


def submit(web, hook_url, index):
    manifest = image_manifest(webhook_url=hook_url, metadata={"n": index},
                              output={"width": 64, "height": 112, "fps": 10})
    status, body = web.request("POST", "/v1/videos/render", manifest)
    assert status in (200, 201, 202), body
    return body["job_id"]


def kill_a_worker_mid_job(web, spared_pid):
    """SIGKILL one worker process of the two-process command while it runs a job; return (pid, job id).

    The process is stopped first, so the job it holds is known to be unfinished when it dies.
    """
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for worker in roster(web):
            if worker["job"] and not worker["stale"] and worker["pid"] != spared_pid:
                os.kill(worker["pid"], signal.SIGSTOP)
                status, body = web.request("GET", f"/api/jobs/{worker['job']}")
                held = [w for w in roster(web) if w["pid"] == worker["pid"] and w["job"] == worker["job"]]
                if status == 200 and body["job"]["state"] == "running" and held:
                    os.kill(worker["pid"], signal.SIGKILL)
                    return worker["pid"], worker["job"]
                os.kill(worker["pid"], signal.SIGCONT)  # it finished meanwhile: try again
        time.sleep(0.02)
    raise AssertionError("no worker of the two-process command was seen running a job")


def test_thirty_jobs_through_two_web_processes_survive_a_killed_worker(cluster, shared, tmp_path):
    webs, (two, one) = cluster
    wait_for_workers(webs[0], 3)
    with WebhookReceiver() as receiver:
        follower = Follower(webs)
        follower.thread.start()
        for index in range(JOBS):
            follower.jobs.append(submit(webs[index % 2], receiver.hook_url, index))
        killed_pid, killed_job = kill_a_worker_mid_job(webs[0], spared_pid=one.pid)

        def finished():
            states = [webs[i % 2].request("GET", f"/api/jobs/{job_id}")[1]["job"]["state"]
                      for i, job_id in enumerate(follower.jobs)]
            return all(state in ("completed", "failed", "cancelled") for state in states) and states
        states = wait_for(finished, timeout=120, interval=0.25)
        wait_for(lambda: len(receiver.requests) >= JOBS, timeout=30)
        follower.done.set()
        follower.thread.join(30)

        # The health roster: the killed process goes stale, the command started another in its place.
        def killed_is_stale():
            listed = roster(webs[1])
            return any(w["pid"] == killed_pid and w["stale"] for w in listed) and listed
        workers = wait_for(killed_is_stale, timeout=30)
        fresh = {w["pid"] for w in workers if not w["stale"]}
        assert len(fresh) == 3 and killed_pid not in fresh and one.pid in fresh
        assert two.process.poll() is None and one.process.poll() is None

        # Once every worker process has stopped, no webhook can still be on its way.
        assert two.stop() == 0 and one.stop() == 0
        hooks = [json.loads(hit.body) for hit in receiver.requests]

    assert states == ["completed"] * JOBS
    job_ids = follower.jobs
    db.open_store(load_settings(environ={**shared, **own_folders(tmp_path / "reader")}))
    try:
        # Exactly once: one completion each; the killed worker's job ran again, the others once.
        for job_id in job_ids:
            changes = Event.select().where((Event.job == job_id) & (Event.type == "status"))
            states = [event.payload["state"] for event in changes]
            assert states.count("completed") == 1 and states[-1] == "completed", (job_id, states)
        attempts = {job.id: job.attempts for job in Job.select().where(Job.id.in_(job_ids))}
        assert attempts[killed_job] == 2
        assert all(1 <= count <= 2 for count in attempts.values()), attempts
        messages = [e.message for e in Event.select().where(Event.job == killed_job)]
        assert any("queued to run again" in message for message in messages), messages
        # Event ids: unique across the cluster, increasing per job, none missed by the follower.
        stored = collections.defaultdict(list)
        for event in Event.select(Event.id, Event.job).order_by(Event.id):
            stored[event.job_id].append(event.id)
        every_id = [event_id for ids in stored.values() for event_id in ids]
        assert len(every_id) == len(set(every_id))
        assert follower.problems == []
        assert {job_id: follower.seen[job_id] for job_id in job_ids} == {job_id: stored[job_id] for job_id in job_ids}
    finally:
        db.database.close()

    # One webhook per job, each sent once.
    assert sorted(hook["data"]["job_id"] for hook in hooks) == sorted(job_ids)
    assert len({hook["id"] for hook in hooks}) == JOBS
    assert all(hook["type"] == "video.render.completed" for hook in hooks)
    assert sorted(hook["data"]["metadata"]["n"] for hook in hooks) == list(range(JOBS))

    # Every video is in the bucket and downloads from either web process, the same bytes.
    keys = set(bucket_keys(shared["STORAGE_URL"]))
    assert all(f"studio/{job_id}/final.mp4" in keys for job_id in job_ids)
    for hook in hooks:
        path = "/" + hook["data"]["output_url"].split("/", 3)[3]
        bodies = [web.exchange("GET", path) for web in webs]
        assert [status for status, _, _ in bodies] == [200, 200], path
        assert bodies[0][2] == bodies[1][2] and bodies[0][2][4:8] == b"ftyp"


def test_rate_limits_and_the_wrong_key_throttle_hold_across_web_processes(tmp_path, database_url):
    # DATABASE_URL, when set, is in the environment the processes inherit.
    shared = shared_settings(tmp_path / "shared", MONEYREELS_RATE_LIMIT="4", MONEYREELS_API_RATE_LIMIT="0",
                             MONEYREELS_API_KEYS="right-key")
    webs = [web_process(tmp_path / f"web{index}", shared) for index in (1, 2)]
    try:
        for web in webs:
            web.start()
        right = {"Authorization": "Bearer right-key"}
        answers = [webs[index % 2].exchange("GET", "/v1/jobs/none", headers=right)[0] for index in range(5)]
        assert answers == [404, 404, 404, 404, 429]  # two requests to each process used the four allowed
        wrong = {"Authorization": "Bearer wrong-key"}
        answers = [webs[index % 2].exchange("GET", "/api/v1/jobs", headers=wrong)[0] for index in range(11)]
        assert answers == [401] * 10 + [429]
        status, _, body = webs[1].exchange("GET", "/api/v1/jobs", headers=wrong)
        assert status == 429 and "Too many invalid API keys" in json.loads(body)["error"]["message"]
    finally:
        for web in webs:
            web.stop()



def workers_of(pid) -> set[int]:
    """The live worker processes `pid` spawned (from /proc; multiprocessing's resource tracker left out)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, parent = stat.read_text().rsplit(")", 1)[1].split()[:2]
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue  # gone while we looked
        if int(parent) == pid and state != "Z" and b"spawn_main" in command:
            found.add(int(stat.parent.name))
    return found


def alive(pid) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_worker_processes_stop_when_their_supervisor_is_killed(tmp_path):
    supervisor = WorkerProcess(tmp_path / "workers", concurrency=2, **shared_settings(tmp_path / "shared")).start()
    children = set()
    try:
        children = wait_for(lambda: (found := workers_of(supervisor.pid)) and len(found) == 2 and found)
        supervisor.process.send_signal(signal.SIGKILL)
        supervisor.process.wait()
        wait_for(lambda: not any(alive(child) for child in children), timeout=30)
    finally:
        supervisor.stop()
        for child in children:
            if alive(child):
                os.kill(child, signal.SIGKILL)
    assert supervisor.log_path.read_text().count("the supervising process ended; stopping") == 2
