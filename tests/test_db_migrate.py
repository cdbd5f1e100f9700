"""erlen.db.migrate: Flask-Migrate's API and the ``erlen db`` commands, on SQLite,
PostgreSQL and MariaDB (``database_uri``), through ``app.test_cli_runner()`` and through the
real ``erlen`` command in a subprocess."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

import erlen
from erlen.db import Migrate, MigrateError, SQLAlchemy
from servers import free_port

ERLEN = str(Path(sys.executable).with_name("erlen"))


def make_app(uri: str, directory: Path, version: int = 1, **migrate_kwargs):
    """A fresh app (as a new process would load it) whose model is at ``version``:
    1 = user(id, name VARCHAR(20)); 2 = name VARCHAR(200) and a new column email."""
    app = erlen.Erlen(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    db = SQLAlchemy(app)

    class User(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        name = db.Column(db.String(20 if version == 1 else 200))
        if version >= 2:
            email = db.Column(db.String(120), nullable=True)

    Migrate(app, db, directory=str(directory), **migrate_kwargs)
    return app, db, User


def run(app, *args: str):
    result = app.test_cli_runner().invoke(args=list(args))
    assert "Traceback" not in result.output
    return result


def dispose(app, db) -> None:
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()


def versions(directory: Path) -> list[Path]:
    return sorted((directory / "versions").glob("*.py"), key=lambda p: p.stat().st_mtime_ns)


def columns(app, db) -> dict[str, sa.types.TypeEngine]:
    with app.app_context():
        return {c["name"]: c["type"] for c in sa.inspect(db.engine).get_columns("user")}


def test_full_scenario(database_uri, tmp_path):
    repo = tmp_path / "migrations"
    app, db, User = make_app(database_uri, repo)

    result = run(app, "db", "init")
    assert result.exit_code == 0, result.output
    assert {p.name for p in repo.iterdir()} >= {"env.py", "alembic.ini", "script.py.mako"}
    assert "sqlalchemy.url" not in (repo / "alembic.ini").read_text()

    result = run(app, "db", "migrate", "-m", "users")
    assert result.exit_code == 0, result.output
    (first,) = versions(repo)
    source = first.read_text()
    assert '"""users' in source
    assert "op.create_table('user'" in source
    assert "sa.Column('name', sa.String(length=20)" in source

    result = run(app, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "Running upgrade  -> " in result.output
    with app.app_context():
        db.session.add_all([User(name="ada"), User(name="grace")])
        db.session.commit()
    dispose(app, db)

    # the model changes: a type (String(20) -> String(200)) and a new column
    app, db, User = make_app(database_uri, repo, version=2)
    result = run(app, "db", "migrate", "-m", "widen name, add email")
    assert result.exit_code == 0, result.output
    first_id = first.name.split("_")[0]
    second = next(p for p in versions(repo) if p != first)
    source = second.read_text()
    assert f"down_revision = '{first_id}'" in source
    assert "with op.batch_alter_table('user', schema=None) as batch_op:" in source
    assert "batch_op.add_column(sa.Column('email', sa.String(length=120), nullable=True))" in source
    assert "batch_op.alter_column('name'" in source
    assert re.search(r"existing_type=(sa|mysql)\.VARCHAR\(length=20\)", source)
    assert "type_=sa.String(length=200)" in source
    assert "batch_op.drop_column('email')" in source  # the downgrade

    result = run(app, "db", "upgrade")
    assert result.exit_code == 0, result.output
    cols = columns(app, db)
    assert set(cols) == {"id", "name", "email"}
    assert cols["name"].length == 200
    with app.app_context():
        rows = db.session.execute(sa.select(User.name, User.email).order_by(User.id)).all()
        assert [tuple(r) for r in rows] == [("ada", None), ("grace", None)]
        db.session.add(User(name="x" * 150, email="e@example.org"))
        db.session.commit()

    # nothing changed since: no new file
    result = run(app, "db", "migrate", "-m", "nothing")
    assert result.exit_code == 0, result.output
    assert "No changes in schema detected." in result.output
    assert len(versions(repo)) == 2
    result = run(app, "db", "check")
    assert result.exit_code == 0, result.output
    assert "No new upgrade operations detected." in result.output

    second_id = second.name.split("_")[0]
    result = run(app, "db", "current")
    assert result.exit_code == 0
    assert f"{second_id} (head)" in result.output
    result = run(app, "db", "heads")
    assert f"{second_id} (head)" in result.output
    result = run(app, "db", "show")
    assert f"Rev: {second_id} (head)" in result.output
    result = run(app, "db", "history")
    assert f"<base> -> {first_id}, users" in result.output
    assert f"{first_id} -> {second_id} (head), widen name, add email" in result.output

    if not database_uri.startswith("sqlite"):
        # VARCHAR(20) cannot hold the 150 characters: one clear line, the schema unchanged
        result = run(app, "db", "downgrade")
        assert result.exit_code == 1
        assert "Error: database error: " in result.output
        assert "while running: ALTER TABLE" in result.output
        assert set(columns(app, db)) == {"id", "name", "email"}
    with app.app_context():
        db.session.execute(sa.delete(User).where(User.email.is_not(None)))
        db.session.commit()
    result = run(app, "db", "downgrade")
    assert result.exit_code == 0, result.output
    assert f"Running downgrade {second_id} -> {first_id}" in result.output
    cols = columns(app, db)
    assert set(cols) == {"id", "name"}
    assert cols["name"].length == 20
    with app.app_context():
        user = sa.table("user", sa.column("id"), sa.column("name"))
        query = sa.select(user.c.name).order_by(user.c.id)
        names = db.session.execute(query).scalars()
        assert list(names)[:2] == ["ada", "grace"]
    result = run(app, "db", "current")
    assert f"{first_id}\n" in result.output and "(head)" not in result.output
    result = run(app, "db", "history", "-i")
    assert f"{first_id} -> {second_id} (head), widen name, add email" in result.output
    assert f"<base> -> {first_id} (current), users" in result.output

    result = run(app, "db", "check")
    assert result.exit_code == 1
    assert "Error: Target database is not up to date." in result.output

    # stamped at head while the schema is at the first revision: the models (version 2) differ
    result = run(app, "db", "stamp", "head")
    assert result.exit_code == 0, result.output
    result = run(app, "db", "current")
    assert f"{second_id} (head)" in result.output
    result = run(app, "db", "check")
    assert result.exit_code == 1
    assert "Error: the models have changes that no migration has" in result.output
    assert "add_column" in result.output
    result = run(app, "db", "stamp", "base")
    assert result.exit_code == 0
    result = run(app, "db", "current")
    assert first_id not in result.output and second_id not in result.output
    dispose(app, db)


def test_upgrade_sql_prints_sql_without_touching_the_database(tmp_path):
    uri = f"sqlite:///{tmp_path / 'app.db'}"
    app, db, _ = make_app(uri, tmp_path / "migrations")
    assert run(app, "db", "init").exit_code == 0
    assert run(app, "db", "migrate", "-m", "users").exit_code == 0
    result = run(app, "db", "upgrade", "--sql")
    assert result.exit_code == 0, result.output
    assert "CREATE TABLE user (" in result.output
    assert "INSERT INTO alembic_version" in result.output
    with app.app_context():
        assert "user" not in sa.inspect(db.engine).get_table_names()


def test_upgrade_before_init_is_a_clear_error(tmp_path):
    app, _, _ = make_app(f"sqlite:///{tmp_path / 'app.db'}", tmp_path / "migrations")
    for command in (["upgrade"], ["migrate", "-m", "x"], ["current"], ["history"]):
        result = run(app, "db", *command)
        assert result.exit_code == 1
        assert "Error: no migrations directory" in result.output
        assert "run erlen db init" in result.output


def test_init_twice_is_a_clear_error(tmp_path):
    app, _, _ = make_app(f"sqlite:///{tmp_path / 'app.db'}", tmp_path / "migrations")
    assert run(app, "db", "init").exit_code == 0
    result = run(app, "db", "init")
    assert result.exit_code == 1
    assert "already exists and is not empty" in result.output


def test_init_with_a_template_path_uses_the_apps_template(tmp_path):
    import shutil

    from erlen.db.migrate import TEMPLATES_DIR

    template = tmp_path / "my_template"
    shutil.copytree(TEMPLATES_DIR / "erlen", template)
    (template / "script.py.mako").write_text(
        "# from my_template\n" + (template / "script.py.mako").read_text()
    )
    app, _, _ = make_app(f"sqlite:///{tmp_path / 'app.db'}", tmp_path / "migrations")
    assert run(app, "db", "init", "-t", str(template)).exit_code == 0
    assert (tmp_path / "migrations" / "script.py.mako").read_text().startswith(
        "# from my_template"
    )
    assert run(app, "db", "migrate").exit_code == 0
    (revision,) = versions(tmp_path / "migrations")
    assert revision.read_text().startswith("# from my_template")
    result = run(app, "db", "init", "-t", str(tmp_path / "missing"), "-d", str(tmp_path / "m2"))
    assert result.exit_code == 1 and "No such template" in result.output


def test_alembic_version_is_three_integers():
    import alembic

    from erlen.db import alembic_version

    assert alembic_version == tuple(int(v) for v in alembic.__version__.split(".")[:3])
    assert len(alembic_version) == 3


def test_unreachable_database_hides_the_password(tmp_path):
    uri = f"postgresql://app:s3cret-pw@127.0.0.1:{free_port()}/app"
    app, _, _ = make_app(uri, tmp_path / "migrations")
    assert run(app, "db", "init").exit_code == 0
    for command in (["upgrade"], ["migrate", "-m", "x"], ["current"]):
        result = run(app, "db", *command)
        assert result.exit_code == 1
        assert "Error: cannot connect to the database postgresql+psycopg://app:***@127.0.0.1" in (
            result.output
        )
        assert "s3cret-pw" not in result.output


def test_python_api_and_extension_state(tmp_path):
    from erlen.db import current, init, migrate, upgrade

    app = erlen.Erlen(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'app.db'}"
    db = SQLAlchemy(app)

    class Note(db.Model):
        id = db.Column(db.Integer, primary_key=True)

    ext = Migrate(directory=str(tmp_path / "m"), compare_type=False)
    seen = []

    @ext.configure
    def add_option(config):
        seen.append(config.get_main_option("script_location"))
        config.set_main_option("erlen_test", "yes")
        return config

    ext.init_app(app, db, render_as_batch=False, include_schemas=False)
    state = app.extensions["migrate"]
    assert state.migrate is ext and state.db is db and state.metadata is db.metadata
    assert state.directory == str(tmp_path / "m")
    assert state.configure_args == {
        "compare_type": False,
        "render_as_batch": False,
        "include_schemas": False,
    }
    assert "db" in app.cli.commands

    with pytest.raises(MigrateError, match="app context"):
        upgrade()
    with app.app_context():
        init()
        script = migrate(message="notes")
        assert Path(script.path).read_text().count("op.create_table('note'") == 1
        assert "batch_alter_table" not in Path(script.path).read_text()
        upgrade()
        assert migrate(message="again") is None
        assert sa.inspect(db.engine).get_table_names() == ["alembic_version", "note"]
    assert seen and seen[0] == str(tmp_path / "m")
    config = ext.get_config(x_arg=["a=1"])
    assert config.get_main_option("erlen_test") == "yes"
    assert config.cmd_opts.x == ["a=1"]
    with app.app_context():
        current()  # prints, raises nothing


def test_custom_command_name_and_group_directory(tmp_path):
    app = erlen.Erlen(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'app.db'}"
    db = SQLAlchemy(app)
    Migrate(app, db, command="database")
    assert "database" in app.cli.commands
    other = tmp_path / "elsewhere"
    result = run(app, "database", "-d", str(other), "init")
    assert result.exit_code == 0, result.output
    assert (other / "env.py").is_file()
    result = run(app, "database", "upgrade")  # the default directory has no repository
    assert result.exit_code == 1
    assert "run erlen database init" in result.output


def test_multidb(database_uri, tmp_path):
    app = erlen.Erlen(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_uri
    app.config["SQLALCHEMY_BINDS"] = {"audit": f"sqlite:///{tmp_path / 'audit.db'}"}
    db = SQLAlchemy(app)

    class Account(db.Model):
        id = db.Column(db.Integer, primary_key=True)

    class Event(db.Model):
        __bind_key__ = "audit"
        id = db.Column(db.Integer, primary_key=True)

    repo = tmp_path / "migrations"
    Migrate(app, db, directory=str(repo))
    assert run(app, "db", "init", "--multidb").exit_code == 0
    result = run(app, "db", "migrate", "-m", "both")
    assert result.exit_code == 0, result.output
    (script,) = versions(repo)
    source = script.read_text()
    upgrade_default = source.split("def upgrade_():")[1].split("def downgrade_():")[0]
    upgrade_audit = source.split("def upgrade_audit():")[1].split("def downgrade_audit():")[0]
    assert "op.create_table('account'" in upgrade_default and "event" not in upgrade_default
    assert "op.create_table('event'" in upgrade_audit and "account" not in upgrade_audit
    result = run(app, "db", "upgrade")
    assert result.exit_code == 0, result.output
    with app.app_context():
        main = set(sa.inspect(db.engines[None]).get_table_names())
        audit = set(sa.inspect(db.engines["audit"]).get_table_names())
    assert main == {"alembic_version", "account"}
    assert audit == {"alembic_version", "event"}
    assert "No changes in schema detected." in run(app, "db", "migrate").output
    dispose(app, db)


APP_MODULE = """
import os

import erlen
from erlen.db import Migrate, SQLAlchemy

app = erlen.Erlen(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["MIGAPP_URI"]
db = SQLAlchemy(app)
migrate = Migrate(app, db)


class Book(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String({length}))
"""


def erlen_cmd(cwd: Path, uri: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MIGAPP_URI": uri, "ERLEN_SKIP_DOTENV": "1"}
    return subprocess.run(
        [ERLEN, "--app", "migapp", "db", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_erlen_command_in_a_subprocess(database_uri, tmp_path):
    (tmp_path / "migapp.py").write_text(textwrap.dedent(APP_MODULE.format(length=50)))
    proc = erlen_cmd(tmp_path, database_uri, "init")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "migrations" / "env.py").is_file()
    proc = erlen_cmd(tmp_path, database_uri, "migrate", "-m", "books")
    assert proc.returncode == 0, proc.stderr
    assert "Detected added table 'book'" in proc.stderr
    proc = erlen_cmd(tmp_path, database_uri, "upgrade")
    assert proc.returncode == 0, proc.stderr
    assert "Running upgrade  -> " in proc.stderr and ", books" in proc.stderr

    (tmp_path / "migapp.py").write_text(textwrap.dedent(APP_MODULE.format(length=300)))
    proc = erlen_cmd(tmp_path, database_uri, "migrate", "-m", "longer titles")
    assert proc.returncode == 0, proc.stderr
    assert "Detected type change from VARCHAR(length=50) to String(length=300)" in proc.stderr
    assert erlen_cmd(tmp_path, database_uri, "upgrade").returncode == 0
    proc = erlen_cmd(tmp_path, database_uri, "current")
    assert proc.returncode == 0 and "(head)" in proc.stdout
    engine = sa.create_engine(database_uri.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            length = {c["name"]: c["type"] for c in sa.inspect(conn).get_columns("book")}
            assert length["title"].length == 300
    finally:
        engine.dispose()


def test_erlen_command_errors_before_init_and_unreachable_database(tmp_path):
    (tmp_path / "migapp.py").write_text(textwrap.dedent(APP_MODULE.format(length=50)))
    uri = f"mysql://root:hunter2@127.0.0.1:{free_port()}/app"
    proc = erlen_cmd(tmp_path, uri, "upgrade")
    assert proc.returncode == 1
    assert "Error: no migrations directory ('migrations' has no env.py); run erlen db init" in (
        proc.stderr
    )
    assert "Traceback" not in proc.stderr
    assert erlen_cmd(tmp_path, uri, "init").returncode == 0
    proc = erlen_cmd(tmp_path, uri, "upgrade")
    assert proc.returncode == 1
    assert "Error: cannot connect to the database mysql+pymysql://root:***@127.0.0.1:" in (
        proc.stderr
    )
    assert "hunter2" not in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


def test_templates_are_package_data():
    """A non-editable install ships the templates: pyproject's package-data names them."""
    import tomllib

    root = Path(__file__).resolve().parents[1]
    patterns = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]["erlen"]
    templates = root / "src" / "erlen" / "db" / "templates"
    shipped = {
        p.relative_to(root / "src" / "erlen")
        for pat in patterns
        for p in (root / "src" / "erlen").glob(pat)
        if p.is_file()
    }
    for name in ("erlen", "erlen-multidb"):
        for file in ("env.py", "script.py.mako", "alembic.ini.mako", "README"):
            assert (templates / name / file).relative_to(root / "src" / "erlen") in shipped


def test_same_commands_options_and_signatures_as_flask_migrate():
    """Flask-Migrate 4 (a dev-only oracle) and erlen.db agree on every command's options and
    every API function's parameters, so `flask db ...` scripts port by renaming."""
    import inspect

    import flask_migrate
    from flask_migrate.cli import db as theirs

    import erlen.db
    from erlen.db.migrate_cli import db_cli as ours

    assert sorted(ours.commands) == sorted(theirs.commands)
    assert [p.opts for p in ours.params] == [p.opts for p in theirs.params]
    for name, command in theirs.commands.items():
        expected = sorted(o for p in command.params for o in p.opts)
        assert sorted(o for p in ours.commands[name].params for o in p.opts) == expected, name
    functions = ["init", "revision", "migrate", "edit", "merge", "upgrade", "downgrade", "show"]
    functions += ["history", "heads", "branches", "current", "stamp", "check", "list_templates"]
    for fn in functions:
        expected = list(inspect.signature(getattr(flask_migrate, fn)).parameters)
        assert list(inspect.signature(getattr(erlen.db, fn)).parameters) == expected, fn
    for method in ("__init__", "init_app", "get_config", "configure"):
        expected = list(inspect.signature(getattr(flask_migrate.Migrate, method)).parameters)
        assert list(inspect.signature(getattr(Migrate, method)).parameters) == expected
