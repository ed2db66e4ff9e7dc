"""The `generate` job kind: a topic or script through the six-stage pipeline to a reel."""

from .. import jobs, keyring
from ..pipeline import check_plan
from ..pipeline.catalog import ARCHETYPES, pick_archetype
from ..pipeline.choices import check_named
from ..pipeline.request import GenerateRequest
from ..pipeline.run import run
from ..pipeline.stages import initial

KIND = "generate"

__all__ = ["KIND", "create", "finished", "run"]


def create(request: GenerateRequest, settings, owner="", labels: dict | None = None) -> jobs.Job:
    """Queue a generate job; its BYOK keys stay in memory, never in the database. labels are stored beside the request."""
    check_named(request, request.keys, settings)
    from_score = request.score.archetype if request.score else None
    archetype = request.archetype or (from_score if from_score in ARCHETYPES else None) \
        or pick_archetype(request.topic or request.script or "")
    request = request.model_copy(update={"archetype": archetype})
    check_plan(request)
    job = jobs.create(KIND, {**request.stored(), **(labels or {})}, owner=owner, stages=initial())
    keyring.put(job.id, request.keys)
    return job


def finished(job):
    """Forget the job's BYOK keys: a finished job needs them no more."""
    keyring.drop(job.id)
