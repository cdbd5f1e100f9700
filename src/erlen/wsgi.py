"""The WSGI adapter: ``wsgi_app``/``__call__`` of the application, and middleware.

The application core (``erlen.app``) turns a pushed request context into a ``Response`` and
knows no server interface; :class:`WSGIAdapter` is what a WSGI server calls: it builds the
request context from the environ, pushes it, runs the core, hands the response to the
server (``response(environ, start_response)``) and pops the context.

``ProxyFix`` makes an app behind a reverse proxy (nginx, a load balancer) see the client's
address, scheme, host, port and mount prefix from the ``X-Forwarded-*`` headers, trusting only
as many hops as the deployment really has (headers are client-forgeable otherwise).
"""

from __future__ import annotations

import sys
import typing as t
from collections.abc import Callable, Iterable

if t.TYPE_CHECKING:
    from .app.dispatch import PlainAnswer
    from .ctx import RequestContext
    from .wrappers import Response

WSGIEnviron = dict[str, t.Any]
StartResponse = Callable[..., t.Any]
WSGIApplication = Callable[[WSGIEnviron, StartResponse], Iterable[bytes]]

__all__ = ["ProxyFix", "WSGIAdapter", "WSGIApplication"]

#: The test client's key: a callable given each request context instead of popping it
#: (``with client:`` keeps the last request's context alive).
PRESERVE_CONTEXT = "erlen.preserve_context"


class WSGIAdapter:
    """The WSGI side of the application (a mixin of ``erlen.Erlen``)."""

    if t.TYPE_CHECKING:  # provided by erlen.app.App

        def request_context(self, environ: dict[str, t.Any]) -> RequestContext: ...
        def handle_request(
            self, ctx: RequestContext, plain: bool = True
        ) -> Response | PlainAnswer: ...
        def handle_exception(self, e: Exception) -> Response: ...
        def should_ignore_error(self, error: BaseException | None) -> bool: ...

    def wsgi_app(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI application; wrap this (not ``__call__``) with middleware."""
        ctx = self.request_context(environ)
        error: BaseException | None = None
        try:
            try:
                ctx.push()
                response = self.handle_request(ctx)
            except Exception as e:
                error = e
                response = self.handle_exception(e)
            except BaseException:
                error = sys.exc_info()[1]
                raise
            if type(response) is tuple:  # a plain answer: what its Response would send
                status, headers, body = response
                start_response(status, headers)
                return () if ctx.request.method == "HEAD" else [body]
            return response(environ, start_response)  # type: ignore[operator]
        finally:
            preserve = environ.get(PRESERVE_CONTEXT)
            if preserve is not None:
                preserve(ctx)
            else:
                if error is not None and self.should_ignore_error(error):
                    error = None
                ctx.pop(error)
            error = None  # its traceback holds this frame: no cycle left behind

    def __call__(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        return self.wsgi_app(environ, start_response)


def _trusted_value(trusted: int, value: str | None) -> str | None:
    """The value the ``trusted``-th proxy from the right saw; None if there are fewer hops."""
    if not trusted or not value:
        return None
    values = value.split(",")
    if len(values) < trusted:
        return None
    return values[-trusted].strip() or None


class ProxyFix:
    """Adjust the environ from ``X-Forwarded-*`` headers set by ``N`` trusted proxies.

    Each argument is the number of proxies that set that header (0 = ignore it). Only the
    value appended by the outermost trusted proxy is used; values a client prepended are
    ignored, and a header with fewer values than trusted hops is ignored altogether.

    - ``x_for``: ``X-Forwarded-For`` → ``REMOTE_ADDR``
    - ``x_proto``: ``X-Forwarded-Proto`` → ``wsgi.url_scheme``
    - ``x_host``: ``X-Forwarded-Host`` → ``HTTP_HOST``, ``SERVER_NAME``, ``SERVER_PORT``
    - ``x_port``: ``X-Forwarded-Port`` → ``HTTP_HOST``, ``SERVER_PORT``
    - ``x_prefix``: ``X-Forwarded-Prefix`` → ``SCRIPT_NAME``

    The original values are kept in ``environ["erlen.proxy_fix.orig"]``.
    """

    __slots__ = ("app", "x_for", "x_proto", "x_host", "x_port", "x_prefix")

    def __init__(
        self,
        app: WSGIApplication,
        x_for: int = 1,
        x_proto: int = 1,
        x_host: int = 0,
        x_port: int = 0,
        x_prefix: int = 0,
    ) -> None:
        for name, value in (
            ("x_for", x_for),
            ("x_proto", x_proto),
            ("x_host", x_host),
            ("x_port", x_port),
            ("x_prefix", x_prefix),
        ):
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"ProxyFix {name} must be a non-negative int, got {value!r}")
        self.app = app
        self.x_for = x_for
        self.x_proto = x_proto
        self.x_host = x_host
        self.x_port = x_port
        self.x_prefix = x_prefix

    def __call__(self, environ: WSGIEnviron, start_response: StartResponse) -> Iterable[bytes]:
        get = environ.get
        environ["erlen.proxy_fix.orig"] = {
            "REMOTE_ADDR": get("REMOTE_ADDR"),
            "wsgi.url_scheme": get("wsgi.url_scheme"),
            "HTTP_HOST": get("HTTP_HOST"),
            "SERVER_NAME": get("SERVER_NAME"),
            "SERVER_PORT": get("SERVER_PORT"),
            "SCRIPT_NAME": get("SCRIPT_NAME"),
        }
        if self.x_for:
            value = _trusted_value(self.x_for, get("HTTP_X_FORWARDED_FOR"))
            if value:
                environ["REMOTE_ADDR"] = value
        if self.x_proto:
            value = _trusted_value(self.x_proto, get("HTTP_X_FORWARDED_PROTO"))
            if value:
                environ["wsgi.url_scheme"] = value
        if self.x_host:
            value = _trusted_value(self.x_host, get("HTTP_X_FORWARDED_HOST"))
            if value:
                environ["HTTP_HOST"] = environ["SERVER_NAME"] = value
                # "host:port", but not a bare IPv6 literal like "[::1]"
                if ":" in value and not value.endswith("]"):
                    environ["SERVER_NAME"], environ["SERVER_PORT"] = value.rsplit(":", 1)
        if self.x_port:
            value = _trusted_value(self.x_port, get("HTTP_X_FORWARDED_PORT"))
            if value:
                host = get("HTTP_HOST")
                if host:
                    if ":" in host and not host.endswith("]"):
                        host = host.rsplit(":", 1)[0]
                    environ["HTTP_HOST"] = f"{host}:{value}"
                environ["SERVER_PORT"] = value
        if self.x_prefix:
            value = _trusted_value(self.x_prefix, get("HTTP_X_FORWARDED_PREFIX"))
            if value:
                environ["SCRIPT_NAME"] = value
        return self.app(environ, start_response)
