"""``SQLALCHEMY_RECORD_QUERIES``: the statements the current app context ran, with timings
and the line of the app's code that ran them (for debug toolbars and tests)."""

from __future__ import annotations

import dataclasses
import inspect
import typing as t
from time import perf_counter

import sqlalchemy as sa
import sqlalchemy.event as sa_event

from ..ctx import has_app_context
from ..globals import current_app, g


@dataclasses.dataclass
class _QueryInfo:
    """One recorded statement. ``parameters`` is the list of parameter sets (one per row
    of an executemany), ``start_time``/``end_time`` are ``perf_counter`` seconds."""

    statement: str | None
    parameters: t.Any
    start_time: float
    end_time: float
    location: str

    @property
    def duration(self) -> float:
        return self.end_time - self.start_time


def get_recorded_queries() -> list[_QueryInfo]:
    """The queries run so far in this app context (empty unless ``SQLALCHEMY_RECORD_QUERIES``
    is on)."""
    return g.get("_sqlalchemy_queries", [])  # type: ignore[no-any-return]


def listen(engine: sa.engine.Engine) -> None:
    sa_event.listen(engine, "before_cursor_execute", _before_cursor_execute)
    sa_event.listen(engine, "after_cursor_execute", _after_cursor_execute)


def _before_cursor_execute(
    conn: sa.engine.Connection, cursor: t.Any, statement: str, parameters: t.Any,
    context: t.Any, executemany: bool,
) -> None:  # fmt: skip
    if has_app_context():
        context._erlen_start_time = perf_counter()


def _after_cursor_execute(
    conn: sa.engine.Connection, cursor: t.Any, statement: str, parameters: t.Any,
    context: t.Any, executemany: bool,
) -> None:  # fmt: skip
    start = getattr(context, "_erlen_start_time", None)
    if start is None or not has_app_context():
        return
    queries = g.setdefault("_sqlalchemy_queries", [])
    queries.append(_QueryInfo(statement, context.parameters, start, perf_counter(), _location()))


def _location() -> str:
    """``file:line (function)`` of the innermost frame in the app's own package."""
    top = current_app.import_name.partition(".")[0]
    prefix = f"{top}."
    frame = inspect.currentframe()
    while frame is not None:
        name = frame.f_globals.get("__name__")
        if name and (name == top or name.startswith(prefix)):
            code = frame.f_code
            return f"{code.co_filename}:{frame.f_lineno} ({code.co_name})"
        frame = frame.f_back
    return "<unknown>"
