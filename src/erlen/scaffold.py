"""What applications and blueprints share: routes, hooks, error handlers, folders."""

from __future__ import annotations

import importlib.util
import os
import pathlib
import sys
import typing as t
from collections import defaultdict
from collections.abc import Callable

from .exceptions import HTTPException, default_exceptions
from .http.speedups import cached_property

if t.TYPE_CHECKING:
    from jinja2 import BaseLoader

    from .app.commands import AppGroup

F = t.TypeVar("F", bound=Callable[..., t.Any])
AppOrBlueprintKey = t.Optional[str]  # noqa: UP045 (used at run time in annotations of dicts)


def _endpoint_from_view_func(view_func: Callable[..., t.Any]) -> str:
    assert view_func is not None, "expected view func if endpoint is not provided."
    return view_func.__name__


def websocket_view(handler: Callable[..., t.Any]) -> Callable[..., t.Any]:
    """The view a websocket rule's endpoint holds: the ASGI adapter runs ``handler`` (its
    ``websocket_handler``); anything that dispatches it as HTTP (a WSGI server) gets 426."""

    def upgrade_required(**_values: t.Any) -> t.Any:
        return (
            "This URL is a WebSocket endpoint: connect with a WebSocket client (served under"
            " ASGI).",
            426,  # no Upgrade/Connection header: hop-by-hop, which WSGI servers refuse (500)
            {"Content-Type": "text/plain; charset=utf-8"},
        )

    upgrade_required.__name__ = getattr(handler, "__name__", "websocket")
    upgrade_required.websocket_handler = handler  # type: ignore[attr-defined]
    return upgrade_required


def get_root_path(import_name: str) -> str:
    """The folder of the module ``import_name`` (templates/static are found beside it)."""
    mod = sys.modules.get(import_name)
    if mod is not None and getattr(mod, "__file__", None) is not None:
        return os.path.dirname(os.path.abspath(t.cast(str, mod.__file__)))
    try:
        spec = importlib.util.find_spec(import_name)
        if spec is None:
            raise ValueError
    except (ImportError, ValueError):
        return os.getcwd()
    if spec.origin in (None, "namespace", "built-in", "frozen"):
        if spec.submodule_search_locations:
            return os.path.dirname(next(iter(spec.submodule_search_locations)))
        return os.getcwd()
    return os.path.dirname(os.path.abspath(t.cast(str, spec.origin)))


def _is_within(path: str, folder: str) -> bool:
    try:
        return os.path.commonpath([path, folder]) == folder
    except ValueError:  # different drives (Windows)
        return False


def _package_folder(import_name: str) -> str:
    """The folder holding the top-level package (or module) of ``import_name``: where an
    uninstalled app's ``instance`` folder goes."""
    root = import_name.partition(".")[0]
    try:
        spec = importlib.util.find_spec(root)
    except (ImportError, ValueError):  # ValueError: a __main__ run as a script has no spec
        spec = None
    if spec is None:
        mod = sys.modules.get(root)
        file = getattr(mod, "__file__", None)
        return os.path.dirname(os.path.abspath(file)) if file else os.getcwd()
    locations = list(spec.submodule_search_locations or ())
    if not locations:  # a module: its own folder
        if spec.origin in (None, "built-in", "frozen"):
            return os.getcwd()
        return os.path.dirname(os.path.abspath(spec.origin))
    if spec.origin not in (None, "namespace"):  # a regular package: the folder holding it
        return os.path.dirname(os.path.dirname(os.path.abspath(spec.origin)))
    # a namespace package spans several folders: take the one holding import_name itself
    chosen = locations[0]
    try:
        sub = importlib.util.find_spec(import_name) if "." in import_name else None
    except (ImportError, ValueError):
        sub = None
    sub_locations = list(sub.submodule_search_locations or ()) if sub is not None else []
    if sub is not None and (sub_locations or sub.origin):
        where = os.path.commonpath(sub_locations) if sub_locations else str(sub.origin)
        chosen = next((loc for loc in locations if _is_within(where, loc)), chosen)
    return os.path.dirname(os.path.abspath(chosen))


