"""Database migrations: Flask-Migrate 4's API on Alembic (``Migrate``, ``upgrade()``, …).

``Migrate(app, db)`` stores what the migration environment needs in
``app.extensions["migrate"]`` and adds the ``erlen db`` commands (``erlen.db.migrate_cli``).
The functions here are Flask-Migrate's Python API: each runs the matching Alembic command in
the current app context, against the repository made by ``init()`` (``migrations/``).

The repository's ``env.py`` (our template, ``templates/erlen``) takes the database from the
app's engines, so no URL is written to ``alembic.ini`` and none is printed with its password.
Failures raise :class:`MigrateError` (a ``click.ClickException``: the command prints
``Error: …`` and exits 1, without a traceback); Flask-Migrate logs and calls ``sys.exit(1)``.
"""

from __future__ import annotations

import argparse
import os
import sys
import typing as t
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import wraps
from pathlib import Path

import click
from alembic import __version__ as _alembic_version
from alembic import command as _alembic
from alembic.config import Config as _AlembicConfig
from alembic.util import CommandError

from ..globals import current_app

#: Alembic's version as three integers (Flask-Migrate's ``alembic_version``).
alembic_version: tuple[int, ...] = tuple(int(v) for v in _alembic_version.split(".")[:3])

if t.TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from ..application import Erlen

F = t.TypeVar("F", bound=Callable[..., t.Any])
ConfigureCallback = Callable[["Config"], "Config"]

#: Where the repository templates (``erlen``, ``erlen-multidb``) are shipped.
TEMPLATES_DIR = Path(__file__).with_name("templates")
#: Flask-Migrate's template names, accepted so its ``--template`` spellings keep working.
_TEMPLATE_ALIASES = {"flask": "erlen", "flask-multidb": "erlen-multidb"}


class MigrateError(click.ClickException):
    """A migration command failed; the message says why (never with a password in it)."""


class Config(_AlembicConfig):
    """Alembic's ``Config`` whose ``init``/``list_templates`` use erlen's templates."""

    def __init__(self, *args: t.Any, template_directory: str | None = None, **kwargs: t.Any):
        self.template_directory = template_directory
        super().__init__(*args, **kwargs)

    def get_template_directory(self) -> str:
        return self.template_directory or str(TEMPLATES_DIR)


class _MigrateConfig:
    """What ``app.extensions["migrate"]`` holds: the ``Migrate`` object, ``db``, the
    repository ``directory`` and the ``configure_args`` env.py passes to Alembic."""

    def __init__(self, migrate: Migrate, db: t.Any, **kwargs: t.Any) -> None:
        self.migrate = migrate
        self.db = db
        self.directory = migrate.directory
        self.configure_args = kwargs

    @property
    def metadata(self) -> t.Any:
        """The default bind's ``MetaData`` (Flask-Migrate's name)."""
        return self.db.metadata


