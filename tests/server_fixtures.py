"""The throwaway servers as pytest fixtures, shared by tests/conftest.py and
examples/conftest.py (each imports them): PostgreSQL, MariaDB and Redis once per session
(tests/servers.py; skipped when the server is not installed), SMTP per test
(tests/smtp_server.py)."""

from __future__ import annotations

import pytest

from servers import MariaDBServer, PostgresServer, RedisServer


def _start_server(cls):
    reason = cls.missing()
    if reason:
        pytest.skip(reason)
    return cls()


@pytest.fixture(scope="session")
def postgres_server():
    """A private PostgreSQL on loopback for the whole session (skips if not installed)."""
    server = _start_server(PostgresServer)
    yield server
    server.close()


@pytest.fixture(scope="session")
def mariadb_server():
    """A private MariaDB on loopback for the whole session (skips if not installed)."""
    server = _start_server(MariaDBServer)
    yield server
    server.close()


@pytest.fixture(scope="session")
def redis_server():
    """A private redis-server on loopback for the whole session (skips if not installed)."""
    server = _start_server(RedisServer)
    yield server
    server.close()


@pytest.fixture
def smtp_server():
    """A plain SMTP server on loopback (tests/smtp_server.py; TLS/AUTH variants there)."""
    from smtp_server import SMTPServer

    with SMTPServer() as server:
        yield server
