"""The answers of MoneyPrinter's routes under /api: what the handlers build and the document shows."""

from typing import Any, Literal

from pydantic.json_schema import SkipJsonSchema

from ..jobs import State
from .contract import Strict, Timestamp, absent


class MoneyPrinterError(Strict):
    """MoneyPrinter's error envelope, under /api."""

    status: Literal["error"]
    message: str


class MoneyPrinterJob(Strict):
    id: str
    state: State
    cancelRequested: bool
    resultPath: str | None
    errorMessage: str | None
    createdAt: Timestamp
    startedAt: Timestamp | None
    completedAt: Timestamp | None


class MoneyPrinterEvent(Strict):
    id: int
    type: str
    level: str
    message: str
    payload: dict[str, Any] | None
    timestamp: float


class MoneyPrinterQueued(Strict):
    status: Literal["success"]
    message: str
    jobId: str


class MoneyPrinterJobBody(Strict):
    status: Literal["success"]
    job: MoneyPrinterJob


class MoneyPrinterEvents(Strict):
    status: Literal["success"]
    events: list[MoneyPrinterEvent]


class MoneyPrinterCancelled(Strict):
    status: Literal["success"]
    message: str
    jobId: str | SkipJsonSchema[None] = absent()
