"""Reading request input: JSON bodies through pydantic, query parameters, wait durations."""

import json
import re

from flask import request
from pydantic import ValidationError

from ..errors import InvalidRequest

MAX_WAIT_SECONDS = 90.0


def field_errors(exc: ValidationError) -> list[dict]:
    """List pydantic's errors as {field, message}, never echoing the input (it may hold keys)."""
    return [
        {"field": ".".join(str(part) for part in err["loc"]) or "(body)",
         "message": err["msg"].removeprefix("Value error, ")}
        for err in exc.errors(include_input=False, include_url=False)
    ]


def invalid(exc: ValidationError) -> InvalidRequest:
    errors = field_errors(exc)
    first = errors[0]
    message = f"{first['field']}: {first['message']}" if first["field"] != "(body)" else first["message"]
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more)"
    return InvalidRequest(message, code="validation_error", details={"errors": errors})


def json_object() -> dict:
    """Return the request body as a JSON object, or raise InvalidRequest."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise InvalidRequest("Request body must be a JSON object.", code="invalid_json")
    try:
        data = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise InvalidRequest("Request body is not valid JSON (NaN and Infinity are not JSON numbers).",
                             code="invalid_json") from None
    if not isinstance(data, dict):
        raise InvalidRequest("Request body must be a JSON object.", code="invalid_json")
    return data


def _refuse_constant(name):
    """Python's json reads NaN and Infinity; JSON has no such numbers."""
    raise ValueError(f"{name} is not a JSON number")


def parse_body(model, data=None):
    """Validate the JSON body (or `data`) with a pydantic model."""
    try:
        return model.model_validate(json_object() if data is None else data)
    except ValidationError as exc:
        raise invalid(exc) from None


def non_negative_int(name, default=0, maximum=2**63 - 1) -> int:
    """Read an integer query parameter >= 0, or raise InvalidRequest."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.strip().isdigit() or int(raw) > maximum:
        raise InvalidRequest(
            f"Invalid '{name}' parameter: expected a non-negative integer.",
            code="invalid_parameter", details={"parameter": name},
        )
    return int(raw)


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, None: 1.0}


def wait_seconds(name="wait") -> float:
    """Read a long-poll duration (60s, 30, 2m, 1500ms), capped at MAX_WAIT_SECONDS; 0 if absent.

    An empty value is malformed too: OpenStory refuses it rather than answer without waiting.
    """
    raw = request.args.get(name)
    if raw is None:
        return 0.0
    match = _DURATION.match(raw)
    if not match:
        raise InvalidRequest(
            f"Invalid '{name}' parameter: expected a duration such as 30, 60s, 2m or 1500ms.",
            code="invalid_parameter", details={"parameter": name},
        )
    return min(float(match.group(1)) * _UNITS[match.group(2)], MAX_WAIT_SECONDS)
