"""``crossdomain``: Flask-RESTful's CORS decorator (``flask_restful.utils.cors``), the old
Flask snippet: it adds ``Access-Control-*`` headers to a view's responses and answers
``OPTIONS`` itself. ``origin`` is required: there is no allow-everything default."""

from __future__ import annotations

import typing as t
from collections.abc import Callable, Iterable
from datetime import timedelta
from functools import update_wrapper

from ...globals import current_app, request
from ...helpers import make_response

__all__ = ["crossdomain"]


def _joined(values: str | Iterable[str] | None, upper: bool = True) -> str | None:
    if values is None or isinstance(values, str):
        return values
    return ", ".join(v.upper() if upper else v for v in values)


def crossdomain(
    origin: str | Iterable[str] | None = None,
    methods: Iterable[str] | None = None,
    headers: str | Iterable[str] | None = None,
    expose_headers: str | Iterable[str] | None = None,
    max_age: int | float | timedelta = 21600,
    attach_to_all: bool = True,
    automatic_options: bool = True,
    credentials: bool = False,
) -> Callable[[Callable[..., t.Any]], Callable[..., t.Any]]:
    """Decorator: answer CORS for ``origin`` (a string or several) on this view."""
    allowed = ", ".join(sorted(m.upper() for m in methods)) if methods is not None else None
    allow_headers = _joined(headers)
    expose = _joined(expose_headers)
    if origin is None:
        raise TypeError("crossdomain() needs the allowed origin(s)")
    origins = _joined(origin, upper=False)
    if isinstance(max_age, timedelta):
        max_age = max_age.total_seconds()

    def decorator(f: Callable[..., t.Any]) -> Callable[..., t.Any]:
        def wrapped_function(*args: t.Any, **kwargs: t.Any) -> t.Any:
            if automatic_options and request.method == "OPTIONS":
                resp = current_app.make_default_options_response()
            else:
                resp = make_response(f(*args, **kwargs))
            if not attach_to_all and request.method != "OPTIONS":
                return resp
            h = resp.headers
            h["Access-Control-Allow-Origin"] = origins
            h["Access-Control-Allow-Methods"] = (
                allowed
                if allowed is not None
                else current_app.make_default_options_response().headers["allow"]
            )
            h["Access-Control-Max-Age"] = str(max_age)
            if credentials:
                h["Access-Control-Allow-Credentials"] = "true"
            if allow_headers is not None:
                h["Access-Control-Allow-Headers"] = allow_headers
            if expose is not None:
                h["Access-Control-Expose-Headers"] = expose
            return resp

        f.provide_automatic_options = False  # type: ignore[attr-defined]
        return update_wrapper(wrapped_function, f)

    return decorator
