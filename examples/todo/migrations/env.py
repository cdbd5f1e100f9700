"""Alembic environment for an erlen app: run by `erlen db ...` inside the app context.

The database is the app's: `Migrate(app, db)` put `db` into `app.extensions["migrate"]`, and
its engine is used as it is, so no URL is written to alembic.ini or printed with a password.
This file belongs to your project now; edit it as you need.
"""

import logging

from alembic import context

from erlen import current_app
from erlen.db.migrate import connect

config = context.config
logger = logging.getLogger("alembic.env")
state = current_app.extensions["migrate"]
db = state.db


def get_metadata():
    """The default bind's MetaData: what autogenerate compares the database with."""
    metadatas = getattr(db, "metadatas", None)
    return metadatas[None] if metadatas else db.metadata


def process_revision_directives(context, revision, directives):
    """Write no empty revision file when autogenerate finds nothing."""
    if getattr(config.cmd_opts, "autogenerate", False):
        script = directives[0]
        if script.upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")


# Migrate(app, db, compare_type=..., render_as_batch=..., **kwargs) arrive here
conf_args = dict(state.configure_args)
conf_args.setdefault("process_revision_directives", process_revision_directives)


def run_migrations_offline():
    """--sql: print the SQL for the engine's dialect instead of running it."""
    context.configure(
        url=db.engine.url, target_metadata=get_metadata(), literal_binds=True, **conf_args
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    with connect(db.engine) as connection:
        context.configure(connection=connection, target_metadata=get_metadata(), **conf_args)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
