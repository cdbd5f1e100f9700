"""The request path of the application core: from a pushed request context to a Response.

It knows no server interface. An adapter (``erlen.wsgi``) builds the request context, pushes
it, calls ``full_dispatch_request`` (``handle_exception`` when that raises), sends the
response and pops the context; the pop runs the teardown.

Every step is one of Flask's overridable methods, called through ``self``, so an app that
replaces one (in a subclass, on the class, or on the instance) gets it called. What varies
per app is resolved once into the app's :class:`~erlen.app.plan.RequestPlan`: a request
skips a step whose default has nothing to do (no hooks registered for its endpoint, no
session opened, no signal receiver) unless the app replaced that step.
"""

from __future__ import annotations

import typing as t
from collections.abc import Callable
from types import CoroutineType

from .. import signals as _signals
from ..ctx import AppContext, RequestContext
from ..globals import _get_request_ctx
from ..http.response_values import plain_answer
from ..routing import RequestRedirect
from ..scaffold import Scaffold
from ..wrappers import Response
from .coroutines import run_coroutine
from .plan import PLAN_INPUTS, RequestPlan

if t.TYPE_CHECKING:
    from ..config import Config
    from ..routing import Map
    from ..sessions import SessionInterface
    from ..wrappers import Request

#: A response as it is sent: status line, header list, body (see ``handle_request``).
PlainAnswer = tuple[str, list[tuple[str, str]], bytes]


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


def call_hook(func: Callable[..., t.Any], *args: t.Any) -> t.Any:
    """Call a view, hook or handler; an ``async def`` one's coroutine is run to its result."""
    rv = func(*args)
    if type(rv) is CoroutineType:
        rv = run_coroutine(rv)
    return rv


