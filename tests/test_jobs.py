"""The job state machine, event numbering, claiming and recovery, on a real SQLite file."""

import os
import socket
import subprocess
import threading

import pytest

from moneyreels import db, events, jobs
from moneyreels.db import Event, Job
from moneyreels.errors import Conflict, IllegalTransition, NotFound
from moneyreels.jobs import State

ALL_STATES = list(State)


def state_event_count(job_id):
    return Event.select().where((Event.job == job_id) & (Event.type == "status")).count()


def job_in(state):
    """Create a job and walk it to `state` through legal transitions."""
    job = jobs.create("tick", {})
    if state is State.CANCELLED:
        return jobs.transition(job.id, State.CANCELLED)
    if state is not State.QUEUED:
        jobs.transition(job.id, State.RUNNING)
    if state in (State.COMPLETED, State.FAILED):
        jobs.transition(job.id, state)
    return jobs.get(job.id)


@pytest.mark.parametrize("source", ALL_STATES)
@pytest.mark.parametrize("target", ALL_STATES)
def test_every_transition_is_legal_or_refused(app, source, target):
    job = job_in(source)
    before = state_event_count(job.id)
    if (source, target) in jobs.TRANSITIONS:
        moved = jobs.transition(job.id, target)
        assert moved.state == target.value
        assert state_event_count(job.id) == before + 1
        last = Event.select().where(Event.job == job.id).order_by(Event.id.desc()).first()
        assert last.payload == {"state": target.value, "from": source.value}
    else:
        with pytest.raises(IllegalTransition):
            jobs.transition(job.id, target)
        assert jobs.get(job.id).state == source.value
        assert state_event_count(job.id) == before


def test_transitions_stamp_times(app):
    job = jobs.create("tick", {})
    assert job.started_at is None and job.completed_at is None
    running = jobs.transition(job.id, State.RUNNING)
    assert running.started_at >= job.created_at
    done = jobs.transition(job.id, State.COMPLETED, result_path="/x.mp4")
    assert done.completed_at >= running.started_at
    assert done.result_path == "/x.mp4"


