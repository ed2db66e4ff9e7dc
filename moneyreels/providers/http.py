"""The HTTP client every remote provider shares: retries, Retry-After, and key redaction.

Provider error bodies often echo the key they were sent, so every message this module
builds from a provider's answer, or from a requests exception, is redacted first.
"""

import contextlib
import datetime
import email.utils
import json as jsonlib
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import requests

from .. import transfer
from ..errors import MoneyReelsError

log = logging.getLogger(__name__)

REDACTED = "[redacted]"
SECRET_HEADERS = frozenset({"authorization", "x-api-key", "x-goog-api-key"})
ERROR_BODY_BYTES = 64 * 1024  # plenty for an error message; a huge HTML error page is cut here
EXCERPT_CHARS = 300

# Key-shaped text the client was not told about: a provider may echo some other key.
_PATTERNS = (
    (re.compile(r"(?i)\b((?:authorization|x-api-key|x-goog-api-key)[\"']?\s*[:=]\s*[\"']?)(?:bearer\s+)?[^\s\"',;}]+"),
     r"\1" + REDACTED),
    (re.compile(r"(?i)\bbearer\s+[\w.~+/=-]+"), "Bearer " + REDACTED),
    (re.compile(r"(?i)([?&](?:api_)?key=)[^&\s\"']+"), r"\1" + REDACTED),
    (re.compile(r"\b(?:sk-[\w-]{16,}|AIza[\w-]{30,})"), REDACTED),
)


class ProviderError(MoneyReelsError):
    """A remote provider failed or refused; `http_status` is its answer's status, if any.

    `status` stays the status MoneyReels' own API answers with (502: a bad gateway).
    """

    status = 502
    code = "provider_error"

    def __init__(self, message, *, provider, http_status=None, retryable=False, code=None, status=None, details=None):
        super().__init__(
            message, code=code, status=status,
            details={"provider": provider, "http_status": http_status, "retryable": retryable, **(details or {})},
        )
        self.provider = provider
        self.http_status = http_status
        self.retryable = retryable


@dataclass
class _Failure:
    """A retryable failure of one attempt."""

    message: str
    http_status: int | None = None
    retry_after: float | None = None


def parse_retry_after(value: str | None) -> float | None:
    """Return the seconds a Retry-After header asks for (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" dates parse naive; HTTP dates are always GMT
        when = when.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, when.timestamp() - time.time())


def _google_retry_delay(body: Any) -> float | None:
    """Return google.rpc.RetryInfo's retryDelay ("37s"): Gemini sends it instead of Retry-After."""
    error = body.get("error") if isinstance(body, dict) else None
    for detail in (error.get("details") or []) if isinstance(error, dict) else []:
        delay = detail.get("retryDelay") if isinstance(detail, dict) else None
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return max(0.0, float(delay[:-1]))
            except ValueError:
                return None
    return None


def _provider_message(body: Any, text: str) -> str:
    """Pick the human message out of the common error shapes, else the raw text."""
    if isinstance(body, dict):
        error = body.get("error")
        nested = error.get("message") if isinstance(error, dict) else error
        for candidate in (nested, body.get("message"), body.get("detail")):
            if isinstance(candidate, str) and candidate:
                return candidate
    return text


def _secrets(headers: dict, secrets: Iterable[str]) -> tuple[str, ...]:
    """Every secret to redact, longest first so a key inside "Bearer key" goes with it."""
    found = set(secrets)
    for name, value in headers.items():
        if name.lower() in SECRET_HEADERS:
            found.update((value, value.split(" ", 1)[-1]))  # also the token after "Bearer "
    return tuple(sorted(filter(None, found), key=len, reverse=True))


