"""``db.session``'s class: a SQLAlchemy ``Session`` that picks each table's engine by the
bind key of the metadata it belongs to."""

from __future__ import annotations

import typing as t

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc
import sqlalchemy.orm as sa_orm

from ..globals import app_ctx

if t.TYPE_CHECKING:
    from .extension import SQLAlchemy


class Session(sa_orm.Session):
    """Routes ``Model.__bind_key__`` / ``db.Table(bind_key=...)`` tables to their engine;
    everything else goes to the default engine."""

    def __init__(self, db: SQLAlchemy, **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        self._db = db
        #: the app's engines, looked up once: a session lives in one app context
        self._engines: t.Mapping[str | None, sa.engine.Engine] | None = None

    def get_bind(  # type: ignore[override]
        self,
        mapper: t.Any = None,
        clause: t.Any = None,
        bind: t.Any = None,
        **kwargs: t.Any,
    ) -> sa.engine.Engine | sa.engine.Connection:
        if bind is not None:
            return t.cast("sa.engine.Engine | sa.engine.Connection", bind)
        engines = self._engines
        if engines is None:
            engines = self._engines = self._db.engines
        if len(engines) == 1 and None in engines:  # no binds: nothing to route
            return engines[None]
        if mapper is not None:
            try:
                mapper = sa.inspect(mapper)
            except sa_exc.NoInspectionAvailable as e:
                if isinstance(mapper, type):
                    raise sa_orm.exc.UnmappedClassError(mapper) from e
                raise
            engine = _table_engine(mapper.local_table, engines)
            if engine is not None:
                return engine
        if clause is not None:
            engine = _table_engine(clause, engines)
            if engine is not None:
                return engine
        if None in engines:
            return engines[None]
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)


def _table_engine(
    clause: t.Any, engines: t.Mapping[str | None, sa.engine.Engine]
) -> sa.engine.Engine | None:
    """The engine of the bind key of the table ``clause`` is (or writes to, or only selects
    from), if it has one."""
    table = None
    if isinstance(clause, sa.Table):
        table = clause
    elif isinstance(clause, sa.sql.dml.UpdateBase) and isinstance(clause.table, sa.Table):
        table = clause.table
    elif isinstance(clause, sa.Select):  # a Core select of one bind's tables (erlen only)
        tables = [f for f in clause.get_final_froms() if isinstance(f, sa.Table)]
        keys = {f.metadata.info.get("bind_key") for f in tables}
        if len(keys) == 1 and None not in keys:
            table = tables[0]
    if table is None or "bind_key" not in table.metadata.info:
        return None
    key = table.metadata.info["bind_key"]
    if key not in engines:
        raise sa_exc.UnboundExecutionError(f"Bind key '{key}' is not in 'SQLALCHEMY_BINDS' config.")
    return engines[key]


#: the proxy's resolver, bound once: ``app_ctx._get_current_object`` would look the method
#: up through the proxy's ``__getattribute__`` on each of a request's scope lookups
_current_app_ctx = app_ctx._get_current_object  # type: ignore[attr-defined]


def app_ctx_id() -> int:
    """The scope of ``db.session``: the current app context (one session per request or
    ``with app.app_context()``; the session is removed when that context ends)."""
    return id(_current_app_ctx())
