"""The `generate` job kind: research -> director -> tts -> visuals -> assembly -> critic."""

from .. import keyring
from ..errors import JobFailed
from . import assembly, choices, costs, critic, cuts, director, narration, research, visuals
from .plan import Plan
from .score import DirectorScore

NO_LLM = ("A topic needs an LLM to write about it, and none is usable. Set ANTHROPIC_API_KEY, OPENAI_API_KEY "
          "or GOOGLE_API_KEY (or send it in `keys`), run Ollama on http://localhost:11434 (or set "
          "OPENAI_BASE_URL to another OpenAI-compatible server), or send your own `script` instead.")

STEPS = (
    ("research", lambda plan, chosen: research.run(plan, chosen.llm)),
    ("director", lambda plan, chosen: director.run(plan, chosen.llm)),
    ("tts", lambda plan, chosen: narration.run(plan, chosen.tts) + cuts.run(plan)),
    ("visuals", lambda plan, chosen: visuals.run(plan, chosen)),
    ("assembly", lambda plan, chosen: assembly.run(plan)),
    ("critic", lambda plan, chosen: critic.run(plan, chosen.llm)),
)


def skip_reason(name, plan) -> str | None:
    request = plan.request
    if name == "research" and request.score is not None:
        return "Score provided"
    if name == "research" and request.script:
        return "Script provided"
    if name == "director" and request.score is not None:
        return "Score provided"
    if name in ("tts", "visuals", "assembly", "critic") and request.dryRun:
        return "Dry run mode"
    return None


def keys_for(ctx) -> dict:
    keys = keyring.get(ctx.job.id) or {}
    if ctx.job.request.get("byok") and not keys:
        raise JobFailed("This job's API keys were held in memory only and were lost when the server restarted; "
                        "submit the job again with its keys.", code="keys_lost")
    return keys


def run(ctx):
    """Run (or resume) the six stages; return the video's path, or None for a dry run."""
    plan = Plan(ctx, keys_for(ctx))
    chosen = choices.resolve(plan.request, plan.keys, plan.settings)
    plan.save(providers=chosen.record(), archetype=plan.archetype.name)
    if chosen.llm is None and not plan.request.script and plan.request.score is None:
        raise JobFailed(NO_LLM, code="no_llm")
    if plan.request.score is not None:
        plan.save(score=plan.request.score.model_dump())
    for name, step in STEPS:
        ctx.checkpoint()
        if plan.stages.finished(name):
            continue
        reason = skip_reason(name, plan)
        if reason:
            plan.stages.skip(name, reason)
            continue
        with plan.stages.run(name) as result:
            result["detail"] = step(plan, chosen)
        if name == "director":
            score = DirectorScore.model_validate(plan.outputs["score"])
            estimate = costs.estimate(chosen, score, plan.pacing, plan.request.providers.videoModel)
            plan.save(costEstimate=estimate)
            plan.stages.emit("director", "cost_estimate", f"Estimated cost: ${estimate['totalCost']:.2f}.",
                             estimate=estimate)
    costs.add_llm(plan.ledger, chosen.llm)
    plan.save(actualCost=plan.ledger.summary())
    return None if plan.request.dryRun else ctx.dir / plan.outputs["videoPath"]
