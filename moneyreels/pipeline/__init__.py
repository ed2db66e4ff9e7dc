"""Topic or script to reel: the six-stage pipeline behind `generate` jobs."""

from .. import jobs, keyring
from ..errors import InvalidRequest
from .catalog import ARCHETYPES, PACING, PLATFORMS, pick_archetype
from .choices import check_named
from .request import GenerateRequest
from .score import problems
from .stages import initial

KIND = "generate"


def create(request: GenerateRequest, owner="") -> jobs.Job:
    """Queue a generate job; its BYOK keys stay in memory, never in the database."""
    check_named(request, request.keys)
    from_score = request.score.archetype if request.score else None
    archetype = request.archetype or (from_score if from_score in ARCHETYPES else None) \
        or pick_archetype(request.topic or request.script or "")
    request = request.model_copy(update={"archetype": archetype})
    if request.score is not None:
        pacing = PACING[request.pacing or ARCHETYPES[archetype].scenePacing]
        found = problems(request.score, pacing, PLATFORMS[request.platform])
        if found:
            raise InvalidRequest(f"score: {found[0]}", code="validation_error",
                                 details={"errors": [{"field": "score", "message": problem} for problem in found]})
    job = jobs.create(KIND, request.stored(), owner=owner, stages=initial())
    keyring.put(job.id, request.keys)
    return job