def find_package(import_name: str) -> tuple[str | None, str]:
    """``(prefix, folder)`` of the package or module ``import_name`` (Flask's rules).

    ``folder`` holds its top-level package. ``prefix`` is the installation prefix when it
    is installed: under ``sys.prefix``, or in a ``site-packages`` folder elsewhere (a user
    site: ``~/.local/lib/pythonX.Y/site-packages`` gives ``~/.local``); None otherwise.
    """
    folder = _package_folder(import_name)
    py_prefix = os.path.abspath(sys.prefix)
    if _is_within(folder, py_prefix):
        return py_prefix, folder
    parent, name = os.path.split(folder)
    if name.lower() != "site-packages":
        return None, folder
    grand, lib = os.path.split(parent)
    if lib.lower() == "lib":  # Windows: <prefix>\Lib\site-packages
        return grand, folder
    if os.path.basename(grand).lower() == "lib":  # <prefix>/lib/pythonX.Y/site-packages
        return os.path.dirname(grand), folder
    return parent, folder


def find_instance_path(import_name: str, name: str) -> str:
    """Flask's default instance folder: ``<prefix>/var/<name>-instance`` for an installed
    module or package, else ``instance`` beside its top-level package or module."""
    prefix, folder = find_package(import_name)
    if prefix is None:
        return os.path.join(folder, "instance")
    return os.path.join(prefix, "var", f"{name}-instance")


def setupmethod(f: F) -> F:
    """Mark a registration method: it may not run once the app has handled a request."""
    f_name = f.__name__

    def wrapper_func(self: Scaffold, *args: t.Any, **kwargs: t.Any) -> t.Any:
        self._check_setup_finished(f_name)
        return f(self, *args, **kwargs)

    wrapper_func.__name__ = f.__name__
    wrapper_func.__doc__ = f.__doc__
    wrapper_func.__wrapped__ = f  # type: ignore[attr-defined]
    return t.cast(F, wrapper_func)


