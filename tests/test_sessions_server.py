"""Server-side sessions (erlen.sessions.Session, Flask-Session 0.8's API) on real stores.

Shared behaviour runs on every backend: Redis (a real redis-server), cachelib's SimpleCache,
the file system, and SQLAlchemy on SQLite, PostgreSQL and MariaDB (real servers). Outages
stop the real server in the middle of a test and start it again.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgpack
import pytest
import redis
import sqlalchemy as sa

import erlen
from database_uris import fresh_database_uri
from erlen import session
from erlen.sessions import ServerSideSession, Session

SID = re.compile(r"[A-Za-z0-9_-]{43}")  # token_urlsafe(32)


@dataclass
class Backend:
    name: str
    config: dict[str, Any]
    #: force the stored session to expire (as the store's own expiry would)
    expire: Callable[[erlen.Erlen, str], None]
    #: the stored session's remaining lifetime in seconds, where the store tells it
    ttl: Callable[[erlen.Erlen, str], float | None] = lambda app, key: None


def _redis_expire(app: erlen.Erlen, key: str) -> None:
    app.session_interface.client.delete(key)  # type: ignore[attr-defined]


def _redis_ttl(app: erlen.Erlen, key: str) -> float | None:
    return app.session_interface.client.ttl(key)  # type: ignore[attr-defined,no-any-return]


def _cache_expire(app: erlen.Erlen, key: str) -> None:
    cache = app.session_interface.cache  # type: ignore[attr-defined]
    cache.set(key, cache.get(key), timeout=-100)  # expired 100 s ago


def _sql_expire(app: erlen.Erlen, key: str) -> None:
    iface = app.session_interface
    table = iface.table  # type: ignore[attr-defined]
    with iface.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(
            table.update()
            .where(table.c.session_id == key)
            .values(expiry=iface._now() - timedelta(seconds=5))  # type: ignore[attr-defined]
        )


def _sql_ttl(app: erlen.Erlen, key: str) -> float | None:
    iface = app.session_interface
    table = iface.table  # type: ignore[attr-defined]
    with iface.engine.connect() as conn:  # type: ignore[attr-defined]
        expiry = conn.execute(sa.select(table.c.expiry).where(table.c.session_id == key)).scalar()
    return None if expiry is None else (expiry - iface._now()).total_seconds()  # type: ignore[attr-defined]


@pytest.fixture(
    params=["redis", "cachelib", "filesystem", "sql-sqlite", "sql-postgresql", "sql-mariadb"]
)
def backend(request, tmp_path) -> Iterator[Backend]:
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        yield Backend(
            "redis", {"SESSION_TYPE": "redis", "SESSION_REDIS": url}, _redis_expire, _redis_ttl
        )
    elif request.param == "cachelib":
        from cachelib import SimpleCache

        config = {"SESSION_TYPE": "cachelib", "SESSION_CACHELIB": SimpleCache()}
        yield Backend("cachelib", config, _cache_expire)
    elif request.param == "filesystem":
        config = {"SESSION_TYPE": "filesystem", "SESSION_FILE_DIR": str(tmp_path / "sessions")}
        yield Backend("filesystem", config, _cache_expire)
    else:
        kind = request.param.removeprefix("sql-")
        with fresh_database_uri(request, kind, tmp_path) as uri:
            engine = sa.create_engine(uri)
            config = {"SESSION_TYPE": "sqlalchemy", "SESSION_SQLALCHEMY": engine}
            yield Backend("sqlalchemy", config, _sql_expire, _sql_ttl)
            engine.dispose()


def make_app(config: dict[str, Any]) -> erlen.Erlen:
    app = erlen.Erlen(__name__)
    app.config.update(TESTING=True, **config)
    Session(app)

    @app.route("/set/<key>/<value>")
    def set_value(key: str, value: str) -> str:
        session[key] = value
        return "ok"

    @app.route("/get/<key>")
    def get_value(key: str) -> str:
        return str(session.get(key, "missing"))

    @app.route("/clear")
    def clear() -> str:
        session.clear()
        return "cleared"

    @app.route("/login")
    def login() -> str:
        session["user"] = "alice"
        app.session_interface.regenerate(session)  # type: ignore[attr-defined]
        return "welcome"

    @app.route("/untouched")
    def untouched() -> str:
        return "no session here"

    return app


def sid_of(client: Any) -> str | None:
    cookie = client.get_cookie("session")
    return None if cookie is None else cookie.value


def stored(app: erlen.Erlen, sid: str) -> dict[str, Any] | None:
    iface = app.session_interface
    raw = iface._load("session:" + sid)  # type: ignore[attr-defined]
    return iface.serializer.loads(raw)  # type: ignore[attr-defined,no-any-return]


class Counting:
    """Counts the store operations of an interface (wrapping, not replacing them)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, iface: Any) -> None:
        self.calls: list[str] = []
        for name in ("_load", "_save", "_touch", "_delete"):
            original = getattr(iface, name)

            def wrapper(*args: Any, _name: str = name, _original: Any = original) -> Any:
                self.calls.append(_name)
                return _original(*args)

            monkeypatch.setattr(iface, name, wrapper)


