"""OpenReels' REST API and SSE stream under /api/v1, with OpenStory's conventions.

Shapes follow reference/openreels-rest-api.md and openreels-sse-events.md; every response
carries HAL `_links`, errors are {"error": {code, message, details}}, and reads accept ?wait=.
"""

import logging
import re
from dataclasses import asdict
import urllib.parse
import uuid
from pathlib import Path

from flask import Blueprint, Response, current_app, request
from werkzeug.routing import PathConverter

from .. import db, jobs, keyring, kinds, posters
from ..config import PROVIDER_KEYS
from ..states import StageStatus
from ..kinds import generate
from ..errors import Conflict, Forbidden, InvalidRequest, MoneyReelsError, NotFound
from ..pipeline import choices, stages
from ..pipeline.catalog import ARCHETYPES, PLATFORMS
from ..pipeline.request import GenerateRequest, RetryBody
from ..render.job import content_type
from ..titles import title_of
from ..transitions import TRANSITIONS
from ..providers import llm as llms
from ..providers import images, stock, tts, video
from . import holds, sse
from .auth import authenticate, current_owner
from .contract import ANY_FILE, BAD_ID, BAD_RANGE, INVALID, SSE, WAIT, contract, download, link
from .inputs import non_negative_int, parse_body
from .jobfiles import send_job_file
from .limits import limit_requests
from .openreels_models import (Catalog, CancelledJob, Health, JobCreated, JobDeleted, JobDetail, JobList, JobSnapshot,
                               ListedJob, ProviderList, Stats, TransitionList)
from .waiting import wait_for_change

log = logging.getLogger(__name__)
bp = Blueprint("openreels", __name__, url_prefix="/api/v1")


class AnyPath(PathConverter):
    """A path that may start with a slash, so /artifacts//etc/passwd is refused as traversal (403)."""

    regex = "/?[^/].*?"


bp.record_once(lambda state: state.app.url_map.converters.setdefault("anypath", AnyPath))
bp.before_request(authenticate)
# The catalog is static and a page reads it all at once on load: not counted. Nor are artifact
# reads: a page of past reels loads a poster each, and a player sends a Range request per seek.
CATALOG = ("openreels.health", "openreels.archetypes", "openreels.platforms", "openreels.providers",
           "openreels.transitions")
bp.before_request(limit_requests("api", lambda s: (s.api_rate_limit, 1.0), exempt=(*CATALOG, "openreels.artifact")))

MAX_LIMIT = 100
# What GET /api/v1/jobs lists by `kind`: OpenReels clients expect generate jobs only.
LIST_KINDS = {"generate": (generate.KIND,), "render": ("render",), "all": None}
BUSY_RETRY_MS = 5000
LIMIT = {"name": "limit", "in": "query", "description": "Jobs per page; more than 100 reads as 100.",
         "schema": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1, "default": 20}}
OFFSET = {"name": "offset", "in": "query", "description": "Jobs to skip, newest first.",
          "schema": {"type": "integer", "minimum": 0, "maximum": 10**9, "default": 0}}
KIND = {"name": "kind", "in": "query", "description": "Which jobs: `generate` (OpenReels' jobs, the default), "
        "`render` (Reel Forge renders) or `all`.", "schema": {"type": "string", "enum": ["generate", "render", "all"],
                                                               "default": "generate"}}
RESUME = ({"name": "lastEventId", "in": "query", "description": "Resume after this event id (as Last-Event-ID does).",
           "schema": {"type": "string"}},
          {"name": "Last-Event-ID", "in": "header", "description": "Resume after this event id.",
           "schema": {"type": "string"}})


def job_links(job) -> dict:
    base = f"/api/v1/jobs/{job.id}"
    links = {
        "self": link(base),
        "wait": link(base + "{?wait}", templated=True),
        "events": link(base + "/events", type="text/event-stream"),
        "artifacts": link(base + "/artifacts/{path}", templated=True),
    }
    if job.state in jobs.ACTIVE:
        links["cancel"] = link(base + "/cancel", "POST")
    else:
        links["delete"] = link(base, "DELETE")
    if job.state in (jobs.State.FAILED, jobs.State.CANCELLED) and job.kind == generate.KIND:
        links["retry"] = link(base + "/retry", "POST")
    if job.state == jobs.State.COMPLETED and job.result_path:
        name = Path(job.result_path).name
        links["video"] = link(f"{base}/artifacts/{name}", type=content_type(name) or "video/mp4")
    return {**links, **poster_link(job)}


def poster_link(job) -> dict:
    """{"poster": link} when the finished job has its poster frame, else {}."""
    if job.state != jobs.State.COMPLETED or not job.result_path:
        return {}
    if not Path(job.result_path).with_name(posters.NAME).is_file():
        return {}
    return {"poster": link(f"/api/v1/jobs/{job.id}/artifacts/{posters.NAME}", type="image/jpeg")}


