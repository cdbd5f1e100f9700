"""The ``erlen`` command (click): app discovery and commands that run in an app context.

This is the foundation; the full CLI (run, routes, shell, serve, .env loading) grows here.
"""

from __future__ import annotations

import importlib
import os
import sys
import typing as t
from collections.abc import Callable
from functools import update_wrapper

import click

if t.TYPE_CHECKING:
    from .app import Erlen

F = t.TypeVar("F", bound=Callable[..., t.Any])


class NoAppException(click.UsageError):
    """The app could not be found or loaded."""


class ScriptInfo:
    """How the CLI finds the app: an import path, or a factory given by the caller."""

    def __init__(
        self,
        app_import_path: str | None = None,
        create_app: Callable[..., Erlen] | None = None,
        set_debug_flag: bool = True,
    ) -> None:
        self.app_import_path = app_import_path
        self.create_app = create_app
        self.data: dict[t.Any, t.Any] = {}
        self.set_debug_flag = set_debug_flag
        self._loaded_app: Erlen | None = None

    def load_app(self) -> Erlen:
        if self._loaded_app is not None:
            return self._loaded_app
        app: Erlen | None = None
        if self.create_app is not None:
            app = self.create_app()
        elif self.app_import_path:
            path, _, name = self.app_import_path.partition(":")
            app = _locate_app(path, name or None)
        else:
            for path in ("wsgi.py", "app.py"):
                if os.path.exists(path):
                    app = _locate_app(path, None)
                    break
        if app is None:
            raise NoAppException(
                "Could not locate an Erlen application. Use the 'erlen --app' option,"
                " 'ERLEN_APP' environment variable, or a 'wsgi.py' or 'app.py' file"
                " in the current directory."
            )
        self._loaded_app = app
        return app