# -- shared behaviour, every backend -------------------------------------------------------


def test_cookie_holds_only_a_random_id_and_the_data_is_stored(backend: Backend) -> None:
    app = make_app(backend.config)
    client = app.test_client()
    rv = client.get("/set/colour/blue")
    assert rv.status_code == 200
    header = rv.headers["Set-Cookie"]
    sid = sid_of(client)
    assert sid is not None and SID.fullmatch(sid)
    assert "blue" not in header and "colour" not in header
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header
    assert "Expires=" in header  # SESSION_PERMANENT defaults to True
    assert "Cookie" in rv.headers["Vary"]
    assert stored(app, sid) == {"_permanent": True, "colour": "blue"}
    assert client.get("/get/colour").text == "blue"
    assert sid_of(client) == sid


def test_store_expiry_is_the_permanent_lifetime(backend: Backend) -> None:
    app = make_app({**backend.config, "PERMANENT_SESSION_LIFETIME": timedelta(hours=2)})
    client = app.test_client()
    client.get("/set/a/1")
    ttl = backend.ttl(app, "session:" + str(sid_of(client)))
    if ttl is None:
        assert backend.name in ("cachelib", "filesystem")  # cachelib hides the timeout
        return
    assert 7000 < ttl <= 7200


def test_untouched_empty_session_writes_nothing(backend: Backend, monkeypatch) -> None:
    app = make_app(backend.config)
    counting = Counting(monkeypatch, app.session_interface)
    client = app.test_client()
    rv = client.get("/get/anything")
    assert rv.text == "missing"
    assert "Set-Cookie" not in rv.headers
    assert counting.calls == []  # no cookie: nothing to load, an empty session saves nothing
    assert client.get("/untouched").headers.get("Set-Cookie") is None


def test_request_not_touching_the_session_never_loads_it(backend: Backend, monkeypatch) -> None:
    app = make_app(backend.config)
    client = app.test_client()
    client.get("/set/a/1")
    counting = Counting(monkeypatch, app.session_interface)
    rv = client.get("/untouched")
    assert rv.status_code == 200 and "Set-Cookie" not in rv.headers
    assert counting.calls == []
    assert client.get("/get/a").text == "1"
    assert counting.calls[0] == "_load"


def test_clear_deletes_the_stored_data_and_the_cookie(backend: Backend) -> None:
    app = make_app(backend.config)
    client = app.test_client()
    client.get("/set/a/1")
    sid = str(sid_of(client))
    rv = client.get("/clear")
    assert rv.text == "cleared"
    header = rv.headers["Set-Cookie"]
    assert header.startswith("session=;") and "Expires=Thu, 01 Jan 1970" in header
    assert sid_of(client) is None
    assert stored(app, sid) is None
    # the old id, replayed, no longer opens anything
    client.set_cookie("session", sid)
    assert client.get("/get/a").text == "missing"


def test_data_set_after_clear_keeps_the_permanent_flag(backend: Backend) -> None:
    app = make_app(backend.config)

    @app.route("/logout")
    def logout() -> str:
        session.clear()
        session["flash"] = "bye"
        return "bye"

    client = app.test_client()
    client.get("/set/user/alice")
    rv = client.get("/logout")
    assert "Expires=" in rv.headers["Set-Cookie"]
    assert stored(app, str(sid_of(client))) == {"_permanent": True, "flash": "bye"}


