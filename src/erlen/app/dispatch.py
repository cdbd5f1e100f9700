"""The request path of ``Erlen``: ``wsgi_app`` and everything it calls between the request's
arrival and its response (hooks, dispatch, finalizing, teardown).

``wsgi_app`` has two shapes with one behaviour. The general one pushes the contexts, runs
``full_dispatch_request`` and pops, calling every overridable method. The direct one is taken
when nothing could observe the difference (no hooks, no signal receivers, no outer context,
no overridden request-path method, a route matched without an adapter): it pushes the request
context with one ContextVar set, calls the view (or, for a path no rule matches, the error
handling that raising the 404 in dispatch would reach), and for a ``str`` or ``(str, status,
headers)`` return that no after-request hook, session or signal would see, sends the header
list without building a ``Response``. Anything else met on the way (an exception, another
return type, a hook added by the view) continues on the general code from where it is.
``tests/test_hotpath.py`` runs both shapes on the same requests and compares them.
"""

from __future__ import annotations

import sys
import typing as t
from collections.abc import Callable
from itertools import chain
from types import CoroutineType

from .. import signals as _signals
from ..ctx import RequestContext
from ..globals import (
    _get_pushed_app_ctx,
    _get_request_ctx,
    _reset_request_ctx,
    _set_request_ctx,
)
from ..http.request import has_parsed_files
from ..http.response import Response as _HTTPResponse
from ..http.response_values import LENGTHS, STATUS_LINES, plain_header_list
from ..routing import RequestRedirect
from ..scaffold import Scaffold
from ..sessions import SecureCookieSessionInterface
from ..wrappers import Response

if t.TYPE_CHECKING:
    from ..config import Config
    from ..routing import Map
    from ..sessions import SessionInterface
    from ..wrappers import Request

# Statuses whose responses are sent with their headers as built (no Content-Length fix-up)
_DIRECT_STATUS_LINES = {
    code: line for code, line in STATUS_LINES.items() if code >= 200 and code not in (204, 304)
}


def _run_coroutine(coro: t.Any) -> t.Any:
    """Run an ``async def`` view or hook to completion from synchronous code."""
    import asyncio  # here: an app without async views never pays for importing it

    return asyncio.run(coro)


class FormDataRoutingRedirect(AssertionError):
    """Debug-mode error: a 301/302 canonical-URL redirect would turn a form POST into a GET.

    Browsers drop the body on those redirects, so the form would silently vanish; the fix is
    to post to the canonical URL (usually the one with the trailing slash).
    """

    def __init__(self, request: Request, exc: RequestRedirect) -> None:
        super().__init__(
            f"A {request.method} request was sent to {request.url!r}, but routing issued a"
            f" {exc.code} redirect to the canonical URL {exc.new_url!r}. The browser will"
            " repeat it as a GET without the form data. Send the request to the canonical"
            " URL instead (check the trailing slash of the route and the form's action)."
        )


