"""The bodies and answers of Reel Forge-style render templates under /v1/templates."""

from typing import Annotated, Any, Literal

from pydantic import (BaseModel, ConfigDict, Field, RootModel, StrictBool, StrictFloat, StrictInt, StrictStr,
                      ValidationError, WrapValidator)
from pydantic.json_schema import SkipJsonSchema

from ..manifest import Manifest
from ..merge_fields import MAX_FIELDS, MAX_VALUE_CHARS
from .contract import Strict, Timestamp, absent
from .reelforge_models import KeyWarning

MAX_NAME_CHARS = 200
MAX_NUMBER = 2**53  # what every JSON reader holds exactly


class TemplateBody(BaseModel):
    """A template: a name and a render manifest whose strings may hold `{{FIELD}}` placeholders."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    manifest: dict[str, Any] = Field(description="A render manifest (see Manifest) with `{{FIELD}}` placeholders "
                                                 "in its string values; a string that is exactly one placeholder may "
                                                 "stand for a number or a boolean.")


def _one_message(value, handler):
    """Say once what a merge value may be, rather than once for each type it is not."""
    try:
        return handler(value)
    except ValidationError:
        raise ValueError(f"a merge value is a string of at most {MAX_VALUE_CHARS} characters, a number of at most "
                         f"2^53 either way, or true or false") from None


MergeValue = Annotated[
    StrictBool | Annotated[StrictInt, Field(ge=-MAX_NUMBER, le=MAX_NUMBER)]
    | Annotated[StrictFloat, Field(ge=-MAX_NUMBER, le=MAX_NUMBER, allow_inf_nan=False)]
    | Annotated[StrictStr, Field(max_length=MAX_VALUE_CHARS)],
    Field(union_mode="left_to_right"), WrapValidator(_one_message),
]


class TemplateRender(BaseModel):
    """A render of a stored template: its id and a value for each of its fields (keys it lacks are ignored)."""

    model_config = ConfigDict(extra="ignore")

    template_id: str = Field(min_length=1, max_length=100)
    merge: dict[Annotated[str, Field(max_length=100)], MergeValue] = Field(default_factory=dict,
                                                                           max_length=2 * MAX_FIELDS)


class RenderSource(RootModel[Manifest | TemplateRender]):
    """What to render: a manifest at the top level, or a template and the values to merge into it."""


class TemplateRef(Strict):
    id: str
    name: str
    fields: list[str]


class TemplateSaved(Strict):
    success: Literal[True]
    data: TemplateRef
    warnings: list[KeyWarning] | SkipJsonSchema[None] = absent("Unknown manifest keys, which a render ignores.")


class TemplateSummary(TemplateRef):
    created_at: Timestamp
    updated_at: Timestamp


class TemplateList(Strict):
    success: Literal[True]
    data: list[TemplateSummary]


class TemplateDetail(TemplateSummary):
    manifest: dict[str, Any]


class TemplateRead(Strict):
    success: Literal[True]
    data: TemplateDetail


class Removed(Strict):
    id: str
    deleted: Literal[True]


class TemplateDeleted(Strict):
    success: Literal[True]
    data: Removed