def test_unknown_or_tampered_id_gets_a_new_id(backend: Backend) -> None:
    app = make_app(backend.config)
    client = app.test_client()
    for chosen in ["A" * 43, "not an id!", "x" * 300, "../../etc/passwd", ""]:
        client.set_cookie("session", chosen)
        rv = client.get("/set/a/1")
        assert rv.status_code == 200
        sid = sid_of(client)
        assert sid != chosen and sid is not None and SID.fullmatch(sid)  # no fixation
        assert stored(app, sid) == {"_permanent": True, "a": "1"}


def test_expired_session_is_empty_with_a_new_id(backend: Backend) -> None:
    app = make_app(backend.config)
    client = app.test_client()
    client.get("/set/a/1")
    sid = str(sid_of(client))
    backend.expire(app, "session:" + sid)
    assert client.get("/get/a").text == "missing"
    client.get("/set/b/2")
    assert sid_of(client) != sid
    assert stored(app, str(sid_of(client))) == {"_permanent": True, "b": "2"}


def test_regenerate_keeps_the_data_under_a_new_id(backend: Backend) -> None:
    app = make_app(backend.config)
    client = app.test_client()
    client.get("/set/cart/3")
    before = str(sid_of(client))
    assert client.get("/login").text == "welcome"
    after = str(sid_of(client))
    assert after != before and SID.fullmatch(after)
    assert stored(app, before) is None
    assert stored(app, after) == {"_permanent": True, "cart": "3", "user": "alice"}
    assert client.get("/get/user").text == "alice"


def test_non_permanent_session_cookie_has_no_expiry(backend: Backend) -> None:
    app = make_app({**backend.config, "SESSION_PERMANENT": False})
    client = app.test_client()
    rv = client.get("/set/a/1")
    assert "Expires=" not in rv.headers["Set-Cookie"]
    assert stored(app, str(sid_of(client))) == {"_permanent": False, "a": "1"}
    # not modified, not permanent: no new cookie (but the data is still there)
    rv = client.get("/get/a")
    assert rv.text == "1" and "Set-Cookie" not in rv.headers


def test_touched_permanent_session_is_refreshed(backend: Backend, monkeypatch) -> None:
    app = make_app(backend.config)
    client = app.test_client()
    client.get("/set/a/1")
    counting = Counting(monkeypatch, app.session_interface)
    rv = client.get("/get/a")
    assert "Expires=" in rv.headers["Set-Cookie"]
    assert counting.calls[:2] == ["_load", "_touch"]
    if backend.name in ("redis", "sqlalchemy"):  # refreshed, not rewritten (cachelib can't)
        assert counting.calls == ["_load", "_touch"]

    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    counting.calls.clear()
    rv = client.get("/get/a")
    assert "Set-Cookie" not in rv.headers
    assert counting.calls == ["_load"]


def test_json_format_and_switching_formats(backend: Backend) -> None:
    app = make_app({**backend.config, "SESSION_SERIALIZATION_FORMAT": "json"})
    client = app.test_client()
    client.get("/set/a/1")
    sid = str(sid_of(client))
    raw = app.session_interface._load("session:" + sid)  # type: ignore[attr-defined]
    assert json.loads(raw) == {"_permanent": True, "a": "1"}
    # the same store read by a msgpack app: still the session (the other format is tried)
    msgpack_app = make_app(backend.config)
    msgpack_app.session_interface = app.session_interface
    msgpack_app.session_interface.serializer.format = "msgpack"  # type: ignore[attr-defined]
    msgpack_client = msgpack_app.test_client()
    msgpack_client.set_cookie("session", sid)
    assert msgpack_client.get("/get/a").text == "1"


def test_a_pickled_value_is_never_unpickled(backend: Backend, tmp_path, caplog) -> None:
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self) -> tuple[Any, ...]:
            return (os.mkdir, (str(marker),))

    app = make_app(backend.config)
    client = app.test_client()
    client.get("/set/a/1")
    sid = str(sid_of(client))
    iface = app.session_interface
    iface._save("session:" + sid, pickle.dumps(Evil()), timedelta(hours=1))  # type: ignore[attr-defined]
    with caplog.at_level(logging.WARNING, logger="erlen.sessions"):
        assert client.get("/get/a").text == "missing"
    assert not marker.exists()
    assert "neither msgpack nor JSON" in caplog.text
    client.get("/set/b/2")
    assert sid_of(client) != sid


