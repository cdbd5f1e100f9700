"""erlen.db as an app uses it: models, the app-context session, binds, 404 helpers, raw SQL,
recorded queries, modification signals, config — over SQLite, PostgreSQL and MariaDB
(``database_uri``)."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

import erlen
from erlen.db import (
    SQLAlchemy,
    before_models_committed,
    get_recorded_queries,
    models_committed,
    rewrite_driver,
)
from erlen.db.cli import add_models_to_shell


def make_app(tmp_path: Path, uri: str | None, **config) -> erlen.Erlen:
    app = erlen.Erlen("db_app", instance_path=str(tmp_path / "instance"))
    app.config.update(TESTING=True)
    if uri is not None:
        app.config["SQLALCHEMY_DATABASE_URI"] = uri
    app.config.update(config)
    return app


def define_models(db: SQLAlchemy):
    class User(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(db.String(50), unique=True)
        posts = db.relationship("Post", back_populates="author", lazy="dynamic")

    class Post(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        title = db.Column(db.String(100), nullable=False)
        author_id = db.Column(db.Integer, db.ForeignKey("user.id"))
        author = db.relationship(User, back_populates="posts")

    return User, Post


@pytest.fixture
def setup(tmp_path, database_uri):
    app = make_app(tmp_path, database_uri)
    db = SQLAlchemy(app)
    User, Post = define_models(db)
    with app.app_context():
        db.create_all()
    yield app, db, User, Post
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


def test_crud_through_views(setup):
    app, db, User, Post = setup

    @app.post("/users/<name>")
    def create(name):
        user = User(name=name)
        db.session.add(user)
        db.session.add(Post(title=f"hello from {name}", author=user))
        db.session.commit()
        return {"id": user.id}, 201

    @app.get("/users/<int:id>")
    def show(id):
        user = db.get_or_404(User, id, description="no such user")
        return {"name": user.name, "posts": [p.title for p in user.posts]}

    @app.delete("/users/<int:id>")
    def delete(id):
        user = User.query.get_or_404(id)
        Post.query.filter_by(author_id=id).delete()
        db.session.delete(user)
        db.session.commit()
        return "", 204

    client = app.test_client()
    assert client.post("/users/ann").status_code == 201
    uid = client.post("/users/bob").get_json()["id"]
    assert client.get(f"/users/{uid}").get_json() == {"name": "bob", "posts": ["hello from bob"]}
    missing = client.get("/users/999")
    assert missing.status_code == 404 and b"no such user" in missing.data
    assert client.delete(f"/users/{uid}").status_code == 204
    assert client.get(f"/users/{uid}").status_code == 404
    with app.app_context():
        assert [u.name for u in db.session.scalars(db.select(User))] == ["ann"]


def test_first_and_one_or_404(setup):
    app, db, User, Post = setup
    with app.app_context():
        db.session.add_all([User(name="a"), User(name="b")])
        db.session.commit()
        assert db.first_or_404(db.select(User).order_by(User.name)).name == "a"
        assert db.one_or_404(db.select(User).filter_by(name="b")).name == "b"
        assert User.query.filter_by(name="a").one_or_404().name == "a"
        assert User.query.order_by(User.name.desc()).first_or_404().name == "b"
        for call in (
            lambda: db.one_or_404(db.select(User)),  # two rows
            lambda: db.one_or_404(db.select(User).filter_by(name="z"), description="gone"),
            lambda: db.first_or_404(db.select(User).filter_by(name="z")),
            lambda: User.query.filter_by(name="z").first_or_404(),
            lambda: User.query.one_or_404(),
        ):
            with pytest.raises(erlen.exceptions.NotFound):
                call()


def test_session_is_per_app_context_and_removed_with_rollback(setup):
    app, db, User, Post = setup

    @app.post("/half")
    def half():
        db.session.add(User(name="uncommitted"))
        db.session.flush()
        return "flushed, not committed"

    @app.get("/count")
    def count():
        return str(db.session.scalar(db.select(db.func.count()).select_from(User)))

    client = app.test_client()
    assert client.post("/half").status_code == 200
    assert client.get("/count").text == "0"  # the first request's session was rolled back
    with app.app_context():
        first = db.session()
        assert db.session() is first
        with app.app_context():
            assert db.session() is not first  # a nested context has its own
        assert db.session() is first
    with app.app_context():
        assert db.session() is not first


def test_integrity_error_caught_and_rolled_back_leaves_next_request_working(setup):
    app, db, User, Post = setup

    @app.post("/users/<name>")
    def create(name):
        db.session.add(User(name=name))
        try:
            db.session.commit()
        except sa.exc.IntegrityError:
            db.session.rollback()
            return "taken", 409
        return "created", 201

    client = app.test_client()
    assert client.post("/users/ann").status_code == 201
    assert client.post("/users/ann").status_code == 409
    assert client.post("/users/bob").status_code == 201
    with app.app_context():
        assert sorted(db.session.scalars(db.select(User.name))) == ["ann", "bob"]


def test_raw_sql(setup):
    app, db, User, Post = setup
    with app.app_context():
        insert = f"INSERT INTO {_q(db, 'user')} (name) VALUES (:n)"
        db.session.execute(sa.text(insert), {"n": "raw"})
        db.session.commit()
        rows = db.session.execute(sa.text(f"SELECT name FROM {_q(db, 'user')}")).all()
        assert [r.name for r in rows] == ["raw"]
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT 1 + 1")).scalar() == 2


def _q(db: SQLAlchemy, name: str) -> str:
    return db.engine.dialect.identifier_preparer.quote_identifier(name)


def test_recorded_queries(tmp_path, database_uri):
    app = make_app(tmp_path, database_uri, SQLALCHEMY_RECORD_QUERIES=True)
    db = SQLAlchemy(app)
    User, _ = define_models(db)
    with app.app_context():
        db.create_all()
        try:
            db.session.execute(db.select(User).filter_by(name="x")).all()
            queries = get_recorded_queries()
            select = [q for q in queries if "FROM" in q.statement and "user" in q.statement]
            assert select
            info = select[-1]
            assert info.statement.lstrip().upper().startswith("SELECT")
            assert "x" in str(info.parameters)
            assert info.end_time >= info.start_time and info.duration >= 0
            assert info.location == "<unknown>"  # not called from the app's package "db_app"
        finally:
            db.session.close()  # its open transaction would block DROP on PostgreSQL
            db.drop_all()
    with app.app_context():
        assert get_recorded_queries() == []


def test_recorded_query_location_is_the_apps_line(tmp_path):
    app = erlen.Erlen(__name__, instance_path=str(tmp_path))  # this module is "the app"
    app.config.update(SQLALCHEMY_DATABASE_URI="sqlite://", SQLALCHEMY_RECORD_QUERIES=True)
    db = SQLAlchemy(app)
    with app.app_context():
        db.session.execute(sa.text("SELECT 1"))
        (info,) = get_recorded_queries()
    assert info.location.startswith(f"{__file__}:")
    assert info.location.endswith("(test_recorded_query_location_is_the_apps_line)")


def test_recorded_query_parameters_are_the_parameter_sets(tmp_path):
    app = make_app(tmp_path, "sqlite://", SQLALCHEMY_RECORD_QUERIES=True)
    db = SQLAlchemy(app)
    with app.app_context():
        db.session.execute(sa.text("SELECT :a, :b"), {"a": 5, "b": "x"})
        (info,) = get_recorded_queries()
    assert info.parameters[0][0] == 5 and list(info.parameters[0]) == [5, "x"]


def test_get_or_404_passes_options_to_session_get(tmp_path):
    app = make_app(tmp_path, "sqlite://", SQLALCHEMY_RECORD_QUERIES=True)
    db = SQLAlchemy(app)
    User, Post = define_models(db)
    with app.app_context():
        db.create_all()
        db.session.add(Post(title="t", author=User(name="a")))
        db.session.commit()
    with app.app_context():
        post = db.get_or_404(Post, 1, options=[db.joinedload(Post.author)])
        assert post.author.name == "a"
        assert len(get_recorded_queries()) == 1  # the author came with the post


def test_sqlite_driver_level_uri_goes_to_the_instance_folder(tmp_path):
    app = make_app(tmp_path, "sqlite:///file:app.db?uri=true")
    db = SQLAlchemy(app)
    with app.app_context():
        db.session.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        db.session.commit()
        assert db.engine.url.database == f"file:{tmp_path / 'instance' / 'app.db'}"
    assert (tmp_path / "instance" / "app.db").exists()


def test_binds_without_uri_have_no_default_engine(tmp_path):
    app = make_app(tmp_path, None, SQLALCHEMY_BINDS={"a": "sqlite://"})
    db = SQLAlchemy(app)
    with app.app_context():
        assert list(db.engines) == ["a"]
    assert not (tmp_path / "instance" / "db_app.db").exists()


def test_record_queries_off_by_default(setup):
    app, db, User, Post = setup
    with app.app_context():
        db.session.execute(db.select(User)).all()
        assert get_recorded_queries() == []


def test_track_modifications_signals(tmp_path, database_uri):
    app = make_app(tmp_path, database_uri, SQLALCHEMY_TRACK_MODIFICATIONS=True)
    db = SQLAlchemy(app)
    User, _ = define_models(db)
    seen: list[tuple[str, list[tuple[str, str]]]] = []

    def receiver(name):
        def receive(sender, changes):
            assert sender is app
            seen.append((name, sorted((type(m).__name__, op) for m, op in changes)))

        return receive

    before, after = receiver("before"), receiver("after")
    before_models_committed.connect(before, app)
    models_committed.connect(after, app)
    with app.app_context():
        db.create_all()
        try:
            user = User(name="a")
            db.session.add(user)
            db.session.commit()
            user.name = "b"
            db.session.commit()
            db.session.delete(user)
            db.session.commit()
        finally:
            db.session.close()  # its open transaction would block DROP on PostgreSQL
            db.drop_all()
    assert seen == [
        ("before", [("User", "insert")]),
        ("after", [("User", "insert")]),
        ("before", [("User", "update")]),
        ("after", [("User", "update")]),
        ("before", [("User", "delete")]),
        ("after", [("User", "delete")]),
    ]


def test_track_modifications_off_by_default(setup):
    app, db, User, Post = setup
    seen = []
    models_committed.connect(lambda sender, changes: seen.append(changes), app, weak=False)
    with app.app_context():
        db.session.add(User(name="a"))
        db.session.commit()
    assert seen == []


def test_binds_route_models_and_create_all_per_bind(tmp_path):
    app = make_app(
        tmp_path,
        "sqlite:///main.db",
        SQLALCHEMY_BINDS={"audit": "sqlite:///audit.db", "cache": {"url": "sqlite://"}},
    )
    db = SQLAlchemy(app)

    class Item(db.Model):
        id = db.Column(db.Integer, primary_key=True)

    class Entry(db.Model):
        __bind_key__ = "audit"
        id = db.Column(db.Integer, primary_key=True)

    kv = db.Table("kv", db.Column("k", db.String(10), primary_key=True), bind_key="cache")
    with app.app_context():
        assert set(db.engines) == {None, "audit", "cache"}
        db.create_all(bind_key="audit")
        assert sa.inspect(db.engines["audit"]).get_table_names() == ["entry"]
        assert sa.inspect(db.engine).get_table_names() == []
        db.create_all()
        assert sa.inspect(db.engine).get_table_names() == ["item"]
        db.session.add_all([Item(), Entry()])
        db.session.execute(kv.insert().values(k="x"))
        db.session.commit()
        with db.engines["audit"].connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM entry")).scalar() == 1
        assert db.session.execute(sa.select(kv.c.k)).scalar() == "x"
        # relative sqlite paths live in the instance folder
        assert db.engines["audit"].url.database == str(tmp_path / "instance" / "audit.db")
        assert (tmp_path / "instance" / "main.db").exists()
        with pytest.raises(sa.exc.UnboundExecutionError, match="'missing'"):
            db.create_all(bind_key="missing")
        db.drop_all(bind_key=["audit"])
        assert sa.inspect(db.engines["audit"]).get_table_names() == []
        db.reflect(bind_key=None)
        assert "item" in db.metadata.tables


def test_embedded_default_sqlite_in_instance_folder(tmp_path, caplog):
    app = make_app(tmp_path, None)
    caplog.set_level(logging.DEBUG, logger="erlen.db")
    db = SQLAlchemy(app)
    expected = tmp_path / "instance" / "db_app.db"
    assert "embedded default" in caplog.text and str(expected) in caplog.text
    User, _ = define_models(db)
    with app.app_context():
        assert db.engine.url.database == str(expected)
        db.create_all()
        db.session.add(User(name="x"))
        db.session.commit()
    assert expected.exists()


def test_several_apps_one_db(tmp_path):
    db = SQLAlchemy()
    User, _ = define_models(db)
    apps = []
    for name in ("one", "two"):
        app = erlen.Erlen(name, instance_path=str(tmp_path / name))
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{name}.db"
        db.init_app(app)
        apps.append(app)
        assert app.extensions["sqlalchemy"] is db
    for app in apps:
        with app.app_context():
            db.create_all()
            db.session.add(User(name=app.name))
            db.session.commit()
    for app in apps:
        with app.app_context():
            assert db.session.scalars(db.select(User.name)).all() == [app.name]
            assert repr(db) == f"<SQLAlchemy sqlite:///{tmp_path / app.name / (app.name + '.db')}>"
    with pytest.raises(RuntimeError, match="already been registered"):
        db.init_app(apps[0])
    other = erlen.Erlen("other")
    with other.app_context(), pytest.raises(RuntimeError, match="init_app"):
        db.engine  # noqa: B018


def test_shell_context_has_db_and_models(tmp_path):
    app = make_app(tmp_path, "sqlite://")
    db = SQLAlchemy(app)
    User, Post = define_models(db)
    with app.app_context():  # as `flask shell` runs it
        context = app.make_shell_context()
        assert add_models_to_shell().items() <= context.items()
    assert context["db"] is db and context["User"] is User and context["Post"] is Post
    app2 = make_app(tmp_path, "sqlite://")
    SQLAlchemy(app2, add_models_to_shell=False)
    assert "db" not in app2.make_shell_context()


def test_engine_options_precedence_and_pre_ping(tmp_path):
    app = make_app(
        tmp_path,
        "sqlite:///x.db",
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": False},
        SQLALCHEMY_BINDS={
            "b": {"url": "sqlite:///b.db", "echo": True},
            "pg": "postgresql://u@127.0.0.1:1/x",
            "my": {"url": "mysql://u@127.0.0.1:1/x", "pool_pre_ping": False},
        },
        SQLALCHEMY_ECHO=False,
    )
    db = SQLAlchemy(app, engine_options={"pool_timeout": 7})
    with app.app_context():
        assert db.engine.pool._pre_ping is False  # the app's options win
        assert db.engines["pg"].pool._pre_ping is True  # erlen's default for a server
        assert db.engines["my"].pool._pre_ping is False
        assert db.engines["b"].pool._pre_ping is False  # a SQLite file: nothing to ping
        assert db.engines["b"].echo is True and db.engine.echo is False
        assert db.engine.pool._timeout == 7 == db.engines["b"].pool._timeout


def test_in_memory_sqlite_is_shared_between_threads(tmp_path):
    app = make_app(tmp_path, "sqlite://")
    db = SQLAlchemy(app)
    User, _ = define_models(db)
    with app.app_context():
        db.create_all()

    @app.post("/")
    def add():
        db.session.add(User(name="t"))
        db.session.commit()
        return "ok"

    import threading

    thread = threading.Thread(target=lambda: app.test_client().post("/"))
    thread.start()
    thread.join()
    with app.app_context():
        assert db.session.scalars(db.select(User.name)).all() == ["t"]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@h/d", "postgresql+psycopg://u:p@h/d"),
        ("postgres://u:p@h:5433/d", "postgresql+psycopg://u:p@h:5433/d"),
        ("postgresql+psycopg2://u@h/d", "postgresql+psycopg2://u@h/d"),
        ("postgres+asyncpg://u@h/d", "postgresql+asyncpg://u@h/d"),
        ("mysql://u@h/d", "mysql+pymysql://u@h/d"),
        ("mariadb://u@h/d", "mariadb+pymysql://u@h/d"),
        ("mysql+mysqldb://u@h/d", "mysql+mysqldb://u@h/d"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_driver_rewriting(given, expected):
    assert rewrite_driver(given).render_as_string(hide_password=False) == expected


def test_mysql_gets_charset_and_pool_recycle_without_connecting(tmp_path):
    app = make_app(tmp_path, "mysql://user:secret@127.0.0.1:1/app")
    db = SQLAlchemy(app)
    with app.app_context():
        url = db.engine.url
        assert url.drivername == "mysql+pymysql" and url.query["charset"] == "utf8mb4"
        assert db.engine.pool._recycle == 7200
        assert "secret" not in repr(db) and "***" in repr(db)


def test_postgres_uri_uses_psycopg3(tmp_path):
    app = make_app(tmp_path, "postgres://user:secret@127.0.0.1:1/app")
    db = SQLAlchemy(app)
    with app.app_context():
        assert db.engine.dialect.driver == "psycopg"


def test_missing_table_stays_a_normal_error(tmp_path, caplog):
    app = make_app(tmp_path, "sqlite://", TESTING=False)
    db = SQLAlchemy(app)
    User, _ = define_models(db)  # never created

    @app.get("/")
    def index():
        return str(db.session.scalars(db.select(User)).all())

    response = app.test_client().get("/")
    assert response.status_code == 500
    assert "no such table" in caplog.text
    app.config["TESTING"] = True
    with pytest.raises(sa.exc.OperationalError, match="no such table"):
        app.test_client().get("/")


def test_import_erlen_does_not_import_sqlalchemy():
    code = "import sys, erlen; print('sqlalchemy' in sys.modules, 'erlen.db' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_app_without_db_has_no_db_hooks(tmp_path):
    app = make_app(tmp_path, "sqlite://")
    assert not app.teardown_appcontext_funcs
    SQLAlchemy(app)
    assert len(app.teardown_appcontext_funcs) == 1