class Migrate:
    """Flask-Migrate's extension: ``Migrate(app, db)`` or ``Migrate().init_app(app, db)``.

    ``compare_type`` (detect column type changes) and ``render_as_batch`` (SQLite can only
    ALTER through batch mode, which copies the table) are on by default, as in Flask-Migrate 4;
    other keyword arguments go to Alembic's ``context.configure()`` in env.py.
    """

    def __init__(
        self,
        app: Erlen | None = None,
        db: t.Any = None,
        directory: str | os.PathLike[str] = "migrations",
        command: str = "db",
        compare_type: bool = True,
        render_as_batch: bool = True,
        **kwargs: t.Any,
    ) -> None:
        self.configure_callbacks: list[ConfigureCallback] = []
        self.db = db
        self.command = command
        self.directory = str(directory)
        self.alembic_ctx_kwargs = kwargs
        self.alembic_ctx_kwargs["compare_type"] = compare_type
        self.alembic_ctx_kwargs["render_as_batch"] = render_as_batch
        if app is not None and db is not None:
            self.init_app(app, db, directory)

    def init_app(
        self,
        app: Erlen,
        db: t.Any = None,
        directory: str | os.PathLike[str] | None = None,
        command: str | None = None,
        compare_type: bool | None = None,
        render_as_batch: bool | None = None,
        **kwargs: t.Any,
    ) -> None:
        """Register on ``app``: ``app.extensions["migrate"]`` and the ``erlen db`` group."""
        from .migrate_cli import db_cli

        self.db = db or self.db
        if self.db is None:
            raise TypeError("Migrate needs the SQLAlchemy object: Migrate(app, db)")
        self.command = command or self.command
        self.directory = str(directory or self.directory)
        self.alembic_ctx_kwargs.update(kwargs)
        if compare_type is not None:
            self.alembic_ctx_kwargs["compare_type"] = compare_type
        if render_as_batch is not None:
            self.alembic_ctx_kwargs["render_as_batch"] = render_as_batch
        app.extensions["migrate"] = _MigrateConfig(self, self.db, **self.alembic_ctx_kwargs)
        app.cli.add_command(db_cli, name=self.command)

    def configure(self, f: ConfigureCallback) -> ConfigureCallback:
        """Decorator: ``f(config) -> config`` adjusts every Alembic ``Config`` made here."""
        self.configure_callbacks.append(f)
        return f

    def call_configure_callbacks(self, config: Config) -> Config:
        for f in self.configure_callbacks:
            config = f(config)
        return config

    def get_config(
        self,
        directory: str | os.PathLike[str] | None = None,
        x_arg: str | Sequence[str] | None = None,
        opts: Sequence[str] | None = None,
    ) -> Config:
        """The Alembic ``Config`` for the repository in ``directory`` (``-x`` args included)."""
        directory = str(directory if directory is not None else self.directory)
        config = Config(os.path.join(directory, "alembic.ini"), stdout=sys.stdout)
        config.set_main_option("script_location", directory.replace("%", "%%"))
        if config.cmd_opts is None:
            config.cmd_opts = argparse.Namespace()
        for opt in opts or ():
            setattr(config.cmd_opts, opt, True)
        if not hasattr(config.cmd_opts, "x"):
            config.cmd_opts.x = []
        if x_arg is not None:
            config.cmd_opts.x.extend([x_arg] if isinstance(x_arg, str) else x_arg)
        return self.call_configure_callbacks(config)


# --- errors ----------------------------------------------------------------------------------


def _hidden_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _scrub(text: str, engine: Engine | None) -> str:
    password = engine.url.password if engine is not None else None
    if password:
        text = text.replace(str(password), "***")
    return text


@contextmanager
def connect(engine: Engine) -> Iterator[Connection]:
    """``engine.connect()`` for env.py: an unreachable database becomes a one-line
    :class:`MigrateError` naming the URL with its password hidden."""
    from sqlalchemy.exc import DBAPIError

    try:
        connection = engine.connect()
    except DBAPIError as e:
        reason = str(e.orig).strip().splitlines()[0] if str(e.orig).strip() else type(e.orig)
        raise MigrateError(
            f"cannot connect to the database {_hidden_url(engine)}: {_scrub(str(reason), engine)}"
        ) from None
    with connection:
        yield connection


def _engine_or_none() -> Engine | None:
    try:
        return t.cast("Engine", current_app.extensions["migrate"].db.engine)
    except Exception:
        return None


def _translate_errors(f: F) -> F:
    """Alembic's and the database's errors become :class:`MigrateError` (one line, no URL
    password); the CLI prints them without a traceback."""

    @wraps(f)
    def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
        from sqlalchemy.exc import DBAPIError, SQLAlchemyError

        try:
            return f(*args, **kwargs)
        except MigrateError:
            raise
        except CommandError as e:
            raise MigrateError(_scrub(str(e), _engine_or_none())) from None
        except DBAPIError as e:
            orig = str(e.orig).strip() or type(e.orig).__name__
            message = f"database error: {orig}"
            if e.statement:
                message += f"\n  while running: {e.statement.strip()}"
            raise MigrateError(_scrub(message, _engine_or_none())) from None
        except SQLAlchemyError as e:
            raise MigrateError(_scrub(f"database error: {e}", _engine_or_none())) from None

    return t.cast(F, wrapper)