class RequestDispatch(Scaffold):
    """The request path of ``Erlen`` (a mixin: ``Erlen`` is the only class that uses it)."""

    if t.TYPE_CHECKING:  # provided by Erlen
        config: Config
        debug: bool
        url_map: Map
        subdomain_matching: bool
        response_class: type[Response]
        session_interface: SessionInterface
        teardown_appcontext_funcs: list[Callable[..., t.Any]]
        _got_first_request: bool
        _direct_dispatch: bool
        _unrefreshed_cookies: dict[str, None]

        @property
        def logger(self) -> t.Any: ...

        def make_response(self, rv: t.Any) -> Response: ...
        def handle_user_exception(self, e: Exception) -> t.Any: ...
        def handle_exception(self, e: Exception) -> Response: ...
        def should_ignore_error(self, error: BaseException | None) -> bool: ...

    #: False when a subclass overrides ``dispatch_request``, ``finalize_request``,
    #: ``make_response``, ``process_response`` or ``preprocess_request``:
    #: ``full_dispatch_request`` then calls them instead of its inlined copies of their common
    #: cases, and ``wsgi_app`` never takes its direct path.
    _plain_dispatch: bool = True
    #: False when a subclass overrides another method of the request path
    #: (``full_dispatch_request``, ``app_context``, ``create_url_adapter``, the teardowns):
    #: ``wsgi_app`` then always takes its general path.
    _plain_request_path: bool = True

    # -- dispatch ---------------------------------------------------------------------
    def raise_routing_exception(self, request: Request) -> t.NoReturn:
        """Raise the routing error; in debug, a redirect that would drop a form is an error."""
        exc = request.routing_exception
        if (
            self.debug
            and isinstance(exc, RequestRedirect)
            and exc.code not in (307, 308)
            and request.method not in ("GET", "HEAD", "OPTIONS")
        ):
            raise FormDataRoutingRedirect(request, exc)
        raise exc  # type: ignore[misc]

    def dispatch_request(self) -> t.Any:
        req = _get_request_ctx().request
        if req.routing_exception is not None:
            self.raise_routing_exception(req)
        rule = req.url_rule
        if req.method == "OPTIONS" and getattr(rule, "provide_automatic_options", False):
            return self.make_default_options_response()
        rv = self.view_functions[rule.endpoint](**req.view_args)  # type: ignore[union-attr,arg-type]
        if type(rv) is CoroutineType:
            rv = _run_coroutine(rv)
        return rv

    def full_dispatch_request(self) -> Response:
        self._got_first_request = True
        try:
            if _signals.request_started.receivers:
                _signals.request_started.send(self, _async_wrapper=self.ensure_sync)
            rv = None
            if self.before_request_funcs or self.url_value_preprocessors:
                rv = self.preprocess_request()
            if rv is None:
                req = _get_request_ctx().request
                rule = req.url_rule
                if (
                    self._plain_dispatch
                    and req.routing_exception is None
                    and (
                        req.method != "OPTIONS"
                        or not getattr(rule, "provide_automatic_options", False)
                    )
                ):
                    # dispatch_request, inlined (no subclass overrides it)
                    rv = self.view_functions[rule.endpoint](**req.view_args)  # type: ignore[arg-type]
                    if type(rv) is CoroutineType:
                        rv = _run_coroutine(rv)
                else:
                    rv = self.dispatch_request()
        except Exception as e:
            rv = self.handle_user_exception(e)
            if rv is e:
                # an HTTP exception answered as it is: nothing needs its traceback, which
                # holds this frame (a cycle the garbage collector would have to free)
                e.__traceback__ = None
        if self._plain_dispatch:
            return self._finalize_plain(rv)
        return self.finalize_request(rv)

    def _finalize_plain(self, rv: t.Any) -> Response:
        """``finalize_request`` with the commonest cases of ``make_response`` and
        ``process_response`` inlined (an exception here propagates, as there)."""
        rv_type = type(rv)
        if rv_type is str:
            response = self.response_class(rv)
        elif rv_type is tuple and len(rv) == 3 and type(rv[0]) is str:
            response = self.response_class(*rv)
        elif isinstance(rv, _HTTPResponse):
            response = rv  # type: ignore[assignment]
        else:
            response = self.make_response(rv)
        ctx = _get_request_ctx()
        if (
            ctx._after_request_functions
            or self.after_request_funcs
            or ctx._session is not None
            or "HTTP_COOKIE" in ctx.request.environ
        ):
            response = self.process_response(response)
        if _signals.request_finished.receivers:
            _signals.request_finished.send(self, _async_wrapper=self.ensure_sync, response=response)
        return response

    def finalize_request(self, rv: t.Any, from_error_handler: bool = False) -> Response:
        response = self.make_response(rv)
        try:
            response = self.process_response(response)
            if _signals.request_finished.receivers:
                _signals.request_finished.send(
                    self, _async_wrapper=self.ensure_sync, response=response
                )
        except Exception:
            if not from_error_handler:
                raise
            self.logger.exception("Request finalizing failed with an error while handling an error")
        return response

    def make_default_options_response(self) -> Response:
        adapter = _get_request_ctx().url_adapter
        methods = adapter.allowed_methods()
        rv = self.response_class()
        rv.headers["Allow"] = ", ".join(sorted(methods))
        return rv

    def preprocess_request(self) -> t.Any:
        req = _get_request_ctx().request
        names = (None, *reversed(req.blueprints))
        for name in names:
            if name in self.url_value_preprocessors:
                for url_func in self.url_value_preprocessors[name]:
                    url_func(req.endpoint, req.view_args)
        for name in names:
            if name in self.before_request_funcs:
                for before_func in self.before_request_funcs[name]:
                    rv = before_func()
                    if type(rv) is CoroutineType:
                        rv = _run_coroutine(rv)
                    if rv is not None:
                        return rv
        return None

    def process_response(self, response: Response) -> Response:
        ctx = _get_request_ctx()
        for func in ctx._after_request_functions:
            response = self._call_hook(func, response)
        if self.after_request_funcs:
            for name in chain(ctx.request.blueprints, (None,)):
                if name in self.after_request_funcs:
                    for func in reversed(self.after_request_funcs[name]):
                        response = self._call_hook(func, response)
        sess = ctx._session
        if sess is None:
            cookie = ctx.request.environ.get("HTTP_COOKIE")
            if cookie is not None and cookie not in self._unrefreshed_cookies:
                sess = self._session_to_refresh(ctx, cookie)
        if sess is not None and not self.session_interface.is_null_session(sess):
            self.session_interface.save_session(self, sess, response)
        return response

    def _session_to_refresh(self, ctx: RequestContext, cookie: str) -> t.Any:
        """Open an untouched session only to refresh a permanent one's cookie.

        Flask opens (and so refreshes, with SESSION_REFRESH_EACH_REQUEST) the session on every
        request; erlen opens it lazily, so this does it at the end, and only for a Cookie header
        carrying the session cookie. Headers found to need nothing are remembered (bounded), so
        repeat visits cost one dict lookup.
        """
        interface = self.session_interface
        if not self.config["SESSION_REFRESH_EACH_REQUEST"]:
            return None
        memo = self._unrefreshed_cookies
        sess = None
        if interface.get_cookie_name(self) in cookie:
            sess = ctx.session
            # With signed cookies the flag is in the (immutable) value itself; server-side
            # backends may change it behind the same session id, so they are never memoised.
            if not (
                isinstance(interface, SecureCookieSessionInterface)
                and isinstance(sess, dict)
                and not dict.get(sess, "_permanent", False)  # not a read: no Vary
            ):
                return sess
        if len(memo) >= 4096:
            memo.clear()
        memo[cookie] = None
        return sess

    @staticmethod
    def _call_hook(func: Callable[..., t.Any], *args: t.Any) -> t.Any:
        rv = func(*args)
        if type(rv) is CoroutineType:
            rv = _run_coroutine(rv)
        return rv

    def do_teardown_request(self, exc: BaseException | None = None) -> None:
        if self.teardown_request_funcs:
            req = _get_request_ctx().request
            for name in chain(req.blueprints, (None,)):
                if name in self.teardown_request_funcs:
                    for func in reversed(self.teardown_request_funcs[name]):
                        self._call_hook(func, exc)
        if _signals.request_tearing_down.receivers:
            _signals.request_tearing_down.send(self, _async_wrapper=self.ensure_sync, exc=exc)

    def do_teardown_appcontext(self, exc: BaseException | None = None) -> None:
        for func in reversed(self.teardown_appcontext_funcs):
            self._call_hook(func, exc)
        if _signals.appcontext_tearing_down.receivers:
            _signals.appcontext_tearing_down.send(self, _async_wrapper=self.ensure_sync, exc=exc)

    def ensure_sync(self, func: Callable[..., t.Any]) -> Callable[..., t.Any]:
        import inspect

        if inspect.iscoroutinefunction(func):
            return self.async_to_sync(func)
        return func

    def async_to_sync(self, func: Callable[..., t.Any]) -> Callable[..., t.Any]:
        def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
            return _run_coroutine(func(*args, **kwargs))

        return wrapper

    # -- WSGI entry point -----------------------------------------------------------------
    def wsgi_app(self, environ: dict[str, t.Any], start_response: t.Any) -> t.Iterable[bytes]:
        """The WSGI application; wrap this (not ``__call__``) with middleware."""
        ctx = RequestContext(self, environ)  # type: ignore[arg-type]
        url_map = self.url_map
        config = self.config
        if (
            self._direct_dispatch
            and not (
                self.before_request_funcs
                or self.url_value_preprocessors
                or self.after_request_funcs
                or self.teardown_request_funcs
                or self.teardown_appcontext_funcs
                or (_signals.request_path_listened and _signals.request_path_has_receivers())
            )
            and _get_request_ctx(None) is None
            and _get_pushed_app_ctx(None) is None
            and "erlen.preserve_context" not in environ
            and (matcher := url_map._matcher or url_map._get_matcher()).direct
            and not self.subdomain_matching
            and config.get("SERVER_NAME") is None
            and config.get("TRUSTED_HOSTS") is None
            and "HTTP_UPGRADE" not in environ
            and environ.get("HTTP_HOST", "").isascii()
        ):
            request = ctx.request
            # what create_url_adapter + match would give (see Map._match_environ); the
            # commonest case of match_direct, a static path with one rule, inlined
            method = request.method
            path = environ.get("PATH_INFO", "")
            entries = matcher.direct_static.get(path)
            if entries is None:
                found: t.Any = matcher.match_direct_dynamic(path, method)
            elif len(entries) == 1:
                methods, rule, defaults = entries[0]
                found = (
                    (rule, dict(defaults) if defaults else {})
                    if methods is None or method in methods
                    else None
                )
            else:
                found = matcher.match_direct(path, method)
            if type(found) is tuple:
                rule, view_args = request.url_rule, request.view_args = found
                if method == "OPTIONS" and getattr(rule, "provide_automatic_options", False):
                    found = None  # automatic OPTIONS: the general path answers it
            elif found is not None:
                request.routing_exception = found  # a 404: answered below, as dispatch does
            if found is not None:
                # The direct path (see the module docstring); push and pop as they do
                # here, the rest as _wsgi_general and full_dispatch_request do.
                tokens = ctx._cv_tokens
                tokens.append((_set_request_ctx(ctx), None, None, True))
                error: BaseException | None = None
                try:
                    try:
                        self._got_first_request = True
                        if type(found) is tuple:
                            try:
                                view = self.view_functions[rule.endpoint]
                                rv = view(**view_args) if view_args else view()
                                if type(rv) is CoroutineType:
                                    rv = _run_coroutine(rv)
                            except Exception as e:
                                rv = self.handle_user_exception(e)
                                if rv is e:  # see full_dispatch_request
                                    e.__traceback__ = None
                        else:  # what raising the routing error in dispatch comes to
                            rv = self.handle_user_exception(found)
                        # Nothing sees the response (no after-request hook, session or signal): a
                        # Response is sent as it is, and a str or a (str, status, headers) whose
                        # status needs no header fix-up is sent as Response(...)'s WSGI call would
                        # send it, without building the Response.
                        header_list: list[tuple[str, str]] | None = None
                        if (
                            ctx._after_request_functions
                            or ctx._session is not None
                            or "HTTP_COOKIE" in environ
                            or self.after_request_funcs
                            or _signals.request_finished.receivers
                        ):
                            response = self._finalize_plain(rv)
                        else:
                            rv_type = type(rv)
                            if rv_type is str:
                                status_line: str | None = "200 OK"
                                body: t.Any = rv
                                headers = None
                            elif rv_type is tuple and len(rv) == 3:
                                body, status, headers = rv
                                status_line = (
                                    _DIRECT_STATUS_LINES.get(status)
                                    if type(body) is str and type(status) is int
                                    else None
                                )
                            else:
                                status_line = None
                            if status_line is not None and self.response_class is Response:
                                header_list = plain_header_list(headers, Response.default_mimetype)
                            if header_list is not None:
                                data = body.encode()
                                n = len(data)
                                header_list.append(
                                    ("Content-Length", LENGTHS[n] if n < 2048 else str(n))
                                )
                            elif isinstance(rv, _HTTPResponse):
                                response = rv  # type: ignore[assignment]
                            else:
                                response = self._finalize_plain(rv)
                    except Exception as e:
                        error = e
                        header_list = None
                        response = self.handle_exception(e)
                    except BaseException:
                        error = sys.exc_info()[1]
                        raise
                    if header_list is not None:
                        start_response(status_line, header_list)
                        return () if environ.get("REQUEST_METHOD") == "HEAD" else [data]
                    return response(environ, start_response)
                finally:
                    if (
                        error is None
                        and len(tokens) == 1
                        and ctx._app_ctx is None
                        and not (self.teardown_request_funcs or self.teardown_appcontext_funcs)
                        and not (
                            _signals.request_path_listened
                            and _signals.request_path_has_receivers()
                        )
                        and request._plain_close
                        and (
                            "CONTENT_TYPE" not in environ
                            or not has_parsed_files(request)
                        )  # not close_needed(request), inlined
                        and _get_request_ctx(None) is ctx
                    ):
                        _reset_request_ctx(tokens.pop()[0])  # what pop does here
                        if environ.get("erlen.request") is request:
                            del environ["erlen.request"]
                    else:
                        if error is not None and self.should_ignore_error(error):
                            error = None
                        ctx.pop(error)
                    # an exception's traceback holds this frame: no cycle left
                    error = rv = None
        return self._wsgi_general(ctx, environ, start_response)

    def _wsgi_general(
        self, ctx: RequestContext, environ: dict[str, t.Any], start_response: t.Any
    ) -> t.Iterable[bytes]:
        error: BaseException | None = None
        try:
            try:
                ctx.push()
                response = self.full_dispatch_request()
            except Exception as e:
                error = e
                response = self.handle_exception(e)
            except BaseException:
                error = sys.exc_info()[1]
                raise
            return response(environ, start_response)
        finally:
            preserve = environ.get("erlen.preserve_context")
            if preserve is not None:
                preserve(ctx)
            else:
                if error is not None and self.should_ignore_error(error):
                    error = None
                ctx.pop(error)
            error = None  # its traceback holds this frame: no cycle left behind

    def __call__(self, environ: dict[str, t.Any], start_response: t.Any) -> t.Iterable[bytes]:
        return self.wsgi_app(environ, start_response)
