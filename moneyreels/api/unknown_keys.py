"""Find the keys of a JSON body that its pydantic model does not know, with a likely intended key.

Reel Forge ignores unknown manifest keys (docs/manifest-extensions.md), so a typo such as
`fontSize` for `font_size` would vanish silently; these findings go back as warnings instead.
The known keys come from the models themselves, so a field added to a model is known at once.
"""

import difflib
import typing

from pydantic import BaseModel


def nested_model(annotation):
    """The one pydantic model an annotation holds (through Optional, list, Annotated), else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    found = {model for arg in typing.get_args(annotation) if (model := nested_model(arg)) is not None}
    return found.pop() if len(found) == 1 else None


def ignored(field, key, known) -> dict:
    """The warning that `key` (at `field`) was ignored, with the known key it most likely meant."""
    close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return {"field": field, "message": f"unknown key '{key}' ignored{hint}", "suggestion": close[0] if close else None}


def unknown_keys(model, data, path="", extra=()) -> list[dict]:
    """List {field, message, suggestion} for each key of `data` (and its nested objects) `model` lacks."""
    if not isinstance(data, dict):
        return []
    fields = {info.alias or name: info.annotation for name, info in model.model_fields.items()}
    known = [*fields, *extra]
    found = []
    for key, value in data.items():
        where = f"{path}.{key}" if path else str(key)
        if key in extra:
            continue
        if key not in fields:
            found.append(ignored(where, key, known))
            continue
        inner = nested_model(fields[key])
        if inner is None:
            continue
        items = enumerate(value) if isinstance(value, list) else [(None, value)]
        for index, item in items:
            found += unknown_keys(inner, item, where if index is None else f"{where}.{index}")
    return found
