"""Finding the app: ``--app``/``ERLEN_APP`` targets, ``wsgi.py``/``app.py``, ``.env`` files.

Discovery follows Flask's documented rules (a module, a file path, ``module:name``,
``module:factory(args)``). Flask's spellings are read too: ``FLASK_APP`` when ``ERLEN_APP``
is not set, ``FLASK_DEBUG``, and ``.flaskenv`` files (decision 009).
"""

from __future__ import annotations

import ast
import os
import sys
import traceback
import typing as t
from collections.abc import Callable

import click

from ..app.commands import set_app_loader
from ..helpers import get_debug_flag as get_debug_flag
from ..helpers import get_load_dotenv as get_load_dotenv
from ..helpers import getenv

if t.TYPE_CHECKING:
    from ..application import Erlen

_TRUE = {"1", "true", "yes", "on"}
# lowest precedence first: a Flask project's .flaskenv, erlen's .erlenenv, then .env
_DOTENV_FILES = (".flaskenv", ".erlenenv", ".env")


class NoAppException(click.UsageError):
    """The app could not be found or loaded."""


def load_dotenv(path: str | os.PathLike[str] | None = None, load_defaults: bool = True) -> bool:
    """Set environment variables from ``.flaskenv``, ``.erlenenv`` and ``.env`` (and ``path``).

    Precedence, highest first: variables already set, ``path``, ``.env``, ``.erlenenv``,
    ``.flaskenv`` (the nearest files found walking up from the working folder). Returns
    whether any file was loaded. A missing python-dotenv is not an error unless ``path`` was
    given.
    """
    try:
        import dotenv
    except ImportError:
        if path or any(os.path.isfile(n) for n in _DOTENV_FILES):
            click.secho(
                " * Tip: there are .env files present. Install python-dotenv to use them.",
                fg="yellow",
                err=True,
            )
        return False
    values: dict[str, str | None] = {}
    loaded = False
    if load_defaults:
        for name in _DOTENV_FILES:
            found = dotenv.find_dotenv(name, usecwd=True)
            if found:
                values.update(dotenv.dotenv_values(found, encoding="utf-8"))
                loaded = True
    if path is not None and os.path.isfile(path):
        values.update(dotenv.dotenv_values(path, encoding="utf-8"))
        loaded = True
    for key, value in values.items():
        if value is not None and key not in os.environ:
            os.environ[key] = value
    return loaded


class ScriptInfo:
    """How the CLI finds the app: an import path, or a factory given by the caller."""

    def __init__(
        self,
        app_import_path: str | None = None,
        create_app: Callable[..., Erlen] | None = None,
        set_debug_flag: bool = True,
        load_dotenv_defaults: bool = True,
    ) -> None:
        self.app_import_path = app_import_path
        self.create_app = create_app
        self.data: dict[t.Any, t.Any] = {}
        self.set_debug_flag = set_debug_flag
        self.load_dotenv_defaults = load_dotenv_defaults
        self._loaded_app: Erlen | None = None

    def load_app(self) -> Erlen:
        """Find, import and return the app (once); :class:`NoAppException` if impossible."""
        if self._loaded_app is not None:
            return self._loaded_app
        app: Erlen | None = None
        import_path = self.app_import_path or getenv("APP") or None
        if self.create_app is not None:
            app = self.create_app()
        elif import_path:
            path, name = _split_import_path(import_path)
            app = locate_app(prepare_import(path), name)
        else:
            for path in ("wsgi.py", "app.py"):
                if os.path.exists(path):
                    app = locate_app(prepare_import(path), None, raise_if_not_found=False)
                    if app is not None:
                        break
        if app is None:
            raise NoAppException(
                "Could not locate an Erlen application. Use the 'erlen --app' option,"
                " 'ERLEN_APP' environment variable, or a 'wsgi.py' or 'app.py' file"
                " in the current directory."
            )
        if self.set_debug_flag and getenv("DEBUG") is not None:
            app.debug = get_debug_flag()
        self._loaded_app = app
        return app


def _split_import_path(value: str) -> tuple[str, str | None]:
    """``module:name`` → parts; a Windows drive letter (``C:\\x\\app.py``) is not a name."""
    match = value.rsplit(":", 1) if ":" in value else [value]
    if len(match) == 2 and not (
        len(match[0]) == 1 and match[0].isalpha() and match[1][:1] in ("\\", "/")
    ):
        if "(" in match[0]:  # "mod:factory(a=':')": split at the first colon instead
            first, _, rest = value.partition(":")
            return first, rest or None
        return match[0], match[1] or None
    return value, None


def prepare_import(path: str) -> str:
    """Turn a file path into a dotted module name and put its root folder on ``sys.path``.

    A plain module name is returned unchanged, with the working folder put on ``sys.path``.
    """
    if not (path.endswith(".py") or os.sep in path or (os.altsep and os.altsep in path)):
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        return path
    path = os.path.realpath(path)
    fname, ext = os.path.splitext(path)
    if ext == ".py":
        path = fname
    if os.path.basename(path) == "__init__":
        path = os.path.dirname(path)
    parts: list[str] = []
    while True:  # walk up while the folder is a package
        path, name = os.path.split(path)
        parts.append(name)
        if not os.path.exists(os.path.join(path, "__init__.py")):
            break
    if sys.path[:1] != [path]:
        sys.path.insert(0, path)
    return ".".join(reversed(parts))


