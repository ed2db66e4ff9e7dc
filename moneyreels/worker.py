"""The worker: claim queued jobs, run them through their kind's runner, record the outcome.

`Worker.loop()` runs at most one job and returns, so tests step it without threads or
sleeps; `WorkerPool` runs `WORKERS` of them in threads until told to stop.
"""

import logging
import threading
import time
from pathlib import Path

from . import crashes, events, jobs, netguard, posters, transfer
from .db import Job
from .render.ffmpeg import stop_renders_into
from .webhooks import Dispatcher
from .errors import JobCancelled, MoneyReelsError, WorkerStopping
from .jobs import State

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.25
# Progress crossing each quarter is also told as a `log` event: MoneyPrinter's clients show only those.
MILESTONES = 4


class JobContext:
    """What a runner gets: its job, its folder, the settings, and ways to report and to stop."""

    def __init__(self, job, settings, stopping: threading.Event):
        self.job = job
        self.settings = settings
        self.dir = jobs.job_dir(settings.jobs_dir, job.id)
        self._stopping = stopping
        self._last_progress = 0.0
        self._milestone = 0

    def checkpoint(self):
        """Raise JobCancelled if the job's cancellation was requested, WorkerStopping on shutdown."""
        if self._stopping.is_set():
            raise WorkerStopping("The worker is shutting down.")
        if jobs.cancel_requested(self.job.id):
            raise JobCancelled("Cancellation requested.")

    def log(self, message, level="info", payload=None):
        events.append(self.job.id, "log", message, level=level, payload=payload)

    def emit(self, type, message="", *, level="info", payload=None):
        events.append(self.job.id, type, message, level=level, payload=payload)

    def save(self, **outputs):
        """Merge what the job produced into job.outputs."""
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
        self.emit("progress", message, payload={"progress": round(max(0.0, min(1.0, fraction)), 4)})


class Worker:
    """Runs jobs, one at a time, with the runner registered for each job's kind."""

    def __init__(self, settings, runners, name="worker-1", stopping=None):
        self.settings = settings
        self.runners = dict(runners)
        self.name = jobs.worker_identity(name)
        self.stopping = stopping or threading.Event()

    def loop(self) -> bool:
        """Claim and run one job; return False when none was queued."""
        if self.stopping.is_set():
            return False
        job = jobs.claim(self.name)
        if job is None:
            return False
        self.run(job)
        return True

    def run(self, job):
        runner = self.runners.get(job.kind)
        if runner is None:
            jobs.transition(
                job.id, State.FAILED, message=f"Job failed: this MoneyReels cannot run '{job.kind}' jobs yet.",
                error={
                    "code": "unsupported_kind",
                    "message": f"This MoneyReels build cannot run '{job.kind}' jobs yet.",
                    "details": {"kind": job.kind},
                },
            )
            return
        context = JobContext(job, self.settings, self.stopping)
        try:
            context.checkpoint()
            with transfer.cancellable(context.checkpoint):
                result_path = runner(context)
        except WorkerStopping:
            jobs.transition(job.id, State.QUEUED, message="The worker stopped; the job will run again.", level="warning")
        except JobCancelled:
            jobs.transition(job.id, State.CANCELLED)
        except MoneyReelsError as exc:
            jobs.transition(job.id, State.FAILED, message=f"Job failed: {exc.message}", error=exc.to_dict())
        except Exception as exc:
            log.exception("job %s crashed", job.id)
            jobs.transition(
                job.id, State.FAILED, message="Job failed: internal error.",
                error={"code": "internal_error", "message": f"Internal error ({type(exc).__name__}).", "details": {}},
            )
        else:
            # Absolute: MoneyPrinter's resultPath is a file path, valid whatever the reader's cwd.
            path = str(Path(result_path).resolve()) if result_path else None
            if path and path.endswith(".mp4"):
                posters.write_poster(Path(path))
            jobs.transition(job.id, State.COMPLETED, result_path=path, payload={"resultPath": path})
        jobs.prune(self.settings.max_jobs, self.settings.jobs_dir)

    def run_forever(self, idle_wait=1.0):
        """Loop until stopped; sleep on the event condition while the queue is empty."""
        while not self.stopping.is_set():
            try:
                if not self.loop():
                    events.wait(self.stopping.is_set, idle_wait)
            except Exception:
                # A broken database must not kill the thread silently; retry after a pause.
                log.exception("worker %s loop failed", self.name)
                self.stopping.wait(idle_wait)


class WorkerPool:
    """WORKERS worker threads, and the webhook dispatcher beside them, sharing one stop flag."""

    def __init__(self, settings, runners):
        self.settings = settings
        self.stopping = threading.Event()
        self.workers = [
            Worker(settings, runners, name=f"worker-{index + 1}", stopping=self.stopping)
            for index in range(settings.workers)
        ]
        self.threads = []

    def start(self):
        """Recover what a crash left running, then start the threads."""
        if not self.workers:
            return self
        data_dir = self.settings.data_dir
        recovered = jobs.recover(lambda claimed_by: crashes.report_of(data_dir, claimed_by))
        crashes.sweep(data_dir)
        if recovered:
            log.warning("recovered %d job(s) left running by a previous process", len(recovered))
            # Before any worker starts: their old ffmpeg may still be writing into their folders.
            orphans = stop_renders_into(jobs.job_dir(self.settings.jobs_dir, job.id) for job in recovered)
            if orphans:
                log.warning("stopped %d ffmpeg process(es) a previous server left rendering", orphans)
        jobs.sweep_orphans(self.settings.jobs_dir)
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
