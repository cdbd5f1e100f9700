"""The application's template setup: its Jinja environment (built by ``erlen.templating`` on
first use, so an app that renders nothing never imports Jinja2), autoescape rules, context
processors, and the filter/test/global registration decorators."""

from __future__ import annotations

import typing as t
from collections.abc import Callable
from itertools import chain

from ..globals import _get_request_ctx
from ..http.speedups import cached_property
from ..scaffold import Scaffold, setupmethod
from .dispatch import call_hook

if t.TYPE_CHECKING:
    from jinja2 import Environment

    from .app import App

F = t.TypeVar("F", bound=Callable[..., t.Any])


class TemplateSetup(Scaffold):
    """The template half of ``App`` (a mixin: ``App`` is the only class that uses it)."""

    @cached_property
    def jinja_env(self) -> Environment:
        return self.create_jinja_environment()

    def create_jinja_environment(self) -> Environment:
        """Build ``jinja_env`` (Flask's override point; ``erlen.templating`` does the work)."""
        from ..templating import create_jinja_environment

        return create_jinja_environment(t.cast("App", self))

    def create_global_jinja_loader(self) -> t.Any:
        from ..templating import DispatchingJinjaLoader

        return DispatchingJinjaLoader(t.cast("App", self))

    def select_jinja_autoescape(self, filename: str | None) -> bool:
        if filename is None:
            return True
        return filename.endswith((".html", ".htm", ".xml", ".xhtml", ".svg"))

    def update_template_context(self, context: dict[str, t.Any]) -> None:
        names: t.Iterable[str | None] = (None,)
        ctx = _get_request_ctx(None)
        if ctx is not None:
            names = chain(names, reversed(ctx.request.blueprints))
        orig_ctx = context.copy()
        for name in names:
            if name in self.template_context_processors:
                for func in self.template_context_processors[name]:
                    context.update(call_hook(func))
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
