"""Shared fixtures: a fresh app in testing mode and its test client."""

from __future__ import annotations

import pytest

import erlen


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


@pytest.fixture
def smtp_server():
    """A plain SMTP server on loopback (tests/smtp_server.py; TLS/AUTH variants there)."""
    from smtp_server import SMTPServer

    with SMTPServer() as server:
        yield server
