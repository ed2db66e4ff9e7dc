"""The worker: claim queued jobs, run them through their kind's runner, record the outcome.

`Worker.loop()` takes back jobs whose lease expired, runs at most one job and returns, so
tests step it without threads or sleeps; `WorkerPool` runs `WORKERS` of them in threads until
told to stop. While a job runs, a heartbeat thread renews its lease (jobs.py says why leases);
every write the job makes goes through `JobContext.holding`, refused once the lease is lost.
"""

import logging
import shutil
import threading
import time
from pathlib import Path

from . import crashes, events, jobs, kinds, netguard, posters, roster, storage, transfer
from .db import Job, database
from .render.ffmpeg import stop_renders_into
from .webhooks import Dispatcher
from .errors import JobCancelled, LeaseLost, MoneyReelsError, StorageUnavailable, WorkerStopping
from .jobs import State

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.25
# Progress crossing each quarter is also told as a `log` event: MoneyPrinter's clients show only those.
MILESTONES = 4


class JobContext:
    """What a runner gets: its job, its folder, the settings, and ways to report and to stop.

    Every write is made under the job's lease (`holding`): once the lease is lost, writes and
    checkpoints raise LeaseLost and the run stops, as on a cancel, without writing.
    """

    def __init__(self, job, settings, stopping: threading.Event, lease_owner=None):
        self.job = job
        self.settings = settings
        self.dir = jobs.job_dir(settings.jobs_dir, job.id)
        self.lease_owner = lease_owner or job.lease_owner
        self.lease_lost = threading.Event()
        self._stopping = stopping
        self._last_progress = 0.0
        self._milestone = 0
        self._kept = {}  # the files already put in a separate store

    def keep_files(self):
        """With a separate store (a bucket), put there the files written since the last call, so the
        job resumed on any machine finds them; the jobs folder keeps them as they are."""
        store = storage.of(self.settings)
        if store.separate and self.dir.is_dir():
            self._kept = storage.upload(store, self.job.id, self.dir, self._kept)

    def holding(self):
        """A transaction that writes only while this worker holds the job's lease."""
        if self.lease_lost.is_set():
            raise LeaseLost()
        return jobs.holding(self.job.id, self.lease_owner)

    def renew(self):
        """Extend the lease; on LeaseLost, remember it so the next checkpoint stops the job."""
        try:
            jobs.renew(self.job.id, self.lease_owner, self.settings.lease_seconds)
        except LeaseLost:
            self.lease_lost.set()
            raise

    def checkpoint(self):
        """Raise JobCancelled if the job's cancellation was requested, WorkerStopping on shutdown,
        LeaseLost when another worker took the job over."""
        if self._stopping.is_set():
            raise WorkerStopping("The worker is shutting down.")
        if self.lease_lost.is_set():
            raise LeaseLost()
        if jobs.cancel_requested(self.job.id):
            raise JobCancelled("Cancellation requested.")

    def log(self, message, level="info", payload=None):
        self.emit("log", message, level=level, payload=payload)

    def emit(self, type, message="", *, level="info", payload=None):
        with self.holding():
            events.append(self.job.id, type, message, level=level, payload=payload)
        events.notify()

    def save(self, **outputs):
        """Merge what the job produced into job.outputs."""
        with self.holding():
            self.job.outputs = {**self.job.outputs, **outputs}
            Job.update(outputs=self.job.outputs, updated_at=time.time()).where(Job.id == self.job.id).execute()

    def progress(self, fraction, message=""):
        """Record progress (0..1), at most every PROGRESS_INTERVAL seconds and always at 1."""
        milestone = int(max(0.0, min(1.0, fraction)) * MILESTONES)
        if milestone > self._milestone:
            self._milestone = milestone
            share = milestone / MILESTONES
            self.log(f"{message or 'Progress'}: {round(100 * share)}%", payload={"progress": share})
        now = time.monotonic()
        if fraction < 1 and now - self._last_progress < PROGRESS_INTERVAL:
            return
        self._last_progress = now
        # A progress report is a heartbeat too: it renews the lease in the transaction that writes it.
        with self.holding():
            self.renew()
            events.append(self.job.id, "progress", message, payload={"progress": round(max(0.0, min(1.0, fraction)), 4)})
        events.notify()


