"""The six stages' bookkeeping: status on the job row, and the OpenReels stage events."""

import contextlib
import time

from .. import events
from ..db import Job, database
from ..errors import JobCancelled
from ..states import StageStatus

STAGES = ("research", "director", "tts", "visuals", "assembly", "critic")
# A stage in one of these needs no run (jobs.FINISHED, by contrast, are the states a job ends in).
SETTLED = (StageStatus.DONE, StageStatus.SKIPPED)


def initial() -> dict:
    return {name: {"status": StageStatus.PENDING} for name in STAGES}


class Stages:
    """Moves a job's stages through their StageStatus, one event per change."""

    def __init__(self, job, holding=database.atomic):
        self.job_id = job.id
        # The transaction each change runs in: a worker's refuses to write once its lease is lost.
        self.holding = holding
        self.state = {**initial(), **(job.stages or {})}

    def finished(self, name) -> bool:
        return self.state[name]["status"] in SETTLED

    def emit(self, name, kind, message="", level="info", **data):
        """Write a `stage:<name>` event whose payload is OpenReels' SSE data, and its `log` twin.

        MoneyPrinter's clients show only `log` events, so each stage step is told there too.
        """
        events.append(self.job_id, f"stage:{name}", message, level=level,
                      payload={"stage": name, "type": kind, **data})
        if message:
            detail = {key: data[key] for key in ("detail", "durationSec", "reason", "error") if key in data}
            events.append(self.job_id, "log", message, level=level, payload={"stage": name, "type": kind, **detail})

    def _set(self, name, status, kind, message, level="info", **data):
        fields = {"status": status, **{k: v for k, v in data.items() if k in ("detail", "durationSec", "reason", "error")}}
        self.state[name] = fields
        with self.holding():
            Job.update(stages=self.state, updated_at=time.time()).where(Job.id == self.job_id).execute()
            self.emit(name, kind, message, level, **data)
        events.notify()

    def fail(self, name, message):
        """Mark a stage `error` for a failure raised outside its body (the job fails with it)."""
        self._set(name, StageStatus.ERROR, "error", f"{name.capitalize()} failed: {message}", level="error", error=message)

    def first_unfinished(self) -> str | None:
        return next((name for name in STAGES if not self.finished(name)), None)

    def skip(self, name, reason):
        self._set(name, StageStatus.SKIPPED, "skipped", f"{name.capitalize()} skipped: {reason}", reason=reason)

    @contextlib.contextmanager
    def run(self, name):
        """Run a stage: yields a dict the body fills with `detail`; records done or error."""
        started = time.monotonic()
        self._set(name, StageStatus.RUNNING, "start", f"{name.capitalize()} started.")
        result = {"detail": ""}
        try:
            yield result
        except JobCancelled:
            self._set(name, StageStatus.PENDING, "cancelled", f"{name.capitalize()} stopped: cancelled.", level="warning")
            raise
        except Exception as exc:
            self.fail(name, getattr(exc, "message", None) or "internal error")
            raise
        duration = round(time.monotonic() - started, 2)
        self._set(name, StageStatus.DONE, "complete", f"{name.capitalize()} done: {result['detail']}", level="success",
                  detail=result["detail"], durationSec=duration)
