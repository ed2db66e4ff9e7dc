"""Topic or script to reel: the six-stage pipeline behind `generate` jobs (kinds/generate.py)."""

from ..errors import InvalidRequest
from .catalog import ARCHETYPES, PACING, PLATFORMS
from .director import script_score
from .request import GenerateRequest
from .score import problems


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

