"""The `generate` job kind: research -> director -> tts -> visuals -> assembly -> critic."""

from .. import keyring
from ..errors import JobCancelled, JobFailed
from ..states import StageStatus
from . import assembly, choices, costs, critic, cuts, director, narration, research, visuals
from .plan import Plan
from .score import DirectorScore

NO_LLM = ("A topic needs an LLM to write about it, and none is usable. Set ANTHROPIC_API_KEY, OPENAI_API_KEY "
          "or GOOGLE_API_KEY (or send it in `keys`), run Ollama on http://localhost:11434 (or set "
          "OPENAI_BASE_URL to another OpenAI-compatible server), or send your own `script` instead.")

STEPS = (
    ("research", lambda plan, chosen: research.run(plan, chosen.llm)),
    ("director", lambda plan, chosen: director.run(plan, chosen.llm)),
    ("tts", lambda plan, chosen: narration.run(plan, chosen.tts, chosen.voice) + cuts.run(plan)),
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
    # OpenReels: a replayed score skips research, director and critic.
    if name in ("director", "critic") and request.score is not None:
        return "Score provided"
    if name in ("tts", "visuals", "assembly", "critic") and request.dryRun:
        return "Dry run mode"
    return None


def estimate_cost(plan, chosen):
    score = DirectorScore.model_validate(plan.outputs["score"])
    estimate = costs.estimate(chosen, score, plan.pacing, plan.request.providers.videoModel)
    plan.save(costEstimate=estimate)
    plan.stages.emit("director", "cost_estimate", f"Estimated cost: ${estimate['totalCost']:.2f}.", estimate=estimate)


def keys_for(ctx) -> dict:
    keys = keyring.get(ctx.job.id) or {}
    if ctx.job.request.get("byok") and not keys:
        raise JobFailed("This job's API keys were held in memory only and were lost when the server restarted; "
                        "submit the job again with its keys.", code="keys_lost")
    return keys


# The stage whose detail tells that a category's named provider gave way to its default.
FALLBACK_STAGE = {"llm": "director", "tts": "tts", "image": "visuals", "stock": "visuals", "video": "visuals"}


def run(ctx):
    """Run (or resume) the six stages; return the video's path, or None for a dry run.

    A failure outside a stage's own body (no LLM, lost keys) marks the stage it stopped
    before as `error`, so every failed job names its failing stage before job:failed.
    """
    plan = Plan(ctx, {})
    try:
        plan.keys = keys_for(ctx)
        return run_stages(plan)
    except JobCancelled:
        raise
    except Exception as exc:
        name = plan.stages.first_unfinished()
        if name and plan.stages.state[name]["status"] != StageStatus.ERROR:
            plan.stages.fail(name, getattr(exc, "message", None) or "internal error")
        raise


def run_stages(plan):
    ctx = plan.ctx
    chosen = choices.resolve(plan.request, plan.keys, plan.settings)
    speaker = (plan.outputs.get("narration") or {}).get("speaker")  # a resumed job keeps the voice it spoke with
    plan.save(providers=chosen.record() | ({"tts": speaker["provider"], "voice": speaker["name"]} if speaker else {}),
              archetype=plan.archetype.name)
    for fallback in chosen.fallbacks:
        plan.log(fallback.message, level="warning", category=fallback.category, requested=fallback.requested,
                 used=fallback.used)
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
                estimate_cost(plan, chosen)
            notes = [f"{f.used or 'none'}: {f.requested} needs {f.needs}" for f in chosen.fallbacks
                     if FALLBACK_STAGE[f.category] == name]
            if notes:
                result["detail"] += f" ({'; '.join(notes)})"
            ctx.keep_files()  # before the stage is recorded done: a resume elsewhere needs its files
    costs.add_llm(plan.ledger, chosen.llm)
    plan.save(actualCost=plan.ledger.summary())
    return None if plan.request.dryRun else ctx.dir / plan.outputs["videoPath"]