class Heartbeat:
    """Renew a job's lease every LEASE_RENEW_SECONDS while its runner works, in a thread.

    A runner may block for minutes in one call (a provider request, an encoder pass); the lease
    must outlive those, but not the process. Each renewal is also the worker's heartbeat in the roster.
    """

    def __init__(self, context: JobContext, beats: roster.Beats):
        self.context = context
        self.beats = beats
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, name=f"lease-{context.job.id[:8]}", daemon=True)

    def run(self):
        try:
            while not self.done.wait(self.context.settings.lease_renew_seconds):
                try:
                    self.context.renew()
                    self.beats.beat(self.context.job.id, force=True)
                except LeaseLost:
                    log.warning("job %s: lease lost; another worker takes it over", self.context.job.id)
                    return
                except Exception:
                    # A busy or briefly unreadable database: the next beat tries again before the lease ends.
                    log.exception("job %s: lease renewal failed", self.context.job.id)
        finally:
            database.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()


def recover(settings) -> list[Job]:
    """Take back the jobs whose lease expired, quarantining those whose process crashed."""

    def release(job):
        # Before the job is queued again: its dead holder's ffmpeg may still write into its folder.
        if stop_renders_into([jobs.job_dir(settings.jobs_dir, job.id)]):
            log.warning("job %s: stopped the ffmpeg its lost worker left rendering", job.id)

    return jobs.recover(lambda owner: crashes.report_of(settings.data_dir, owner), release, kinds.finished)


