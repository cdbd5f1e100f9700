"""Application and request contexts.

A request pushes a :class:`RequestContext`. It pushes an :class:`AppContext` too only when
another app's context is active; with none active it carries an implied one, created on first
use (``g``, ``current_app``), which readers of ``_cv_app`` find through the request. Both live in
:mod:`contextvars`, so nested pushes, threads and asyncio tasks see the right objects. The session is opened lazily on first access: a request that
never touches ``session`` pays nothing for it.
"""

from __future__ import annotations

import contextvars
import sys
from collections.abc import Callable, Iterator, Sequence
from functools import update_wrapper
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from .exceptions import HTTPException
from .globals import (
    _get_current_app,
    _get_pushed_app_ctx,
    _get_request_ctx,
    _reset_pushed_app_ctx,
    _reset_request_ctx,
    _set_pushed_app_ctx,
    _set_request_ctx,
)
from .http.request import has_parsed_files
from .signals import (
    appcontext_popped,
    appcontext_pushed,
    appcontext_tearing_down,
    request_tearing_down,
)

if TYPE_CHECKING:
    from .app.app import App
    from .sessions import SessionMixin
    from .wrappers import Request, Response

_sentinel = object()
_IMPLIED_PUSH: Any = None  # the token of an implied app context's push by its request
F = TypeVar("F", bound=Callable[..., Any])


def _drop_tracebacks(exc: BaseException | None) -> None:
    """A raised routing error's traceback (and its context's) holds frames that hold the
    request: dropped when its context ends, the request is freed without the garbage
    collector (requests leave no reference cycles)."""
    depth = 0
    while exc is not None and depth < 8:
        exc.__traceback__ = None
        exc = exc.__context__
        depth += 1


class _AppCtxGlobals:
    """The ``g`` namespace: a plain object for data during one application context."""

    def get(self, name: str, default: Any = None) -> Any:
        return self.__dict__.get(name, default)

    def pop(self, name: str, default: Any = _sentinel) -> Any:
        if default is _sentinel:
            return self.__dict__.pop(name)
        return self.__dict__.pop(name, default)

    def setdefault(self, name: str, default: Any = None) -> Any:
        return self.__dict__.setdefault(name, default)

    def __contains__(self, item: str) -> bool:
        return item in self.__dict__

    def __iter__(self) -> Iterator[str]:
        return iter(self.__dict__)

    if TYPE_CHECKING:  # any attribute may be set on g; tell type checkers so

        def __getattr__(self, name: str) -> Any: ...

        def __setattr__(self, name: str, value: Any) -> None: ...

        def __delattr__(self, name: str) -> None: ...

    def __repr__(self) -> str:
        app = _get_current_app(None)
        if app is not None:
            return f"<erlen.g of '{app.name}'>"
        return object.__repr__(self)


