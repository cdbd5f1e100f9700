"""``fresh_database_uri``: a fresh empty database per backend, for fixtures and tests (a module
of its own, not conftest: ``from conftest import`` would find examples/conftest.py when both
folders are collected together)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from servers import unique_name


@contextlib.contextmanager
def fresh_database_uri(request: pytest.FixtureRequest, kind: str, tmp_path: Path) -> Iterator[str]:
    """A fresh empty database of ``kind`` ("sqlite", "postgresql", "mariadb"), dropped on
    exit: what ``database_uri`` gives, for fixtures parametrized their own way."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / f'{unique_name()}.db'}"
        return
    fixture = {"postgresql": "postgres_server", "mariadb": "mariadb_server"}[kind]
    server = request.getfixturevalue(fixture)
    server.start()  # a previous test may have stopped it
    name = unique_name()
    url = server.create_database(name)
    try:
        yield url
    finally:
        server.start()
        server.drop_database(name)
