"""The ``erlen db`` commands (Flask-Migrate's ``flask db``), added by ``Migrate.init_app``.

Each command runs in the app context (``AppGroup``) and calls the function of the same name
in ``erlen.db.migrate``. Alembic's progress lines ("Running upgrade ...") go to stderr while a
command runs, unless the app configured the ``alembic`` logger itself.
"""

from __future__ import annotations

import importlib
import logging
import sys
import typing as t
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps

import click

from ..cli import AppGroup

# the module, not the function ``erlen.db.migrate`` that the package re-exports
api = importlib.import_module(".migrate", __package__)

F = t.TypeVar("F", bound=Callable[..., t.Any])
_META = "erlen.db.migrate"


def _quiet_plugins(record: logging.LogRecord) -> bool:
    """Drop Alembic 1.17+'s "setting up autogenerate plugin" lines (one per plugin, per run)."""
    return record.levelno > logging.INFO or not record.name.startswith("alembic.runtime.plugins")


@contextmanager
def _alembic_logging() -> Iterator[None]:
    """Show Alembic's and env.py's INFO lines on stderr for one command (as alembic.ini's
    logging section does for Flask-Migrate), without touching the root logger."""
    logger = logging.getLogger("alembic")
    if any(not isinstance(h, logging.NullHandler) for h in logger.handlers):
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)-5.5s [%(name)s] %(message)s"))
    handler.addFilter(_quiet_plugins)
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def _group_options() -> tuple[str | None, tuple[str, ...]]:
    ctx = click.get_current_context()
    return t.cast("tuple[str | None, tuple[str, ...]]", ctx.meta.get(_META, (None, ())))


def _command(f: F) -> F:
    """Fill ``directory``/``x_arg`` from the group's ``-d``/``-x`` and show Alembic's log."""

    @wraps(f)
    def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
        group_directory, group_x = _group_options()
        if "directory" in kwargs and kwargs["directory"] is None:
            kwargs["directory"] = group_directory
        if "x_arg" in kwargs:
            kwargs["x_arg"] = list(group_x) + list(kwargs["x_arg"] or ())
        with _alembic_logging():
            return f(*args, **kwargs)

    return t.cast(F, wrapper)


_directory = click.option(
    "-d", "--directory", default=None, help='Migration script directory (default "migrations").'
)
_x_arg = click.option(
    "-x", "--x-arg", multiple=True, help="Additional arguments consumed by custom env.py scripts."
)
_sql = click.option("--sql", is_flag=True, help="Don't emit SQL to the database: print it.")
_tag = click.option("--tag", default=None, help='Arbitrary "tag" name for custom env.py.')
_rev_options = [
    click.option("--head", default="head", help="Head revision to build the new one upon."),
    click.option("--splice", is_flag=True, help="Allow a non-head revision as the head."),
    click.option("--branch-label", default=None, help="Branch label for the new revision."),
    click.option("--version-path", default=None, help="Where the new revision file goes."),
    click.option("--rev-id", default=None, help="Revision id to use instead of a generated one."),
]


