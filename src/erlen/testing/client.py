"""The test client: run requests against a WSGI app without a server.

``Client`` works with any WSGI callable (Werkzeug's client semantics: cookies,
redirects, lazy or buffered bodies); ``ErlenClient`` adds what Flask's client
adds for an app: ``with client:`` keeps the last request's context open, and
``session_transaction()`` edits the session between requests.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import chain
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urljoin, urlsplit

from ..http.headers import Headers
from ..wrappers import Response
from .cookies import Cookie, CookieJar
from .environ import _PATH_SAFE_LITERAL, EnvironBuilder, _unwsgi_str

if TYPE_CHECKING:
    from .asgi import WebSocketTestSession

__all__ = [
    "Client",
    "ClientRedirectError",
    "ErlenClient",
    "TestResponse",
    "run_wsgi_app",
]

#: Status codes the client follows with ``follow_redirects=True``.
REDIRECT_CODES = frozenset((301, 302, 303, 305, 307, 308))
#: Most redirects followed for one ``open`` call.
MAX_REDIRECTS = 20
#: Private environ key remembering a Cookie header given by the test itself.
_USER_COOKIE_KEY = "erlen.test_client.user_cookie"


@functools.cache
def _erlen_version() -> str:
    try:
        from importlib.metadata import version

        return version("erlen")
    except Exception:
        return "0"


class ClientRedirectError(RuntimeError):
    """A redirect loop, or more than ``MAX_REDIRECTS`` redirects."""


class TestResponse(Response):
    """A response from the test client, with the request that produced it.

    ``history`` holds the earlier responses when redirects were followed.
    """

    __test__ = False  # not a pytest test class

    request: Any
    history: tuple[TestResponse, ...]

    def __init__(
        self,
        response: Any,
        status: Any,
        headers: Any,
        request: Any = None,
        history: tuple[TestResponse, ...] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(response, status, headers, **kwargs)
        self.request = request
        self.history = history

    @property
    def text(self) -> str:
        """The body decoded as text."""
        return self.get_data(as_text=True)  # type: ignore[return-value]


@functools.cache
def _wrapper_class(response_wrapper: type) -> type[TestResponse]:
    if issubclass(response_wrapper, TestResponse):
        return response_wrapper
    return type("WrapperTestResponse", (TestResponse, response_wrapper), {})


def run_wsgi_app(
    app: Callable[..., Iterable[bytes]], environ: dict[str, Any], buffered: bool = False
) -> tuple[Iterable[bytes], str, Headers]:
    """Call a WSGI app; return ``(body_iterable, status, headers)``.

    Buffered: the body is read into a list and the app's iterable closed.
    Otherwise the body stays lazy (closing it runs the app's ``close``), but the
    iterable is advanced until ``start_response`` was called, for apps that
    call it only when iterated.
    """
    response: tuple[str, list[tuple[str, str]]] | None = None
    written: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        nonlocal response
        if exc_info:
            try:
                raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        response = (status, headers)
        return written.append

    app_rv = app(environ, start_response)
    close = getattr(app_rv, "close", None)
    body: Iterable[bytes]
    if buffered:
        try:
            body = list(app_rv)
        finally:
            if close is not None:
                close()
        if written:
            body = [*written, *body]
    else:
        app_iter: Iterator[bytes] = iter(app_rv)
        head = written
        if response is None:
            for item in app_iter:
                head.append(item)
                if response is not None:
                    break
        body = chain(head, app_iter) if head else app_iter
        if close is not None:
            body = _ClosingIterator(body, close)
        elif body is app_iter:
            body = app_rv if isinstance(app_rv, (list, tuple)) else app_iter
    if response is None:
        raise RuntimeError("The WSGI application did not call start_response.")
    status, header_list = response
    return body, status, Headers(header_list)


class _ClosingIterator:
    """Iterate a body and run the app's ``close`` once when closed."""

    __slots__ = ("_it", "_close")

    def __init__(self, iterable: Iterable[bytes], close: Callable[[], Any]) -> None:
        self._it = iter(iterable)
        self._close: Callable[[], Any] | None = close

    def __iter__(self) -> _ClosingIterator:
        return self

    def __next__(self) -> bytes:
        return next(self._it)

    def close(self) -> None:
        close, self._close = self._close, None
        if close is not None:
            close()


def _request_path(environ: dict[str, Any]) -> str:
    return f"{environ.get('SCRIPT_NAME', '')}{environ.get('PATH_INFO', '')}" or "/"


def _server_name(environ: dict[str, Any]) -> str:
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or "localhost"
    if host.startswith("["):
        return host.partition("]")[0] + "]"
    return host.partition(":")[0].lower()


def _current_url(environ: dict[str, Any]) -> str:
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or "localhost"
    path = quote(_unwsgi_str(_request_path(environ)), safe=_PATH_SAFE_LITERAL)
    qs = environ.get("QUERY_STRING")
    url = f"{environ.get('wsgi.url_scheme', 'http')}://{host}{path}"
    return f"{url}?{qs}" if qs else url


class Client:
    """Send requests to a WSGI application and get ``TestResponse`` objects.

    ``response_wrapper`` is the response class to combine with ``TestResponse``;
    with ``use_cookies`` the client keeps a cookie jar like a browser.
    """

    __test__ = False

    def __init__(
        self,
        application: Callable[..., Iterable[bytes]],
        response_wrapper: type | None = None,
        use_cookies: bool = True,
        allow_subdomain_redirects: bool = False,
    ) -> None:
        self.application = application
        if response_wrapper is None or response_wrapper is Response:
            self.response_wrapper: type[TestResponse] = TestResponse
        else:
            self.response_wrapper = _wrapper_class(response_wrapper)
        self._cookies: CookieJar | None = CookieJar() if use_cookies else None
        self.allow_subdomain_redirects = allow_subdomain_redirects
        self.environ_base: dict[str, Any] = {
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_USER_AGENT": f"Erlen/{_erlen_version()}",
        }

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.application!r}>"

    # -- cookies -------------------------------------------------------------
    def _jar(self) -> CookieJar:
        if self._cookies is None:
            raise TypeError("Cookies are disabled. Create a client with 'use_cookies=True'.")
        return self._cookies

    def get_cookie(self, key: str, domain: str = "localhost", path: str = "/") -> Cookie | None:
        """The cookie stored for ``key`` at exactly that domain and path, or None."""
        return self._jar().get(key, domain, path)

    def set_cookie(
        self,
        key: str,
        value: str = "",
        *,
        domain: str = "localhost",
        origin_only: bool = True,
        path: str = "/",
        **kwargs: Any,
    ) -> None:
        """Store a cookie as if a response had set it (``dump_cookie`` options)."""
        from ..http.parsing import dump_cookie

        header = dump_cookie(key, value, domain=domain, path=path, **kwargs)
        cookie = Cookie._from_response_header(domain, path, header)
        cookie.origin_only = origin_only
        self._jar().store(cookie)

    def delete_cookie(
        self, key: str, *, domain: str = "localhost", path: str = "/", **kwargs: Any
    ) -> None:
        """Forget a cookie (extra Werkzeug 2 arguments are ignored)."""
        self._jar().delete(key, domain, path)

    def _add_cookies_to_wsgi(self, environ: dict[str, Any]) -> None:
        """Put the jar's matching cookies (after any the test gave) in HTTP_COOKIE."""
        if self._cookies is None:
            return
        user = environ.get(_USER_COOKIE_KEY)
        if user is None:
            user = environ.get("HTTP_COOKIE", "")
            environ[_USER_COOKIE_KEY] = user
        # Secure cookies go over plain http too, as with Werkzeug's client: an app whose
        # config sets SESSION_COOKIE_SECURE keeps its session in tests on http://localhost.
        value = self._cookies.request_header(_server_name(environ), _request_path(environ), True)
        if user and value:
            value = f"{user}; {value}"
        elif user:
            value = user
        if value:
            environ["HTTP_COOKIE"] = value
        else:
            environ.pop("HTTP_COOKIE", None)

    def _update_cookies_from_response(
        self, server_name: str, path: str, headers: Iterable[str]
    ) -> None:
        if self._cookies is not None:
            self._cookies.update_from_headers(server_name, path, headers)

    # -- requests ------------------------------------------------------------
    def _builder_app(self) -> Any:
        """The app handed to ``EnvironBuilder`` (None for a plain WSGI callable)."""
        return None

    def _environ_base(self, other: dict[str, Any] | None) -> dict[str, Any]:
        if other:
            return {**self.environ_base, **other}
        return dict(self.environ_base)

    def _build_environ(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if args and not kwargs and len(args) == 1:
            arg = args[0]
            if isinstance(arg, EnvironBuilder):
                builder = copy.copy(arg)
                builder.environ_base = self._environ_base(arg.environ_base)  # type: ignore[arg-type]
                return builder.get_environ()
            if isinstance(arg, dict):
                # rebuilt as Flask does, so the client's environ_base applies
                builder = EnvironBuilder.from_environ(
                    arg, app=self._builder_app(), environ_base=self._environ_base(None)
                )
                return builder.get_environ()
            environ = getattr(arg, "environ", None)
            if isinstance(environ, dict):
                return {**self.environ_base, **environ}
        kwargs["environ_base"] = self._environ_base(kwargs.get("environ_base"))
        builder = EnvironBuilder(self._builder_app(), *args, **kwargs)
        try:
            return builder.get_environ()
        finally:
            builder.close()

    def _make_request(self, environ: dict[str, Any]) -> Any:
        from ..http.request import Request

        return Request(environ, populate_request=False)

    def run_wsgi_app(
        self, environ: dict[str, Any], buffered: bool = False
    ) -> tuple[Iterable[bytes], str, Headers]:
        """Run the app once for ``environ`` (cookies in, cookies out)."""
        self._add_cookies_to_wsgi(environ)
        app_environ = environ.copy()
        self._prepare_app_environ(app_environ)
        rv = run_wsgi_app(self._wsgi_callable(), app_environ, buffered=buffered)
        if self._cookies is not None:
            set_cookies = rv[2].getlist("Set-Cookie")
            if set_cookies:
                self._cookies.update_from_headers(
                    _server_name(environ), _request_path(environ), set_cookies
                )
        return rv

    def _prepare_app_environ(self, environ: dict[str, Any]) -> None:
        """Hook for subclasses to add keys the app (not the request record) sees."""

    def _wsgi_callable(self) -> Callable[..., Iterable[bytes]]:
        """What runs a request (``ASGIClient``: a bridge into ``asgi_app``)."""
        return self.application

    def open(
        self,
        *args: Any,
        buffered: bool = False,
        follow_redirects: bool = False,
        **kwargs: Any,
    ) -> TestResponse:
        """Make a request: a path plus ``EnvironBuilder`` arguments, a builder or an environ."""
        environ = self._build_environ(args, kwargs)
        response = self._run(environ, buffered)
        if not follow_redirects or response.status_code not in REDIRECT_CODES:
            return response
        history: list[TestResponse] = []
        seen: set[tuple[str | None, int]] = set()
        while response.status_code in REDIRECT_CODES:
            if not buffered:
                response.make_sequence()
                response.close()
            entry = (response.location, response.status_code)
            if entry in seen:
                raise ClientRedirectError(
                    f"Loop detected: A {response.status_code} redirect"
                    f" to {response.location} was already made."
                )
            if len(history) >= MAX_REDIRECTS:
                raise ClientRedirectError(
                    f"Too many redirects: more than {MAX_REDIRECTS} followed,"
                    f" last to {response.location}."
                )
            seen.add(entry)
            response.history = tuple(history)
            history.append(response)
            response = self._run(self._redirect_environ(response), buffered)
        response.history = tuple(history)
        return response

    def _run(self, environ: dict[str, Any], buffered: bool) -> TestResponse:
        body, status, headers = self.run_wsgi_app(environ, buffered=buffered)
        request = self._make_request(environ)
        return self.response_wrapper(body, status, headers, request=request)

    def resolve_redirect(self, response: TestResponse, buffered: bool = False) -> TestResponse:
        """Follow one redirect ``response`` (Werkzeug API)."""
        return self._run(self._redirect_environ(response), buffered)

    def _redirect_environ(self, response: TestResponse) -> dict[str, Any]:
        old = response.request.environ
        location = response.location or ""
        url = urlsplit(urljoin(_current_url(old), location))
        user_cookie = old.get(_USER_COOKIE_KEY)
        carried = {k: v for k, v in old.items() if k != "HTTP_COOKIE" and k != _USER_COOKIE_KEY}
        builder = EnvironBuilder.from_environ(carried, app=self._builder_app())
        if user_cookie:
            builder.headers.set("Cookie", user_cookie)
        from_name = builder.server_name.lower()
        to_name = (url.hostname or from_name).lower()
        if to_name != from_name:
            if to_name.endswith("." + from_name):
                if not self.allow_subdomain_redirects:
                    raise RuntimeError("Following subdomain redirects is not enabled.")
            else:
                raise RuntimeError(
                    f"Following external redirects is not supported (to {location!r})."
                )
        if url.netloc:
            builder.host = url.netloc
            builder.url_scheme = url.scheme or builder.url_scheme
        path = unquote(url.path or "/")
        root = builder.script_root
        if root and (path == root or path.startswith(root + "/")):
            path = path[len(root) :]
        else:
            builder.script_root = ""
        builder.path = quote(path, safe=_PATH_SAFE_LITERAL) if path else "/"
        builder.query_string = url.query
        if response.status_code not in (307, 308):
            if builder.method != "HEAD":
                builder.method = "GET"
            builder.input_stream = None
            builder.content_type = None
            builder.content_length = None
            builder.headers.pop("Transfer-Encoding", None)
        else:
            stream = builder.input_stream
            if stream is not None and getattr(stream, "seekable", lambda: False)():
                stream.seek(0)
        builder.environ_base = self._environ_base(None)
        return builder.get_environ()

    # -- verbs ---------------------------------------------------------------
    def get(self, *args: Any, **kw: Any) -> TestResponse:
        """``open`` with ``method="GET"``."""
        return self.open(*args, method="GET", **kw)

    def post(self, *args: Any, **kw: Any) -> TestResponse:
        """``open`` with ``method="POST"``."""
        return self.open(*args, method="POST", **kw)

    def put(self, *args: Any, **kw: Any) -> TestResponse:
        """``open`` with ``method="PUT"``."""
        return self.open(*args, method="PUT", **kw)

    def delete(self, *args: Any, **kw: Any) -> TestResponse:
        """``open`` with ``method="DELETE"``."""
        return self.open(*args, method="DELETE", **kw)

    def patch(self, *args: Any, **kw: Any) -> TestResponse:
        """``open`` with ``method="PATCH"``."""
        return self.open(*args, method="PATCH", **kw)

    def options(self, *args: Any, **kw: Any) -> TestResponse:
        """``open`` with ``method="OPTIONS"``."""
        return self.open(*args, method="OPTIONS", **kw)

    def head(self, *args: Any, **kw: Any) -> TestResponse:
        """``open`` with ``method="HEAD"``."""
        return self.open(*args, method="HEAD", **kw)

    def trace(self, *args: Any, **kw: Any) -> TestResponse:
        """``open`` with ``method="TRACE"``."""
        return self.open(*args, method="TRACE", **kw)


class ErlenClient(Client):
    """What ``app.test_client()`` returns (Flask's ``FlaskClient``).

    ``with client:`` keeps the contexts of the last request pushed until the
    block ends (so ``erlen.request``/``session`` can be inspected), and
    ``session_transaction()`` opens the session the cookies carry.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.preserve_context = False
        self._preserved: list[Any] = []

    def _builder_app(self) -> Any:
        return self.application

    def _prepare_app_environ(self, environ: dict[str, Any]) -> None:
        # Contexts of an earlier request (or redirect hop) end before the next one.
        if self._preserved:
            self._pop_preserved()
        if self.preserve_context:
            environ["erlen.preserve_context"] = self._preserved.append

    def _pop_preserved(self) -> None:
        preserved = self._preserved
        first_error: BaseException | None = None
        while preserved:
            ctx = preserved.pop()
            try:
                pop = getattr(ctx, "pop", None)
                if pop is not None:
                    pop(None)
                else:
                    ctx.__exit__(None, None, None)
            except BaseException as e:  # pop the rest, then re-raise
                if first_error is None:
                    first_error = e
        if first_error is not None:
            raise first_error

    def open(
        self,
        *args: Any,
        buffered: bool = False,
        follow_redirects: bool = False,
        **kwargs: Any,
    ) -> TestResponse:
        """As ``Client.open``; the response parses JSON with the app's provider."""
        response = super().open(
            *args, buffered=buffered, follow_redirects=follow_redirects, **kwargs
        )
        json_provider = getattr(self.application, "json", None)
        if json_provider is not None:
            response.json_module = json_provider
        return response

    def websocket_connect(
        self,
        path: str,
        subprotocols: Sequence[str] | None = None,
        headers: Any = None,
        **kwargs: Any,
    ) -> WebSocketTestSession:
        """A WebSocket session to ``path`` through ``app.asgi_app`` (use it in ``with``):
        ``send_text``/``receive_text``/... as Starlette's TestClient; the client's cookies go
        with the handshake. A server close raises ``erlen.testing.WebSocketClosed``."""
        from .asgi import websocket_connect

        return websocket_connect(self, path, subprotocols, headers, **kwargs)

    def __enter__(self) -> ErlenClient:
        if self.preserve_context:
            raise RuntimeError("Cannot nest client invocations")
        self.preserve_context = True
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, tb: Any) -> None:
        self.preserve_context = False
        self._pop_preserved()

    @contextmanager
    def session_transaction(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        """Open the session the client's cookies carry; changes are saved to the jar.

        Arguments are those of ``app.test_request_context``.
        """
        if self._cookies is None:
            raise TypeError("Cookies are disabled. Create a client with 'use_cookies=True'.")
        app: Any = self.application
        ctx = app.test_request_context(*args, **kwargs)
        self._add_cookies_to_wsgi(ctx.request.environ)
        with ctx:
            sess = app.session_interface.open_session(app, ctx.request)
        if sess is None:
            raise RuntimeError("Session backend did not open a session. Check the configuration")
        yield sess
        resp = app.response_class()
        if app.session_interface.is_null_session(sess):
            return
        with ctx:
            app.session_interface.save_session(app, sess, resp)
        self._update_cookies_from_response(
            _server_name(ctx.request.environ),
            _request_path(ctx.request.environ),
            resp.headers.getlist("Set-Cookie"),
        )
