"""From config to engines: URIs, per-bind options, driver defaults, the embedded default.

Precedence of engine options (low → high): ``SQLAlchemy(engine_options=...)``, then
``SQLALCHEMY_ENGINE_OPTIONS`` (default bind only) or the bind's dict in ``SQLALCHEMY_BINDS``,
then what a URI needs (sqlite paths, MySQL charset) — as Flask-SQLAlchemy 3.1, plus erlen's
``pool_pre_ping=True`` default for database servers and driver rewriting (``postgresql://`` → psycopg 3,
``mysql://`` → PyMySQL).
"""

from __future__ import annotations

import logging
import os
import re
import typing as t

import sqlalchemy as sa
import sqlalchemy.engine as sa_engine
import sqlalchemy.pool as sa_pool

if t.TYPE_CHECKING:
    from ..application import Erlen

log = logging.getLogger("erlen.db")

#: The driver erlen uses for a URI that names none (``postgresql://``, ``mysql://``).
DEFAULT_DRIVERS = {"postgresql": "psycopg", "mysql": "pymysql", "mariadb": "pymysql"}
_SCHEME_ALIASES = {"postgres": "postgresql"}  # Heroku-style URIs


def rewrite_driver(url: str | sa.URL) -> sa.URL:
    """``postgres://`` / ``postgresql://`` → ``postgresql+psycopg://``, ``mysql://`` /
    ``mariadb://`` → ``+pymysql``; a URI that names its driver is kept."""
    if isinstance(url, str):
        match = re.match(r"([A-Za-z0-9]+)(\+[A-Za-z0-9_]+)?://", url)
        if match and match.group(1) in _SCHEME_ALIASES:
            url = _SCHEME_ALIASES[match.group(1)] + url[len(match.group(1)) :]
    url = sa.make_url(url)
    backend, _, driver = url.drivername.partition("+")
    if not driver and backend in DEFAULT_DRIVERS:
        url = url.set(drivername=f"{backend}+{DEFAULT_DRIVERS[backend]}")
    return url


def default_sqlite_uri(app: Erlen) -> str:
    """The embedded default: ``<instance_path>/<app name>.db``."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", app.name).lstrip(".") or "app"
    return f"sqlite:///{os.path.join(app.instance_path, name + '.db')}"


def engine_options_by_bind(
    app: Erlen, base_options: dict[str, t.Any]
) -> dict[str | None, dict[str, t.Any]]:
    """Each bind's engine options (with ``url``), from the app's config."""
    config = app.config
    uri = config.setdefault("SQLALCHEMY_DATABASE_URI", None)
    default_options = dict(base_options)
    default_options.update(config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {}))
    echo = config.setdefault("SQLALCHEMY_ECHO", False)
    by_bind: dict[str | None, dict[str, t.Any]] = {}
    for key, value in config.setdefault("SQLALCHEMY_BINDS", {}).items():
        options = dict(base_options)
        options.update({"url": value} if isinstance(value, (str, sa.URL)) else value)
        by_bind[key] = options
    if uri is not None:
        default_options["url"] = uri
    if "url" in default_options:
        by_bind.setdefault(None, {}).update(default_options)
    if not by_bind:  # neither a URI nor binds: the embedded default (binds only: no default)
        default_options["url"] = default_sqlite_uri(app)
        by_bind[None] = default_options
        log.debug(
            "SQLALCHEMY_DATABASE_URI is not set: using the embedded default %s",
            default_options["url"],
        )
    for options in by_bind.values():
        options.setdefault("echo", echo)
        options.setdefault("echo_pool", echo)
        # a server can go away between requests: test each pooled connection before use.
        # A SQLite database is a file in this process: nothing to ping, and the ping was a
        # second statement per request (~8 % of a one-row request).
        if not _is_sqlite(options["url"]):
            options.setdefault("pool_pre_ping", True)
    return by_bind


def _is_sqlite(url: str | sa.URL) -> bool:
    return sa.make_url(url).get_backend_name() == "sqlite"


def apply_driver_defaults(options: dict[str, t.Any], app: Erlen) -> None:
    """What each backend needs: the driver named; a relative sqlite path under the instance
    folder (created), an in-memory one shared by all threads; MySQL's utf8mb4 charset and
    ``pool_recycle`` (MySQL closes idle connections after 8 hours)."""
    url = rewrite_driver(options["url"])
    if url.drivername.startswith("sqlite"):
        if url.database is None or url.database in {"", ":memory:"}:
            options["poolclass"] = sa_pool.StaticPool
            options.setdefault("connect_args", {})["check_same_thread"] = False
        else:
            # a driver-level URI (``sqlite:///file:name.db?uri=true``) names its file after
            # ``file:``; a relative file goes under the instance folder either way
            is_uri = url.query.get("uri", False)
            database = url.database
            prefix = ""
            if is_uri and database.startswith("file:"):
                prefix, database = "file:", database[5:]
            if not os.path.isabs(database):
                os.makedirs(app.instance_path, exist_ok=True)
                database = os.path.join(app.instance_path, database)
                url = url.set(database=prefix + database)
            elif os.path.dirname(database) == app.instance_path:
                os.makedirs(app.instance_path, exist_ok=True)
    elif url.drivername.startswith(("mysql", "mariadb")):
        options.setdefault("pool_recycle", 7200)
        if "charset" not in url.query:
            url = url.update_query_dict({"charset": "utf8mb4"})
    options["url"] = url


def make_engine(options: dict[str, t.Any]) -> sa_engine.Engine:
    """An engine from complete options (``url`` included)."""
    return sa.engine_from_config(options, prefix="")


def safe_url(url: sa.URL | str) -> str:
    """The URL as it may be logged: the password masked."""
    return sa.make_url(url).render_as_string(hide_password=True)