def _locate_app(module_name: str, app_name: str | None) -> Erlen:
    from .app import Erlen

    if module_name.endswith(".py") or os.sep in module_name:
        path = os.path.realpath(module_name)
        folder, fname = os.path.split(path)
        module_name = os.path.splitext(fname)[0]
        if folder not in sys.path:
            sys.path.insert(0, folder)
    elif os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        if sys.exc_info()[2].tb_next:  # type: ignore[union-attr]
            raise NoAppException(
                f"While importing {module_name!r}, an ImportError was raised:\n\n" + _format_exc()
            ) from None
        raise NoAppException(f"Could not import {module_name!r}.") from None
    if app_name is None:
        for attr in ("app", "application"):
            candidate = getattr(module, attr, None)
            if isinstance(candidate, Erlen):
                return candidate
        matches = [v for v in vars(module).values() if isinstance(v, Erlen)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise NoAppException(
                f"Detected multiple Erlen applications in module {module_name!r}."
                f" Use '{module_name}:name' to specify the correct one."
            )
        for attr in ("create_app", "make_app"):
            factory = getattr(module, attr, None)
            if callable(factory):
                app = factory()
                if isinstance(app, Erlen):
                    return app
        raise NoAppException(
            f"Failed to find Erlen application or factory in module {module_name!r}."
        )
    return _find_app_by_string(module, app_name)


def _find_app_by_string(module: t.Any, app_name: str) -> Erlen:
    import ast

    from .app import Erlen

    try:
        expr = ast.parse(app_name.strip(), mode="eval").body
    except SyntaxError:
        raise NoAppException(
            f"Failed to parse {app_name!r} as an attribute name or function call."
        ) from None
    if isinstance(expr, ast.Name):
        name, args, kwargs = expr.id, [], {}
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
    app = attr(*args, **kwargs) if callable(attr) and not isinstance(attr, Erlen) else attr
    if isinstance(app, Erlen):
        return app
    raise NoAppException(
        f"A valid Erlen application was not obtained from '{module.__name__}:{app_name}'."
    )


def _format_exc() -> str:
    import traceback

    return traceback.format_exc()


pass_script_info = click.make_pass_decorator(ScriptInfo, ensure=True)


def with_appcontext(f: F) -> F:
    """Run the command inside the app's application context."""

    @click.pass_context
    def decorator(ctx: click.Context, /, *args: t.Any, **kwargs: t.Any) -> t.Any:
        from .globals import _cv_app

        if _cv_app.get(None) is None:
            app = ctx.ensure_object(ScriptInfo).load_app()
            ctx.with_resource(app.app_context())
        return ctx.invoke(f, *args, **kwargs)

    return update_wrapper(decorator, f)  # type: ignore[return-value]


class AppGroup(click.Group):
    """A click group whose commands run in an app context unless told otherwise."""

    def command(self, *args: t.Any, **kwargs: t.Any) -> t.Any:  # type: ignore[override]
        wrap_for_ctx = kwargs.pop("with_appcontext", True)

        def decorator(f: Callable[..., t.Any]) -> click.Command:
            if wrap_for_ctx:
                f = with_appcontext(f)
            return click.Group.command(self, *args, **kwargs)(f)  # type: ignore[no-any-return]

        return decorator

    def group(self, *args: t.Any, **kwargs: t.Any) -> t.Any:  # type: ignore[override]
        kwargs.setdefault("cls", AppGroup)
        return click.Group.group(self, *args, **kwargs)


class ErlenGroup(AppGroup):
    """The ``erlen`` command: finds the app (``--app``/``ERLEN_APP``) and adds its commands."""

    def __init__(self, **extra: t.Any) -> None:
        params = list(extra.pop("params", None) or ())
        params.append(
            click.Option(
                ["-A", "--app"],
                metavar="IMPORT",
                help="The Erlen application or factory function to load, as 'module:name'.",
                is_eager=True,
                expose_value=False,
                callback=_set_app,
            )
        )
        super().__init__(params=params, **extra)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        rv = super().get_command(ctx, name)
        if rv is not None:
            return rv
        info = ctx.ensure_object(ScriptInfo)
        try:
            app = info.load_app()
        except NoAppException as e:
            click.secho(f"Error: {e.format_message()}\n", err=True, fg="red")
            return None
        return app.cli.get_command(ctx, name)  # type: ignore[no-any-return]

    def list_commands(self, ctx: click.Context) -> list[str]:
        rv = set(super().list_commands(ctx))
        info = ctx.ensure_object(ScriptInfo)
        try:
            rv.update(info.load_app().cli.list_commands(ctx))
        except NoAppException as e:
            click.secho(f"Error: {e.format_message()}\n", err=True, fg="red")
        return sorted(rv)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: t.Any,
    ) -> click.Context:
        if "obj" not in extra and "obj" not in self.context_settings:
            extra["obj"] = ScriptInfo(app_import_path=os.environ.get("ERLEN_APP"))
        return super().make_context(info_name, args, parent=parent, **extra)


def _set_app(ctx: click.Context, param: click.Option, value: str | None) -> str | None:
    if value is None:
        return None
    info = ctx.ensure_object(ScriptInfo)
    info.app_import_path = value
    return value


cli = ErlenGroup(name="erlen", help="A general utility script for Erlen applications.")


@cli.command("routes", short_help="Show the routes for the app.")
@click.option(
    "--sort", "-s", type=click.Choice(("endpoint", "methods", "rule", "match")), default="endpoint"
)
@click.option("--all-methods", is_flag=True, help="Show HEAD and OPTIONS methods.")
@with_appcontext
def routes_command(sort: str, all_methods: bool) -> None:
    from .globals import current_app

    rules = list(current_app.url_map.iter_rules())
    if not rules:
        click.echo("No routes were registered.")
        return
    ignored = set() if all_methods else {"HEAD", "OPTIONS"}
    if sort in ("endpoint", "rule"):
        rules.sort(key=lambda r: getattr(r, sort))
    elif sort == "methods":
        rules.sort(key=lambda r: sorted(r.methods or ()))
    rows = [("Endpoint", "Methods", "Rule")]
    for r in rules:
        rows.append((r.endpoint, ", ".join(sorted((r.methods or set()) - ignored)), r.rule))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for i, row in enumerate(rows):
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            click.echo("  ".join("-" * w for w in widths))


def main() -> None:
    cli.main()