# --- the Python API (Flask-Migrate's functions) ------------------------------------------------


def _state() -> _MigrateConfig:
    try:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
    except RuntimeError:
        raise MigrateError("migration commands need an app context (with app.app_context():)")
    state = app.extensions.get("migrate")
    if state is None:
        raise MigrateError("Migrate is not set up on this app: call Migrate(app, db) first")
    return t.cast(_MigrateConfig, state)


def _config(
    directory: str | os.PathLike[str] | None,
    x_arg: str | Sequence[str] | None = None,
    opts: Sequence[str] | None = None,
    must_exist: bool = True,
) -> Config:
    state = _state()
    config = state.migrate.get_config(directory, x_arg=x_arg, opts=opts)
    where = config.get_main_option("script_location") or state.migrate.directory
    if must_exist and not os.path.isfile(os.path.join(where, "env.py")):
        option = "" if where == "migrations" else f" -d {where}"
        raise MigrateError(
            f"no migrations directory ({where!r} has no env.py); "
            f"run erlen {state.migrate.command} init{option}"
        )
    return config


def list_templates() -> None:
    """Print the repository templates ``init(template=...)`` accepts."""
    config = Config(stdout=sys.stdout)
    config.print_stdout("Available templates:\n")
    for path in sorted(TEMPLATES_DIR.iterdir()):
        readme = path / "README"
        if path.is_dir() and readme.is_file():
            synopsis = readme.read_text(encoding="utf-8").strip().splitlines()[0]
            config.print_stdout(f"{path.name} - {synopsis}")
    config.print_stdout("\nTemplates are used via the 'init' command, e.g.:")
    config.print_stdout("\n  erlen db init --template erlen-multidb\n")


@_translate_errors
def init(
    directory: str | os.PathLike[str] | None = None,
    multidb: bool = False,
    template: str | None = None,
    package: bool = False,
) -> None:
    """Create the migration repository (``migrations/``: alembic.ini, env.py, versions/)."""
    state = _state()
    directory = str(directory if directory is not None else state.migrate.directory)
    template_directory = None
    if template is not None and ("/" in template or "\\" in template):
        # a path (``-t ./my_template``): the app's own template folder
        template_directory, template = os.path.split(template)
    config = Config(stdout=sys.stdout, template_directory=template_directory)
    config.set_main_option("script_location", directory.replace("%", "%%"))
    config.config_file_name = os.path.join(directory, "alembic.ini")
    config = state.migrate.call_configure_callbacks(config)
    if template is None:
        template = "erlen-multidb" if multidb else "erlen"
    elif template_directory is None:
        template = _TEMPLATE_ALIASES.get(template, template)
    _alembic.init(config, directory, template=template, package=package)


@_translate_errors
def revision(
    directory: str | os.PathLike[str] | None = None,
    message: str | None = None,
    autogenerate: bool = False,
    sql: bool = False,
    head: str = "head",
    splice: bool = False,
    branch_label: str | None = None,
    version_path: str | None = None,
    rev_id: str | None = None,
) -> t.Any:
    """Create a revision file (filled from the models with ``autogenerate=True``)."""
    opts = ["autogenerate"] if autogenerate else None
    config = _config(directory, opts=opts)
    return _alembic.revision(
        config,
        message,
        autogenerate=autogenerate,
        sql=sql,
        head=head,
        splice=splice,
        branch_label=branch_label,
        version_path=version_path,
        rev_id=rev_id,
    )