class AppContext:
    """Binds an application (and ``g``) to the current context."""

    __slots__ = ("app", "_g", "_url_adapter", "_cv_tokens")

    def __init__(self, app: App) -> None:
        self.app = app
        # ``g`` is created on first use: most requests never touch it.
        self._g: _AppCtxGlobals | None = None
        self._url_adapter: Any = _sentinel
        self._cv_tokens: list[contextvars.Token[AppContext] | None] = []

    @property
    def g(self) -> _AppCtxGlobals:
        """The ``g`` namespace of this context (one object for the context's lifetime)."""
        g = self._g
        if g is None:
            g = self._g = self.app.app_ctx_globals_class()
        return g

    @g.setter
    def g(self, value: _AppCtxGlobals) -> None:
        self._g = value

    @property
    def url_adapter(self) -> Any:
        if self._url_adapter is _sentinel:
            self._url_adapter = self.app.create_url_adapter(None)
        return self._url_adapter

    def push(self) -> None:
        self._cv_tokens.append(_set_pushed_app_ctx(self))
        if appcontext_pushed.receivers:
            appcontext_pushed.send(self.app, _async_wrapper=self.app.ensure_sync)

    def pop(self, exc: BaseException | None = _sentinel) -> None:  # type: ignore[assignment]
        app = self.app
        tokens = self._cv_tokens
        try:
            if len(tokens) == 1 and (
                app.teardown_appcontext_funcs
                or appcontext_tearing_down.receivers
                or (app.request_plan or app.build_request_plan()).calls_teardown_appcontext
            ):
                if exc is _sentinel:
                    exc = sys.exc_info()[1]
                app.do_teardown_appcontext(exc)
        finally:
            ctx = _get_pushed_app_ctx(None)
            token = tokens.pop()
            if token is None:  # _IMPLIED_PUSH: never set, and its request ends it
                tokens.append(token)
                raise AssertionError(f"Popped an app context that was not pushed ({self!r}).")
            _reset_pushed_app_ctx(token)
        if ctx is not self:
            raise AssertionError(f"Popped wrong app context. ({ctx!r} instead of {self!r})")
        if appcontext_popped.receivers:
            appcontext_popped.send(app, _async_wrapper=app.ensure_sync)

    def __enter__(self) -> AppContext:
        self.push()
        return self

    def __exit__(
        self,
        exc_type: type | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.pop(exc_value)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self.app.name!r}>"


#: What one push of a request context changed, undone by its pop: the request context
#: variable's token, the app context this push pushed for the request (None if it pushed
#: none), ``_app_ctx`` before this push, and whether the request runs in its implied app
#: context (see ``RequestContext.app_ctx``). A plain tuple, unpacked by these names: one is
#: built per request, and a NamedTuple costs three times as much to build.
_Push = tuple[contextvars.Token["RequestContext"], "AppContext | None", "AppContext | None", bool]


