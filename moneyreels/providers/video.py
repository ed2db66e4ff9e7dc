"""Generate an AI video clip remotely: Google Veo (Gemini API) or fal's queue (Kling by default).

Both are long-running: submit, poll until done, download. `checkpoint()` runs before every
poll, so a cancelled job stops within one poll interval; a job that outlasts `timeout` fails.
Nothing is cancelled at the provider: neither refunds a started generation.
"""

import logging
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Protocol
from urllib.parse import urlsplit

from . import remote
from .remote import RemoteProvider

log = logging.getLogger(__name__)

MAX_VIDEO_BYTES = 200 * 1024 * 1024
_OPERATION = re.compile(r"[A-Za-z0-9._/-]+")  # what an operation name may hold: it becomes a URL path


class VideoProvider(Protocol):
    key: str
    label: str
    requires: tuple[str, ...]

    def generate(self, prompt: str, seconds: float, out_path: Path, *, checkpoint: Callable[[], None],
                 model: str | None = None, poll_interval: float = 5.0, timeout: float = 600) -> Path:
        """Generate a portrait clip of about `seconds` into out_path; checkpoint() may raise JobCancelled."""
        ...


class _RemoteVideo(RemoteProvider, ABC):
    default_model: ClassVar[str]

    def generate(self, prompt: str, seconds: float, out_path: Path, *, checkpoint: Callable[[], None],
                 model: str | None = None, poll_interval: float = 5.0, timeout: float = 600) -> Path:
        """Submit the job, poll it until it is done, and download the clip to out_path."""
        model = model or self.default_model
        job = self._submit(prompt, seconds, model)
        log.info("%s: submitted %s for %.1f s", self.key, model, seconds)
        url = self._poll(lambda: self._result(job), checkpoint, poll_interval, timeout)
        return self._download(url, Path(out_path), max_bytes=MAX_VIDEO_BYTES, headers=self._download_headers(url))

    def _poll(self, check: Callable[[], str | None], checkpoint: Callable[[], None], interval: float,
              timeout: float) -> str:
        started, waited = time.monotonic(), 0.0
        while True:
            # The slept total makes the limit exact when sleep is faked; the clock adds request time.
            if max(waited, time.monotonic() - started) + interval > timeout:
                raise self.client.error(f"{self.label} did not finish within {timeout:g} s", retryable=True)
            self.client.sleep(interval)
            waited += interval
            checkpoint()
            url = check()
            if url is not None:
                return url

    def _download_headers(self, url: str) -> dict[str, str]:
        """Return the headers a result download needs: none unless the provider says otherwise."""
        return {}

    @abstractmethod
    def _submit(self, prompt: str, seconds: float, model: str) -> Any:
        """Start a generation and return what _result polls."""

    @abstractmethod
    def _result(self, job: Any) -> str | None:
        """Return the finished clip's URL, None while it runs; raise if it failed."""