class RequestDispatch(Scaffold):
    """The request path of ``App`` (a mixin: ``App`` is the only class that uses it)."""

    if t.TYPE_CHECKING:  # provided by App
        config: Config
        debug: bool
        url_map: Map
        response_class: type[Response]
        session_interface: SessionInterface
        teardown_appcontext_funcs: list[Callable[..., t.Any]]
        _got_first_request: bool

        @property
        def logger(self) -> t.Any: ...

        def make_response(self, rv: t.Any) -> Response: ...
        def handle_user_exception(self, e: Exception) -> t.Any: ...

    #: The app's request plan once built (see :mod:`erlen.app.plan`), else None: it is
    #: built on the first request and again after a setup change (``build_request_plan``).
    request_plan: RequestPlan | None = None

    # -- the plan ---------------------------------------------------------------------
    def build_request_plan(self) -> RequestPlan:
        """Build (and keep) this app's request plan: ``app.request_plan or
        app.build_request_plan()`` is the plan."""
        plan = self.request_plan = RequestPlan(self)  # type: ignore[arg-type]
        return plan

    def __setattr__(self, name: str, value: t.Any) -> None:
        # Replacing a request-path method or a hook registry on the instance changes what
        # requests must run: the plan is built again on the next request.
        if name in PLAN_INPUTS:
            object.__setattr__(self, "request_plan", None)
        object.__setattr__(self, name, value)

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
        """Call the matched view (or raise the routing error, or answer automatic OPTIONS)."""
        req = _get_request_ctx().request
        if req.routing_exception is not None:
            self.raise_routing_exception(req)
        rule = req.url_rule
        if req.method == "OPTIONS" and getattr(rule, "provide_automatic_options", False):
            return self.make_default_options_response()
        view_args = req.view_args
        view = self.view_functions[rule.endpoint]  # type: ignore[union-attr]
        rv = view(**view_args) if view_args else view()
        if type(rv) is CoroutineType:
            rv = run_coroutine(rv)
        return rv

    def full_dispatch_request(self) -> Response:
        """Hooks, view and error handling for the pushed request; its response."""
        return self.handle_request(_get_request_ctx(), False)  # type: ignore[return-value]

    def handle_request(self, ctx: RequestContext, plain: bool = True) -> Response | PlainAnswer:
        """What a server adapter calls for the pushed request ``ctx``: its response, or when
        no hook, session or signal receiver could observe a ``Response`` object (the plan's
        ``plain_answers``), a plain answer ``(status line, header list, body)`` to send as it
        is, exactly what that ``Response`` would have sent. (``full_dispatch_request`` is
        this with ``plain`` false; a replaced one is called instead.)"""
        if plain:
            if ctx.plan.calls_full_dispatch:
                return self.full_dispatch_request()
            plain = ctx.hooks.answers_plain
        if not self._got_first_request:
            self._got_first_request = True  # setup is closed from now on, as in Flask
        try:
            if _signals.request_path_listened and _signals.request_started.receivers:
                _signals.request_started.send(self, _async_wrapper=self.ensure_sync)
            rv = None
            if ctx.hooks.runs_before or ctx.plan.calls_preprocess:
                rv = self.preprocess_request()
            if rv is None:
                rv = self.dispatch_request()
        except Exception as e:
            rv = self.handle_user_exception(e)
            if rv is e:
                # an HTTP exception answered as it is: nothing needs its traceback, which
                # holds this frame (a cycle the garbage collector would have to free)
                e.__traceback__ = None
        if (
            plain
            and not ctx.after_request_functions
            and ctx.opened_session is None
            and "HTTP_COOKIE" not in ctx.request.environ
            and not (_signals.request_path_listened and _signals.request_finished.receivers)
        ):
            # nothing observes the response: what finalize_request would send, sent as it is
            answer = plain_answer(rv, Response.default_mimetype)
            if answer is not None:
                return answer
        return self.finalize_request(rv)

    def finalize_request(self, rv: t.Any, from_error_handler: bool = False) -> Response:
        """The response for ``rv``, through the after-request steps and ``request_finished``."""
        response = self.make_response(rv)
        try:
            ctx = _get_request_ctx()
            if (
                ctx.plan.calls_process_response
                or ctx.hooks.after_request
                or ctx.after_request_functions
                # a session was opened, or a cookie may hold one to refresh
                or ctx.opened_session is not None
                or "HTTP_COOKIE" in ctx.request.environ
            ):
                response = self.process_response(response)
            if _signals.request_path_listened and _signals.request_finished.receivers:
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
        """URL value preprocessors, then before-request hooks; a hook's non-None return ends
        the request with that value."""
        ctx = _get_request_ctx()
        hooks = ctx.hooks
        if hooks.url_value_preprocessors:
            req = ctx.request
            for url_func in hooks.url_value_preprocessors:
                url_func(req.endpoint, req.view_args)
        for before_func in hooks.before_request:
            rv = before_func()  # call_hook, inlined: one call per hook, not two
            if type(rv) is CoroutineType:
                rv = run_coroutine(rv)
            if rv is not None:
                return rv
        return None

    def process_response(self, response: Response) -> Response:
        """After-this-request functions, after-request hooks, then the session save."""
        ctx = _get_request_ctx()
        for func in ctx.after_request_functions:
            response = call_hook(func, response)
        for func in ctx.hooks.after_request:
            response = func(response)  # call_hook, inlined: one call per hook, not two
            if type(response) is CoroutineType:
                response = run_coroutine(response)
        # a session was opened, or a cookie may hold one to refresh (session_to_save decides)
        if ctx.opened_session is not None or "HTTP_COOKIE" in ctx.request.environ:
            session = ctx.session_to_save()
            if session is not None:
                self.session_interface.save_session(self, session, response)
        return response

    # -- contexts ---------------------------------------------------------------------
    def app_context(self) -> AppContext:
        return AppContext(self)  # type: ignore[arg-type]

    def request_context(self, environ: dict[str, t.Any]) -> RequestContext:
        """The context of one request; ``environ`` is its CGI-style variables (decision 001)."""
        return RequestContext(self, environ)  # type: ignore[arg-type]

    # -- teardown -----------------------------------------------------------------------
    def do_teardown_request(self, exc: BaseException | None = None) -> None:
        ctx = _get_request_ctx()
        for func in ctx.hooks.teardown_request:
            call_hook(func, exc)
        if _signals.request_tearing_down.receivers:
            _signals.request_tearing_down.send(self, _async_wrapper=self.ensure_sync, exc=exc)

    def do_teardown_appcontext(self, exc: BaseException | None = None) -> None:
        for func in reversed(self.teardown_appcontext_funcs):
            call_hook(func, exc)
        if _signals.appcontext_tearing_down.receivers:
            _signals.appcontext_tearing_down.send(self, _async_wrapper=self.ensure_sync, exc=exc)

    def ensure_sync(self, func: Callable[..., t.Any]) -> Callable[..., t.Any]:
        import inspect

        if inspect.iscoroutinefunction(func):
            return self.async_to_sync(func)
        return func

    def async_to_sync(self, func: Callable[..., t.Any]) -> Callable[..., t.Any]:
        def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
            return run_coroutine(func(*args, **kwargs))

        return wrapper
