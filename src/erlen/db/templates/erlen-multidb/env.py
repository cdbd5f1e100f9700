"""Alembic environment for an erlen app with several databases (SQLALCHEMY_BINDS).

Run by `erlen db ...` inside the app context. Every bind in `db.engines` is migrated with
its own MetaData (`db.metadatas`) and its own alembic_version table; the default database is
named "" (its functions are upgrade_() and downgrade_()). Engines come from the app, so no URL
is written to alembic.ini or printed with a password. This file is yours now; edit it freely.
"""

import logging

from alembic import context

from erlen import current_app
from erlen.db.migrate import connect

config = context.config
logger = logging.getLogger("alembic.env")
state = current_app.extensions["migrate"]
db = state.db


def bind_engines():
    """{"" or bind key: engine}, the default database first."""
    engines = dict(getattr(db, "engines", None) or {None: db.engine})
    names = [None] + sorted(k for k in engines if k)
    return {name or "": engines[name] for name in names if name in engines}


def bind_metadata(name):
    metadatas = getattr(db, "metadatas", None)
    if metadatas:
        return metadatas.get(name or None)
    return db.metadata if not name else None


def process_revision_directives(context, revision, directives):
    """Write no empty revision file when autogenerate finds nothing in any database."""
    if getattr(config.cmd_opts, "autogenerate", False):
        script = directives[0]
        if all(ops.is_empty() for ops in script.upgrade_ops_list):
            directives[:] = []
            logger.info("No changes in schema detected.")


conf_args = dict(state.configure_args)
conf_args.setdefault("process_revision_directives", process_revision_directives)


def run_migrations_offline():
    """--sql: print each database's SQL, one after the other."""
    for name, engine in bind_engines().items():
        logger.info("Migrating database %s", name or "<default>")
        context.configure(
            url=engine.url,
            target_metadata=bind_metadata(name),
            literal_binds=True,
            upgrade_token=f"{name}_upgrades",
            downgrade_token=f"{name}_downgrades",
            **conf_args,
        )
        with context.begin_transaction():
            context.run_migrations(engine_name=name)


def run_migrations_online():
    for name, engine in bind_engines().items():
        logger.info("Migrating database %s", name or "<default>")
        with connect(engine) as connection:
            context.configure(
                connection=connection,
                target_metadata=bind_metadata(name),
                upgrade_token=f"{name}_upgrades",
                downgrade_token=f"{name}_downgrades",
                **conf_args,
            )
            with context.begin_transaction():
                context.run_migrations(engine_name=name)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
