"""A database that goes away: requests get 503 + Retry-After and one log line (no traceback,
no password), with TESTING on and off; when it is back the same app serves 200 again. Real
PostgreSQL / MariaDB servers are stopped and started mid-test."""

from __future__ import annotations

import logging
import textwrap
import time

import pytest
import sqlalchemy as sa

import erlen
from erlen.db import DatabaseUnavailable, SQLAlchemy
from test_serving import ERLEN, free_port, get, servers  # noqa: F401 (servers: a fixture)

PASSWORD = "s3cret-pw"  # the test PostgreSQL trusts loopback: any password is accepted


@pytest.fixture(params=["postgresql", "mariadb"])
def server_and_url(request):
    fixture = "postgres_server" if request.param == "postgresql" else "mariadb_server"
    server = request.getfixturevalue(fixture)
    server.start()
    from servers import unique_name

    name = unique_name()
    url = sa.make_url(server.create_database(name))
    if request.param == "postgresql":
        url = url.set(password=PASSWORD)
    # the URI as a user writes it: no driver named (erlen picks psycopg 3 / PyMySQL)
    plain = url.set(drivername=url.get_backend_name())
    try:
        yield server, plain.render_as_string(hide_password=False)
    finally:
        server.start()
        server.drop_database(name)


def make_app(tmp_path, uri, testing, **config):
    app = erlen.Erlen("outage_app", instance_path=str(tmp_path / "instance"))
    app.config.update(TESTING=testing, SQLALCHEMY_DATABASE_URI=uri, **config)
    db = SQLAlchemy(app)

    class Note(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        text = db.Column(db.String(50))

    @app.get("/notes")
    def notes():
        return {"count": db.session.scalar(sa.select(sa.func.count()).select_from(Note))}

    @app.post("/notes")
    def add():
        db.session.add(Note(text="n"))
        db.session.commit()
        return "added", 201

    @app.get("/plain")
    def plain():
        return "no database needed"

    with app.app_context():
        db.create_all()
    return app, db


def error_records(caplog):
    return [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.mark.parametrize("testing", [True, False], ids=["testing", "production"])
@pytest.mark.parametrize("pre_ping", [True, False], ids=["pre_ping", "no_pre_ping"])
def test_outage_answers_503_then_recovers(tmp_path, server_and_url, caplog, testing, pre_ping):
    server, uri = server_and_url
    app, db = make_app(
        tmp_path, uri, testing, SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": pre_ping}
    )
    client = app.test_client()
    assert client.post("/notes").status_code == 201
    assert client.get("/notes").get_json() == {"count": 1}  # a pooled connection now exists

    server.stop()
    caplog.clear()
    for _ in range(2):  # the stale pooled connection, then a refused new one
        caplog.clear()
        response = client.get("/notes")
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "5"
        records = error_records(caplog)
        assert len(records) == 1, [r.getMessage() for r in records]
        record = records[0]
        message = record.getMessage()
        assert record.name == "erlen.db" and record.exc_info is None
        assert message.startswith("database unavailable at ") and "\n" not in message
        assert PASSWORD not in message
        assert ("***" in message) == (PASSWORD in uri)
    assert client.post("/notes").status_code == 503
    assert client.get("/plain").status_code == 200

    server.start()
    caplog.clear()
    assert client.get("/notes").get_json() == {"count": 1}
    assert client.post("/notes").status_code == 201
    assert client.get("/notes").get_json() == {"count": 2}
    assert error_records(caplog) == []
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


def test_app_503_handler_and_own_handler_are_used(tmp_path, server_and_url):
    server, uri = server_and_url
    app, db = make_app(tmp_path, uri, True, SQLALCHEMY_RETRY_AFTER=30)

    @app.errorhandler(503)
    def unavailable(e):
        return "down for a moment", 503, {"Retry-After": e.get_headers()[-1][1]}

    @app.get("/catch")
    def catch():
        try:
            db.session.execute(sa.text("SELECT 1"))
        except sa.exc.OperationalError as e:  # still the error SQLAlchemy raised
            return f"caught {isinstance(e, DatabaseUnavailable)}"
        return "not raised"

    client = app.test_client()
    server.stop()
    response = client.get("/notes")
    assert (response.status_code, response.text) == (503, "down for a moment")
    assert response.headers["Retry-After"] == "30"
    assert client.get("/catch").text == "caught True"
    server.start()


def test_outage_through_a_real_server(tmp_path, server_and_url, servers):  # noqa: F811
    pytest.importorskip("gunicorn")
    server, uri = server_and_url
    (tmp_path / "app.py").write_text(
        textwrap.dedent(
            f"""
            from erlen import Erlen
            from erlen.db import SQLAlchemy

            app = Erlen(__name__, instance_path={str(tmp_path / "instance")!r})
            app.config["SQLALCHEMY_DATABASE_URI"] = {uri!r}
            db = SQLAlchemy(app)

            @app.get("/")
            def index():
                return str(db.session.execute(db.text("SELECT 40 + 2")).scalar())
            """
        )
    )
    port = free_port()
    proc = servers([ERLEN, "--app", "app:app", "serve", "-w", "1", "-p", str(port)], tmp_path)
    proc.wait_port(port)
    assert get(port, "/")[::2] == (200, b"42")
    server.stop()
    status, headers, body = get(port, "/")
    assert status == 503 and headers["Retry-After"] == "5"
    assert b"Service Unavailable" in body
    server.start()
    assert get(port, "/")[::2] == (200, b"42")
    deadline = time.monotonic() + 5
    while "database unavailable" not in proc.output() and time.monotonic() < deadline:
        time.sleep(0.05)
    log = proc.output()
    lines = [line for line in log.splitlines() if "database unavailable" in line]
    assert len(lines) == 1, log
    assert "Traceback" not in log and PASSWORD not in log


def test_connection_lost_in_the_middle_of_a_request(tmp_path, server_and_url, caplog):
    server, uri = server_and_url
    app, db = make_app(tmp_path, uri, True)

    @app.get("/midway")
    def midway():
        first = db.session.execute(sa.text("SELECT 1")).scalar()
        server.stop()  # the server goes away while this request holds a connection
        db.session.execute(sa.text("SELECT 2"))
        return f"unreachable {first}"

    client = app.test_client()
    caplog.clear()
    response = client.get("/midway")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert len(error_records(caplog)) == 1
    server.start()
    assert client.get("/notes").get_json() == {"count": 0}


def test_database_gone_before_the_session_is_closed(tmp_path, server_and_url, caplog):
    server, uri = server_and_url
    app, db = make_app(tmp_path, uri, True)
    stop = []

    @app.after_request
    def maybe_stop(response):
        if stop:
            server.stop()  # the answer is made; closing the session will fail
        return response

    client = app.test_client()
    stop.append(True)
    caplog.clear()
    assert client.get("/notes").status_code == 200
    records = error_records(caplog)
    assert len(records) == 1 and "while closing the session" in records[0].getMessage()
    assert records[0].exc_info is None
    stop.clear()
    server.start()
    assert client.get("/notes").get_json() == {"count": 0}


def test_sqlite_file_that_cannot_be_opened_is_unavailable(tmp_path, caplog):
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where a folder should be")
    app2 = erlen.Erlen("blocked_app", instance_path=str(tmp_path / "instance2"))
    app2.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{blocked}/x.db"
    db2 = SQLAlchemy(app2)

    @app2.get("/")
    def index():
        return str(db2.session.execute(sa.text("SELECT 1")).scalar())

    caplog.clear()
    response = app2.test_client().get("/")
    assert response.status_code == 503
    assert [r.getMessage().split(":")[0] for r in error_records(caplog)] == [
        "database unavailable at sqlite"
    ]


def test_missing_table_is_a_normal_500(tmp_path, caplog):
    app, db = make_app(tmp_path, "sqlite://", False)

    @app.get("/missing-table")
    def missing_table():
        return str(db.session.execute(sa.text("SELECT * FROM nowhere")).all())

    response = app.test_client().get("/missing-table")
    assert response.status_code == 500 and "Retry-After" not in response.headers
    assert "no such table" in caplog.text
    assert "database unavailable" not in caplog.text