def test_session_object_and_signed_ids(backend: Backend) -> None:
    app = make_app({**backend.config, "SESSION_USE_SIGNER": True, "SECRET_KEY": "k"})

    @app.route("/sid")
    def sid() -> str:
        assert isinstance(session._get_current_object(), ServerSideSession)  # type: ignore[attr-defined]
        return str(session.sid)  # type: ignore[attr-defined]

    client = app.test_client()
    client.get("/set/a/1")
    value = str(sid_of(client))
    plain, _, signature = value.rpartition(".")
    assert SID.fullmatch(plain) and signature
    assert client.get("/sid").text == plain
    client.set_cookie("session", plain + ".forged")
    assert client.get("/get/a").text == "missing"
    client.set_cookie("session", plain)  # the bare id is not accepted either
    assert client.get("/get/a").text == "missing"


def test_session_transaction_of_the_test_client(backend: Backend) -> None:
    app = make_app(backend.config)
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["user"] = "bob"
    assert client.get("/get/user").text == "bob"
    with client.session_transaction() as sess:
        assert sess["user"] == "bob"
        sess.clear()
    assert sid_of(client) is None
    assert client.get("/get/user").text == "missing"


def test_serializer_types_and_refusals() -> None:
    from datetime import UTC, datetime

    from erlen.sessions import SessionSerializer

    data = {"b": b"x", "d": datetime(2026, 1, 1, tzinfo=UTC), "t": (1, 2), "n": None}
    back = SessionSerializer("msgpack").loads(SessionSerializer("msgpack").dumps(data))
    assert back == {**data, "t": [1, 2]}
    assert SessionSerializer("json").loads(b'{"a": [1, "x"]}') == {"a": [1, "x"]}
    for value in [b"", None, b"[1, 2]", msgpack.packb([1]), msgpack.packb({1: 2}), b"\x80\x05."]:
        assert SessionSerializer("msgpack").loads(value) is None
    with pytest.raises(ValueError, match="tzinfo"):
        SessionSerializer("msgpack").dumps({"d": datetime(2026, 1, 1)})


# -- configuration ---------------------------------------------------------------------------


def test_init_app_pattern_and_extension_registry(tmp_path) -> None:
    ext = Session()
    app = erlen.Erlen(__name__)
    app.config.update(SESSION_TYPE="filesystem", SESSION_FILE_DIR=str(tmp_path))
    ext.init_app(app)
    assert app.extensions["session"] is ext
    assert type(app.session_interface).__name__ == "FileSystemSessionInterface"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({}, "Unrecognized value for SESSION_TYPE: 'null'"),
        ({"SESSION_TYPE": "memcached"}, "erlen supports redis, cachelib, filesystem"),
        ({"SESSION_TYPE": "redis", "SESSION_SERIALIZATION_FORMAT": "pickle"}, "'msgpack' or"),
        ({"SESSION_TYPE": "redis", "SESSION_ID_LENGTH": 8}, "at least 16"),
        ({"SESSION_TYPE": "sqlalchemy"}, "SESSION_SQLALCHEMY must be"),
        ({"SESSION_TYPE": "cachelib", "SESSION_CACHELIB": object()}, "has no serializer"),
    ],
)
def test_bad_configuration_is_refused_at_init_app(config, message) -> None:
    app = erlen.Erlen(__name__)
    app.config.update(config)
    with pytest.raises(ValueError, match=re.escape(message)):
        Session(app)


def test_sqlalchemy_table_is_in_the_metadata_and_expired_rows_are_cleaned(database_uri) -> None:
    engine = sa.create_engine(database_uri)
    try:

        class FakeDb:  # the Flask-SQLAlchemy API the backend uses: engine and metadata
            metadata = sa.MetaData()

        FakeDb.engine = engine  # type: ignore[attr-defined]
        app = make_app({"SESSION_TYPE": "sqlalchemy", "SESSION_SQLALCHEMY": FakeDb})
        assert "sessions" in FakeDb.metadata.tables
        assert "sessions" in sa.inspect(engine).get_table_names()
        client = app.test_client()
        client.get("/set/a/1")
        sid = str(sid_of(client))
        other = app.test_client()
        other.get("/set/b/2")
        _sql_expire(app, "session:" + sid)
        assert app.session_interface.delete_expired() == 1  # type: ignore[attr-defined]
        assert client.get("/get/a").text == "missing"
        assert other.get("/get/b").text == "2"
        Session(app)  # a second init_app reuses the table
    finally:
        engine.dispose()


