"""The failure contract every remote image, stock and video provider meets, checked against its fake.

Each check scripts the failure as the fake's next reply, runs `call` (one provider operation
whose routes answer success) and asserts what the caller sees. `sleeps` is the list the
provider's injected sleep appends to.
"""

from collections.abc import Callable

import pytest

from moneyreels.providers.http import REDACTED, ProviderError
from tests.support.fakes import FakeServer, Reply


def raised(call: Callable, error: type[Exception] = ProviderError) -> Exception:
    with pytest.raises(error) as info:
        call()
    return info.value


def rejected(fake: FakeServer, sleeps: list, call: Callable, *, provider: str, key: str, reply: Reply) -> None:
    """A refused key fails at once, names the provider, and never shows the key."""
    fake.script(reply)
    error = raised(call)
    assert error.http_status == reply.status and not error.retryable
    assert error.provider == provider and provider in error.message.lower()
    assert key not in str(error) and key not in str(error.to_dict())
    assert len(fake.requests) == 1 and sleeps == []


def retried(fake: FakeServer, sleeps: list, call: Callable, reply: Reply, wait: float):
    """A 429 or 5xx is retried after `wait` seconds, and the call then succeeds."""
    fake.script(reply)
    result = call()
    assert sleeps[0] == wait
    assert fake.requests[0].path == fake.requests[1].path  # the same request, sent again
    return result


def timed_out(fake: FakeServer, call: Callable, *, key: str) -> None:
    """A provider that never answers fails once the client's retries are spent (client timeout 0.2 s, 1 retry)."""
    fake.script(Reply(delay=2), Reply(delay=2))
    error = raised(call)
    assert "timed out" in error.message and error.retryable
    assert key not in error.message and len(fake.requests) == 2


def malformed(fake: FakeServer, call: Callable, reply: Reply, expected: str) -> None:
    """A 200 that is not what the provider documents fails, saying so."""
    fake.script(reply)
    error = raised(call)
    assert expected in error.message


def echoed_key_redacted(fake: FakeServer, call: Callable, *, key: str, reply: Reply) -> None:
    """An error body that repeats the key reaches the caller with the key redacted."""
    fake.script(reply)
    error = raised(call)
    assert REDACTED in error.message
    assert key not in str(error) and key not in str(error.to_dict())