def _trimmed_traceback(exc: BaseException) -> str:
    """The traceback of an error raised while importing the app, without erlen/importlib frames."""
    te = traceback.TracebackException.from_exception(exc)
    here = os.path.abspath(__file__)
    te.stack = traceback.StackSummary.from_list(
        [f for f in te.stack if f.filename != here and "importlib._bootstrap" not in f.filename]
    )
    return "".join(te.format())


def _is_missing_module(e: ImportError, module_name: str) -> bool:
    """True if ``e`` says the module itself (or a parent package) does not exist."""
    name = getattr(e, "name", None)
    if not isinstance(e, ModuleNotFoundError) or not name:
        return False
    return module_name == name or module_name.startswith(name + ".")


def _bad_call(e: TypeError, factory: t.Any) -> bool:
    """True if ``e`` came from calling ``factory`` itself (wrong arguments), not its body."""
    code = getattr(factory, "__code__", None) or getattr(
        getattr(factory, "__init__", None), "__code__", None
    )
    tb = e.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code is code:
            return False  # the body ran: the TypeError is a bug inside the factory
        tb = tb.tb_next
    return True


def _factory_failed(call: str, e: BaseException) -> NoAppException:
    """The error raised inside an app factory, with its real traceback."""
    return NoAppException(
        f"While calling the app factory '{call}', an exception was raised:\n\n"
        + _trimmed_traceback(e)
    )


set_app_loader(ScriptInfo)  # commands of app.cli find their app through it


def locate_app(
    module_name: str, app_name: str | None, raise_if_not_found: bool = True
) -> Erlen | None:
    """Import ``module_name`` and find the app in it (by ``app_name`` or the usual names)."""
    try:
        __import__(module_name)
    except ImportError as e:
        if _is_missing_module(e, module_name):
            if not raise_if_not_found:
                return None
            raise NoAppException(f"Could not import {module_name!r}.") from None
        raise NoAppException(
            f"While importing {module_name!r}, an ImportError was raised:\n\n"
            + _trimmed_traceback(e)
        ) from None
    except Exception as e:
        raise NoAppException(
            f"While importing {module_name!r}, an exception was raised:\n\n" + _trimmed_traceback(e)
        ) from None
    module = sys.modules[module_name]
    if app_name is None:
        return find_best_app(module)
    return find_app_by_string(module, app_name)


def find_best_app(module: t.Any) -> Erlen:
    """``app``/``application``, else the only app in the module, else ``create_app()``."""
    from ..app import App  # the core class: every application is one

    for attr in ("app", "application"):
        candidate = getattr(module, attr, None)
        if isinstance(candidate, App):
            return t.cast("Erlen", candidate)
    matches = [v for v in vars(module).values() if isinstance(v, App)]
    if len(matches) == 1:
        return t.cast("Erlen", matches[0])
    if len(matches) > 1:
        raise NoAppException(
            f"Detected multiple Erlen applications in module {module.__name__!r}."
            f" Use '{module.__name__}:name' to specify the correct one."
        )
    for attr in ("create_app", "make_app"):
        factory = getattr(module, attr, None)
        if callable(factory):
            try:
                app = factory()
            except Exception as e:
                if not (isinstance(e, TypeError) and _bad_call(e, factory)):
                    raise _factory_failed(f"{module.__name__}:{attr}()", e) from None
                raise NoAppException(
                    f"Detected factory '{attr}' in module {module.__name__!r}, but could not"
                    f" call it without arguments ({e}). Use '{module.__name__}:{attr}(args)'"
                    " to specify arguments."
                ) from None
            if isinstance(app, App):
                return t.cast("Erlen", app)
    raise NoAppException(
        f"Failed to find Erlen application or factory in module {module.__name__!r}."
        f" Use '{module.__name__}:name' to specify one."
    )


def find_app_by_string(module: t.Any, app_name: str) -> Erlen:
    """Resolve ``name`` or ``factory(literal args)`` inside ``module``."""
    from ..app import App  # the core class: every application is one

    try:
        expr = ast.parse(app_name.strip(), mode="eval").body
    except SyntaxError:
        raise NoAppException(
            f"Failed to parse {app_name!r} as an attribute name or function call."
        ) from None
    args: list[t.Any] = []
    kwargs: dict[str, t.Any] = {}
    if isinstance(expr, ast.Name):
        name = expr.id
    elif isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name):
        name = expr.func.id
        try:
            args = [ast.literal_eval(arg) for arg in expr.args]
            kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in expr.keywords if kw.arg}
        except ValueError:
            raise NoAppException(
                f"Failed to parse arguments as literal values: {app_name!r}."
            ) from None
    else:
        raise NoAppException(f"Failed to parse {app_name!r} as an attribute name or function call.")
    try:
        attr = getattr(module, name)
    except AttributeError as e:
        raise NoAppException(f"Failed to find attribute {name!r} in {module.__name__!r}.") from e
    if callable(attr) and not isinstance(attr, App):
        try:
            app = attr(*args, **kwargs)
        except Exception as e:
            if not (isinstance(e, TypeError) and _bad_call(e, attr)):
                raise _factory_failed(f"{module.__name__}:{app_name}", e) from None
            raise NoAppException(
                f"The factory {app_name!r} in module {module.__name__!r} could not be called"
                f" with the specified arguments: {e}"
            ) from None
    else:
        app = attr
    if isinstance(app, App):
        return t.cast("Erlen", app)
    raise NoAppException(
        f"A valid Erlen application was not obtained from '{module.__name__}:{app_name}'."
    )