class Scaffold:
    """Shared registration API of :class:`~erlen.Erlen` and :class:`~erlen.Blueprint`."""

    name: str
    _static_folder: str | None = None
    _static_url_path: str | None = None

    def __init__(
        self,
        import_name: str,
        static_folder: str | os.PathLike[str] | None = None,
        static_url_path: str | None = None,
        template_folder: str | os.PathLike[str] | None = None,
        root_path: str | None = None,
    ) -> None:
        self.import_name = import_name
        self.static_folder = static_folder  # type: ignore[assignment]
        self.static_url_path = static_url_path
        self.template_folder = template_folder
        if root_path is None:
            root_path = get_root_path(self.import_name)
        self.root_path = root_path
        self.view_functions: dict[str, Callable[..., t.Any]] = {}
        self.error_handler_spec: dict[
            AppOrBlueprintKey,
            dict[int | None, dict[type[BaseException], Callable[..., t.Any]]],
        ] = defaultdict(lambda: defaultdict(dict))
        self.before_request_funcs: dict[AppOrBlueprintKey, list[Callable[..., t.Any]]] = (
            defaultdict(list)
        )
        self.after_request_funcs: dict[AppOrBlueprintKey, list[Callable[..., t.Any]]] = defaultdict(
            list
        )
        self.teardown_request_funcs: dict[AppOrBlueprintKey, list[Callable[..., t.Any]]] = (
            defaultdict(list)
        )
        self.template_context_processors: dict[
            AppOrBlueprintKey, list[Callable[[], dict[str, t.Any]]]
        ] = defaultdict(list)
        self.url_value_preprocessors: dict[AppOrBlueprintKey, list[Callable[..., t.Any]]] = (
            defaultdict(list)
        )
        self.url_default_functions: dict[AppOrBlueprintKey, list[Callable[..., t.Any]]] = (
            defaultdict(list)
        )
        # Quart's websocket hooks (run by erlen.asgi.websocket around a handler)
        self.before_websocket_funcs: dict[AppOrBlueprintKey, list[Callable[..., t.Any]]] = (
            defaultdict(list)
        )
        self.after_websocket_funcs: dict[AppOrBlueprintKey, list[Callable[..., t.Any]]] = (
            defaultdict(list)
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    def _check_setup_finished(self, f_name: str) -> None:
        raise NotImplementedError

    # -- the click group, created on first use (keeps click off the import path) -----------
    @cached_property
    def cli(self) -> AppGroup:
        from .app.commands import AppGroup

        return AppGroup()

    # -- folders ---------------------------------------------------------------------
    @property
    def static_folder(self) -> str | None:
        if self._static_folder is not None:
            return os.path.join(self.root_path, self._static_folder)
        return None

    @static_folder.setter
    def static_folder(self, value: str | os.PathLike[str] | None) -> None:
        if value is not None:
            value = os.fspath(value).rstrip(r"\/")
        self._static_folder = value

    @property
    def has_static_folder(self) -> bool:
        return self.static_folder is not None

    @property
    def static_url_path(self) -> str | None:
        if self._static_url_path is not None:
            return self._static_url_path
        if self.static_folder is not None:
            basename = os.path.basename(self.static_folder)
            return f"/{basename}".rstrip("/")
        return None

    @static_url_path.setter
    def static_url_path(self, value: str | None) -> None:
        if value is not None:
            value = value.rstrip("/")
        self._static_url_path = value

    @cached_property
    def jinja_loader(self) -> BaseLoader | None:
        if self.template_folder is not None:
            from jinja2 import FileSystemLoader

            return FileSystemLoader(os.path.join(self.root_path, self.template_folder))
        return None

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        from .globals import current_app

        value = current_app.config["SEND_FILE_MAX_AGE_DEFAULT"]
        if value is None:
            return None
        if hasattr(value, "total_seconds"):
            return int(value.total_seconds())
        return int(value)

    def send_static_file(self, filename: str) -> t.Any:
        if not self.has_static_folder:
            raise RuntimeError("'static_folder' must be set to serve static_files.")
        from .helpers import send_from_directory

        max_age = self.get_send_file_max_age(filename)
        return send_from_directory(t.cast(str, self.static_folder), filename, max_age=max_age)

    def open_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = None
    ) -> t.IO[t.Any]:
        if mode not in {"r", "rt", "rb"}:
            raise ValueError("Resources can only be opened for reading.")
        path = os.path.join(self.root_path, resource)
        if mode == "rb":
            return open(path, mode)
        return open(path, mode, encoding=encoding)

    # -- routes ----------------------------------------------------------------------
    def _method_route(self, method: str, rule: str, options: dict[str, t.Any]) -> Callable[[F], F]:
        if "methods" in options:
            raise TypeError("Use the 'route' decorator to use the 'methods' argument.")
        return self.route(rule, methods=[method], **options)

    @setupmethod
    def get(self, rule: str, **options: t.Any) -> Callable[[F], F]:
        return self._method_route("GET", rule, options)

    @setupmethod
    def post(self, rule: str, **options: t.Any) -> Callable[[F], F]:
        return self._method_route("POST", rule, options)

    @setupmethod
    def put(self, rule: str, **options: t.Any) -> Callable[[F], F]:
        return self._method_route("PUT", rule, options)

    @setupmethod
    def delete(self, rule: str, **options: t.Any) -> Callable[[F], F]:
        return self._method_route("DELETE", rule, options)

    @setupmethod
    def patch(self, rule: str, **options: t.Any) -> Callable[[F], F]:
        return self._method_route("PATCH", rule, options)

    @setupmethod
    def route(self, rule: str, **options: t.Any) -> Callable[[F], F]:
        def decorator(f: F) -> F:
            endpoint = options.pop("endpoint", None)
            self.add_url_rule(rule, endpoint, f, **options)
            return f

        return decorator

    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: Callable[..., t.Any] | None = None,
        provide_automatic_options: bool | None = None,
        **options: t.Any,
    ) -> None:
        raise NotImplementedError

    @setupmethod
    def endpoint(self, endpoint: str) -> Callable[[F], F]:
        def decorator(f: F) -> F:
            self.view_functions[endpoint] = f
            return f

        return decorator

    @setupmethod
    def websocket(self, rule: str, **options: t.Any) -> Callable[[F], F]:
        """Register an ``async def`` WebSocket handler for ``rule`` (Quart's decorator).

        The handler gets the URL variables as keyword arguments and talks through
        ``erlen.websocket``; under ASGI it runs on the server's loop. A plain HTTP request
        to the rule is a 400, a WebSocket upgrade under a WSGI server a 426.
        """

        def decorator(f: F) -> F:
            endpoint = options.pop("endpoint", None) or f.__name__
            self.add_url_rule(rule, endpoint, websocket_view(f), websocket=True, **options)
            return f

        return decorator

    @setupmethod
    def before_websocket(self, f: F) -> F:
        """Run ``f`` (sync or async) before each WebSocket handler here; a value it returns
        refuses the handshake (Quart's hook)."""
        self.before_websocket_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def after_websocket(self, f: F) -> F:
        """Run ``f(response)`` after each WebSocket handler here (``response`` is None when the
        handler returned nothing); it returns the response (Quart's hook)."""
        self.after_websocket_funcs.setdefault(None, []).append(f)
        return f

    # -- hooks -----------------------------------------------------------------------
    @setupmethod
    def before_request(self, f: F) -> F:
        self.before_request_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def after_request(self, f: F) -> F:
        self.after_request_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def teardown_request(self, f: F) -> F:
        self.teardown_request_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def context_processor(self, f: F) -> F:
        self.template_context_processors[None].append(f)
        return f

    @setupmethod
    def url_value_preprocessor(self, f: F) -> F:
        self.url_value_preprocessors[None].append(f)
        return f

    @setupmethod
    def url_defaults(self, f: F) -> F:
        self.url_default_functions[None].append(f)
        return f

    @setupmethod
    def errorhandler(self, code_or_exception: type[Exception] | int) -> Callable[[F], F]:
        def decorator(f: F) -> F:
            self.register_error_handler(code_or_exception, f)
            return f

        return decorator

    @setupmethod
    def register_error_handler(
        self, code_or_exception: type[Exception] | int, f: Callable[..., t.Any]
    ) -> None:
        exc_class, code = self._get_exc_class_and_code(code_or_exception)
        self.error_handler_spec[None][code][exc_class] = f

    @staticmethod
    def _get_exc_class_and_code(
        exc_class_or_code: type[Exception] | int,
    ) -> tuple[type[Exception], int | None]:
        exc_class: type[Exception]
        if isinstance(exc_class_or_code, int):
            try:
                exc_class = default_exceptions[exc_class_or_code]
            except KeyError:
                raise ValueError(
                    f"'{exc_class_or_code}' is not a recognized HTTP error code. Use a"
                    " subclass of HTTPException with that code instead."
                ) from None
        else:
            exc_class = exc_class_or_code
        if isinstance(exc_class, Exception):
            raise TypeError(
                f"{exc_class!r} is an instance, not a class. Handlers can only be"
                " registered for Exception classes or HTTP error codes."
            )
        if not issubclass(exc_class, Exception):
            raise ValueError(
                f"'{exc_class.__name__}' is not a subclass of Exception. Handlers"
                " can only be registered for Exception classes or HTTP error codes."
            )
        if issubclass(exc_class, HTTPException):
            return exc_class, exc_class.code
        return exc_class, None


def _path_is_relative_to(path: pathlib.PurePath, base: str) -> bool:
    try:
        path.relative_to(base)
        return True
    except ValueError:
        return False
