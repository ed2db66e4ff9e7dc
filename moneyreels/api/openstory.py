"""OpenStory's sequences: a script in, a pollable status document per sequence out.

A sequence is a generate job seen through OpenStory's conventions
(reference/openstory-public-api.md): 202 with statusUrl and HAL links, a status document
derived from the database with per-frame (scene) status, and ?wait on both routes.
"""

import re
import uuid
from typing import Literal

from flask import Blueprint, current_app
from pydantic import BaseModel, ConfigDict, Field

from .. import jobs
from ..kinds import generate
from ..errors import InvalidRequest
from ..jobs import State
from ..pipeline.catalog import ARCHETYPES, PACING
from ..pipeline.request import GenerateRequest
from ..pipeline.score import word_count
from .auth import authenticate, current_owner
from .contract import BAD_ID, INVALID, WAIT, contract, link
from .inputs import parse_body, wait_seconds
from .limits import limit_requests
from .openreels import find
from .openstory_models import STATUSES, Sequence, SequenceEntry, SequencesCreated
from .waiting import wait_for_change

bp = Blueprint("openstory", __name__, url_prefix="/api/v1/sequences")
bp.before_request(authenticate)
bp.before_request(limit_requests("api", lambda s: (s.api_rate_limit, 1.0)))

DEFAULT_SECONDS = 30  # a sequence's length when the request names no targetSeconds


class Named(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1, max_length=200)
    isHuman: bool | None = None


