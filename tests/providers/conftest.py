"""Fixtures every provider test shares: a fake provider API and a record of retry sleeps."""

import pytest

from tests.support.fakes import FakeServer


@pytest.fixture
def fake():
    with FakeServer() as server:
        yield server


@pytest.fixture
def sleeps():
    """Seconds the client was told to wait; pass `sleeps.append` as its sleep so tests never wait."""
    return []
