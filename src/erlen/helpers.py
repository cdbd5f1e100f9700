"""View helpers Flask apps import: url_for, redirect, abort, flash, make_response, streaming."""

from __future__ import annotations

import os
import sys
import typing as t
from collections.abc import Iterable, Iterator
from functools import update_wrapper
from html import escape
from urllib.parse import quote

from .globals import (
    _get_app_ctx,
    _get_current_app,
    _get_request_ctx,
    current_app,
    request_ctx,
)
from .signals import message_flashed

if t.TYPE_CHECKING:
    from .wrappers import Response
    from .wrappers import Response as _Response

# Characters a Location header may carry as they are (RFC 3986 reserved + unreserved + '%').
_LOCATION_SAFE = "/:?#[]@!$&'()*+,;=%~"


def url_for(
    endpoint: str,
    *,
    _anchor: str | None = None,
    _method: str | None = None,
    _scheme: str | None = None,
    _external: bool | None = None,
    **values: t.Any,
) -> str:
    """Build a URL for an endpoint (see :meth:`Erlen.url_for`)."""
    return current_app.url_for(
        endpoint, _anchor=_anchor, _method=_method, _scheme=_scheme, _external=_external, **values
    )


def _redirect(location: str, code: int = 302, Response: type[t.Any] | None = None) -> t.Any:
    response_class: type[t.Any]
    if Response is None:
        from .wrappers import Response as response_class
    else:
        response_class = Response
    display = escape(location)
    location = quote(location, safe=_LOCATION_SAFE)
    body = (
        "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n"
        "<h1>Redirecting...</h1>\n<p>You should be redirected automatically to the target"
        f' URL: <a href="{escape(location)}">{display}</a>. If not, click the link.\n'
    )
    rv = response_class(body, status=code, mimetype="text/html")
    rv.headers["Location"] = location
    return rv


def redirect(
    location: str,
    code: int = 302,
    Response: type[t.Any] | None = None,  # noqa: N803 (Flask's name)
) -> _Response:
    """A redirect response; uses the current app's response class when there is one."""
    app = _get_current_app(None)
    if app is not None and Response is None:
        return app.redirect(location, code=code)
    return t.cast("_Response", _redirect(location, code=code, Response=Response))


def abort(code: int | Response, *args: t.Any, **kwargs: t.Any) -> t.NoReturn:
    """Raise the HTTP exception for ``code`` (through the app's aborter when there is one)."""
    app = _get_current_app(None)
    if app is not None:
        app.aborter(code, *args, **kwargs)
    from .exceptions import abort as _abort

    _abort(code, *args, **kwargs)


def make_response(*args: t.Any) -> Response:
    """Turn view-style return values into a response object, to add headers to it."""
    if not args:
        return current_app.response_class()
    if len(args) == 1:
        args = args[0]
    return current_app.make_response(args)


def stream_with_context(generator_or_function: t.Any) -> t.Any:
    """Keep the request context active while a streamed response body is generated."""
    try:
        gen = iter(generator_or_function)
    except TypeError:

        def decorator(*args: t.Any, **kwargs: t.Any) -> t.Any:
            gen = generator_or_function(*args, **kwargs)
            return stream_with_context(gen)

        return update_wrapper(decorator, generator_or_function)

    def generator() -> Iterator[t.Any]:
        ctx = _get_request_ctx(None)
        if ctx is None:
            raise RuntimeError(
                "'stream_with_context' can only be used when a request"
                " context is active, such as in a view function."
            )
        if _in_event_loop():
            # An async view primes us inside asyncio.run's copy of the context, where a push
            # could not be undone later: record the contexts now, push them when iterated.
            app_ctx = _get_app_ctx()
            yield None
            with app_ctx, ctx:
                try:
                    yield from gen
                finally:
                    _close(gen)
            return
        # Pushed while priming: the request's own pop then leaves teardown to this generator,
        # so teardown runs after the body is sent.
        with ctx:
            yield None
            try:
                yield from gen
            finally:
                _close(gen)

    wrapped = generator()
    next(wrapped)
    return wrapped


def _in_event_loop() -> bool:
    asyncio = sys.modules.get("asyncio")  # never imported: no event loop can be running
    if asyncio is None:
        return False
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _close(gen: t.Any) -> None:
    close = getattr(gen, "close", None)
    if close is not None:
        close()


def flash(message: str, category: str = "message") -> None:
    """Store a message for the next request (in the session); read with get_flashed_messages."""
    from .globals import session

    flashes = session.get("_flashes", [])
    flashes.append((category, message))
    session["_flashes"] = flashes
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if message_flashed.receivers:
        message_flashed.send(
            app, _async_wrapper=app.ensure_sync, message=message, category=category
        )


def get_flashed_messages(
    with_categories: bool = False, category_filter: Iterable[str] = ()
) -> list[str] | list[tuple[str, str]]:
    """Pop the flashed messages (once per request: later calls return the same list)."""
    from .globals import session

    flashes = request_ctx.flashes
    if flashes is None:
        flashes = session.pop("_flashes") if "_flashes" in session else []
        flashes = [tuple(f) for f in flashes]
        request_ctx.flashes = flashes
    if category_filter:
        flashes = [f for f in flashes if f[0] in category_filter]
    if not with_categories:
        return [x[1] for x in flashes]
    return flashes


def get_template_attribute(template_name: str, attribute: str) -> t.Any:
    """A macro or variable exported by a template, e.g. to call a macro from Python."""
    return getattr(current_app.jinja_env.get_template(template_name).module, attribute)


def send_file(*args: t.Any, **kwargs: t.Any) -> Response:
    """Send a file's contents (see :func:`erlen.sendfile.send_file`)."""
    from .sendfile import send_file as _send_file

    return _send_file(*args, **kwargs)


def send_from_directory(*args: t.Any, **kwargs: t.Any) -> Response:
    """Send a file from inside a directory, refusing paths that escape it."""
    from .sendfile import send_from_directory as _send_from_directory

    return _send_from_directory(*args, **kwargs)


_TRUE = frozenset({"1", "true", "yes", "on"})


def getenv(name: str) -> str | None:
    """``ERLEN_<name>``, else Flask's ``FLASK_<name>`` (None if neither is set).

    A Flask project's environment (``FLASK_APP``, ``FLASK_DEBUG``, ``FLASK_SKIP_DOTENV``)
    works unchanged; erlen's own spelling wins when both are set and it is not empty (the
    rule click applies to the CLI's option variables; decision 009).
    """
    value = os.environ.get("ERLEN_" + name)
    if not value:
        value = os.environ.get("FLASK_" + name, value)
    return value


def get_debug_flag() -> bool:
    """Whether ``ERLEN_DEBUG`` (or Flask's ``FLASK_DEBUG``) asks for debug mode.

    Only ``1``/``true``/``yes``/``on`` (any case) enable it: Flask's rule (anything but
    ``0``/``false``/``no``) would turn ``off`` into debug mode (decision 009).
    """
    return (getenv("DEBUG") or "").lower() in _TRUE


def get_load_dotenv(default: bool = True) -> bool:
    """False when ``ERLEN_SKIP_DOTENV`` (or ``FLASK_SKIP_DOTENV``) is true, else ``default``."""
    value = getenv("SKIP_DOTENV")
    if not value:
        return default
    return value.lower() not in _TRUE
