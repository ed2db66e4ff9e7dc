"""A job's title for lists and the page: what the request named, else words from its content.

Derived from the stored request and outputs every time, so jobs made before titles existed
have one too.
"""

import re

MAX_CHARS = 80


def first_line(text) -> str | None:
    """The first non-blank line of text, shortened to MAX_CHARS at a word boundary."""
    if not isinstance(text, str):
        return None
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    if len(line) > MAX_CHARS:
        line = line[:MAX_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return line or None


def first_sentence(text) -> str | None:
    """The first sentence of text's first line (a narration's opening), shortened as first_line does."""
    if not isinstance(text, str):
        return None
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return first_line(re.split(r"(?<=[.!?])\s+", line, maxsplit=1)[0])


def _score_line(score) -> str | None:
    scenes = score.get("scenes") if isinstance(score, dict) else None
    return first_sentence(scenes[0].get("script_line")) if scenes and isinstance(scenes[0], dict) else None


def _manifest_line(manifest) -> str | None:
    overlays = (manifest or {}).get("composition", {}).get("text_overlays") or []
    return first_line(overlays[0].get("content")) if overlays and isinstance(overlays[0], dict) else None


def title_of(job) -> str:
    """The title given, the topic, the script's or the score's first sentence, a render's first text, or the kind."""
    request = job.request or {}
    metadata = request.get("metadata") if isinstance(request.get("metadata"), dict) else {}
    score = request.get("score") or (job.outputs or {}).get("score")
    found = (first_line(request.get("title")) or first_line(metadata.get("title")) or first_line(request.get("topic"))
             or first_sentence(request.get("script")) or _score_line(score) or _manifest_line(request.get("manifest")))
    if found:
        return found
    return "Manifest render" if job.kind == "render" else "Reel"