@_translate_errors
def migrate(
    directory: str | os.PathLike[str] | None = None,
    message: str | None = None,
    sql: bool = False,
    head: str = "head",
    splice: bool = False,
    branch_label: str | None = None,
    version_path: str | None = None,
    rev_id: str | None = None,
    x_arg: str | Sequence[str] | None = None,
) -> t.Any:
    """``revision --autogenerate``: a revision file with the changes the models made.

    Returns Alembic's ``Script`` (``.path`` is the new file), or ``None`` when nothing changed
    (env.py logs "No changes in schema detected.").
    """
    config = _config(directory, x_arg=x_arg, opts=["autogenerate"])
    rv = _alembic.revision(
        config,
        message,
        autogenerate=True,
        sql=sql,
        head=head,
        splice=splice,
        branch_label=branch_label,
        version_path=version_path,
        rev_id=rev_id,
    )
    return rv or None


@_translate_errors
def edit(directory: str | os.PathLike[str] | None = None, revision: str = "current") -> None:
    """Open a revision file in ``$EDITOR``."""
    _alembic.edit(_config(directory), revision)


@_translate_errors
def merge(
    directory: str | os.PathLike[str] | None = None,
    revisions: str | Sequence[str] = "",
    message: str | None = None,
    branch_label: str | None = None,
    rev_id: str | None = None,
) -> t.Any:
    """A revision that merges two or more heads."""
    revs = revisions if isinstance(revisions, str) else list(revisions)
    return _alembic.merge(
        _config(directory), revs, message=message, branch_label=branch_label, rev_id=rev_id
    )


@_translate_errors
def upgrade(
    directory: str | os.PathLike[str] | None = None,
    revision: str = "head",
    sql: bool = False,
    tag: str | None = None,
    x_arg: str | Sequence[str] | None = None,
) -> None:
    """Upgrade the database to ``revision`` (``--sql``: print the SQL instead)."""
    _alembic.upgrade(_config(directory, x_arg=x_arg), revision, sql=sql, tag=tag)


@_translate_errors
def downgrade(
    directory: str | os.PathLike[str] | None = None,
    revision: str = "-1",
    sql: bool = False,
    tag: str | None = None,
    x_arg: str | Sequence[str] | None = None,
) -> None:
    """Downgrade the database to ``revision`` (default: one step back)."""
    if sql and revision == "-1":
        revision = "head:-1"
    _alembic.downgrade(_config(directory, x_arg=x_arg), revision, sql=sql, tag=tag)


@_translate_errors
def show(directory: str | os.PathLike[str] | None = None, revision: str = "head") -> None:
    """Print a revision's details."""
    _alembic.show(_config(directory), revision)


@_translate_errors
def history(
    directory: str | os.PathLike[str] | None = None,
    rev_range: str | None = None,
    verbose: bool = False,
    indicate_current: bool = False,
) -> None:
    """Print the revisions, newest first."""
    _alembic.history(
        _config(directory), rev_range, verbose=verbose, indicate_current=indicate_current
    )


@_translate_errors
def heads(
    directory: str | os.PathLike[str] | None = None,
    verbose: bool = False,
    resolve_dependencies: bool = False,
) -> None:
    """Print the head revisions."""
    _alembic.heads(_config(directory), verbose=verbose, resolve_dependencies=resolve_dependencies)


@_translate_errors
def branches(directory: str | os.PathLike[str] | None = None, verbose: bool = False) -> None:
    """Print the branch points."""
    _alembic.branches(_config(directory), verbose=verbose)


@_translate_errors
def current(directory: str | os.PathLike[str] | None = None, verbose: bool = False) -> None:
    """Print the database's current revision."""
    _alembic.current(_config(directory), verbose=verbose)


@_translate_errors
def stamp(
    directory: str | os.PathLike[str] | None = None,
    revision: str = "head",
    sql: bool = False,
    tag: str | None = None,
    purge: bool = False,
) -> None:
    """Set the database's revision without running migrations."""
    _alembic.stamp(_config(directory), revision, sql=sql, tag=tag, purge=purge)


@_translate_errors
def check(directory: str | os.PathLike[str] | None = None) -> None:
    """Fail (``MigrateError``) when the models have changes no revision has yet."""
    from alembic.util import AutogenerateDiffsDetected

    try:
        _alembic.check(_config(directory))
    except AutogenerateDiffsDetected as e:
        raise MigrateError(f"the models have changes that no migration has: {e}") from None
