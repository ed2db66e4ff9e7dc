import ipaddress
import socket

import pytest

from moneyreels import create_app, db
from moneyreels.config import Settings
from moneyreels.worker import Worker
from tests.support.media import noise_image
from tests.support.runners import ticker

pytest_plugins = ["tests.support.s3"]  # s3_server, s3_storage_url: a bucket on 127.0.0.1


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    """Refuse any connection off this machine: tests run against fakes on 127.0.0.1 only."""
    real_connect = socket.socket.connect

    def loopback_only(sock, address):
        if isinstance(address, tuple):
            host = address[0]
            try:
                allowed = ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
            except ValueError:
                allowed = host == "localhost"
            if not allowed:
                raise OSError(f"tests may not connect to {host}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", loopback_only)


@pytest.fixture(autouse=True)
def espeak_by_default(request, monkeypatch):
    """Speak with eSpeak NG unless a test asks for `piper_voice`: Piper takes seconds a job, espeak milliseconds.

    A test that is not about the voice stays fast; tests of the default voice take `piper_voice`.
    """
    if "piper_voice" not in request.fixturenames:
        monkeypatch.setattr("moneyreels.providers.tts.piper.usable", lambda keys: False)


@pytest.fixture
def piper_voice():
    """Let Piper be the default voice, as it is outside tests (its model loads once per test run)."""


@pytest.fixture
def settings(tmp_path):
    """Settings on a temporary folder, whose media folder holds pic.jpg (see support/media.py)."""
    # Port 9 (discard) on loopback: no local Ollama is ever found by a test. Rate limits are
    # off here; their own tests turn them on.
    settings = Settings(data_dir=tmp_path / "data", jobs_dir=tmp_path / "output", media_dir=tmp_path / "media",
                        ollama_url="http://127.0.0.1:9/v1", rate_limit=0, api_rate_limit=0)
    settings.media_dir.mkdir(parents=True)
    noise_image(settings.media_dir / "pic.jpg")
    return settings


@pytest.fixture
def app(settings):
    app = create_app(settings)
    yield app
    db.database.close()


@pytest.fixture
def configure(app, settings):
    """Return a function that restarts the app's settings with changes, as a new environment would, and returns them."""
    def configure(**changes) -> Settings:
        app.config["SETTINGS"] = Settings(**{**dict(settings), **changes})
        return app.config["SETTINGS"]
    return configure


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runners():
    """Runners the stepped worker knows; tests add their own kinds."""
    return {"tick": lambda ctx: ticker(ctx, ticks=3, interval=0)}


@pytest.fixture
def worker(app, settings, runners):
    """A worker the test steps with worker.loop(): no threads, no sleeps."""
    return Worker(settings, runners)
