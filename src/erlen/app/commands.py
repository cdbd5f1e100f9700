"""The app's click command group (``app.cli``): commands that run inside an app context.

``erlen.cli`` (the ``erlen`` command) re-exports ``AppGroup`` and ``with_appcontext`` as
Flask's ``flask.cli`` does. They live in the core so that ``Scaffold.cli`` creates its group
without importing the tools layer. Finding the app when a command runs with no app context
is the tools' business (``erlen.cli.discovery.ScriptInfo``), which registers itself here with
``set_app_loader``; click is imported only by apps that touch ``app.cli``.
"""

from __future__ import annotations

import typing as t
from collections.abc import Callable
from functools import update_wrapper

import click

from ..globals import _cv_current_app

F = t.TypeVar("F", bound=Callable[..., t.Any])

#: The click context object that loads the app (``ScriptInfo``), set by ``erlen.cli.discovery``.
_app_loader: type[t.Any] | None = None


def set_app_loader(loader: type[t.Any]) -> None:
    """Register the class whose instances load the app for commands (``load_app()``)."""
    global _app_loader
    _app_loader = loader


def with_appcontext(f: F) -> F:
    """Run the command inside the app's application context."""

    @click.pass_context
    def decorator(ctx: click.Context, /, *args: t.Any, **kwargs: t.Any) -> t.Any:
        if _cv_current_app.get(None) is None:
            if _app_loader is None:
                raise click.UsageError("No application to run the command in (no app loader).")
            app = ctx.ensure_object(_app_loader).load_app()
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
