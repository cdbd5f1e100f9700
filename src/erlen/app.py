"""The application object: configuration, registration and the request path.

Request path (``wsgi_app``): build a lazy request, push the contexts, match the URL (one dict
lookup for static routes), run hooks only when some are registered, call the view, turn its
return value into a response, run after-request hooks and save the session only if it was
used, pop the contexts.
"""

from __future__ import annotations

import logging
import os
import sys
import typing as t
import weakref
from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import cached_property
from itertools import chain
from types import CoroutineType, GeneratorType, TracebackType

from . import signals as _signals
from .config import Config, ConfigAttribute
from .ctx import AppContext, RequestContext, _AppCtxGlobals
from .exceptions import (
    Aborter,
    BadRequest,
    BadRequestKeyError,
    HTTPException,
    InternalServerError,
)
from .globals import _cv_app, _cv_request
from .http.datastructures import Headers
from .http.response import Response as _HTTPResponse
from .json import DefaultJSONProvider, JSONProvider
from .logs import create_logger
from .routing import BuildError, Map, MapAdapter, RequestRedirect, Rule
from .scaffold import Scaffold, _endpoint_from_view_func, get_root_path, setupmethod
from .sessions import SecureCookieSessionInterface, SessionInterface
from .wrappers import Request, Response

if t.TYPE_CHECKING:
    from jinja2 import Environment

    from .blueprints import Blueprint
    from .testing import ErlenClient

F = t.TypeVar("F", bound=Callable[..., t.Any])
_log = logging.getLogger("erlen")

# 4xx answers to malformed input are logged at WARNING so an operator sees them.
_BAD_INPUT_CODES = frozenset({400, 405, 411, 413, 414, 415, 422, 431})
_ANCHOR_SAFE = "%!#$&'()*+,/:;=?@"


def _make_timedelta(value: timedelta | int | None) -> timedelta | None:
    if value is None or isinstance(value, timedelta):
        return value
    return timedelta(seconds=value)


def _run_coroutine(coro: t.Any) -> t.Any:
    """Run an ``async def`` view or hook to completion from synchronous code."""
    import asyncio  # here: an app without async views never pays for importing it

    return asyncio.run(coro)


def _split_blueprint_path(name: str) -> list[str]:
    out = [name]
    while "." in name:
        name = name.rpartition(".")[0]
        out.append(name)
    return out


