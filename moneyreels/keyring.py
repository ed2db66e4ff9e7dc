"""BYOK provider keys sent with a job: held in this process's memory only, never stored."""

import threading

_keys: dict[str, dict[str, str]] = {}
_lock = threading.Lock()


def put(job_id: str, keys: dict[str, str]):
    if keys:
        with _lock:
            _keys[job_id] = dict(keys)


def get(job_id: str) -> dict[str, str] | None:
    with _lock:
        keys = _keys.get(job_id)
    return dict(keys) if keys is not None else None


def drop(job_id: str):
    with _lock:
        _keys.pop(job_id, None)