# -- Flask-Session 0.8 as the oracle ---------------------------------------------------------


def flask_app(config: dict[str, Any]) -> Any:
    """The same set/get views on real Flask with real Flask-Session."""
    flask = pytest.importorskip("flask")
    flask_session = pytest.importorskip("flask_session")
    app = flask.Flask(__name__)
    app.config.update(config)
    if callable(app.config.get("SESSION_SQLALCHEMY")):  # a factory: needs the app
        app.config["SESSION_SQLALCHEMY"] = app.config["SESSION_SQLALCHEMY"](app)
    flask_session.Session(app)

    @app.route("/set/<key>/<value>")
    def flask_set(key: str, value: str) -> str:
        flask.session[key] = value
        return "ok"

    @app.route("/get/<key>")
    def flask_get(key: str) -> str:
        return str(flask.session.get(key, "missing"))

    return app


def test_flask_session_and_erlen_share_redis_sessions(redis_url) -> None:
    flask_app_ = flask_app(
        {"SESSION_TYPE": "redis", "SESSION_REDIS": redis.Redis.from_url(redis_url),
         "PERMANENT_SESSION_LIFETIME": timedelta(hours=3)}
    )  # fmt: skip
    app = make_app(
        {"SESSION_TYPE": "redis", "SESSION_REDIS": redis_url,
         "PERMANENT_SESSION_LIFETIME": timedelta(hours=3)}
    )  # fmt: skip
    flask_client = flask_app_.test_client()
    flask_rv = flask_client.get("/set/a/1")
    client = app.test_client()
    rv = client.get("/set/b/2")
    # same cookie name and attributes (erlen adds SameSite=Lax, its default)
    flask_attrs = {p.split("=")[0] for p in flask_rv.headers["Set-Cookie"].split("; ")[1:]}
    attrs = {p.split("=")[0] for p in rv.headers["Set-Cookie"].split("; ")[1:]}
    assert attrs - flask_attrs == {"SameSite"} and flask_attrs <= attrs
    # same key, same TTL, same msgpack data: sessions move both ways
    r = redis.Redis.from_url(redis_url)
    flask_sid = flask_client.get_cookie("session").value
    erlen_sid = str(sid_of(client))
    assert r.ttl("session:" + flask_sid) == r.ttl("session:" + erlen_sid) == 3 * 3600
    assert msgpack.unpackb(r.get("session:" + erlen_sid)) == {"_permanent": True, "b": "2"}
    client.set_cookie("session", flask_sid)
    assert client.get("/get/a").text == "1"
    flask_client.set_cookie("session", erlen_sid)
    assert flask_client.get("/get/b").text == "2"
    r.close()


def test_flask_session_and_erlen_share_sql_sessions(tmp_path) -> None:
    flask_sqlalchemy = pytest.importorskip("flask_sqlalchemy")
    uri = f"sqlite:///{tmp_path / 'shared.db'}"
    flask_db = flask_sqlalchemy.SQLAlchemy()

    def bind(app: Any) -> Any:
        flask_db.init_app(app)
        return flask_db

    flask_app_ = flask_app(
        {"SQLALCHEMY_DATABASE_URI": uri, "SESSION_TYPE": "sqlalchemy", "SESSION_SQLALCHEMY": bind}
    )
    engine = sa.create_engine(uri)
    try:
        app = make_app({"SESSION_TYPE": "sqlalchemy", "SESSION_SQLALCHEMY": engine})
        flask_client, client = flask_app_.test_client(), app.test_client()
        flask_client.get("/set/a/1")
        client.get("/set/b/2")
        client.set_cookie("session", flask_client.get_cookie("session").value)
        assert client.get("/get/a").text == "1"
        other = app.test_client()
        other.get("/set/c/3")
        flask_client.set_cookie("session", str(sid_of(other)))
        assert flask_client.get("/get/c").text == "3"
    finally:
        engine.dispose()
        with flask_app_.app_context():
            flask_db.engine.dispose()


