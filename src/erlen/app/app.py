"""The application core, ``App``: configuration, registration and the request path,
independent of any server interface (Flask's ``sansio.App``; ``erlen.Erlen`` adds WSGI).

``App`` is one class; its other concerns live beside this module as mixins it alone uses
(this module keeps the name ``app``: log lines say "ERROR in app:" as Flask's do):
``dispatch`` (the request path, see ``plan`` for what is resolved once per app),
``errors`` (error handlers, the 500), ``urls`` (URL adapter, ``url_for``), ``templates``
(the Jinja environment and its registration decorators), ``responses`` (view return values).
"""

from __future__ import annotations

import logging
import os
import sys
import typing as t
import weakref
from collections.abc import Callable
from datetime import timedelta
from types import TracebackType

from ..binding import bind_view
from ..config import Config, ConfigAttribute
from ..ctx import _AppCtxGlobals
from ..exceptions import (
    Aborter,
)
from ..globals import _get_request_ctx
from ..helpers import get_debug_flag
from ..http.speedups import cached_property
from ..json import DefaultJSONProvider, JSONProvider
from ..logging import create_logger, log_safe
from ..routing import Map, Rule
from ..scaffold import Scaffold, _endpoint_from_view_func, find_instance_path, setupmethod
from ..sessions import SecureCookieSessionInterface, SessionInterface
from ..wrappers import Request, Response
from .dispatch import RequestDispatch
from .errors import ErrorHandling
from .responses import ResponseMaking
from .templates import TemplateSetup
from .urls import URLBuilding

if t.TYPE_CHECKING:
    from jinja2 import Environment

    from ..blueprints import Blueprint

F = t.TypeVar("F", bound=Callable[..., t.Any])
_log = logging.getLogger("erlen")


def _make_timedelta(value: timedelta | int | None) -> timedelta | None:
    if value is None or isinstance(value, timedelta):
        return value
    return timedelta(seconds=value)


class App(
    RequestDispatch, ErrorHandling, URLBuilding, TemplateSetup, ResponseMaking, Scaffold
):
    """The application core: configuration, registration and the request path, for any
    server interface (``erlen.Erlen`` adds WSGI and the tools). Flask's ``sansio.App``."""

    request_class: type[Request] = Request
    response_class: type[Response] = Response
    aborter_class = Aborter
    app_ctx_globals_class = _AppCtxGlobals
    config_class = Config
    json_provider_class: type[JSONProvider] = DefaultJSONProvider
    url_rule_class = Rule
    url_map_class = Map
    session_interface: SessionInterface = SecureCookieSessionInterface()
    jinja_options: dict[str, t.Any] = {}
    #: The Jinja environment class for ``jinja_env``; None means ``erlen.templating.Environment``.
    jinja_environment: type[Environment] | None = None

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
        from ..templating import _default_template_ctx_processor

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
        defaults["DEBUG"] = get_debug_flag()
        return self.config_class(root_path, defaults)

    def make_aborter(self) -> Aborter:
        return self.aborter_class()

    def auto_find_instance_path(self) -> str:
        return find_instance_path(self.import_name, self.name)

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
        self.request_plan = None  # what requests run is resolved again from the new setup
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

    # -- the shell (erlen shell) --------------------------------------------------------
    @setupmethod
    def shell_context_processor(self, f: F) -> F:
        self.shell_context_processors.append(f)
        return f

    def make_shell_context(self) -> dict[str, t.Any]:
        from ..globals import g

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
            # a typed view gets its binding wrapper (the same one on each registration)
            original, view_func = view_func, bind_view(view_func, rule_obj.arguments)
            old_func = self.view_functions.get(endpoint)
            if old_func is not None and old_func != view_func and old_func is not original:
                raise AssertionError(
                    "View function mapping is overwriting an existing"
                    f" endpoint function: {endpoint}"
                )
            self.view_functions[endpoint] = view_func

    @setupmethod
    def teardown_appcontext(self, f: F) -> F:
        self.teardown_appcontext_funcs.append(f)
        return f

    # -- logging (here, not in errors.py: Flask's log format names the module, "ERROR in app:")
    def log_exception(
        self,
        exc_info: tuple[type, BaseException, TracebackType] | tuple[None, None, None],
    ) -> None:
        ctx = _get_request_ctx(None)
        if ctx is None:
            self.logger.error("Exception outside a request", exc_info=exc_info)
            return
        # Flask's wording, so log searches and alerts written for Flask apps keep working.
        req = ctx.request
        self.logger.error(
            "Exception on %s [%s]", log_safe(req.path), log_safe(req.method), exc_info=exc_info
        )

    def redirect(self, location: str, code: int = 302) -> Response:
        from ..helpers import _redirect

        return _redirect(location, code=code, Response=self.response_class)


class _StaticView:
    """The view of the ``static`` endpoint; a class so it compares equal across re-adds.

    It holds the app weakly: the app owns it (``view_functions``), and a strong reference
    back would be a cycle that keeps a discarded app alive until the garbage collector runs.
    """

    __slots__ = ("_app", "_key", "__name__")

    def __init__(self, app: App) -> None:
        self._app = weakref.ref(app)
        self._key = id(app)
        self.__name__ = "send_static_file"

    @property
    def app(self) -> App | None:
        return self._app()

    def __call__(self, filename: str) -> Response:
        return t.cast(Response, self._app().send_static_file(filename))  # type: ignore[union-attr]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _StaticView) and other._app() is self._app()

    def __hash__(self) -> int:
        return self._key
