"""On a real PostgreSQL server: claims skip locked rows, NOTIFY wakes other processes, ids commit in order."""

import subprocess
import sys
import threading
import time

import psycopg2
import pytest

from moneyreels import db, events, jobs
from moneyreels.db import Delivery, Event
from tests.support.database import TEST_DATABASE_URL, in_database, needs_postgres
from tests.support.live import ROOT

pytestmark = needs_postgres


@pytest.fixture
def store(database_url):
    db.connect(database_url)
    yield database_url
    db.database.close()


def in_threads(target, count):
    """Run target(index) in count threads started together; return what each raised, if anything."""
    barrier, problems = threading.Barrier(count), []

    def run(index):
        barrier.wait()
        try:
            target(index)
        except Exception as exc:
            problems.append(exc)
        finally:
            db.database.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return problems


def test_racing_claimers_never_take_the_same_job(store):
    queued = {jobs.create("tick", {}).id for _ in range(40)}
    claimed = []

    def claim_all(index):
        while (job := jobs.claim(f"claimer-{index}", 30)) is not None:
            claimed.append(job.id)

    assert in_threads(claim_all, 6) == []
    assert sorted(claimed) == sorted(queued)
    assert {job.attempts for job in jobs.Job.select()} == {1}


def test_notify_wakes_a_waiter_when_another_process_appends(store, monkeypatch):
    # Far beyond the wait's timeout: only a notification can end the wait with a result.
    monkeypatch.setattr(events, "RECHECK_SECONDS", 600)
    monkeypatch.setattr(events, "LISTENING_RECHECK_SECONDS", 600)
    job = jobs.create("tick", {})
    first = events.latest_id(job.id)
    assert events.listening()
    looked, found = threading.Event(), []

    def new_events():
        looked.set()
        return events.after(job.id, first)

    waiter = threading.Thread(target=lambda: found.extend(events.wait(new_events, timeout=60)))
    waiter.start()
    looked.wait()
    script = ("import sys; from moneyreels import db, events; db.connect(sys.argv[1]); "
              "events.append(sys.argv[2], 'log', 'from another process')")
    subprocess.run([sys.executable, "-c", script, store, job.id], cwd=ROOT, check=True, timeout=60)
    waiter.join()
    assert [event.message for event in found] == ["from another process"]


def test_a_reader_sees_every_event_id_of_a_job_in_order_under_concurrent_writers(store):
    job = jobs.create("tick", {})
    writing, seen = threading.Event(), []
    writing.set()

    def write(index):
        for number in range(40):
            with db.database.atomic():
                events.append(job.id, "log", f"writer {index} event {number}")
                time.sleep(0.001)  # hold the transaction open: a later id may be drawn meanwhile

    def read():
        last = 0
        while writing.is_set() or events.after(job.id, last, limit=1):
            for event in events.after(job.id, last):
                seen.append(event.id)
                last = event.id
        db.database.close()

    reader = threading.Thread(target=read)
    reader.start()
    try:
        assert in_threads(write, 4) == []
    finally:
        writing.clear()
        reader.join()
    stored = [event.id for event in Event.select(Event.id).where(Event.job == job.id).order_by(Event.id)]
    assert len(stored) == 1 + 4 * 40
    assert seen == stored  # every id, once, in increasing order


def test_migrate_creates_the_tables_on_an_empty_database(postgres, tmp_path):
    with postgres.cursor() as cursor:
        cursor.execute("DROP DATABASE IF EXISTS migrate_empty")
        cursor.execute("CREATE DATABASE migrate_empty")
    # A password the server does not ask for (trust): it must not be echoed anywhere.
    url = in_database(TEST_DATABASE_URL, "migrate_empty").replace("@", ":hunter2-secret@", 1)
    env = {"DATABASE_URL": url, "DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    try:
        # Two at once, as when several machines start together: one creates, the other finds the tables.
        both = [subprocess.Popen([sys.executable, "app.py", "migrate"], cwd=ROOT, env=env, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
        for process in both:
            out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err
            assert "the tables of the PostgreSQL database migrate_empty on 127.0.0.1" in err
            assert "hunter2" not in out + err
        with psycopg2.connect(in_database(TEST_DATABASE_URL, "migrate_empty")) as connection:
            with connection.cursor() as cursor:
                cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
                assert {row[0] for row in cursor.fetchall()} >= {"job", "event", "delivery"}
                cursor.execute("SELECT column_default FROM information_schema.columns "
                               "WHERE table_name = 'event' AND column_name = 'id'")
                assert cursor.fetchone()[0].startswith("nextval(")  # a sequence: ids never reused
    finally:
        with postgres.cursor() as cursor:
            cursor.execute("DROP DATABASE migrate_empty WITH (FORCE)")


def test_event_ids_are_not_reused_after_deletes(store, tmp_path):
    job = jobs.create("tick", {})
    jobs.transition(job.id, jobs.State.CANCELLED)
    last = events.latest_id(job.id)
    jobs.delete(job.id, tmp_path)
    assert events.latest_id(jobs.create("tick", {}).id) > last


def test_reads_and_transactions_reconnect_after_the_server_dropped_the_connection(store, postgres):
    job = jobs.create("tick", {})

    def drop_connections():
        with postgres.cursor() as cursor:
            # The timeout waits until the server process has ended.
            cursor.execute("SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE datname = %s",
                           (store.rsplit("/", 1)[1],))
            assert [row[0] for row in cursor.fetchall()] == [True]  # this thread's connection

    drop_connections()
    assert jobs.get(job.id).state is jobs.State.QUEUED  # a read outside a transaction
    drop_connections()
    assert jobs.claim("worker", 30).id == job.id  # a transaction, from its BEGIN


def test_deleting_a_job_while_its_webhook_attempt_is_recorded_waits_instead_of_deadlocking(store, postgres, tmp_path):
    job = jobs.transition(jobs.create("tick", {}).id, jobs.State.CANCELLED)
    delivery = Delivery.create(job=job.id, url="http://127.0.0.1:9/hook", body="{}")
    recording, problems = threading.Event(), []

    def record_attempt():  # as webhooks.Dispatcher.attempt does: the delivery's row, then the job's event
        try:
            with db.database.atomic():
                Delivery.update(attempts=1).where(Delivery.id == delivery.id).execute()
                recording.set()
                wait_until_a_lock_is_awaited(postgres, store)
                events.append(job.id, "webhook", "Webhook delivered.")
        except Exception as exc:
            problems.append(exc)
        finally:
            db.database.close()

    attempt = threading.Thread(target=record_attempt)
    attempt.start()
    recording.wait()
    jobs.delete(job.id, tmp_path)
    attempt.join()
    assert problems == []
    assert jobs.Job.get_or_none(jobs.Job.id == job.id) is None


def wait_until_a_lock_is_awaited(postgres, url):
    """Return once a connection to url's database waits for a lock."""
    with postgres.cursor() as cursor:
        while True:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
                           (url.rsplit("/", 1)[1],))
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
