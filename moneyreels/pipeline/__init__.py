"""Topic or script to reel: the six-stage pipeline behind `generate` jobs."""

from .. import jobs, keyring
from ..errors import InvalidRequest
from .catalog import ARCHETYPES, PACING, PLATFORMS, pick_archetype
from .choices import check_named
from .director import script_score
from .request import GenerateRequest
from .score import problems
from .stages import initial

KIND = "generate"


def check_plan(request: GenerateRequest):
    """Refuse now a score, or a script, that cannot make a reel on the chosen platform and pacing."""
    if request.score is None and not request.script:
        return
    pacing = PACING[request.pacing or ARCHETYPES[request.archetype].scenePacing]
    field = "score" if request.score is not None else "script"
    try:
        score = request.score or script_score(request.script, pacing, ARCHETYPES[request.archetype])
    except InvalidRequest as exc:
        found = [exc.message]
    else:
        found = problems(score, pacing, PLATFORMS[request.platform])
    if found:
        raise InvalidRequest(f"{field}: {found[0]}", code="validation_error",
                             details={"errors": [{"field": field, "message": problem} for problem in found]})


def create(request: GenerateRequest, owner="", labels: dict | None = None) -> jobs.Job:
    """Queue a generate job; its BYOK keys stay in memory, never in the database. labels are stored beside the request."""
    check_named(request, request.keys)
    from_score = request.score.archetype if request.score else None
    archetype = request.archetype or (from_score if from_score in ARCHETYPES else None) \
        or pick_archetype(request.topic or request.script or "")
    request = request.model_copy(update={"archetype": archetype})
    check_plan(request)
    job = jobs.create(KIND, {**request.stored(), **(labels or {})}, owner=owner, stages=initial())
    keyring.put(job.id, request.keys)
    return job
