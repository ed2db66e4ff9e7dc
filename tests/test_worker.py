"""The worker, stepped one job at a time with loop()."""

import threading
import time

import pytest

from moneyreels import events, jobs
from moneyreels.errors import RenderError
from moneyreels.worker import Worker, WorkerPool


def messages(job_id):
    return [event.message for event in events.after(job_id)]


def test_loop_returns_false_on_an_empty_queue(worker):
    assert worker.loop() is False


def test_loop_runs_a_job_to_completion(worker, settings):
    job = jobs.create("tick", {})
    assert worker.loop() is True
    done = jobs.get(job.id)
    assert done.state == "completed"
    assert done.result_path == str(jobs.job_dir(settings.jobs_dir, job.id) / "result.txt")
    assert messages(job.id) == ["Job queued.", "Job started.", "tick 0", "tick 1", "tick 2", "Job completed."]


def test_a_domain_error_fails_the_job_with_its_code(worker, runners):
    def refuse(ctx):
        raise RenderError("Layer 'a' starts after the end.", code="manifest_out_of_bounds", details={"layer_id": "a"})

    runners_with = {**runners, "bad": refuse}
    job = jobs.create("bad", {})
    Worker(worker.settings, runners_with).loop()
    failed = jobs.get(job.id)
    assert failed.state == "failed"
    assert failed.error == {
        "code": "manifest_out_of_bounds", "message": "Layer 'a' starts after the end.", "details": {"layer_id": "a"}
    }


def test_a_crash_fails_the_job_without_leaking_the_exception(worker, runners):
    def crash(ctx):
        raise KeyError("sk-secret-key")

    job = jobs.create("crash", {})
    Worker(worker.settings, {**runners, "crash": crash}).loop()
    failed = jobs.get(job.id)
    assert failed.state == "failed"
    assert failed.error["code"] == "internal_error"
    assert "sk-secret-key" not in str(failed.error) and "sk-secret-key" not in " ".join(messages(job.id))


def test_a_kind_without_a_runner_fails_clearly(worker):
    job = jobs.create("generate", {"videoSubject": "cats"})
    worker.loop()
    failed = jobs.get(job.id)
    assert failed.state == "failed"
    assert failed.error["code"] == "unsupported_kind"
    assert "'generate'" in failed.error["message"]
    assert failed.result_path is None


def test_cancellation_is_seen_at_the_next_checkpoint(worker, runners):
    def cancel_then_continue(ctx):
        ctx.log("working")
        jobs.request_cancel(ctx.job.id)
        ctx.checkpoint()
        ctx.log("never logged")

    job = jobs.create("cancel", {})
    Worker(worker.settings, {**runners, "cancel": cancel_then_continue}).loop()
    assert jobs.get(job.id).state == "cancelled"
    assert "never logged" not in messages(job.id)


def test_stopping_requeues_the_running_job(worker, runners):
    stopping = threading.Event()

    def stop_midway(ctx):
        stopping.set()
        ctx.checkpoint()

    job = jobs.create("stop", {})
    stopper = Worker(worker.settings, {**runners, "stop": stop_midway}, stopping=stopping)
    assert stopper.loop() is True
    requeued = jobs.get(job.id)
    assert requeued.state == "queued" and requeued.attempts == 1
    assert stopper.loop() is False


def test_progress_is_throttled_but_always_reaches_one(worker, runners):
    def report(ctx):
        for step in range(100):
            ctx.progress(step / 100)
        ctx.progress(1.0)

    job = jobs.create("progress", {})
    Worker(worker.settings, {**runners, "progress": report}).loop()
    values = [e.payload["progress"] for e in events.after(job.id) if e.type == "progress"]
    assert values[0] == 0 and values[-1] == 1.0 and len(values) <= 3


def test_max_jobs_prunes_after_each_job(app, settings, runners):
    limited = Worker(settings.model_copy(update={"max_jobs": 2}), runners)
    created = [jobs.create("tick", {}) for _ in range(3)]
    for _ in created:
        limited.loop()
    remaining = [job.id for job in jobs.Job.select().order_by(jobs.Job.created_at)]
    assert remaining == [created[1].id, created[2].id]


def test_pool_runs_jobs_in_threads_and_stops(app, settings, runners):
    pool = WorkerPool(settings.model_copy(update={"workers": 2}), runners).start()
    try:
        created = [jobs.create("tick", {}) for _ in range(4)]
        finished = events.wait(
            lambda: all(jobs.get(job.id).state == "completed" for job in created), timeout=20
        )
        assert finished
    finally:
        assert pool.stop(timeout=10)


@pytest.mark.timeout(30)
def test_pool_stop_requeues_a_long_job(app, settings):
    started = threading.Event()

    def long_job(ctx):
        started.set()
        while True:
            ctx.checkpoint()
            time.sleep(0.01)

    pool = WorkerPool(settings, {"long": long_job}).start()
    job = jobs.create("long", {})
    assert started.wait(10)
    assert pool.stop(timeout=10)
    assert jobs.get(job.id).state == "queued"


def steal(job_id):
    """Let the job's lease run out and another worker take the job: what a long pause looks like."""
    jobs.recover(now=time.time() + 3600)
    taken = jobs.claim("the-other-worker", 30)
    assert taken.id == job_id


@pytest.mark.parametrize("late_write", ["progress", "log", "save", "complete"])
def test_a_worker_whose_lease_was_taken_over_writes_nothing_more(worker, runners, late_write):
    def paused(ctx):
        ctx.log("before the pause")
        steal(ctx.job.id)
        if late_write == "progress":
            ctx.progress(0.5, "late")
        elif late_write == "log":
            ctx.log("late")
        elif late_write == "save":
            ctx.save(late=True)
        return None  # "complete": the worker's final transition is the late write

    job = jobs.create("paused", {})
    assert Worker(worker.settings, {**runners, "paused": paused}).loop() is True
    now = jobs.get(job.id)
    assert now.state == "running" and now.lease_owner == "the-other-worker" and now.attempts == 2
    assert "late" not in now.outputs
    assert messages(job.id)[-1] == "Job started."  # the other worker's claim, nothing after it
    assert "late" not in messages(job.id) and "Job completed." not in messages(job.id)


def test_a_lost_lease_stops_the_job_at_its_next_checkpoint(worker, runners, settings):
    checks = []

    def long_job(ctx):
        steal(ctx.job.id)
        with pytest.raises(jobs.LeaseLost):
            ctx.renew()  # what the heartbeat does, finding the lease gone
        while True:
            checks.append(1)
            ctx.checkpoint()

    job = jobs.create("long", {})
    assert Worker(settings, {**runners, "long": long_job}).loop() is True
    assert checks == [1]
    assert jobs.get(job.id).lease_owner == "the-other-worker"


def test_the_heartbeat_keeps_a_slow_job_leased(app, settings):
    quick = settings.model_copy(update={"lease_seconds": 1.0, "lease_renew_seconds": 0.1})
    expiries = []

    def slow(ctx):
        for _ in range(3):
            expiries.append(jobs.get(ctx.job.id).lease_expires_at)
            time.sleep(0.6)
            assert jobs.recover() == []  # over the 1 s lease in all, yet never expired

    job = jobs.create("slow", {})
    assert Worker(quick, {"slow": slow}).loop() is True
    assert jobs.get(job.id).state == "completed"
    assert expiries == sorted(set(expiries))