def _with(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    def apply(f: F) -> F:
        for d in reversed(decorators):
            f = d(f)
        return f

    return apply


@click.group("db", cls=AppGroup)
@_directory
@_x_arg
@click.pass_context
def db_cli(ctx: click.Context, directory: str | None, x_arg: tuple[str, ...]) -> None:
    """Perform database migrations (Alembic)."""
    ctx.meta[_META] = (directory, x_arg)


@db_cli.command("list-templates")
@_command
def list_templates() -> None:
    """List the available migration repository templates."""
    api.list_templates()


@db_cli.command("init")
@_directory
@click.option("--multidb", is_flag=True, help="Support multiple databases (SQLALCHEMY_BINDS).")
@click.option("-t", "--template", default=None, help='Repository template (default "erlen").')
@click.option("--package", is_flag=True, help="Write empty __init__.py files to the repository.")
@_command
def init(directory: str | None, multidb: bool, template: str | None, package: bool) -> None:
    """Create a new migration repository."""
    api.init(directory, multidb, template, package)


@db_cli.command("revision")
@_directory
@click.option("-m", "--message", default=None, help="Revision message.")
@click.option("--autogenerate", is_flag=True, help="Fill the revision from the models.")
@_sql
@_with(*_rev_options)
@_command
def revision(
    directory: str | None,
    message: str | None,
    autogenerate: bool,
    sql: bool,
    head: str,
    splice: bool,
    branch_label: str | None,
    version_path: str | None,
    rev_id: str | None,
) -> None:
    """Create a new revision file."""
    api.revision(
        directory, message, autogenerate, sql, head, splice, branch_label, version_path, rev_id
    )


@db_cli.command("migrate")
@_directory
@click.option("-m", "--message", default=None, help="Revision message.")
@_sql
@_with(*_rev_options)
@_x_arg
@_command
def migrate(
    directory: str | None,
    message: str | None,
    sql: bool,
    head: str,
    splice: bool,
    branch_label: str | None,
    version_path: str | None,
    rev_id: str | None,
    x_arg: list[str],
) -> None:
    """Autogenerate a new revision file (alias for 'revision --autogenerate')."""
    api.migrate(directory, message, sql, head, splice, branch_label, version_path, rev_id, x_arg)


@db_cli.command("edit")
@_directory
@click.argument("revision", default="head")
@_command
def edit(directory: str | None, revision: str) -> None:
    """Edit a revision file."""
    api.edit(directory, revision)


@db_cli.command("merge")
@_directory
@click.option("-m", "--message", default=None, help="Merge revision message.")
@click.option("--branch-label", default=None, help="Branch label for the new revision.")
@click.option("--rev-id", default=None, help="Revision id to use instead of a generated one.")
@click.argument("revisions", nargs=-1)
@_command
def merge(
    directory: str | None,
    message: str | None,
    branch_label: str | None,
    rev_id: str | None,
    revisions: tuple[str, ...],
) -> None:
    """Merge two revisions together, creating a new revision file."""
    api.merge(directory, list(revisions) or "heads", message, branch_label, rev_id)


@db_cli.command("upgrade")
@_directory
@_sql
@_tag
@_x_arg
@click.argument("revision", default="head")
@_command
def upgrade(
    directory: str | None, sql: bool, tag: str | None, x_arg: list[str], revision: str
) -> None:
    """Upgrade to a later version."""
    api.upgrade(directory, revision, sql, tag, x_arg)


@db_cli.command("downgrade")
@_directory
@_sql
@_tag
@_x_arg
@click.argument("revision", default="-1")
@_command
def downgrade(
    directory: str | None, sql: bool, tag: str | None, x_arg: list[str], revision: str
) -> None:
    """Revert to a previous version."""
    api.downgrade(directory, revision, sql, tag, x_arg)


@db_cli.command("show")
@_directory
@click.argument("revision", default="head")
@_command
def show(directory: str | None, revision: str) -> None:
    """Show the revision denoted by the given symbol."""
    api.show(directory, revision)


@db_cli.command("history")
@_directory
@click.option("-r", "--rev-range", default=None, help="Range of revisions (start:end).")
@click.option("-v", "--verbose", is_flag=True, help="Use more verbose output.")
@click.option("-i", "--indicate-current", is_flag=True, help="Mark the current revision.")
@_command
def history(
    directory: str | None, rev_range: str | None, verbose: bool, indicate_current: bool
) -> None:
    """List changeset scripts in chronological order."""
    api.history(directory, rev_range, verbose, indicate_current)


@db_cli.command("heads")
@_directory
@click.option("-v", "--verbose", is_flag=True, help="Use more verbose output.")
@click.option("--resolve-dependencies", is_flag=True, help="Treat dependencies as down revisions.")
@_command
def heads(directory: str | None, verbose: bool, resolve_dependencies: bool) -> None:
    """Show current available heads in the script directory."""
    api.heads(directory, verbose, resolve_dependencies)


@db_cli.command("branches")
@_directory
@click.option("-v", "--verbose", is_flag=True, help="Use more verbose output.")
@_command
def branches(directory: str | None, verbose: bool) -> None:
    """Show current branch points."""
    api.branches(directory, verbose)


@db_cli.command("current")
@_directory
@click.option("-v", "--verbose", is_flag=True, help="Use more verbose output.")
@_command
def current(directory: str | None, verbose: bool) -> None:
    """Display the current revision for each database."""
    api.current(directory, verbose)


@db_cli.command("stamp")
@_directory
@_sql
@_tag
@click.option("--purge", is_flag=True, help="Delete the version table before stamping.")
@click.argument("revision", default="head")
@_command
def stamp(directory: str | None, sql: bool, tag: str | None, purge: bool, revision: str) -> None:
    """'stamp' the revision table with the given revision; don't run any migrations."""
    api.stamp(directory, revision, sql, tag, purge)


@db_cli.command("check")
@_directory
@_command
def check(directory: str | None) -> None:
    """Check if there are any new operations to migrate."""
    api.check(directory)