class RequestContext:
    """Everything about one request: the request object, URL matching, session, flashes."""

    __slots__ = (
        "app",
        "request",
        "_url_adapter",
        "flashes",
        "opened_session",
        "after_request_functions",
        #: The app's request plan and this request's hooks (set at push).
        "plan",
        "hooks",
        "_app_ctx",
        "_push",
        "_nested_pushes",
    )

    def __init__(
        self,
        app: App,
        environ: dict[str, Any],
        request: Request | None = None,
        session: SessionMixin | None = None,
    ) -> None:
        self.app = app
        if request is None:
            request = app.request_class(environ)
        self.request: Request = request
        # Bound on first use (by matching at push, URL building, OPTIONS, redirects).
        self._url_adapter: Any = _sentinel
        self.flashes: list[tuple[str, str]] | None = None
        #: The session once opened (first access of ``session``), else None: a request that
        #: never touches the session neither opens nor saves one.
        self.opened_session: SessionMixin | None = session
        #: Functions registered with ``after_this_request``, run before the after hooks.
        # (an empty tuple until the first one: most requests register none)
        self.after_request_functions: Sequence[Callable[[Response], Response]] = ()
        # ``plan`` (the app's request plan) and ``hooks`` (this request's) are set at push
        # The app context this request runs in: the one active at push, one pushed for it, or
        # (None until first use) the implied one, see ``app_ctx``.
        self._app_ctx: AppContext | None = None
        # the outermost push, and the pushes inside it (a list made only for those)
        self._push: _Push | None = None
        self._nested_pushes: list[_Push] | None = None

    @property
    def app_ctx(self) -> AppContext:
        """The app context of this request (the implied one is created here, on first use)."""
        app_ctx = self._app_ctx
        if app_ctx is None:
            app_ctx = self._app_ctx = self.app.app_context()
            if self._push is not None:
                # Stands for this request's push of it (no ContextVar is set): re-entering it
                # (``with app_ctx:``) is then a nested push, which does not tear it down.
                app_ctx._cv_tokens.append(_IMPLIED_PUSH)
        return app_ctx

    @property
    def url_adapter(self) -> Any:
        """The app's ``MapAdapter`` for this request (None if it could not be bound: then
        ``request.routing_exception`` says why)."""
        adapter = self._url_adapter
        if adapter is _sentinel:
            adapter = None
            try:
                adapter = self.app.create_url_adapter(self.request)
            except HTTPException as e:
                self.request.routing_exception = e
            self._url_adapter = adapter
        return adapter

    @url_adapter.setter
    def url_adapter(self, value: Any) -> None:
        self._url_adapter = value

    # -- session: opened on first access, saved only if it was opened ----------------
    @property
    def session(self) -> SessionMixin:
        sess = self.opened_session
        if sess is None:
            interface = self.app.session_interface
            sess = interface.open_session(self.app, self.request)
            if sess is None:
                sess = interface.make_null_session(self.app)
            self.opened_session = sess
        return sess

    @session.setter
    def session(self, value: SessionMixin) -> None:
        self.opened_session = value

    def session_to_save(self) -> SessionMixin | None:
        """The session the response must save: the opened one, else the one an untouched
        request must refresh (``SessionInterface.session_to_refresh``); never a null one."""
        app = self.app
        interface = app.session_interface
        sess = self.opened_session
        if sess is None:
            sess = interface.session_to_refresh(app, self.request)
            if sess is None:
                return None
            self.opened_session = sess
        return None if interface.is_null_session(sess) else sess

    def copy(self) -> RequestContext:
        """A new context for the same request, e.g. to use it from a greenlet or thread."""
        return type(self)(self.app, self.request.environ, self.request, self.session)

    def match_request(self) -> None:
        """Match the request's URL: sets ``url_rule`` and ``view_args``, or the
        ``routing_exception`` (404, 405, a redirect) that dispatching raises."""
        request = self.request
        adapter = self._url_adapter
        plan = self.plan
        if adapter is _sentinel:
            if plan.unbound_matching:
                # The adapter create_url_adapter would bind matches in the default domain:
                # find the rule without binding one (URL building binds it on first use).
                # Anything but a clean hit or a plain miss gets the adapter's full answer.
                environ = request.environ
                config = plan.config
                path = environ.get("PATH_INFO", "")
                host = environ.get("HTTP_HOST")
                if (
                    config["SERVER_NAME"] is None
                    and config["TRUSTED_HOSTS"] is None
                    and path.isascii()
                    and "HTTP_UPGRADE" not in environ
                    and (host is None or host.isascii())
                ):
                    found = plan.url_map.find(plan.domain_part, path, request.method)
                    if type(found) is tuple:
                        request.url_rule, request.view_args = found
                        return
                    if found is not None:
                        request.routing_exception = found  # type: ignore[assignment]
                        return
            adapter = self.url_adapter
        if adapter is None:
            return
        try:
            request.url_rule, request.view_args = adapter.match(None, None, True)
        except HTTPException as e:
            request.routing_exception = e

    def push(self) -> None:
        app = self.app
        plan = app.request_plan or app.build_request_plan()
        self.plan = plan
        prev = self._app_ctx
        pushed: AppContext | None = None
        implied = False
        app_ctx = _get_pushed_app_ctx(None)
        if app_ctx is None:
            outer = _get_request_ctx(None)
            if outer is None or outer.app is not app:
                if plan.implied_app_context and not appcontext_pushed.receivers:
                    implied = True  # ``app_ctx`` creates it on first use; nothing to push
                else:
                    pushed = self._app_ctx = app.app_context()
                    pushed.push()
            elif outer is not self:
                # inside another request of the same app: share its app context, as Flask
                self._app_ctx = outer.app_ctx
        elif app_ctx.app is app:
            self._app_ctx = app_ctx
        else:
            pushed = self._app_ctx = app.app_context()
            pushed.push()
        record = (_set_request_ctx(self), pushed, prev, implied)
        if self._push is None:
            self._push = record
        elif self._nested_pushes is None:
            self._nested_pushes = [record]
        else:
            self._nested_pushes.append(record)
        request = self.request
        if request.url_rule is None and request.routing_exception is None:
            self.match_request()  # not matched yet (a nested push of this context is)
        rule = request.url_rule
        endpoint = rule.endpoint if rule is not None else None
        self.hooks = plan.by_endpoint.get(endpoint) or plan.hooks(endpoint)

    def pop(self, exc: BaseException | None = _sentinel) -> None:  # type: ignore[assignment]
        nested = self._nested_pushes
        try:
            if not nested:
                if (
                    self.hooks.teardown_request
                    or self.plan.calls_teardown_request
                    or request_tearing_down.receivers
                ):
                    if exc is _sentinel:
                        exc = sys.exc_info()[1]
                    self.app.do_teardown_request(exc)
                request = self.request
                # close() has work only when files were parsed from a body (or it is a
                # subclass's): the content-type test first, it spares the __dict__ read
                if not request.default_close or (
                    "CONTENT_TYPE" in request.environ and has_parsed_files(request)
                ):
                    request.close()
        finally:
            ctx = _get_request_ctx()
            if nested:
                token, pushed, previous, implied = nested.pop()
            else:
                if self._push is None:
                    raise AssertionError(f"Popped a request context that was not pushed ({self!r})")
                token, pushed, previous, implied = self._push
                self._push = None
                if self.request.routing_exception is not None:
                    _drop_tracebacks(self.request.routing_exception)
            _reset_request_ctx(token)
            if pushed is not None:
                pushed.pop(exc)
            elif implied and (
                self._app_ctx is not None
                or self.app.teardown_appcontext_funcs
                or self.plan.calls_teardown_appcontext
                or appcontext_tearing_down.receivers
                or appcontext_popped.receivers
            ):
                self._end_implied_app_context(exc)
            self._app_ctx = previous
            if ctx is not self:
                raise AssertionError(f"Popped wrong request context. ({ctx!r} instead of {self!r})")

    def _end_implied_app_context(self, exc: BaseException | None) -> None:
        """End the implied app context as if it was popped (teardown, signal) when anything
        wants to know."""
        app_ctx = self._app_ctx
        if app_ctx is not None and _IMPLIED_PUSH in app_ctx._cv_tokens:
            app_ctx._cv_tokens.remove(_IMPLIED_PUSH)
        app = self.app
        if (
            app.teardown_appcontext_funcs
            or self.plan.calls_teardown_appcontext
            or appcontext_tearing_down.receivers
            or appcontext_popped.receivers
        ):
            # Pushed for real for its teardown only, so current_app and g work there.
            app_ctx = self.app_ctx
            app_ctx._cv_tokens.append(_set_pushed_app_ctx(app_ctx))
            app_ctx.pop(exc)

    def __enter__(self) -> RequestContext:
        self.push()
        return self

    def __exit__(
        self,
        exc_type: type | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.pop(exc_value)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.request.url!r}"
            f" [{self.request.method}] of {self.app.name}>"
        )


def after_this_request(f: F) -> F:
    """Run ``f(response)`` after this request; it may modify or replace the response."""
    ctx = _get_request_ctx(None)
    if ctx is None:
        raise RuntimeError(
            "'after_this_request' can only be used when a request context is active."
        )
    ctx.after_request_functions = [*ctx.after_request_functions, f]
    return f


def copy_current_request_context(f: F) -> F:
    """Decorate ``f`` so it runs inside a copy of the current request context (threads)."""
    ctx = _get_request_ctx(None)
    if ctx is None:
        raise RuntimeError(
            "'copy_current_request_context' can only be used when a request context is"
            " active, such as in a view function."
        )
    ctx = ctx.copy()

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with ctx:
            return ctx.app.ensure_sync(f)(*args, **kwargs)

    return update_wrapper(wrapper, f)  # type: ignore[return-value]


def has_request_context() -> bool:
    return _get_request_ctx(None) is not None


def has_app_context() -> bool:
    return _get_current_app(None) is not None
