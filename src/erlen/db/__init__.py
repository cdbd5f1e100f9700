"""erlen's database battery: Flask-SQLAlchemy 3.1's API (``from erlen.db import SQLAlchemy``).

Importing ``erlen`` does not import this package (nor SQLAlchemy); apps that use no database
pay nothing. See docs/database.md.
"""

from __future__ import annotations

from .engines import rewrite_driver
from .extension import SQLAlchemy
from .migrate import (
    Config,
    Migrate,
    MigrateError,
    alembic_version,
    branches,
    check,
    current,
    downgrade,
    edit,
    heads,
    history,
    init,
    list_templates,
    merge,
    migrate,
    revision,
    show,
    stamp,
    upgrade,
)
from .model import DefaultMeta, Model, camel_to_snake_case
from .outage import DatabaseUnavailable
from .pagination import Pagination, QueryPagination, SelectPagination
from .query import Query
from .record_queries import get_recorded_queries
from .session import Session
from .track_modifications import before_models_committed, models_committed

__all__ = [
    "Config",
    "Migrate",
    "MigrateError",
    "alembic_version",
    "branches",
    "check",
    "current",
    "downgrade",
    "edit",
    "heads",
    "history",
    "init",
    "list_templates",
    "merge",
    "migrate",
    "revision",
    "show",
    "stamp",
    "upgrade",
    "DatabaseUnavailable",
    "DefaultMeta",
    "Model",
    "Pagination",
    "Query",
    "QueryPagination",
    "SQLAlchemy",
    "SelectPagination",
    "Session",
    "before_models_committed",
    "camel_to_snake_case",
    "get_recorded_queries",
    "models_committed",
    "rewrite_driver",
]