class Style(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str | None = Field(None, max_length=100)
    name: str | None = Field(None, max_length=100)


class SequenceRequest(BaseModel):
    """OpenStory's create body; styles, cast and places by name, id or inline object."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    script: str = Field(min_length=1, max_length=5000)
    title: str | None = Field(None, max_length=200)
    style: str | Style | None = None
    targetSeconds: int | None = Field(None, ge=5, le=90)
    motion: bool = True
    music: bool = True
    characters: list[str | Named] = Field(default_factory=list, max_length=20)
    locations: list[str | Named] = Field(default_factory=list, max_length=20)
    enhance: Literal["auto", "always", "off"] = "auto"

    def archetype(self) -> str | None:
        """Match the style, by id or name, to an archetype (names are forgiving: 'Cinematic Noir' works)."""
        wanted = self.style if isinstance(self.style, str) else (self.style and (self.style.id or self.style.name))
        if not wanted:
            return None
        key = wanted.lower().replace(" ", "_").replace("-", "_")
        if key in ARCHETYPES:
            return key
        words = set(key.split("_"))
        scored = {name: len(words & set(name.split("_")) | words & set(a.artStyle.lower().split()))
                  for name, a in ARCHETYPES.items()}
        best = max(scored, key=scored.get)
        return best if scored[best] else None

    def direction(self) -> str | None:
        names = lambda items: ", ".join(i if isinstance(i, str) else i.name for i in items)  # noqa: E731
        lines = [f"Title: {self.title}" if self.title else "",
                 f"Characters: {names(self.characters)}" if self.characters else "",
                 f"Locations: {names(self.locations)}" if self.locations else ""]
        return "\n".join(line for line in lines if line) or None

    def generate_request(self) -> dict:
        """The same job in the pipeline's terms: a script used as written, or a brief when enhance=always."""
        body = {"archetype": self.archetype(), "noMusic": not self.music, "noVideo": not self.motion,
                "direction": self.direction(), "title": self.title}
        if self.enhance == "always":
            return {**body, "topic": self.script[:500],
                    "direction": "\n".join(filter(None, [f"Expand this script:\n{self.script}", body["direction"]]))}
        if self.expands():
            aim = f"Aim for about {self.targetSeconds or DEFAULT_SECONDS} seconds of narration."
            return {**body, "script": self.script, "enhance": True,
                    "direction": "\n".join(filter(None, [aim, body["direction"]]))}
        return {**body, "script": self.script}

    def expands(self) -> bool:
        """enhance=auto expands a script that fills less than half the target length (when an LLM is usable)."""
        seconds = word_count(self.script) / PACING["standard"].words_per_second
        return self.enhance == "auto" and seconds < (self.targetSeconds or DEFAULT_SECONDS) / 2


SEQUENCE_ID = re.compile(r"^seq_([0-9a-f]{32})$")


def public_id(job) -> str:
    """OpenStory's `seq_…` form of a job id: the prefix and the UUID's hex."""
    return f"seq_{uuid.UUID(job.id).hex}"


def find_sequence(raw):
    """The caller's sequence by `seq_…` id, or by the plain job UUID ids were before; 400 for neither form."""
    match = SEQUENCE_ID.match(raw)
    if match:
        return jobs.get(str(uuid.UUID(match.group(1))), current_owner())
    if raw.startswith("seq_"):
        raise InvalidRequest("Invalid sequence id format: expected seq_ and 32 hex digits.", code="invalid_id")
    return find(raw)


def status_links(job) -> dict:
    base = f"/api/v1/sequences/{public_id(job)}"
    return {"self": link(base), "poll": link(base + "{?wait}", templated=True),
            "job": link(f"/api/v1/jobs/{job.id}")}


def media_status(job, asset, kind) -> dict:
    """A frame's image or video: ready (with its URL), skipped, pending, or failed with the job."""
    if asset and asset["kind"] == kind:
        # Files from MEDIA_DIR are the user's own, not served under the job's artifacts.
        url = f"/api/v1/jobs/{job.id}/artifacts/{asset['path']}" if asset["source"] != "media" else None
        return {"status": "ready", "url": url}
    if asset or (kind == "video" and job.request.get("noVideo")):
        return {"status": "skipped", "url": None}
    return {"status": "failed" if job.state in (State.FAILED, State.CANCELLED) else "pending", "url": None}


def frames(job) -> list[dict]:
    out = job.outputs or {}
    assets = {asset["sceneIndex"]: asset for asset in out.get("assets") or []}
    return [
        {"index": index, "scriptLine": scene["script_line"], "visualType": scene["visual_type"],
         "image": media_status(job, assets.get(index), "image"), "video": media_status(job, assets.get(index), "video")}
        for index, scene in enumerate((out.get("score") or {}).get("scenes", []))
    ]


def document(job) -> Sequence:
    """The sequence's status, derived from the job row every time."""
    out = job.outputs or {}
    listed = frames(job)
    video = f"/api/v1/jobs/{job.id}/artifacts/{out['videoPath']}" if job.state == State.COMPLETED and \
        out.get("videoPath") else None
    music = out.get("musicTrack")
    return Sequence(
        id=public_id(job),
        title=job.request.get("title"),
        status=STATUSES[State(job.state)],
        frames=listed,
        counts={
            "frames": len(listed),
            "imagesReady": sum(f["image"]["status"] == "ready" for f in listed),
            "imagesFailed": sum(f["image"]["status"] == "failed" for f in listed),
            "videosReady": sum(f["video"]["status"] == "ready" for f in listed),
            "videosFailed": sum(f["video"]["status"] == "failed" for f in listed),
        },
        music={"status": "ready", "url": f"/api/v1/jobs/{job.id}/artifacts/{music['path']}"} if music else
        {"status": "skipped" if job.request.get("noMusic") else "pending", "url": None},
        poster=next((f["image"]["url"] for f in listed if f["image"]["url"]), None),
        video=video,
        error=job.error,
        links=status_links(job),
    )


@bp.post("")
@contract("Create a sequence from a script (OpenStory)", {202: ("Created; poll statusUrl.", SequencesCreated)},
          errors=INVALID, body=(SequenceRequest,),
          params=({**WAIT, "description": "Hold the answer until each new sequence's first progress (same format)."},))
def create():
    body = parse_body(SequenceRequest)
    wait = wait_seconds()  # a malformed ?wait is refused before anything is created
    job = generate.create(parse_body(GenerateRequest, body.generate_request()), current_app.config["SETTINGS"],
                          owner=current_owner())
    entry = {"id": public_id(job), "status": STATUSES[State(job.state)], "workflowRunId": job.id,
             "statusUrl": f"/api/v1/sequences/{public_id(job)}", "links": status_links(job)}
    if wait:
        waited, headers = wait_for_change(job, current_owner())
        entry.update(progress=document(waited), waitChanged=headers["X-Wait-Changed"] == "true",
                     waitDone=headers["X-Wait-Done"] == "true")
    # A script the job may still expand is not known yet; the sequence's frames show the lines used.
    enhanced = body.script if body.enhance != "always" and not body.expands() else None
    return SequencesCreated(sequences=[SequenceEntry(**entry)], enhancedScript=enhanced,
                            links={"self": link("/api/v1/sequences", "POST"), "sequence": entry["links"]["self"]}), 202


@bp.get("/<sequence_id>")
@contract("Read a sequence's status document", {200: ("The status, derived from the database.", Sequence)},
          errors={**BAD_ID, 404: "No such sequence (or another key's)."}, params=(WAIT,),
          description="A completed sequence can still count failed frames: check `counts`.")
def status(sequence_id):
    job, headers = wait_for_change(find_sequence(sequence_id), current_owner())
    return document(job), 200, headers
