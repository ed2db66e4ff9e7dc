"""Which database the tests run on: SQLite files (default) or, on the PostgreSQL pass, a server."""

import os
from urllib.parse import urlsplit

import pytest

# The PostgreSQL pass (scripts/test.sh): an empty database whose server lets this user create
# databases. Unset, every test runs on SQLite files in its temporary folder.
TEST_DATABASE_URL = os.environ.get("MONEYREELS_TEST_DATABASE_URL")

needs_postgres = pytest.mark.skipif(
    TEST_DATABASE_URL is None, reason="runs on the PostgreSQL pass (MONEYREELS_TEST_DATABASE_URL, scripts/test.sh)"
)


def in_database(url, name) -> str:
    """The same server and user, another database."""
    return urlsplit(url)._replace(path=f"/{name}").geturl()
