"""Shared fixtures: a fresh app in testing mode and its test client; throwaway servers."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import erlen

sys.path.insert(0, str(Path(__file__).resolve().parent))  # `import servers` (tests/servers.py)
import server_fixtures  # noqa: E402
from database_uris import fresh_database_uri  # noqa: E402
from servers import MariaDBServer, PostgresServer  # noqa: E402

# the throwaway servers' fixtures (tests/server_fixtures.py), registered by name here
postgres_server = server_fixtures.postgres_server
mariadb_server = server_fixtures.mariadb_server
redis_server = server_fixtures.redis_server
smtp_server = server_fixtures.smtp_server


@pytest.fixture
def app() -> erlen.Erlen:
    app = erlen.Erlen("test_app", root_path=__file__.rsplit("/", 1)[0])
    app.config.update(TESTING=True, SECRET_KEY="test key")
    return app


@pytest.fixture
def client(app: erlen.Erlen):
    return app.test_client()


@pytest.fixture
def app_ctx(app: erlen.Erlen):
    with app.app_context() as ctx:
        yield ctx


@pytest.fixture
def req_ctx(app: erlen.Erlen):
    with app.test_request_context() as ctx:
        yield ctx


# -- throwaway database servers (tests/servers.py), started lazily, once per session -------


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def database_uri(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An SQLAlchemy URL of a fresh, empty database, once per backend; dropped afterwards."""
    with fresh_database_uri(request, request.param, tmp_path) as url:
        yield url


@pytest.fixture(params=["postgresql", "mariadb"])
def sql_server(request: pytest.FixtureRequest) -> Iterator[PostgresServer | MariaDBServer]:
    """The session's PostgreSQL, then MariaDB server (running; started again afterwards, so
    a test may stop it)."""
    fixture = "postgres_server" if request.param == "postgresql" else "mariadb_server"
    server = request.getfixturevalue(fixture)
    server.start()
    yield server
    server.start()


@pytest.fixture
def redis_url(redis_server) -> str:
    """The URL of db 0 on the session's redis-server, emptied (FLUSHALL) for this test."""
    redis_server.start()  # a previous test may have stopped it
    redis_server.flushall()
    return redis_server.url
