import ipaddress
import itertools
import os
import socket
from pathlib import Path

import psycopg2
import pytest

from moneyreels import create_app, db
from moneyreels.config import Settings
from moneyreels.worker import Worker
from tests.support.database import TEST_DATABASE_URL, in_database
from tests.support.media import noise_image
from tests.support.runners import ticker

pytest_plugins = ["tests.support.s3"]  # s3_server, s3_storage_url: a bucket on 127.0.0.1


# Per test run: runs sharing one server (a second terminal, the cluster test) keep their own.
TEMPLATE = f"moneyreels_template_{os.getpid()}"
# The tests that open the database: they take `settings` (`app`, `client`, `worker` build on it) or
# `database_url` or `postgres`. They alone run a second time on PostgreSQL; pure render tests gain nothing there.
DATABASE_FIXTURES = {"settings", "database_url", "postgres"}
# Except the folders whose subject is the reel (renders, pipeline stages, providers): their jobs reach
# the database through the same create, claim, stage and transition paths the API and worker tests
# run on PostgreSQL, and their renders are a third of the second pass's time.
REEL_FOLDERS = ("pipeline", "providers", "render")


def pytest_collection_modifyitems(items):
    """Mark `db` the tests that open the database (the PostgreSQL pass selects them with -m db)."""
    tests = Path(__file__).parent
    for item in items:
        if DATABASE_FIXTURES & set(item.fixturenames) and item.path.relative_to(tests).parts[0] not in REEL_FOLDERS:
            item.add_marker(pytest.mark.db)


@pytest.fixture(scope="session")
def postgres():
    """An autocommit connection to the PostgreSQL pass's server, and a template database with the tables."""
    connection = psycopg2.connect(TEST_DATABASE_URL)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {TEMPLATE}")
        cursor.execute(f"CREATE DATABASE {TEMPLATE}")
    db.connect(in_database(TEST_DATABASE_URL, TEMPLATE))
    db.database.close()  # a template is copied only while nobody is connected to it
    yield connection
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE {TEMPLATE}")
    connection.close()


_databases = itertools.count(1)


@pytest.fixture
def database_url(request, monkeypatch):
    """The test's own database: None (SQLite in DATA_DIR) or, on the PostgreSQL pass, a fresh copy of the template.

    DATABASE_URL names it too, for the servers a test starts and the settings it loads.
    """
    if TEST_DATABASE_URL is None:
        yield None
        return
    connection = request.getfixturevalue("postgres")
    name = f"test_{os.getpid()}_{next(_databases)}"
    # FILE_COPY (PostgreSQL 15+) copies a small template in half the time of the default WAL_LOG.
    strategy = " STRATEGY FILE_COPY" if connection.server_version >= 150000 else ""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}{strategy}")
    url = in_database(TEST_DATABASE_URL, name)
    monkeypatch.setenv("DATABASE_URL", url)
    yield url
    if db.database.obj is not None:
        db.database.close()
    with connection.cursor() as cursor:
        # FORCE: the threads and servers a test leaves behind may still hold connections.
        cursor.execute(f"DROP DATABASE {name} WITH (FORCE)")


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
def settings(tmp_path, database_url):
    """Settings on a temporary folder and the test's database, whose media folder holds pic.jpg (see support/media.py)."""
    # Port 9 (discard) on loopback: no local Ollama is ever found by a test. Rate limits are
    # off here; their own tests turn them on.
    settings = Settings(data_dir=tmp_path / "data", jobs_dir=tmp_path / "output", media_dir=tmp_path / "media",
                        ollama_url="http://127.0.0.1:9/v1", rate_limit=0, api_rate_limit=0, database_url=database_url)
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