def test_session_cleanup_command(tmp_path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 's.db'}")
    app = make_app({"SESSION_TYPE": "sqlalchemy", "SESSION_SQLALCHEMY": engine})
    client = app.test_client()
    client.get("/set/a/1")
    _sql_expire(app, "session:" + str(sid_of(client)))
    result = app.test_cli_runner().invoke(args=["session_cleanup"])
    assert result.exit_code == 0 and result.output == "Deleted 1 expired sessions.\n"
    engine.dispose()


# -- outages: the real server goes away and comes back ----------------------------------------


def test_redis_outage_is_a_503_and_recovers(redis_server, redis_url, caplog) -> None:
    app = make_app({"SESSION_TYPE": "redis", "SESSION_REDIS": redis_url})

    @app.route("/read-then-outage")
    def read_then_outage() -> str:
        session.get("a")  # loaded fine
        redis_server.stop()  # the store goes away before the save
        session["a"] = "2"
        return "the view thinks it worked"

    client = app.test_client()
    assert client.get("/set/a/1").text == "ok"
    try:
        redis_server.stop()
        with caplog.at_level(logging.ERROR):
            rv = client.get("/get/a")  # the load fails
        assert rv.status_code == 503
        assert rv.headers["Retry-After"] == "5"
        assert "Set-Cookie" not in rv.headers
        assert "Traceback" not in rv.text and "temporarily unavailable" in rv.text
        records = [r for r in caplog.records if r.name.startswith("erlen")]
        assert len(records) == 1 and records[0].levelno == logging.ERROR
        assert "ConnectionError while loading" in records[0].getMessage()
        assert records[0].exc_info is None
        assert str(sid_of(client)) not in caplog.text  # never the id
        # a request that does not need the session is served during the outage
        assert client.get("/untouched").status_code == 200

        redis_server.start()
        assert client.get("/get/a").text == "1"  # same app, same client: works again
        caplog.clear()
        with caplog.at_level(logging.ERROR):
            rv = client.get("/read-then-outage")  # the save fails
        assert rv.status_code == 503 and rv.headers["Retry-After"] == "5"
        assert "the view thinks it worked" not in rv.text
        assert "Set-Cookie" not in rv.headers
        assert ["saving" in r.getMessage() for r in caplog.records] == [True]
    finally:
        redis_server.start()
    assert client.get("/get/a").text == "1"  # the failed write did not happen


def test_outage_during_regenerate_is_one_503(redis_server, redis_url, caplog) -> None:
    app = make_app({"SESSION_TYPE": "redis", "SESSION_REDIS": redis_url})

    @app.route("/login-during-outage")
    def login_during_outage() -> str:
        session["user"] = "alice"
        redis_server.stop()
        app.session_interface.regenerate(session)  # type: ignore[attr-defined]
        return "welcome"

    client = app.test_client()
    client.get("/set/a/1")
    sid = sid_of(client)
    try:
        with caplog.at_level(logging.ERROR):
            rv = client.get("/login-during-outage")
        assert rv.status_code == 503 and rv.headers["Retry-After"] == "5"
        assert "Set-Cookie" not in rv.headers
        messages = [r.getMessage() for r in caplog.records if r.name.startswith("erlen")]
        assert len(messages) == 1 and "while regenerating" in messages[0]
    finally:
        redis_server.start()
    assert sid_of(client) == sid
    assert client.get("/get/user").text == "missing"  # nothing of the failed login stored


def test_filesystem_write_failure_is_a_503(tmp_path, caplog) -> None:
    import shutil

    folder = tmp_path / "s"
    app = make_app({"SESSION_TYPE": "filesystem", "SESSION_FILE_DIR": str(folder)})
    client = app.test_client()
    client.get("/set/a/1")
    shutil.rmtree(folder)
    folder.write_text("not a directory any more")  # every write now fails
    with caplog.at_level(logging.ERROR, logger="erlen.sessions"):
        rv = client.get("/set/a/2")
    assert rv.status_code == 503 and rv.headers["Retry-After"] == "5"
    assert "SessionStoreUnavailable while saving" in caplog.text
    folder.unlink()
    folder.mkdir()
    assert client.get("/set/b/3").status_code == 200  # the store is back


