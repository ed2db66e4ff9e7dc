"""The answers of OpenReels' routes under /api/v1: what the handlers build and the document shows."""

from typing import Any, Literal

from pydantic import Field, RootModel
from pydantic.json_schema import SkipJsonSchema

from ..jobs import State
from ..transitions import BUILT_IN, XFADE
from .contract import ErrorDetail, Links, Strict, Timestamp, absent, links


class JobSummary(Strict):
    id: str
    kind: str
    title: str = Field(description="the request's title, else the topic, the script's or score's first sentence")
    topic: str | None
    status: State
    createdAt: Timestamp
    completedAt: Timestamp | None
    stages: dict[str, Any]


class ListedJob(JobSummary):
    links: Links = links()


class JobList(Strict):
    jobs: list[ListedJob]
    total: int
    limit: int
    offset: int
    links: Links = links()


class JobDetail(JobSummary):
    """The whole job, as the SSE stream's job:snapshot shows it."""

    archetype: str | None
    startedAt: Timestamp | None
    cancelRequested: bool
    costEstimate: dict[str, Any] | None
    actualCost: dict[str, Any] | None
    videoPath: str | None
    runDir: str | None
    researchData: dict[str, Any] | None
    score: dict[str, Any] | None
    musicTrack: dict[str, Any] | None
    criticReview: dict[str, Any] | None
    providers: dict[str, Any] | None
    error: ErrorDetail | None


class JobSnapshot(JobDetail):
    links: Links = links()


class JobCreated(Strict):
    id: str
    topic: str | None
    archetype: str | None
    status: State
    links: Links = links()


class JobDeleted(Strict):
    status: Literal["deleted"]
    links: Links = links()


class CancelledJob(Strict):
    status: Literal["cancelled"]
    state: State
    cancelRequested: bool
    links: Links = links()


class Health(Strict):
    status: Literal["healthy", "degraded"]
    redis: Literal["unused"] = Field(description="OpenReels' field; there is no Redis: the queue is the database.")
    database: Literal["connected", "unavailable"]
    worker: Literal["running", "stopped"]
    jobsDir: Literal["exists", "missing"]
    keys: dict[str, bool]
    links: Links = links()


class Stats(Strict):
    totalJobs: int
    completedJobs: int
    failedJobs: int
    activeJobs: int
    totalCost: float
    links: Links = links()


class Catalog(RootModel[list[dict[str, Any]]]):
    """A JSON array of catalog entries; its self link is in the Link header."""


class TransitionEntry(Strict):
    name: str = Field(description="What a layer's `transition.type` names.")
    description: str
    kind: Literal[BUILT_IN, XFADE] = Field(description="A MoneyReels built-in, or ffmpeg's xfade transition "
                                                           "of that name.")
    xfade: str = Field(description="The ffmpeg xfade transition that draws it.")


class TransitionList(RootModel[list[TransitionEntry]]):
    """Every transition a timeline layer may take; its self link is in the Link header."""


class Voice(Strict):
    id: str
    label: str
    language: str


class Provider(Strict):
    key: str
    label: str
    requires: list[str] | SkipJsonSchema[None] = absent()
    available: bool
    voices: list[Voice] | SkipJsonSchema[None] = absent()


class ProviderList(Strict):
    llm: list[Provider]
    tts: list[Provider]
    image: list[Provider]
    stock: list[Provider]
    video: list[Provider]
    music: list[Provider]
