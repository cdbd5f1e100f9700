"""A database that goes away: 503 with ``Retry-After`` and one log line, not a 500.

SQLAlchemy tells an unreachable database from other errors in its ``handle_error`` event:
a failure while connecting (no connection yet: refused, timed out, pre-ping's reconnect
failing) or an error the dialect calls a disconnect (the server went away mid-request).
Only those are replaced by ``DatabaseUnavailable`` — a subclass of the original exception
class, so ``except OperationalError`` still catches it. Everything else (a missing table,
a constraint violation) stays the error it was. The app's error handler for
``DatabaseUnavailable`` answers 503; it is registered like any user handler, so it works
with ``TESTING`` on (which propagates only *unhandled* exceptions) and a user can replace it
with ``@app.errorhandler(DatabaseUnavailable)``. SQLAlchemy invalidates the pool on a
disconnect, so once the server is back the next checkout connects anew.
"""

from __future__ import annotations

import logging
import typing as t

import sqlalchemy.event as sa_event
import sqlalchemy.exc as sa_exc

from ..exceptions import ServiceUnavailable
from .engines import safe_url

if t.TYPE_CHECKING:
    import sqlalchemy as sa

    from ..application import Erlen

log = logging.getLogger("erlen.db")

#: Seconds a client is told to wait (``SQLALCHEMY_RETRY_AFTER`` overrides it).
DEFAULT_RETRY_AFTER = 5


class DatabaseUnavailable(sa_exc.DBAPIError):
    """The database could not be reached. Raised instances are also instances of the error
    SQLAlchemy raised (``OperationalError``, ``InterfaceError``…)."""

    bind_key: str | None = None
    url: str = ""


_classes: dict[type[sa_exc.DBAPIError], type[DatabaseUnavailable]] = {}


def _unavailable_class(base: type[sa_exc.DBAPIError]) -> type[DatabaseUnavailable]:
    cls = _classes.get(base)
    if cls is None:
        if issubclass(base, DatabaseUnavailable):
            return base
        cls = type(f"DatabaseUnavailable{base.__name__}", (DatabaseUnavailable, base), {})
        cls.__module__ = __name__
        _classes[base] = cls
    return cls


def is_unreachable(ctx: sa.engine.ExceptionContext) -> bool:
    """A connect-time failure or a disconnect; not a pre-ping (the pool reconnects then)."""
    if ctx.is_pre_ping:
        return False
    if ctx.is_disconnect:
        return True
    return ctx.connection is None and ctx.execution_context is None


def listen(engine: sa.engine.Engine, bind_key: str | None) -> None:
    """Turn this engine's unreachable-database errors into ``DatabaseUnavailable``."""
    url = safe_url(engine.url)
    password = engine.url.password

    def handle_error(ctx: sa.engine.ExceptionContext) -> BaseException | None:
        original = ctx.sqlalchemy_exception
        if not isinstance(original, sa_exc.DBAPIError) or not is_unreachable(ctx):
            return None
        if isinstance(original, DatabaseUnavailable):
            return None
        exc = _unavailable_class(type(original))(
            original.statement,
            original.params,
            original.orig,  # type: ignore[arg-type]
            hide_parameters=original.hide_parameters,
            connection_invalidated=original.connection_invalidated or ctx.is_disconnect,
            code=original.code,
            ismulti=original.ismulti,
        )
        exc.bind_key = bind_key
        exc.url = url
        exc._erlen_password = password  # type: ignore[attr-defined]
        return exc

    sa_event.listen(engine, "handle_error", handle_error, retval=True)


def describe(exc: DatabaseUnavailable) -> str:
    """One line for the log: which database and why, the password never included."""
    reason = " ".join(str(exc.orig).split()) or type(exc.orig).__name__
    password = getattr(exc, "_erlen_password", None)
    if password:
        reason = reason.replace(str(password), "***")
    bind = "" if exc.bind_key is None else f" (bind {exc.bind_key!r})"
    return f"database unavailable{bind} at {exc.url}: {type(exc.orig).__name__}: {reason}"


def register_handler(app: Erlen) -> None:
    """Answer ``DatabaseUnavailable`` with 503 + ``Retry-After`` (through the app's own 503
    handler if it has one) and log one line without a traceback."""

    def database_unavailable(exc: DatabaseUnavailable) -> t.Any:
        log.error("%s", describe(exc))
        retry_after = int(app.config.get("SQLALCHEMY_RETRY_AFTER", DEFAULT_RETRY_AFTER))
        return app.handle_http_exception(ServiceUnavailable(retry_after=retry_after))

    app.register_error_handler(DatabaseUnavailable, database_unavailable)