class Worker:
    """Runs jobs, one at a time, with the runner given for each job's kind (default: kinds.runners())."""

    def __init__(self, settings, runners=None, name="worker-1", stopping=None):
        self.settings = settings
        self.runners = kinds.runners() if runners is None else dict(runners)
        self.name = jobs.lease_owner(name)
        self.stopping = stopping or threading.Event()
        self.beats = roster.Beats(self.name, settings.lease_renew_seconds)

    def loop(self) -> bool:
        """Take back expired jobs, then claim and run one job; return False when none was queued."""
        if self.stopping.is_set():
            return False
        self.beats.beat()
        recover(self.settings)
        job = jobs.claim(self.name, self.settings.lease_seconds)
        if job is None:
            return False
        self.beats.beat(job.id)
        try:
            self.run(job)
        finally:
            self.beats.beat()
        return True

    def run(self, job):
        runner = self.runners.get(job.kind)
        if runner is None:
            jobs.transition(
                job.id, State.FAILED, lease=self.name, on_finished=kinds.finished,
                message=f"Job failed: this MoneyReels cannot run '{job.kind}' jobs yet.",
                error={
                    "code": "unsupported_kind",
                    "message": f"This MoneyReels build cannot run '{job.kind}' jobs yet.",
                    "details": {"kind": job.kind},
                },
            )
            return
        context = JobContext(job, self.settings, self.stopping, self.name)
        store = storage.of(self.settings)
        try:
            target, fields = self.attempt(runner, context)
            if target != State.COMPLETED:
                self.keep_partial(context)
            jobs.transition(job.id, target, lease=self.name, on_finished=kinds.finished, **fields)
        except LeaseLost:
            log.warning("job %s: this worker lost its lease; it stops without writing", job.id)
        else:
            if store.separate:
                shutil.rmtree(context.dir, ignore_errors=True)  # a scratch folder: the store has the files
        jobs.prune(self.settings.max_jobs, self.settings.jobs_dir, store)

    @staticmethod
    def keep_partial(context):
        """Store what an unfinished job made (a retry, maybe on another machine, resumes from it)."""
        try:
            context.keep_files()
        except Exception:
            log.exception("job %s: its partial files could not be stored", context.job.id)

    @staticmethod
    def keep(store, context, result_path) -> str | None:
        """Write the poster and put the finished job's files in the store; return where its result is kept.

        Called under the heartbeat (an upload may outlast a lease) and before the job is marked
        completed, so a completed job's files always exist.
        """
        # Absolute: MoneyPrinter's resultPath is a file path, valid whatever the reader's cwd.
        path = Path(result_path).resolve() if result_path else None
        if path and path.suffix == ".mp4":
            posters.write_poster(path)
        if not store.separate:
            return str(path) if path else None
        try:
            context.keep_files()
            return store.url(storage.key(context.job.id, path.relative_to(context.dir.resolve()).as_posix())) \
                if path else None
        except Exception as exc:
            log.exception("job %s: its files could not be stored", context.job.id)
            raise StorageUnavailable(f"The job's files could not be stored ({type(exc).__name__}).") from None

    def attempt(self, runner, context):
        """Run the runner under a heartbeat and keep its files; return (target state, transition fields)."""
        job = context.job
        store = storage.of(self.settings)
        try:
            with Heartbeat(context, self.beats):
                context.checkpoint()
                if store.separate and not context.dir.exists():
                    storage.download(store, job.id, context.dir)  # a retry resumes from the stored stages
                with transfer.cancellable(context.checkpoint):
                    result_path = runner(context)
                kept = self.keep(store, context, result_path)
        except LeaseLost:
            raise
        except WorkerStopping:
            return State.QUEUED, {"message": "The worker stopped; the job will run again.", "level": "warning"}
        except JobCancelled:
            return State.CANCELLED, {}
        except MoneyReelsError as exc:
            return State.FAILED, {"message": f"Job failed: {exc.message}", "error": exc.to_dict()}
        except Exception as exc:
            log.exception("job %s crashed", job.id)
            return State.FAILED, {
                "message": "Job failed: internal error.",
                "error": {"code": "internal_error", "message": f"Internal error ({type(exc).__name__}).", "details": {}},
            }
        return State.COMPLETED, {"result_path": kept, "payload": {"resultPath": kept}}

    def run_forever(self, idle_wait=1.0):
        """Loop until stopped; sleep on the event condition while the queue is empty. Leave the roster at the end."""
        while not self.stopping.is_set():
            try:
                if not self.loop():
                    # Woken by every commit (a notification), a queued job ends the wait at once.
                    events.wait(lambda: self.stopping.is_set() or jobs.queued_exists(), idle_wait)
            except Exception:
                # A broken database must not kill the thread silently; retry after a pause.
                log.exception("worker %s loop failed", self.name)
                self.stopping.wait(idle_wait)
        try:
            self.beats.retire()
        except Exception:
            log.exception("worker %s could not leave the roster; its row goes stale", self.name)


class WorkerPool:
    """WORKERS worker threads, and the webhook dispatcher beside them, sharing one stop flag."""

    def __init__(self, settings, runners=None):
        self.settings = settings
        self.stopping = threading.Event()
        self.workers = [
            Worker(settings, runners, name=f"worker-{index + 1}", stopping=self.stopping)
            for index in range(settings.workers)
        ]
        self.threads = []

    def start(self):
        """Recover the jobs whose lease expired, then start the threads."""
        if not self.workers:
            return self
        recover(self.settings)
        crashes.sweep(self.settings.data_dir, jobs.held_by())
        jobs.sweep_orphans(self.settings.jobs_dir)
        storage.sweep_orphans(storage.of(self.settings), jobs.unknown)
        loops = [(worker.run_forever, (), worker.name) for worker in self.workers]
        webhook_session = netguard.guarded_session(netguard.private_allowed(self.settings))
        loops.append((Dispatcher(session=webhook_session).run_forever, (self.stopping,), "webhooks"))
        for target, args, name in loops:
            thread = threading.Thread(target=target, args=args, name=name, daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def alive(self) -> bool:
        """Whether every thread is still running."""
        return bool(self.threads) and all(thread.is_alive() for thread in self.threads)

    def stop(self, timeout=15.0):
        """Stop claiming, let running jobs reach a checkpoint (they requeue), and join."""
        self.stopping.set()
        events.notify()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return all(not thread.is_alive() for thread in self.threads)