class Erlen(Scaffold):
    """The WSGI application; ``Flask`` is an alias. Create one per module: ``Erlen(__name__)``."""

    request_class: type[Request] = Request
    response_class: type[Response] = Response
    aborter_class = Aborter
    app_ctx_globals_class = _AppCtxGlobals
    config_class = Config
    json_provider_class: type[JSONProvider] = DefaultJSONProvider
    url_rule_class = Rule
    url_map_class = Map
    test_client_class: type[ErlenClient] | None = None
    test_cli_runner_class: type[t.Any] | None = None
    session_interface: SessionInterface = SecureCookieSessionInterface()
    jinja_options: dict[str, t.Any] = {}
    #: The Jinja environment class for ``jinja_env``; None means ``erlen.templating.Environment``.
    jinja_environment: type[Environment] | None = None

    #: False when a subclass overrides ``create_url_adapter``: requests then always bind an
    #: adapter (otherwise plain requests are matched without one, see ``RequestContext.push``).
    _plain_url_adapter: bool = True
    #: False when a subclass overrides ``dispatch_request``, ``finalize_request``,
    #: ``make_response`` or ``process_response``: ``full_dispatch_request`` then calls them
    #: instead of its inlined copies of their common cases.
    _plain_dispatch: bool = True
    #: False when a subclass overrides ``app_context``: ``RequestContext.push`` calls it.
    _plain_app_context: bool = True

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._plain_url_adapter = cls.create_url_adapter is Erlen.create_url_adapter
        cls._plain_app_context = cls.app_context is Erlen.app_context
        cls._plain_dispatch = (
            cls.dispatch_request is Erlen.dispatch_request
            and cls.finalize_request is Erlen.finalize_request
            and cls.make_response is Erlen.make_response
            and cls.process_response is Erlen.process_response
        )

    testing = ConfigAttribute("TESTING")
    secret_key = ConfigAttribute("SECRET_KEY")
    permanent_session_lifetime = ConfigAttribute(
        "PERMANENT_SESSION_LIFETIME", get_converter=_make_timedelta
    )

    default_config: dict[str, t.Any] = {
        "DEBUG": None,
        "TESTING": False,
        "PROPAGATE_EXCEPTIONS": None,
        "SECRET_KEY": None,
        "SECRET_KEY_FALLBACKS": None,
        "PERMANENT_SESSION_LIFETIME": timedelta(days=31),
        "USE_X_SENDFILE": False,
        "TRUSTED_HOSTS": None,
        "SERVER_NAME": None,
        "APPLICATION_ROOT": "/",
        "SESSION_COOKIE_NAME": "session",
        "SESSION_COOKIE_DOMAIN": None,
        "SESSION_COOKIE_PATH": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SECURE": False,
        "SESSION_COOKIE_PARTITIONED": False,
        # Flask defaults to None; erlen chooses Lax (CSRF protection by default).
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_REFRESH_EACH_REQUEST": True,
        "MAX_CONTENT_LENGTH": None,
        "MAX_FORM_MEMORY_SIZE": 500_000,
        "MAX_FORM_PARTS": 1_000,
        "SEND_FILE_MAX_AGE_DEFAULT": None,
        "TRAP_BAD_REQUEST_ERRORS": None,
        "TRAP_HTTP_EXCEPTIONS": False,
        "EXPLAIN_TEMPLATE_LOADING": False,
        "PREFERRED_URL_SCHEME": "http",
        "TEMPLATES_AUTO_RELOAD": None,
        "MAX_COOKIE_SIZE": 4093,
        "PROVIDE_AUTOMATIC_OPTIONS": True,
    }

    def __init__(
        self,
        import_name: str,
        static_url_path: str | None = None,
        static_folder: str | os.PathLike[str] | None = "static",
        static_host: str | None = None,
        host_matching: bool = False,
        subdomain_matching: bool = False,
        template_folder: str | os.PathLike[str] | None = "templates",
        instance_path: str | None = None,
        instance_relative_config: bool = False,
        root_path: str | None = None,
    ) -> None:
        super().__init__(
            import_name=import_name,
            static_folder=static_folder,
            static_url_path=static_url_path,
            template_folder=template_folder,
            root_path=root_path,
        )
        if instance_path is None:
            instance_path = self.auto_find_instance_path()
        elif not os.path.isabs(instance_path):
            raise ValueError("If an instance path is provided it must be absolute.")
        self.instance_path = instance_path
        self.config = self.make_config(instance_relative_config)
        self.aborter = self.make_aborter()
        self.json: JSONProvider = self.json_provider_class(self)
        self.url_build_error_handlers: list[Callable[[Exception, str, dict[str, t.Any]], str]] = []
        self.teardown_appcontext_funcs: list[Callable[[BaseException | None], None]] = []
        self.shell_context_processors: list[Callable[[], dict[str, t.Any]]] = []
        self.blueprints: dict[str, Blueprint] = {}
        self.extensions: dict[str, t.Any] = {}
        self.url_map = self.url_map_class(host_matching=host_matching)
        self.subdomain_matching = subdomain_matching
        self._got_first_request = False
        # Cookie headers whose signed session was found not permanent (nothing to refresh).
        self._unrefreshed_cookies: dict[str, None] = {}
        from .templating import _default_template_ctx_processor

        self.template_context_processors[None].append(_default_template_ctx_processor)

        if self.has_static_folder:
            assert bool(static_host) == host_matching, (
                "Invalid static_host/host_matching combination"
            )
            self.add_url_rule(
                f"{self.static_url_path}/<path:filename>",
                endpoint="static",
                host=static_host,
                view_func=_StaticView(self),
            )

    # -- identity, logging, config ---------------------------------------------------
    @cached_property
    def name(self) -> str:  # type: ignore[override]
        if self.import_name == "__main__":
            fn: str | None = getattr(sys.modules["__main__"], "__file__", None)
            if fn is None:
                return "__main__"
            return os.path.splitext(os.path.basename(fn))[0]
        return self.import_name

    @cached_property
    def logger(self) -> logging.Logger:
        return create_logger(self)

    def make_config(self, instance_relative: bool = False) -> Config:
        root_path = self.instance_path if instance_relative else self.root_path
        defaults = dict(self.default_config)
        defaults["DEBUG"] = os.environ.get("ERLEN_DEBUG", "").lower() in {"1", "true", "yes", "on"}
        return self.config_class(root_path, defaults)

    def make_aborter(self) -> Aborter:
        return self.aborter_class()

    def auto_find_instance_path(self) -> str:
        return os.path.join(get_root_path(self.import_name), "instance")

    def open_instance_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = "utf-8"
    ) -> t.IO[t.Any]:
        path = os.path.join(self.instance_path, resource)
        if "b" in mode:
            return open(path, mode)
        return open(path, mode, encoding=encoding)

    @property
    def debug(self) -> bool:
        return bool(self.config["DEBUG"])

    @debug.setter
    def debug(self, value: bool) -> None:
        self.config["DEBUG"] = value
        if self.config["TEMPLATES_AUTO_RELOAD"] is None and "jinja_env" in self.__dict__:
            self.jinja_env.auto_reload = value

    def _check_setup_finished(self, f_name: str) -> None:
        if self._got_first_request:
            raise AssertionError(
                f"The setup method '{f_name}' can no longer be called"
                " on the application. It has already handled its first"
                " request, any changes will not be applied"
                " consistently.\n"
                "Make sure all imports, decorators, functions, etc."
                " needed to set up the application are done before"
                " running it."
            )

    # -- templates (erlen.templating does the work) ------------------------------------
    @cached_property
    def jinja_env(self) -> Environment:
        return self.create_jinja_environment()

    def create_jinja_environment(self) -> Environment:
        """Build ``jinja_env`` (Flask's override point; ``erlen.templating`` does the work)."""
        from .templating import create_jinja_environment

        return create_jinja_environment(self)

    def create_global_jinja_loader(self) -> t.Any:
        from .templating import DispatchingJinjaLoader

        return DispatchingJinjaLoader(self)

    def select_jinja_autoescape(self, filename: str | None) -> bool:
        if filename is None:
            return True
        return filename.endswith((".html", ".htm", ".xml", ".xhtml", ".svg"))

    def update_template_context(self, context: dict[str, t.Any]) -> None:
        names: t.Iterable[str | None] = (None,)
        ctx = _cv_request.get(None)
        if ctx is not None:
            names = chain(names, reversed(ctx.request.blueprints))
        orig_ctx = context.copy()
        for name in names:
            if name in self.template_context_processors:
                for func in self.template_context_processors[name]:
                    context.update(self._call_hook(func))
        context.update(orig_ctx)

    @setupmethod
    def template_filter(self, name: str | None = None) -> Callable[[F], F]:
        def decorator(f: F) -> F:
            self.add_template_filter(f, name=name)
            return f

        return decorator

    @setupmethod
    def add_template_filter(self, f: Callable[..., t.Any], name: str | None = None) -> None:
        self.jinja_env.filters[name or f.__name__] = f

    @setupmethod
    def template_test(self, name: str | None = None) -> Callable[[F], F]:
        def decorator(f: F) -> F:
            self.add_template_test(f, name=name)
            return f

        return decorator

    @setupmethod
    def add_template_test(self, f: Callable[..., bool], name: str | None = None) -> None:
        self.jinja_env.tests[name or f.__name__] = f

    @setupmethod
    def template_global(self, name: str | None = None) -> Callable[[F], F]:
        def decorator(f: F) -> F:
            self.add_template_global(f, name=name)
            return f

        return decorator

    @setupmethod
    def add_template_global(self, f: Callable[..., t.Any], name: str | None = None) -> None:
        self.jinja_env.globals[name or f.__name__] = f

    @setupmethod
    def shell_context_processor(self, f: F) -> F:
        self.shell_context_processors.append(f)
        return f

    def make_shell_context(self) -> dict[str, t.Any]:
        from .globals import g

        rv: dict[str, t.Any] = {"app": self, "g": g}
        for processor in self.shell_context_processors:
            rv.update(processor())
        return rv

    # -- registration -----------------------------------------------------------------
    @setupmethod
    def register_blueprint(self, blueprint: Blueprint, **options: t.Any) -> None:
        blueprint.register(self, options)

    def iter_blueprints(self) -> t.ValuesView[Blueprint]:
        return self.blueprints.values()

    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: Callable[..., t.Any] | None = None,
        provide_automatic_options: bool | None = None,
        **options: t.Any,
    ) -> None:
        if endpoint is None:
            endpoint = _endpoint_from_view_func(view_func)  # type: ignore[arg-type]
        options["endpoint"] = endpoint
        methods = options.pop("methods", None)
        if methods is None:
            methods = getattr(view_func, "methods", None) or ("GET",)
        if isinstance(methods, str):
            raise TypeError(
                "Allowed methods must be a list of strings, for"
                ' example: @app.route(..., methods=["POST"])'
            )
        methods = {item.upper() for item in methods}
        required_methods = set(getattr(view_func, "required_methods", ()))
        if provide_automatic_options is None:
            provide_automatic_options = getattr(view_func, "provide_automatic_options", None)
        if provide_automatic_options is None:
            if "OPTIONS" not in methods and self.config["PROVIDE_AUTOMATIC_OPTIONS"]:
                provide_automatic_options = True
                required_methods.add("OPTIONS")
            else:
                provide_automatic_options = False
        methods |= required_methods
        rule_obj = self.url_rule_class(rule, methods=methods, **options)
        rule_obj.provide_automatic_options = provide_automatic_options  # type: ignore[attr-defined]
        self.url_map.add(rule_obj)
        if view_func is not None:
            old_func = self.view_functions.get(endpoint)
            if old_func is not None and old_func != view_func:
                raise AssertionError(
                    "View function mapping is overwriting an existing"
                    f" endpoint function: {endpoint}"
                )
            self.view_functions[endpoint] = view_func

    @setupmethod
    def teardown_appcontext(self, f: F) -> F:
        self.teardown_appcontext_funcs.append(f)
        return f

    # -- contexts ---------------------------------------------------------------------
    def app_context(self) -> AppContext:
        return AppContext(self)

    def request_context(self, environ: dict[str, t.Any]) -> RequestContext:
        return RequestContext(self, environ)

    def test_request_context(self, *args: t.Any, **kwargs: t.Any) -> RequestContext:
        """A request context for a made-up request (same arguments as the test client)."""
        from .testing import EnvironBuilder

        builder = EnvironBuilder(self, *args, **kwargs)
        try:
            return self.request_context(builder.get_environ())
        finally:
            builder.close()

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        if request is not None:
            trusted_hosts = self.config["TRUSTED_HOSTS"]
            if trusted_hosts is not None:
                request.trusted_hosts = trusted_hosts
                request.host  # noqa: B018 (validates the Host header: SecurityError on a bad one)
            subdomain = None
            server_name = self.config["SERVER_NAME"]
            if self.url_map.host_matching:
                server_name = None
            elif not self.subdomain_matching:
                subdomain = self.url_map.default_subdomain or ""
            return self.url_map.bind_to_environ(
                request.environ, server_name=server_name, subdomain=subdomain
            )
        if self.config["SERVER_NAME"] is not None:
            return self.url_map.bind(
                self.config["SERVER_NAME"],
                script_name=self.config["APPLICATION_ROOT"],
                url_scheme=self.config["PREFERRED_URL_SCHEME"],
            )
        return None

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
        req = _cv_request.get().request
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
                req = _cv_request.get().request
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
        if self._plain_dispatch:
            # finalize_request, inlined (an exception here propagates, as there), and the
            # commonest cases of make_response and process_response with it
            rv_type = type(rv)
            if rv_type is str:
                response = self.response_class(rv)
            elif rv_type is tuple and len(rv) == 3 and type(rv[0]) is str:
                response = self.response_class(*rv)
            elif isinstance(rv, _HTTPResponse):
                response = rv  # type: ignore[assignment]
            else:
                response = self.make_response(rv)
            ctx = _cv_request.get()
            if (
                ctx._after_request_functions
                or self.after_request_funcs
                or ctx._session is not None
                or "HTTP_COOKIE" in ctx.request.environ
            ):
                response = self.process_response(response)
            if _signals.request_finished.receivers:
                _signals.request_finished.send(
                    self, _async_wrapper=self.ensure_sync, response=response
                )
            return response
        return self.finalize_request(rv)

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
        adapter = _cv_request.get().url_adapter
        methods = adapter.allowed_methods()
        rv = self.response_class()
        rv.headers["Allow"] = ", ".join(sorted(methods))
        return rv

    def preprocess_request(self) -> t.Any:
        req = _cv_request.get().request
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
        ctx = _cv_request.get()
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
            req = _cv_request.get().request
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

    # -- return values → responses ----------------------------------------------------
    def make_response(self, rv: t.Any) -> Response:
        """Turn a view's return value into a response (str, bytes, dict, list, tuple, …)."""
        rv_type = type(rv)
        if rv_type is str:
            return self.response_class(rv)
        status = headers = None
        if rv_type is tuple:
            len_rv = len(rv)
            if len_rv == 3:
                rv, status, headers = rv
                if type(rv) is str:  # the common (body, status, headers)
                    return self.response_class(rv, status, headers)
            elif len_rv == 2:
                if isinstance(rv[1], Headers | dict | tuple | list):
                    rv, headers = rv
                else:
                    rv, status = rv
            else:
                raise TypeError(
                    f"The view function for {self._current_endpoint()!r} did not"
                    " return a valid response tuple."
                    " The tuple must have the form (body, status, headers),"
                    " (body, status), or (body, headers)."
                )
        if rv is None:
            raise TypeError(
                f"The view function for {self._current_endpoint()!r} did not"
                " return a valid response. The function either returned"
                " None or ended without a return statement."
            )
        if not isinstance(rv, _HTTPResponse):
            rv_type = type(rv)
            if rv_type is dict or rv_type is list:
                rv = self.json.response(rv)
            elif isinstance(rv, str | bytes | bytearray | GeneratorType):
                rv = self.response_class(rv, status=status, headers=headers)  # type: ignore[arg-type]
                status = headers = None
            elif isinstance(rv, HTTPException):
                rv = rv.get_response()
            elif isinstance(rv, dict | list):
                rv = self.json.response(rv)
            elif isinstance(rv, Iterator):
                rv = self.response_class(rv, status=status, headers=headers)
                status = headers = None
            elif callable(rv):
                rv = self._response_from_wsgi_app(rv)
            else:
                raise TypeError(
                    f"The view function for {self._current_endpoint()!r} did not return a"
                    " valid response. The return type must be a string,"
                    " dict, list, tuple with headers or status,"
                    " Response instance, or WSGI callable, but it"
                    f" was a {type(rv).__name__}."
                )
        if status is not None:
            if isinstance(status, str | bytes):
                rv.status = status if isinstance(status, str) else status.decode("latin-1")
            else:
                rv.status_code = status
        if headers:
            rv.headers.update(headers)
        return rv

    @staticmethod
    def _current_endpoint() -> str | None:
        ctx = _cv_request.get(None)
        return ctx.request.endpoint if ctx is not None else None

    def _response_from_wsgi_app(self, wsgi_app: Callable[..., t.Any]) -> Response:
        environ = _cv_request.get().request.environ
        captured: list[t.Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
        ) -> Callable[[bytes], None]:
            captured[:] = [status, headers]
            return lambda data: None

        body = wsgi_app(environ, start_response)
        try:
            data = b"".join(body)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        status, headers = captured
        return self.response_class(data, status=status, headers=headers)

    # -- errors -----------------------------------------------------------------------
    def _find_error_handler(
        self, e: BaseException, blueprints: list[str]
    ) -> Callable[[t.Any], t.Any] | None:
        exc_class, code = self._get_exc_class_and_code(type(e))  # type: ignore[arg-type]
        names = (*blueprints, None)
        for c in (code, None) if code is not None else (None,):
            for name in names:
                handler_map = self.error_handler_spec[name][c]
                if not handler_map:
                    continue
                for cls in exc_class.__mro__:
                    handler = handler_map.get(cls)
                    if handler is not None:
                        return handler
        return None

    def trap_http_exception(self, e: Exception) -> bool:
        if self.config["TRAP_HTTP_EXCEPTIONS"]:
            return True
        trap_bad_request = self.config["TRAP_BAD_REQUEST_ERRORS"]
        if trap_bad_request is None and self.debug and isinstance(e, BadRequestKeyError):
            return True
        if trap_bad_request:
            return isinstance(e, BadRequest)
        return False

    def handle_http_exception(self, e: HTTPException) -> t.Any:
        if e.code is None:
            return e
        if isinstance(e, RequestRedirect):
            return e
        ctx = _cv_request.get(None)
        if e.code in _BAD_INPUT_CODES:
            _log.warning("%d %s: %s", e.code, _request_line(ctx), e.description)
        elif _log.isEnabledFor(logging.DEBUG):
            _log.debug("%d %s", e.code, _request_line(ctx))
        handler = self._find_error_handler(e, ctx.request.blueprints if ctx else [])
        if handler is None:
            return e
        return self._call_hook(handler, e)

    def handle_user_exception(self, e: Exception) -> t.Any:
        if isinstance(e, BadRequestKeyError) and (
            self.debug or self.config["TRAP_BAD_REQUEST_ERRORS"]
        ):
            e.show_exception = True
        if isinstance(e, HTTPException) and not self.trap_http_exception(e):
            return self.handle_http_exception(e)
        ctx = _cv_request.get(None)
        handler = self._find_error_handler(e, ctx.request.blueprints if ctx else [])
        if handler is None:
            raise e
        return self._call_hook(handler, e)

    def handle_exception(self, e: Exception) -> Response:
        """An exception no handler dealt with: log it and answer 500 (or re-raise when testing)."""
        exc_info = sys.exc_info()
        if _signals.got_request_exception.receivers:
            _signals.got_request_exception.send(self, _async_wrapper=self.ensure_sync, exception=e)
        propagate = self.config["PROPAGATE_EXCEPTIONS"]
        if propagate is None:
            propagate = self.testing or self.debug
        if propagate:
            if exc_info[1] is e:
                raise
            raise e
        self.log_exception(exc_info)
        server_error: t.Any = InternalServerError(original_exception=e)
        ctx = _cv_request.get(None)
        handler = self._find_error_handler(server_error, ctx.request.blueprints if ctx else [])
        if handler is not None:
            server_error = self._call_hook(handler, server_error)
        return self.finalize_request(server_error, from_error_handler=True)

    def log_exception(
        self,
        exc_info: tuple[type, BaseException, TracebackType] | tuple[None, None, None],
    ) -> None:
        ctx = _cv_request.get(None)
        if ctx is None:
            self.logger.error("Exception outside a request", exc_info=exc_info)
            return
        # Flask's wording, so log searches and alerts written for Flask apps keep working.
        req = ctx.request
        self.logger.error("Exception on %s [%s]", req.path, req.method, exc_info=exc_info)

    def should_ignore_error(self, error: BaseException | None) -> bool:
        return False

    # -- URL building -------------------------------------------------------------------
    def url_for(
        self,
        /,
        endpoint: str,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values: t.Any,
    ) -> str:
        req_ctx = _cv_request.get(None)
        if req_ctx is not None:
            url_adapter = req_ctx.url_adapter
            blueprint_name = req_ctx.request.blueprint
            if endpoint[:1] == ".":
                if blueprint_name is not None:
                    endpoint = f"{blueprint_name}{endpoint}"
                else:
                    endpoint = endpoint[1:]
            if _external is None:
                _external = _scheme is not None
        else:
            app_ctx = _cv_app.get(None)
            url_adapter = (
                app_ctx.url_adapter if app_ctx is not None else self.create_url_adapter(None)
            )
            if url_adapter is None:
                raise RuntimeError(
                    "Unable to build URLs outside an active request"
                    " without 'SERVER_NAME' configured. Also configure"
                    " 'APPLICATION_ROOT' and 'PREFERRED_URL_SCHEME' as"
                    " needed."
                )
            if _external is None:
                _external = True
        if _scheme is not None and not _external:
            raise ValueError("When specifying '_scheme', '_external' must be True.")
        if self.url_default_functions:
            self.inject_url_defaults(endpoint, values)
        try:
            rv = url_adapter.build(
                endpoint,
                values,
                method=_method,
                url_scheme=_scheme,
                force_external=_external,
            )
        except BuildError as error:
            # a new dict: the BuildError keeps ``values`` and must name only the caller's ones
            values = {
                **values,
                "_anchor": _anchor,
                "_method": _method,
                "_scheme": _scheme,
                "_external": _external,
            }
            return self.handle_url_build_error(error, endpoint, values)
        if _anchor is not None:
            from urllib.parse import quote

            rv = f"{rv}#{quote(_anchor, safe=_ANCHOR_SAFE)}"
        return rv  # type: ignore[no-any-return]

    def inject_url_defaults(self, endpoint: str, values: dict[str, t.Any]) -> None:
        names: t.Iterable[str | None] = (None,)
        if "." in endpoint:
            names = chain(names, reversed(_split_blueprint_path(endpoint.rpartition(".")[0])))
        for name in names:
            if name in self.url_default_functions:
                for func in self.url_default_functions[name]:
                    func(endpoint, values)

    def handle_url_build_error(
        self, error: BuildError, endpoint: str, values: dict[str, t.Any]
    ) -> str:
        for handler in self.url_build_error_handlers:
            try:
                rv = handler(error, endpoint, values)
            except BuildError as e:
                error = e
            else:
                if rv is not None:
                    return rv
        if error is sys.exc_info()[1]:
            raise
        raise error

    def redirect(self, location: str, code: int = 302) -> Response:
        from .helpers import _redirect

        return _redirect(location, code=code, Response=self.response_class)

    # -- WSGI entry point -----------------------------------------------------------------
    def wsgi_app(self, environ: dict[str, t.Any], start_response: t.Any) -> t.Iterable[bytes]:
        """The WSGI application; wrap this (not ``__call__``) with middleware."""
        ctx = RequestContext(self, environ)
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

    def __call__(self, environ: dict[str, t.Any], start_response: t.Any) -> t.Iterable[bytes]:
        return self.wsgi_app(environ, start_response)

    # -- tools ------------------------------------------------------------------------------
    def test_client(self, use_cookies: bool = True, **kwargs: t.Any) -> ErlenClient:
        cls = self.test_client_class
        if cls is None:
            from .testing import ErlenClient

            cls = ErlenClient
        return cls(self, self.response_class, use_cookies=use_cookies, **kwargs)

    def test_cli_runner(self, **kwargs: t.Any) -> t.Any:
        cls = self.test_cli_runner_class
        if cls is None:
            from .testing import ErlenCliRunner

            cls = ErlenCliRunner
        return cls(self, **kwargs)

    def run(
        self,
        host: str | None = None,
        port: int | None = None,
        debug: bool | None = None,
        load_dotenv: bool = True,
        **options: t.Any,
    ) -> None:
        """Start the development server (see :mod:`erlen.serving`)."""
        from .serving import run_app

        run_app(self, host=host, port=port, debug=debug, load_dotenv=load_dotenv, **options)


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


class _StaticView:
    """The view of the ``static`` endpoint; a class so it compares equal across re-adds.

    It holds the app weakly: the app owns it (``view_functions``), and a strong reference
    back would be a cycle that keeps a discarded app alive until the garbage collector runs.
    """

    __slots__ = ("_app", "_key", "__name__")

    def __init__(self, app: Erlen) -> None:
        self._app = weakref.ref(app)
        self._key = id(app)
        self.__name__ = "send_static_file"

    @property
    def app(self) -> Erlen | None:
        return self._app()

    def __call__(self, filename: str) -> Response:
        return t.cast(Response, self._app().send_static_file(filename))  # type: ignore[union-attr]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _StaticView) and other._app() is self._app()

    def __hash__(self) -> int:
        return self._key


def _request_line(ctx: RequestContext | None) -> str:
    if ctx is None:
        return "(no request)"
    env = ctx.request.environ
    return f"{env.get('REQUEST_METHOD', '?')} {env.get('PATH_INFO', '')!r}"
