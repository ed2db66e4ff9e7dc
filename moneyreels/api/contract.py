"""Each route declares its contract beside its view: summary, answers, errors, body and parameters.

`@contract(...)` records them on the view, where openapi.py reads them while walking the url_map,
and makes the view answer with the model it built: a view whose answer is declared as a model must
return an instance of that very model (alone, or with a status and headers), serialised here. The
models forbid extra fields, so a field cannot reach a client without being in the document too.
"""

import functools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer
from pydantic.json_schema import SkipJsonSchema

from ..isotime import moment, stamp
from .inputs import _DURATION, MAX_WAIT_SECONDS


@dataclass(frozen=True)
class Contract:
    summary: str
    responses: dict  # status -> (description, response model, or a `content` map for other media)
    errors: dict = field(default_factory=dict)  # dialect error statuses beyond the common ones
    body: tuple = ()  # the models the JSON body must satisfy, all of them
    body_required: bool = True
    params: tuple = ()  # query and header parameters
    description: str = ""
    upload: dict = field(default_factory=dict)  # a multipart/form-data body's schema, when one is taken

    def models(self) -> list:
        """The pydantic models of the answers and the body, in the order declared."""
        named = [answer for _, answer in self.responses.values()] + list(self.body)
        return [model for model in named if isinstance(model, type)]

    def serialise(self, view, returned):
        """A model answer as JSON-ready data; files, streams and pages pass through as they are."""
        if not any(isinstance(answer, type) for _, answer in self.responses.values()):
            return returned
        body, *rest = returned if isinstance(returned, tuple) else (returned,)
        status = rest[0] if rest and isinstance(rest[0], int) else 200
        declared = self.responses.get(status, (None, None))[1]
        if type(body) is not declared:
            raise TypeError(f"{view.__qualname__} answered {status} with {type(body).__name__}, "
                            f"but its contract says {getattr(declared, '__name__', declared)}")
        data = body.model_dump(mode="json", by_alias=True)
        return (data, *rest) if rest else data


def contract(summary, responses, **details):
    """Declare a view's contract (see Contract) and answer with the model the view returns."""
    spec = Contract(summary, responses, **details)

    def decorate(view):
        @functools.wraps(view)
        def answer(*args, **kwargs):
            return spec.serialise(view, view(*args, **kwargs))

        answer.contract = spec
        return answer

    return decorate


# -- Pieces every dialect's response models share.

class Strict(BaseModel):
    """A response model: extra fields are refused, fields are set by name, `_links` by its alias."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def absent(description=None):
    """A key that is absent or set, never null: its schema allows neither null nor a default."""
    return Field(None, description=description, exclude_if=lambda value: value is None,
                 json_schema_extra=lambda schema: schema.pop("default"))


def links():
    return Field(alias="_links", description="HAL links: the actions available from here, each with its method.")


# A moment in time: epoch seconds in, '2024-03-15T10:30:00.000Z' out (as the dialects' documents show).
Timestamp = Annotated[datetime, BeforeValidator(moment), PlainSerializer(stamp, return_type=str)]


class Link(Strict):
    href: str
    method: Literal["GET", "POST", "PATCH", "DELETE"]
    title: str | SkipJsonSchema[None] = absent()
    templated: bool | SkipJsonSchema[None] = absent()
    type: str | SkipJsonSchema[None] = absent()


Links = dict[str, Link]


def link(href, method="GET", **extra) -> dict:
    return {"href": href, "method": method, **extra}


class ErrorDetail(Strict):
    code: str
    message: str
    details: dict[str, Any]


# -- Declarations more than one dialect uses.

SSE = {"text/event-stream": {"schema": {"type": "string"}}}
ANY_FILE = {"*/*": {"schema": {}}}
INVALID = {400: "Invalid JSON or a field out of range; `details.errors` names each field."}
BAD_ID = {400: "The id is not a UUID, or a parameter is malformed.", 404: "No such job (or another key's)."}
UNKNOWN_JOB = {404: "No such job (or another key's)."}
BAD_RANGE = {416: "The Range lies outside the file."}
STORED = {503: "The bucket of STORAGE_URL did not answer; try again later."}
REDIRECTED = "With a bucket and MONEYREELS_STORAGE_SERVE=redirect: a 302 to a presigned URL of the file."
WAIT = {"name": "wait", "in": "query", "schema": {"type": "string", "pattern": _DURATION.pattern},
        "description": f"Long-poll: hold the request until the job changes or finishes, at most this long (30, 60s, "
                       f"2m, 1500ms; capped at {MAX_WAIT_SECONDS:g} s). X-Wait-Changed and X-Wait-Done say which."}


def download(description, content) -> dict:
    """A file's answers: whole, or the byte range the Range header asked for."""
    return {200: (description, content), 206: ("The range asked for.", content)}