def summary(job) -> dict:
    """The fields of JobSummary, as every listing of a job shows them."""
    return {
        "id": job.id,
        "kind": job.kind,
        "title": title_of(job),
        "topic": job.request.get("topic"),
        "status": job.state,
        "createdAt": job.created_at,
        "completedAt": job.completed_at,
        "stages": job.stages,
    }


def snapshot(job) -> dict:
    """The fields of JobDetail: the full job, as GET /api/v1/jobs/:id and the SSE snapshot show it."""
    out = job.outputs or {}
    return {
        **summary(job),
        "archetype": job.request.get("archetype") or out.get("archetype"),
        "startedAt": job.started_at,
        "cancelRequested": job.cancel_requested,
        "costEstimate": out.get("costEstimate"),
        "actualCost": out.get("actualCost"),
        "videoPath": out.get("videoPath") or (Path(job.result_path).name if job.result_path else None),
        "runDir": out.get("runDir"),
        "researchData": out.get("researchData"),
        "score": out.get("score"),
        "musicTrack": out.get("musicTrack"),
        "criticReview": out.get("criticReview"),
        "providers": out.get("providers"),
        "error": job.error,
    }


def find(job_id):
    """The caller's job by id: 400 for an id of the wrong format, 404 when unknown."""
    try:
        uuid.UUID(job_id)
    except ValueError:
        raise InvalidRequest("Invalid job ID format: expected a UUID.", code="invalid_id") from None
    return jobs.get(job_id, current_owner())


def streamed(job) -> dict:
    """The SSE stream's job:snapshot."""
    return JobDetail(**snapshot(job)).model_dump(mode="json", by_alias=True)


@bp.get("/health")
@contract("Health of the database, worker and jobs folder", {200: ("Health.", Health)})
def health():
    settings = current_app.config["SETTINGS"]
    try:
        db.database.execute_sql("SELECT 1").fetchone()
        database = "connected"
    except Exception:
        database = "unavailable"
    pool = current_app.extensions.get("moneyreels.pool")
    worker = "running" if pool and pool.alive() else "stopped"
    healthy = database == "connected" and (worker == "running" or settings.workers == 0)
    return Health(
        status="healthy" if healthy else "degraded",
        # OpenReels' clients read `redis`; there is none to connect to: the queue is the database.
        redis="unused",
        database=database,
        worker=worker,
        jobsDir="exists" if Path(settings.jobs_dir).is_dir() else "missing",
        keys={name: name in settings.provider_keys for name in PROVIDER_KEYS},
        links={"self": link("/api/v1/health")},
    )


@bp.get("/stats")
@contract("Job counts and cost totals", {200: ("The caller's totals.", Stats)})
def stats():
    owned = jobs.Job.select().where(jobs.Job.owner == current_owner())
    total_cost = 0.0
    for job in owned.where(jobs.Job.state == jobs.State.COMPLETED.value):
        cost = (job.outputs or {}).get("actualCost") or (job.outputs or {}).get("costEstimate") or {}
        total_cost += cost.get("totalCost", 0.0)
    count = lambda *states: owned.where(jobs.Job.state.in_([s.value for s in states])).count()  # noqa: E731
    return Stats(
        totalJobs=owned.count(),
        completedJobs=count(jobs.State.COMPLETED),
        failedJobs=count(jobs.State.FAILED),
        activeJobs=count(*jobs.ACTIVE),
        totalCost=round(total_cost, 2),
        links={"self": link("/api/v1/stats")},
    )


@bp.post("/jobs")
@contract("Create a job from a topic, a script or a director's score", {201: ("Queued.", JobCreated)},
          errors=INVALID, body=(GenerateRequest,))
def create_job():
    job = generate.create(parse_body(GenerateRequest), current_app.config["SETTINGS"], owner=current_owner())
    body = JobCreated(id=job.id, topic=job.request.get("topic"), archetype=job.request.get("archetype"),
                      status=job.state, links=job_links(job))
    return body, 201, {"Location": f"/api/v1/jobs/{job.id}"}


def page_href(limit, offset, kind) -> str:
    return f"/api/v1/jobs?limit={limit}&offset={offset}" + ("" if kind == generate.KIND else f"&kind={kind}")


@bp.get("/jobs")
@contract("List the caller's jobs, newest first", {200: ("A page of jobs.", JobList)},
          errors={400: "limit or offset is not a non-negative integer, or kind is unknown."},
          params=(LIMIT, OFFSET, KIND))