class Veo(_RemoteVideo):
    """Veo through the Gemini API's predictLongRunning operations; the clip's URI needs the key too."""

    key, label, requires = "gemini", "Google Veo", ("GOOGLE_API_KEY", "GEMINI_API_KEY")
    default_base_url = "https://generativelanguage.googleapis.com"
    default_model = "veo-3.0-generate-preview"

    def _auth_headers(self, api_key):
        return {"x-goog-api-key": api_key}

    def _submit(self, prompt, seconds, model):
        body = {"instances": [{"prompt": prompt}],
                "parameters": {"aspectRatio": "9:16", "durationSeconds": veo_seconds(model, seconds)}}
        data = self.client.request("POST", f"/v1beta/models/{model}:predictLongRunning", json=body)
        name = data.get("name") if isinstance(data, dict) else None
        if not isinstance(name, str) or not _OPERATION.fullmatch(name) or ".." in name:
            raise self.client.error(f"{self.label} returned a malformed response (no operation name)")
        return name

    def _result(self, name):
        operation = self.client.request("GET", f"/v1beta/{name}")
        if not isinstance(operation, dict):
            raise self.client.error(f"{self.label} returned a malformed operation")
        if operation.get("error"):
            error = operation["error"]
            message = error.get("message") if isinstance(error, dict) else error
            raise self.client.error(f"{self.label} failed: {message}")
        if not operation.get("done"):
            return None
        response = operation.get("response")
        answer = response.get("generateVideoResponse") if isinstance(response, dict) else None
        try:
            return answer["generatedSamples"][0]["video"]["uri"]
        except (KeyError, IndexError, TypeError):
            # Veo answers "done" with no samples when its safety filters removed the video.
            reasons = answer.get("raiMediaFilteredReasons") if isinstance(answer, dict) else None
            why = f" ({'; '.join(map(str, reasons))})" if isinstance(reasons, list) and reasons else ""
            raise self.client.error(f"{self.label} returned no video{why}") from None

    def _download_headers(self, url):
        # The file URI is on the API host and needs the key; the key goes nowhere else.
        return self.client.headers if _origin(url) == _origin(self.client.base_url) else {}


def veo_seconds(model: str, seconds: float) -> int:
    """Return the clip length nearest above `seconds` that the Veo model accepts."""
    allowed = (4, 6, 8) if model.startswith("veo-3.1") else (5, 6, 7, 8) if model.startswith("veo-2") else (8,)
    return next((length for length in allowed if length >= seconds), allowed[-1])


class Fal(_RemoteVideo):
    """fal.ai's queue API; the default input shape is Kling's (prompt, duration "5"/"10", aspect_ratio)."""

    key, label, requires = "fal", "fal.ai", ("FAL_KEY",)
    default_base_url = "https://queue.fal.run"
    default_model = "fal-ai/kling-video/v2.1/standard/text-to-video"
    RUNNING = frozenset({"IN_QUEUE", "IN_PROGRESS"})

    def _auth_headers(self, api_key):
        return {"Authorization": f"Key {api_key}"}

    def _submit(self, prompt, seconds, model):
        body = {"prompt": prompt, "aspect_ratio": "9:16", "duration": "5" if seconds <= 5 else "10"}
        data = self.client.request("POST", f"/{model}", json=body)
        try:
            return self._queue_path(data["status_url"]), self._queue_path(data["response_url"])
        except (KeyError, TypeError):
            raise self.client.error(f"{self.label} returned a malformed response (no queue URLs)") from None

    def _result(self, job):
        status_path, response_path = job
        status = self.client.request("GET", status_path)
        state = status.get("status") if isinstance(status, dict) else None
        if state in self.RUNNING:
            return None
        if state != "COMPLETED" or status.get("error"):
            detail = status.get("error") or "no error given" if state else f"unexpected status {status}"
            raise self.client.error(f"{self.label} failed ({state}): {self.client.excerpt(str(detail))}")
        result = self.client.request("GET", response_path)
        try:
            return result["video"]["url"]
        except (KeyError, TypeError):
            raise self.client.error(f"{self.label} returned no video") from None

    def _queue_path(self, url: Any) -> str:
        """Return a queue URL's path; one on another host would be sent the key, so it is refused."""
        base = self.client.base_url
        if not isinstance(url, str) or not url.startswith(base + "/"):
            raise self.client.error(f"{self.label} returned a queue URL outside {base}")
        return url[len(base):]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


VIDEO_PROVIDERS = {cls.key: cls for cls in (Veo, Fal)}
PROVIDERS = remote.describe(VIDEO_PROVIDERS)


def available(keys: Mapping[str, str]) -> dict[str, bool]:
    """Return, per video provider, whether `keys` can drive it."""
    return remote.available(VIDEO_PROVIDERS, keys)


def build(name: str, keys: Mapping[str, str], **options) -> VideoProvider:
    """Construct the named video provider (options: base_url, client_options)."""
    return remote.build(VIDEO_PROVIDERS, "video", name, keys, **options)
