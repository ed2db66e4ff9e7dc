"""The job state machine, event numbering, claiming and recovery, on a real SQLite file."""

import os
import socket
import sqlite3
import subprocess
import threading
import time

import pytest

from moneyreels import db, events, jobs
from moneyreels.db import Event, Job
from moneyreels.errors import Conflict, IllegalTransition, LeaseLost, NotFound
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
    db.connect(settings.connection_url)
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
    claimed = jobs.claim("w", 30)
    assert claimed.id == older.id and claimed.state == "running" and claimed.attempts == 1
    assert jobs.claim("w", 30).id == newer.id
    assert jobs.claim("w", 30) is None


def test_concurrent_claims_never_take_a_job_twice(app):
    created = {jobs.create("tick", {}).id for _ in range(40)}
    claimed, lock = [], threading.Lock()

    def claimer(name):
        while (job := jobs.claim(name, 30)) is not None:
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
    jobs.claim("w", 30)
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


def running_job(owner, attempts=1, cancel=False, lease_left=-1.0):
    """A running job leased to `owner`, its lease ending lease_left seconds from now."""
    job = jobs.create("tick", {})
    jobs.transition(job.id, State.RUNNING, lease_owner=owner, lease_expires_at=time.time() + lease_left,
                    attempts=attempts)
    if cancel:
        Job.update(cancel_requested=True).where(Job.id == job.id).execute()
    return job


def dead_pid():
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def owner_with_pid(pid):
    return jobs.lease_owner("w").replace(f":{os.getpid()}:", f":{pid}:")


def test_recover_requeues_cancels_or_fails_jobs_whose_lease_expired(app):
    owner = owner_with_pid(dead_pid())
    requeue = running_job(owner)
    cancel = running_job(owner, cancel=True)
    give_up = running_job(owner, attempts=jobs.MAX_ATTEMPTS)

    recovered = {job.id: job for job in jobs.recover()}

    assert recovered[requeue.id].state == "queued"
    assert recovered[requeue.id].lease_owner is None and recovered[requeue.id].lease_expires_at is None
    assert recovered[cancel.id].state == "cancelled"
    assert recovered[give_up.id].state == "failed"
    assert recovered[give_up.id].error["code"] == "interrupted"
    assert Job.select().where(Job.state == "running").count() == 0


def test_recover_leaves_jobs_with_a_live_lease_alone_even_when_their_pid_is_gone(app):
    held = running_job(owner_with_pid(dead_pid()), lease_left=30)
    assert jobs.recover() == []
    assert jobs.get(held.id).state == "running"
    # The same job, judged a minute later, is taken back.
    assert [job.id for job in jobs.recover(now=time.time() + 60)] == [held.id]


def test_recover_takes_back_an_expired_job_whose_pid_a_live_process_reuses(app):
    """After a reboot the PID in the lease may belong to a live process: the expiry alone decides."""
    process = subprocess.Popen(["sleep", "30"])
    try:
        reused = running_job(owner_with_pid(process.pid))
        ours = running_job(jobs.lease_owner("w"))
        recovered = {job.id: job for job in jobs.recover()}
        assert recovered[reused.id].state == "queued"
        assert recovered[ours.id].state == "queued"
    finally:
        process.kill()
        process.wait()


def test_a_job_claimed_by_a_version_without_leases_is_taken_back(app):
    job = jobs.create("tick", {})
    jobs.transition(job.id, State.RUNNING)
    assert [recovered.state for recovered in jobs.recover()] == ["queued"]


def test_only_the_lease_holder_writes_and_renews(app):
    jobs.create("tick", {})
    job = jobs.claim("holder", 30)
    jobs.renew(job.id, "holder", 30)
    with jobs.holding(job.id, "holder"):
        events.append(job.id, "log", "mine")
    with pytest.raises(LeaseLost):
        jobs.renew(job.id, "intruder", 30)
    with pytest.raises(LeaseLost), jobs.holding(job.id, "intruder"):
        events.append(job.id, "log", "not mine")
    with pytest.raises(LeaseLost):
        jobs.transition(job.id, State.COMPLETED, lease="intruder")
    assert [event.message for event in events.after(job.id) if event.type == "log"] == ["mine"]
    assert jobs.get(job.id).state == "running"
    assert jobs.transition(job.id, State.COMPLETED, lease="holder").lease_owner is None


def test_sweep_orphans_removes_folders_without_jobs(app, settings):
    kept = jobs.create("tick", {})
    jobs.job_dir(settings.jobs_dir, kept.id).mkdir(parents=True)
    orphan = jobs.job_dir(settings.jobs_dir, "deleted-job")
    orphan.mkdir(parents=True)
    assert jobs.sweep_orphans(settings.jobs_dir) == [orphan]
    assert jobs.job_dir(settings.jobs_dir, kept.id).exists()


@pytest.mark.sqlite
def test_database_is_wal_and_sound(app):
    assert db.database.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.integrity_ok()


def test_recover_quarantines_a_job_whose_process_crashed_and_requeues_one_merely_killed(app, settings):
    from moneyreels import crashes

    crashed, killed = dead_pid(), dead_pid()
    fatal, plain = running_job(owner_with_pid(crashed)), running_job(owner_with_pid(killed))
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


def test_sweep_keeps_the_crash_report_of_a_process_whose_lease_is_still_running(app, settings):
    from moneyreels import crashes

    crashed = dead_pid()
    report = crashes.report_path(settings.data_dir, socket.gethostname(), crashed)
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("Fatal Python error: Aborted\n")
    running_job(owner_with_pid(crashed), lease_left=30)
    crashes.sweep(settings.data_dir, jobs.held_by())
    assert report.exists()


def test_connect_adds_the_lease_columns_to_a_file_made_before_them(tmp_path):
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("create table job (id varchar(255) primary key, kind varchar(255), state varchar(255), "
                     "cancel_requested integer, request text, owner varchar(255), idempotency_key varchar(255), "
                     "request_hash varchar(255), stages text, outputs text, result_path varchar(255), error text, "
                     "attempts integer, claimed_by varchar(255), created_at real, started_at real, "
                     "completed_at real, updated_at real)")
        conn.execute("insert into job values ('old', 'tick', 'running', 0, '{}', '', null, null, '{}', '{}', null, "
                     "null, 1, 'host:1:worker-1', 0, 0, null, 0)")
    db.connect(path)
    try:
        assert [job.id for job in jobs.recover()] == ["old"]
        assert jobs.get("old").state == "queued"
    finally:
        db.database.close()


def test_job_states_read_back_as_the_enum(app):
    job = jobs.create("tick", {})
    stored = Job.get_by_id(job.id)
    assert stored.state is State.QUEUED and f"{stored.state}" == "queued"
    assert Job.select().where(Job.state == State.QUEUED).count() == 1
    with pytest.raises(ValueError):
        Job.update(state="sleeping").where(Job.id == job.id).execute()
