"""Merge fields: `{{NAME}}` placeholders in a stored manifest, found, checked and filled in.

Substitution walks the parsed JSON, never its text: a value is put in the one string it replaces,
so no value can add keys, close a string or reach another field. A string that is exactly one
placeholder takes the merged value with its JSON type (`"{{DURATION}}"` becomes 4.5); a placeholder
inside longer text takes the value's JSON text ("Day {{N}}" becomes "Day 3"). Values are put in
once: a `{{...}}` inside a merged value stays as it is.
"""

import json
import re

from pydantic import ValidationError

from .errors import InvalidRequest
from .manifest import Manifest

NAME = r"[A-Za-z0-9_]{1,64}"
PLACEHOLDER = re.compile(r"\{\{(" + NAME + r")\}\}")
BRACES = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)

# Bounds of a template (docs/templates.md lists them; keep it in step).
MAX_FIELDS = 100  # distinct field names
MAX_PLACES = 500  # strings holding a placeholder
MAX_DEPTH = 32  # nesting of objects and arrays; a manifest needs about 6
MAX_MANIFEST_BYTES = 256 * 1024  # the manifest as compact JSON
MAX_VALUE_CHARS = 8192  # a merged string: as long as the longest asset URL


def _invalid(errors: list[dict]) -> InvalidRequest:
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return InvalidRequest(f"{first['field']}: {first['message']}{more}", code="validation_error",
                          details={"errors": errors})


def dotted(path) -> str:
    return ".".join(str(part) for part in path)


def places(manifest: dict) -> dict[tuple, list[str]]:
    """Map the path of each string holding placeholders to their field names; refuse a malformed template."""
    found, errors = {}, []

    def walk(value, path):
        if len(path) > MAX_DEPTH:
            raise _invalid([{"field": "manifest", "message": f"nested deeper than {MAX_DEPTH} levels"}])
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, (*path, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, (*path, index))
        elif isinstance(value, str) and "{{" in value:
            bad = [inner for inner in BRACES.findall(value) if not re.fullmatch(NAME, inner)]
            if bad:
                errors.append({"field": dotted(("manifest", *path)), "message": f"{{{{{bad[0][:70]}}}}} is not a merge field: "
                               "a name is 1 to 64 letters, digits or underscores"})
            elif names := PLACEHOLDER.findall(value):
                found[path] = names

    walk(manifest, ())
    if errors:
        raise _invalid(errors)
    if len(found) > MAX_PLACES:
        raise _invalid([{"field": "manifest", "message": f"at most {MAX_PLACES} strings may hold merge fields"}])
    if len(fields_in(found)) > MAX_FIELDS:
        raise _invalid([{"field": "manifest", "message": f"at most {MAX_FIELDS} distinct merge fields"}])
    return found


def fields_in(found: dict) -> list[str]:
    """The field names of `places`, each once, in the order they first appear."""
    return list(dict.fromkeys(name for names in found.values() for name in names))


def check_size(manifest: dict):
    size = len(json.dumps(manifest, separators=(",", ":")).encode())
    if size > MAX_MANIFEST_BYTES:
        raise _invalid([{"field": "manifest", "message": f"is {size} bytes as JSON; at most {MAX_MANIFEST_BYTES}"}])


def as_text(value) -> str:
    """A merged value as it reads inside longer text: a string as is, anything else as its JSON."""
    return value if isinstance(value, str) else json.dumps(value)


def fill(value, values: dict, whole=lambda name, merged: merged):
    """A copy of `value` with each placeholder replaced from `values` (every name must be there)."""
    if isinstance(value, dict):
        return {key: fill(item, values, whole) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, values, whole) for item in value]
    if not isinstance(value, str) or "{{" not in value:
        return value
    alone = PLACEHOLDER.fullmatch(value)
    if alone:
        return whole(alone[1], values[alone[1]])
    return PLACEHOLDER.sub(lambda match: as_text(values[match[1]]), value)


def merge(manifest: dict, values: dict) -> dict:
    """The template filled with `values`, or a 400 naming each field `values` lacks."""
    needed = fields_in(places(manifest))
    missing = [name for name in needed if name not in values]
    if missing:
        raise _invalid([{"field": f"merge.{name}", "message": "missing: the template needs a value for this field"}
                        for name in missing])
    return fill(manifest, values)


def blame(errors: list[dict], found: dict) -> list[dict]:
    """Add to each manifest error the merge fields whose values stand at (or under) its field."""
    at = {dotted(path): names for path, names in found.items()}
    blamed = []
    for error in errors:
        names = next((list(dict.fromkeys(names)) for where, names in at.items()
                      if error["field"] == where or error["field"].startswith(where + ".")), None)
        if names:
            which = "field" if len(names) == 1 else "fields"
            error = {**error, "merge_fields": names, "message": f"{error['message']} (from merge {which} {', '.join(names)})"}
        blamed.append(error)
    return blamed


def check_template(manifest: dict) -> list[str]:
    """Check a template as far as its placeholders allow; return its field names or raise a 400.

    Each placeholder gets a stand-in (a lone one the number 1, or where a number is refused its
    field's name; one inside text its field's name) and the manifest is validated. Errors at a
    placeholder, and cross-field checks of an object holding one, wait for the merged values;
    any other error is the template's own and is refused now.
    """
    check_size(manifest)
    found = places(manifest)
    as_name = set()
    # Two passes settle it (numbers, then names where a number was refused); a third finds nothing new.
    for _ in range(3):
        stand_in = fill(manifest, {name: name for name in fields_in(found)},
                        whole=lambda name, _: name if name in as_name else 1)
        try:
            Manifest.model_validate(stand_in)
            return fields_in(found)
        except ValidationError as exc:
            problems = exc.errors(include_input=False, include_url=False)
        blamed = [_placeholder_at(tuple(problem["loc"]), found) for problem in problems]
        retry = {name for path in blamed if path and PLACEHOLDER.fullmatch(_at(manifest, path))
                 for name in found[path] if name not in as_name}
        own = [problem for problem, path in zip(problems, blamed) if path is None and not _holds(problem["loc"], found)]
        if own:
            raise _invalid([{"field": dotted(("manifest", *problem["loc"])),
                             "message": problem["msg"].removeprefix("Value error, ")} for problem in own])
        if not retry:
            break
        as_name |= retry
    return fields_in(found)


def _placeholder_at(loc: tuple, found: dict):
    """The placeholder path at or above an error's location, if any."""
    return next((path for path in found if loc[:len(path)] == path), None)


def _holds(loc, found) -> bool:
    """Whether the object at an error's location holds a placeholder (a cross-field check of it)."""
    return any(path[:len(loc)] == tuple(loc) for path in found)


def _at(manifest, path):
    for part in path:
        manifest = manifest[part]
    return manifest
