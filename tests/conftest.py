import pytest

from moneyreels import create_app, db
from moneyreels.config import Settings
from moneyreels.worker import Worker
from tests.support.runners import ticker


@pytest.fixture
def settings(tmp_path):
    return Settings(data_dir=tmp_path / "data", jobs_dir=tmp_path / "output", media_dir=tmp_path / "media")


@pytest.fixture
def app(settings):
    app = create_app(settings)
    yield app
    db.database.close()


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