def test_sql_outage_is_a_503_and_recovers(sql_server, caplog) -> None:
    name = "sessions_outage"
    engine = sa.create_engine(sql_server.create_database(name))
    try:
        app = make_app({"SESSION_TYPE": "sqlalchemy", "SESSION_SQLALCHEMY": engine})
        client = app.test_client()
        client.get("/set/a/1")
        sql_server.stop()
        with caplog.at_level(logging.ERROR):
            rv = client.get("/get/a")
        assert rv.status_code == 503 and rv.headers["Retry-After"] == "5"
        assert "Traceback" not in rv.text
        assert len([r for r in caplog.records if r.name.startswith("erlen")]) == 1
        assert "OperationalError while loading" in caplog.text
        sql_server.start()
        # the pool's connections died with the server: the backend retries on a new one
        assert client.get("/get/a").text == "1"
    finally:
        engine.dispose()
        sql_server.start()
        sql_server.drop_database(name)


def test_outage_without_testing_mode_is_a_503_too(redis_server, redis_url) -> None:
    app = make_app({"SESSION_TYPE": "redis", "SESSION_REDIS": redis_url})
    app.config["TESTING"] = False
    client = app.test_client()
    client.get("/set/a/1")
    try:
        redis_server.stop()
        assert client.get("/get/a").status_code == 503
        assert client.get("/set/a/2").status_code == 503
    finally:
        redis_server.start()
    assert client.get("/get/a").text == "1"


def test_filesystem_session_files_hold_no_pickle(tmp_path) -> None:
    app = make_app({"SESSION_TYPE": "filesystem", "SESSION_FILE_DIR": str(tmp_path / "s")})
    client = app.test_client()
    client.get("/set/a/1")
    contents = sorted(f.read_bytes()[4:] for f in Path(tmp_path / "s").iterdir())
    # after cachelib's 4-byte expiry header: its file count as text, our msgpack bytes
    assert contents[0] == b"erlen-int:1"
    assert msgpack.unpackb(contents[1]) == {"_permanent": True, "a": "1"}
    modes = {f.stat().st_mode & 0o777 for f in Path(tmp_path / "s").iterdir()}
    assert modes == {0o600}


def test_flask_session_filesystem_file_is_not_unpickled(tmp_path) -> None:
    """A file an old Flask-Session (pickle) wrote: cachelib's own serializer would unpickle
    it; erlen's reads bytes and finds no session."""
    from cachelib.file import FileSystemCache

    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self) -> tuple[Any, ...]:
            return (os.mkdir, (str(marker),))

    sid = "B" * 43
    FileSystemCache(str(tmp_path / "s")).set("session:" + sid, Evil())
    app = make_app({"SESSION_TYPE": "filesystem", "SESSION_FILE_DIR": str(tmp_path / "s")})
    client = app.test_client()
    client.set_cookie("session", sid)
    assert client.get("/get/a").text == "missing"
    assert not marker.exists()


# -- with erlen.db (Flask-SQLAlchemy's API) ---------------------------------------------------


def test_sqlalchemy_backend_with_erlen_db(database_uri) -> None:
    from erlen.db import SQLAlchemy

    app = erlen.Erlen(__name__)
    app.config.update(TESTING=True, SQLALCHEMY_DATABASE_URI=database_uri)
    db = SQLAlchemy(app)

    class Note(db.Model):  # type: ignore[name-defined,misc]
        id = db.Column(db.Integer, primary_key=True)
        text = db.Column(db.String(50))

    app.config.update(SESSION_TYPE="sqlalchemy", SESSION_SQLALCHEMY=db)
    Session(app)
    with app.app_context():
        db.create_all()
        assert "sessions" in db.metadata.tables
        tables = set(sa.inspect(db.engine).get_table_names())
        assert {Note.__tablename__, "sessions"} <= tables

    @app.route("/note/<text>")
    def add_note(text: str) -> str:
        db.session.add(Note(text=text))  # never committed by the view
        session["noted"] = text
        return "ok"

    @app.route("/notes")
    def notes() -> str:
        return ",".join(n.text for n in db.session.scalars(sa.select(Note)))

    client = app.test_client()
    assert client.get("/note/uncommitted").text == "ok"
    assert client.get("/notes").text == ""  # the session save did not commit the app's work
    with app.app_context():
        assert stored(app, str(sid_of(client))) == {"_permanent": True, "noted": "uncommitted"}
        db.engine.dispose()