def list_jobs():
    limit = min(non_negative_int("limit", 20), MAX_LIMIT)
    offset = non_negative_int("offset", 0, maximum=10**9)
    kind = request.args.get("kind") or generate.KIND
    if kind not in LIST_KINDS:
        raise InvalidRequest(f"Invalid 'kind' parameter: one of {', '.join(LIST_KINDS)}.", code="invalid_parameter",
                             details={"parameter": "kind"})
    owned = jobs.Job.select().where(jobs.Job.owner == current_owner())
    if LIST_KINDS[kind]:
        owned = owned.where(jobs.Job.kind.in_(LIST_KINDS[kind]))
    page = owned.order_by(jobs.Job.created_at.desc(), jobs.Job.id).limit(limit).offset(offset)
    links = {"self": link(page_href(limit, offset, kind)), "create": link("/api/v1/jobs", "POST")}
    total = owned.count()
    if offset + limit < total:
        links["next"] = link(page_href(limit, offset + limit, kind))
    if offset:
        links["prev"] = link(page_href(limit, max(0, offset - limit), kind))
    listed = [ListedJob(**summary(job), links={"self": link(f"/api/v1/jobs/{job.id}"), **poster_link(job)})
              for job in page]
    return JobList(jobs=listed,
                   total=total, limit=limit, offset=offset, links=links)


@bp.get("/jobs/<job_id>")
@contract("Read a job", {200: ("The job.", JobSnapshot)}, errors=BAD_ID, params=(WAIT,))
def get_job(job_id):
    job, headers = wait_for_change(find(job_id), current_owner())
    return JobSnapshot(**snapshot(job), links=job_links(job)), 200, headers


@bp.delete("/jobs/<job_id>")
@contract("Delete a finished job and its files", {200: ("Deleted.", JobDeleted)},
          errors={**BAD_ID, 409: "The job is queued or running; cancel it first."})
def delete_job(job_id):
    job = find(job_id)
    if job.state in jobs.ACTIVE:
        raise Conflict(f"Job is {job.state}; cancel it first.", details={"job_id": job.id, "state": job.state})
    jobs.delete(job.id, current_app.config["SETTINGS"].jobs_dir, current_owner())
    return JobDeleted(status="deleted", links={"jobs": link("/api/v1/jobs")})


@bp.post("/jobs/<job_id>/cancel")
@contract("Cancel a job: at once when queued, at its next checkpoint when running",
          {200: ("Cancellation recorded.", CancelledJob)}, errors={**BAD_ID, 409: "The job already finished."})
def cancel_job(job_id):
    job = jobs.request_cancel(find(job_id).id, current_owner(), kinds.finished)
    return CancelledJob(status="cancelled", state=job.state, cancelRequested=job.cancel_requested,
                        links=job_links(job))


@bp.post("/jobs/<job_id>/retry")
@contract("Resume a failed or cancelled generate job from its first unfinished stage",
          {202: ("Queued again.", JobSnapshot)}, body=(RetryBody,), body_required=False,
          errors={**BAD_ID, 400: "Invalid JSON, or keys the job needs are missing (`keys_required`).",
                  409: "Not a generate job, or not failed or cancelled."})
def retry_job(job_id):
    """Resume a failed or cancelled job from its first unfinished stage."""
    job = find(job_id)
    if job.kind != generate.KIND:
        raise Conflict("Only generate jobs can be retried; submit a render again instead.")
    if job.state not in (jobs.State.FAILED, jobs.State.CANCELLED):
        raise Conflict(f"Job is {job.state}; only failed or cancelled jobs can be retried.",
                       details={"job_id": job.id, "state": job.state})
    keys = parse_body(RetryBody).keys if request.get_data() else {}
    missing = [name for name in job.request.get("byok", []) if name not in keys]
    if missing and keyring.get(job.id) is None:
        raise InvalidRequest(f"This job used keys held in memory only; send them again in `keys`: {', '.join(missing)}.",
                             code="keys_required", details={"keys": missing})
    keyring.put(job.id, keys)
    reset = {name: (state if state["status"] in stages.SETTLED else {"status": StageStatus.PENDING})
             for name, state in {**stages.initial(), **job.stages}.items()}
    jobs.Job.update(stages=reset).where(jobs.Job.id == job.id).execute()
    job = jobs.transition(job.id, jobs.State.QUEUED, message="Job queued again: resuming from its first unfinished stage.")
    return JobSnapshot(**snapshot(job), links=job_links(job)), 202


@bp.get("/jobs/<job_id>/events")
@contract("Follow a job as Server-Sent Events", {200: ("job:snapshot, then stage/log/progress events, then a "
                                                       "terminal job:completed or job:failed (a cancelled job: "
                                                       "job:cancelled, then job:failed).", SSE)},
          errors=BAD_ID, params=RESUME)
