"""The answers of OpenStory's sequence routes: what the handlers build and the document shows."""

from typing import Literal

from pydantic.json_schema import SkipJsonSchema

from ..jobs import State
from .contract import ErrorDetail, Links, Strict, absent, links

# A sequence's status, by its job's state.
STATUSES = {State.QUEUED: "draft", State.RUNNING: "generating", State.COMPLETED: "completed",
            State.FAILED: "failed", State.CANCELLED: "cancelled"}
Status = Literal[tuple(STATUSES.values())]


class Media(Strict):
    status: Literal["ready", "skipped", "pending", "failed"]
    url: str | None


class Frame(Strict):
    index: int
    scriptLine: str
    visualType: str
    image: Media
    video: Media


class FrameCounts(Strict):
    frames: int
    imagesReady: int
    imagesFailed: int
    videosReady: int
    videosFailed: int


class Sequence(Strict):
    id: str
    title: str | None
    status: Status
    frames: list[Frame]
    counts: FrameCounts
    music: Media
    poster: str | None
    video: str | None
    error: ErrorDetail | None
    links: Links = links()


class SequenceEntry(Strict):
    id: str
    status: Status
    workflowRunId: str
    statusUrl: str
    links: Links = links()
    progress: Sequence | SkipJsonSchema[None] = absent("With ?wait: the first progress snapshot.")
    waitChanged: bool | SkipJsonSchema[None] = absent()
    waitDone: bool | SkipJsonSchema[None] = absent()


class SequencesCreated(Strict):
    sequences: list[SequenceEntry]
    enhancedScript: str | None
    links: Links = links()