class ProviderClient:
    """Call one provider's HTTP API, retrying what is worth retrying; errors never carry keys.

    Secret headers (Authorization, x-api-key, x-goog-api-key) belong in `headers` here so
    their values are known to the redactor. Redirects are not followed: requests would
    forward x-api-key-style headers to whatever host a redirect names.
    """

    def __init__(
        self,
        provider: str,
        base_url: str,
        *,
        headers: dict,
        secrets: tuple[str, ...] = (),
        timeout: float | tuple[float, float] = (5, 60),
        retries: int = 3,
        backoff: float = 1.0,
        max_retry_after: float = 30,
        max_seconds: float = 300,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers)
        self.secrets = _secrets(self.headers, secrets)
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.max_seconds = max_seconds  # a whole response's limit, however steadily it trickles
        self.session = session or requests.Session()
        self.sleep = sleep

    def redact(self, text: str) -> str:
        """Replace every known secret and anything key-shaped with [redacted]."""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def excerpt(self, text: str) -> str:
        """Redact, then shorten: cutting first could leave half a key behind."""
        text = " ".join(self.redact(text).split())
        return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"

    def error(self, message: str, **kwargs) -> ProviderError:
        """Build a ProviderError for this provider, its message redacted."""
        return ProviderError(self.redact(message), provider=self.provider, **kwargs)

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict | None = None,
        headers: dict | None = None,
        expect: Literal["json", "bytes"] = "json",
        stream: bool = False,
        max_bytes: int | None = None,
    ) -> Any:
        """Send a request and return its parsed JSON, its bytes, or (stream=True) the open Response."""
        url = f"{self.base_url}/{path.lstrip('/')}"
        attempts = self.retries + 1
        for attempt in range(attempts):
            try:
                response = self.session.request(
                    method, url, json=json, params=params, headers={**self.headers, **(headers or {})},
                    timeout=self.timeout, stream=True, allow_redirects=False,
                )
                if response.status_code < 300:
                    return response if stream else self._body(response, expect, max_bytes)
                failure = self._failure(response)
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
                failure = _Failure(self._describe(exc))
            except transfer.DeadlineExceeded:
                raise self.error(
                    f"{self.provider} took longer than {self.max_seconds:g} s to send its response") from None
            except requests.RequestException as exc:
                raise self.error(f"{self.provider} request failed: {self._describe(exc)}") from None
            if attempt + 1 < attempts:
                self._wait(failure, attempt, attempts)
        raise self.error(
            f"{self.provider} failed after {attempts} attempts: {failure.message}",
            http_status=failure.http_status, retryable=True,
        )

    def _wait(self, failure: _Failure, attempt: int, attempts: int) -> None:
        """Sleep before the next attempt: what the provider asked for, else exponential backoff."""
        delay = self.backoff * 2**attempt if failure.retry_after is None else failure.retry_after
        if delay > self.max_retry_after:
            # Blocking a job for minutes helps nobody: fail now and let the caller try later.
            raise self.error(
                f"{self.provider} asked to wait {delay:.0f} s before retrying, longer than the "
                f"{self.max_retry_after:.0f} s allowed; try again later ({failure.message})",
                http_status=failure.http_status, retryable=True,
            )
        log.warning("%s: %s; retrying in %.1f s (attempt %d of %d)",
                    self.provider, failure.message, delay, attempt + 2, attempts)
        self.sleep(delay)

    def _describe(self, exc: requests.RequestException) -> str:
        if isinstance(exc, requests.Timeout):
            kind = "timed out"
        elif isinstance(exc, (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
            kind = "connection failed"
        else:
            kind = type(exc).__name__
        return f"{kind} ({self.excerpt(str(exc))})"

    def _failure(self, response: requests.Response) -> _Failure:
        """Describe a non-2xx answer; raise at once unless it is worth retrying."""
        status = response.status_code
        body = transfer.chunks(response, max_seconds=self.max_seconds, chunk_bytes=ERROR_BODY_BYTES)
        with contextlib.closing(body):
            raw = next(body, b"")
        response.close()
        text = raw.decode("utf-8", "replace")
        try:
            body = jsonlib.loads(text)
        except ValueError:
            body = None
        detail = self.excerpt(_provider_message(body, text))
        message = f"HTTP {status}" + (f": {detail}" if detail else "")
        if status in (408, 429) or status >= 500:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return _Failure(message, status, _google_retry_delay(body) if retry_after is None else retry_after)
        if status < 400:
            raise self.error(f"{self.provider} answered with a redirect ({message}), which is not followed",
                             http_status=status)
        raise self.error(f"{self.provider} rejected the request ({message})", http_status=status)

    def _body(self, response: requests.Response, expect: str, max_bytes: int | None) -> Any:
        content = self._read(response, max_bytes)
        if expect == "bytes":
            return content
        try:
            return jsonlib.loads(content)
        except ValueError:
            kind = response.headers.get("Content-Type", "no content type")
            raise self.error(f"{self.provider} returned a malformed response (not JSON: {kind})",
                             http_status=response.status_code) from None

    def _read(self, response: requests.Response, max_bytes: int | None) -> bytes:
        """Read the body on the clock, refusing one larger than max_bytes before and while downloading it."""
        declared = response.headers.get("Content-Length", "")
        if max_bytes is not None and declared.isdigit() and int(declared) > max_bytes:
            raise self._too_large(response, max_bytes)
        chunks, size = [], 0
        body = transfer.chunks(response, max_seconds=self.max_seconds)
        with contextlib.closing(body):
            for chunk in body:
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    raise self._too_large(response, max_bytes)
                chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, response: requests.Response, max_bytes: int) -> ProviderError:
        response.close()
        return self.error(f"{self.provider} sent a response larger than {max_bytes} bytes",
                          http_status=response.status_code)