def job_events(job_id):
    job = find(job_id)
    header = request.headers.get("Last-Event-ID") or request.args.get("lastEventId")
    last = int(header) if header and header.isascii() and header.isdecimal() else None
    heartbeat = current_app.config.get("SSE_HEARTBEAT", sse.HEARTBEAT_SECONDS)
    slot = holds.take()
    if slot is None:  # this client (or everyone) holds enough streams: a snapshot, and come back later
        body = sse.busy(job, streamed, BUSY_RETRY_MS)
    else:
        body = holds.releasing(slot, sse.stream(job, current_owner(), streamed, last, heartbeat, holds.disconnected()))
    response = Response(body, mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    if slot is not None:
        response.call_on_close(slot.release)  # a stream closed before its first frame never runs its finally
    return response


def traversal(raw: str) -> bool:
    """Whether a path, however often percent-encoded, climbs out or starts at the root."""
    for _ in range(4):
        decoded = urllib.parse.unquote(raw)
        if decoded == raw:
            break
        raw = decoded
    parts = re.split(r"[\\/]", raw)
    return raw.startswith(("/", "\\")) or ".." in parts or bool(re.match(r"^[A-Za-z]:", raw)) or "\x00" in raw


@bp.get("/jobs/<job_id>/artifacts/<anypath:name>")
@contract("Download a file of the job (the video, the score, images...), with Range requests",
          download("The file.", ANY_FILE),
          errors={**BAD_ID, **BAD_RANGE, 403: "The path leaves the job's folder.", 404: "No such job or file."})
def artifact(job_id, name):
    """Serve a file from the job's folder; 403 on any path that leaves it, Range for video."""
    job = find(job_id)
    folder = jobs.job_dir(current_app.config["SETTINGS"].jobs_dir, job.id).resolve()
    if traversal(name):
        raise Forbidden("Path traversal is not allowed.", code="path_traversal")
    path = (folder / name).resolve()
    if not path.is_relative_to(folder):
        raise Forbidden("Path traversal is not allowed.", code="path_traversal")
    try:
        found = path.is_file()
    except OSError:  # a name too long for the file system names no file
        found = False
    if not found:
        raise NotFound("Artifact not found.", details={"path": name[:200]})
    return send_job_file(path)


def remote_entries(module, keys) -> list[dict]:
    usable = module.available(keys)
    return [{**spec, "requires": list(spec["requires"]), "available": usable[spec["key"]]} for spec in module.PROVIDERS]


def voices_of(name, keys) -> list[dict]:
    """A usable TTS provider's voices; [] when listing them needs a call that failed."""
    try:
        return [vars(voice) for voice in tts.build(name, keys).voices()]
    except MoneyReelsError as exc:
        log.warning("could not list %s voices: %s", name, exc.message)
        return []


def listing(document, path):
    """A JSON document as OpenReels documents it, with no room for `_links`: a Link header instead."""
    return document, 200, {"Link": f'<{path}>; rel="self"'}


@bp.get("/archetypes")
@contract("List the visual archetypes", {200: ("The archetypes.", Catalog)})
def archetypes():
    return listing(Catalog([asdict(archetype) for archetype in ARCHETYPES.values()]), "/api/v1/archetypes")


@bp.get("/platforms")
@contract("List the target platforms", {200: ("The platforms.", Catalog)})
def platforms():
    return listing(Catalog([asdict(platform) for platform in PLATFORMS.values()]), "/api/v1/platforms")


@bp.get("/transitions")
@contract("List the transitions a timeline layer may take (built-ins and ffmpeg's xfade catalogue)",
          {200: ("The transitions.", TransitionList)})
def transitions():
    return listing(TransitionList([{"name": name, "description": entry.description, "kind": entry.kind,
                                    "xfade": entry.xfade} for name, entry in TRANSITIONS.items()]),
                   "/api/v1/transitions")


@bp.get("/providers")
@contract("List the providers and whether each is usable", {200: ("The providers.", ProviderList)})
def providers():
    """Providers by category; only categories are keys, so the HAL link goes in a Link header."""
    settings = current_app.config["SETTINGS"]
    usable = llms.available(settings.provider_values())
    keys = choices.provider_keys(settings, {})
    speakers = tts.available(keys)
    return listing(ProviderList(**{
        "llm": [{**entry, "available": usable.get(entry["key"], False)} for entry in llms.PROVIDERS],
        "tts": [{**entry, "requires": list(entry["requires"]), "available": speakers[entry["key"]],
                 "voices": voices_of(entry["key"], keys) if speakers[entry["key"]] else []}
                for entry in tts.PROVIDERS],
        "image": [*remote_entries(images, keys), {"key": "local", "label": "Drawn locally (archetype palette)",
                                                  "requires": [], "available": True}],
        "stock": [*remote_entries(stock, keys), {"key": "local", "label": "Local media folder (MEDIA_DIR)",
                                                 "requires": [], "available": True}],
        "video": remote_entries(video, keys),
        "music": [{"key": "bundled", "label": "Synthesized per mood", "requires": [], "available": True}],
    }), "/api/v1/providers")