def test_a_transition_that_fails_writes_nothing(app, monkeypatch):
    job = jobs.create("tick", {})
    before = Event.select().count()

    def broken_append(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(events, "append", broken_append)
    with pytest.raises(RuntimeError):
        jobs.transition(job.id, State.RUNNING)
    assert jobs.get(job.id).state == "queued"
    assert Event.select().count() == before


def test_unknown_job_is_not_found(app):
    with pytest.raises(NotFound):
        jobs.transition("no-such-job", State.RUNNING)


def test_event_ids_never_reused_after_delete_and_restart(app, settings):
    first = jobs.create("tick", {})
    jobs.transition(first.id, State.CANCELLED)
    highest = Event.select().order_by(Event.id.desc()).first().id
    jobs.delete(first.id, settings.jobs_dir)
    assert Event.select().count() == 0

    db.database.close()
    db.connect(settings.database_path)
    second = jobs.create("tick", {})
    ids = [event.id for event in events.after(second.id)]
    assert ids and min(ids) > highest


def test_events_read_back_in_order_after_an_id(app):
    job = jobs.create("tick", {})
    appended = [events.append(job.id, "log", f"line {n}").id for n in range(5)]
    assert appended == sorted(appended)
    assert [event.id for event in events.after(job.id, appended[1])] == appended[2:]
    assert events.after(job.id, appended[-1]) == []


def test_claim_takes_the_oldest_queued_job(app):
    older, newer = jobs.create("tick", {}), jobs.create("tick", {})
    claimed = jobs.claim("w")
    assert claimed.id == older.id and claimed.state == "running" and claimed.attempts == 1
    assert jobs.claim("w").id == newer.id
    assert jobs.claim("w") is None


def test_concurrent_claims_never_take_a_job_twice(app):
    created = {jobs.create("tick", {}).id for _ in range(40)}
    claimed, lock = [], threading.Lock()

    def claimer(name):
        while (job := jobs.claim(name)) is not None:
            with lock:
                claimed.append(job.id)

    threads = [threading.Thread(target=claimer, args=(f"w{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(created)
    assert Job.select().where(Job.state == "running").count() == 40


def test_cancel_queued_job_is_immediate(app):
    job = jobs.create("tick", {})
    assert jobs.request_cancel(job.id).state == "cancelled"


def test_cancel_running_job_sets_the_flag_once(app):
    job = jobs.create("tick", {})
    jobs.claim("w")
    assert jobs.request_cancel(job.id).cancel_requested
    jobs.request_cancel(job.id)
    warnings = [e for e in events.after(job.id) if e.message == "Cancellation requested."]
    assert len(warnings) == 1
    assert jobs.get(job.id).state == "running"


@pytest.mark.parametrize("state", [State.COMPLETED, State.FAILED, State.CANCELLED])
def test_cancel_finished_job_conflicts_and_changes_nothing(app, state):
    job = job_in(state)
    before = len(events.after(job.id))
    with pytest.raises(Conflict):
        jobs.request_cancel(job.id)
    assert jobs.get(job.id).state == state.value
    assert not jobs.get(job.id).cancel_requested
    assert len(events.after(job.id)) == before


def test_latest_active_prefers_running_then_newest_queued(app):
    queued_old = jobs.create("tick", {})
    running = jobs.create("tick", {})
    queued_new = jobs.create("tick", {})
    jobs.transition(running.id, State.RUNNING)
    assert jobs.latest_active().id == running.id
    jobs.transition(running.id, State.COMPLETED)
    assert jobs.latest_active().id == queued_new.id
    jobs.transition(queued_new.id, State.CANCELLED)
    assert jobs.latest_active().id == queued_old.id
    jobs.transition(queued_old.id, State.CANCELLED)
    with pytest.raises(NotFound):
        jobs.latest_active()


def test_owner_scopes_lookup(app):
    mine = jobs.create("tick", {}, owner="alice")
    assert jobs.get(mine.id, "alice").id == mine.id
    with pytest.raises(NotFound):
        jobs.get(mine.id, "bob")


def test_delete_refuses_active_jobs_and_removes_files(app, settings):
    job = jobs.create("tick", {})
    folder = jobs.job_dir(settings.jobs_dir, job.id)
    folder.mkdir(parents=True)
    (folder / "final.mp4").write_bytes(b"video")
    with pytest.raises(Conflict):
        jobs.delete(job.id, settings.jobs_dir)
    jobs.transition(job.id, State.CANCELLED)
    jobs.delete(job.id, settings.jobs_dir)
    assert not folder.exists()
    with pytest.raises(NotFound):
        jobs.get(job.id)


def test_prune_keeps_the_newest_and_every_active_job(app, settings):
    finished = [job_in(State.COMPLETED) for _ in range(3)]
    active = jobs.create("tick", {})
    jobs.prune(2, settings.jobs_dir)
    remaining = {job.id for job in Job.select()}
    assert remaining == {finished[-1].id, active.id}


def running_job(claimed_by, attempts=1, cancel=False):
    job = jobs.create("tick", {})
    jobs.transition(job.id, State.RUNNING, claimed_by=claimed_by, attempts=attempts)
    if cancel:
        Job.update(cancel_requested=True).where(Job.id == job.id).execute()
    return job


def dead_pid():
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_recover_requeues_cancels_or_fails_jobs_of_dead_processes(app):
    dead = jobs.worker_identity("w").replace(f":{os.getpid()}:", f":{dead_pid()}:")
    requeue = running_job(dead)
    cancel = running_job(dead, cancel=True)
    give_up = running_job(dead, attempts=jobs.MAX_ATTEMPTS)
    ours_from_before = running_job(jobs.worker_identity("w"))

    recovered = {job.id: job for job in jobs.recover()}

    assert recovered[requeue.id].state == "queued"
    assert recovered[requeue.id].claimed_by is None
    assert recovered[cancel.id].state == "cancelled"
    assert recovered[give_up.id].state == "failed"
    assert recovered[give_up.id].error["code"] == "interrupted"
    assert recovered[ours_from_before.id].state == "queued"
    assert Job.select().where(Job.state == "running").count() == 0


def test_recover_leaves_jobs_of_live_processes_alone(app):
    process = subprocess.Popen(["sleep", "30"])
    try:
        alive = running_job(jobs.worker_identity("w").replace(f":{os.getpid()}:", f":{process.pid}:"))
        assert jobs.recover() == []
        assert jobs.get(alive.id).state == "running"
    finally:
        process.kill()
        process.wait()


def test_sweep_orphans_removes_folders_without_jobs(app, settings):
    kept = jobs.create("tick", {})
    jobs.job_dir(settings.jobs_dir, kept.id).mkdir(parents=True)
    orphan = jobs.job_dir(settings.jobs_dir, "deleted-job")
    orphan.mkdir(parents=True)
    assert jobs.sweep_orphans(settings.jobs_dir) == [orphan]
    assert jobs.job_dir(settings.jobs_dir, kept.id).exists()


def test_database_is_wal_and_sound(app):
    assert db.database.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.integrity_ok()


def test_recover_quarantines_a_job_whose_process_crashed_and_requeues_one_merely_killed(app, settings):
    from moneyreels import crashes

    crashed, killed = dead_pid(), dead_pid()
    name = lambda pid: jobs.worker_identity("w").replace(f":{os.getpid()}:", f":{pid}:")  # noqa: E731
    fatal, plain = running_job(name(crashed)), running_job(name(killed))
    report = crashes.report_path(settings.data_dir, socket.gethostname(), crashed)
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("Fatal Python error: Aborted\n\nThread 0x1 (most recent call first):\n")
    crashes.report_path(settings.data_dir, socket.gethostname(), killed).write_text("")

    recovered = {job.id: job for job in jobs.recover(lambda by: crashes.report_of(settings.data_dir, by))}

    assert recovered[fatal.id].state == "failed"
    assert recovered[fatal.id].error["code"] == "worker_crashed"
    assert recovered[fatal.id].error["details"] == {"reason": "Fatal Python error: Aborted", "attempts": 1}
    assert recovered[plain.id].state == "queued"
    crashes.sweep(settings.data_dir)
    assert not list(report.parent.iterdir())
