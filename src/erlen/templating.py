"""Jinja2 integration: the app's environment, its loader, and the render functions.

Templates are looked up in the app's ``templates`` folder first, then in each blueprint's
``template_folder`` in registration order. Jinja2 caches compiled templates; with
``TEMPLATES_AUTO_RELOAD`` (on in debug) it re-checks the files' modification times.
"""

from __future__ import annotations

import typing as t
from collections import ChainMap
from collections.abc import Callable, Iterator

from jinja2 import BaseLoader, Template, TemplateNotFound
from jinja2 import Environment as _JinjaEnvironment
from jinja2.runtime import Context
from jinja2.runtime import new_context as _new_context

from .globals import (
    _get_app_ctx,
    _get_request_ctx,
    current_app,
    g,
    request,
    session,
)
from .signals import before_render_template, template_rendered

if t.TYPE_CHECKING:
    from .app import App
    from .scaffold import Scaffold


def _default_template_ctx_processor() -> dict[str, t.Any]:
    """``g``, ``request`` and ``session`` for templates (session stays lazy: a proxy)."""
    rv: dict[str, t.Any] = {}
    appctx = _get_app_ctx(None)
    if appctx is not None:
        rv["g"] = appctx.g
    reqctx = _get_request_ctx(None)
    if reqctx is not None:
        rv["request"] = reqctx.request
        rv["session"] = session
    return rv


#: How many ``render_template_string`` sources each environment keeps compiled.
STRING_CACHE_SIZE = 256


class Environment(_JinjaEnvironment):
    """A Jinja2 environment that knows its app (for blueprint-aware loading)."""

    def __init__(self, app: App, **options: t.Any) -> None:
        if "loader" not in options:
            options["loader"] = app.create_global_jinja_loader()
        super().__init__(**options)
        self.app = app
        self._string_templates: dict[str, Template] = {}

    def from_string_cached(self, source: str) -> Template:
        """``from_string`` with the compiled template kept, keyed by its source.

        Compiling is ~30x the cost of rendering a small template, and views calling
        ``render_template_string`` pass the same literal every time. Like Jinja's own cache
        for loaded templates, entries are compiled with the settings of their first use.
        """
        cache = self._string_templates
        template = cache.get(source)
        if template is None:
            template = self.from_string(source)
            if len(cache) >= STRING_CACHE_SIZE:
                cache.clear()
            cache[source] = template
        return template


def _template_from_string(env: _JinjaEnvironment, source: str) -> Template:
    if isinstance(env, Environment):
        return env.from_string_cached(source)
    return env.from_string(source)


class DispatchingJinjaLoader(BaseLoader):
    """Search the app's loader, then each blueprint's, in registration order."""

    def __init__(self, app: App) -> None:
        self.app = app

    def get_source(
        self, environment: _JinjaEnvironment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        tried: list[str] = []
        for srcobj, loader in self._iter_loaders():
            try:
                rv = loader.get_source(environment, template)
            except TemplateNotFound:
                tried.append(_describe(srcobj, loader, srcobj is self.app))
                continue
            if self.app.config["EXPLAIN_TEMPLATE_LOADING"]:
                where = _describe(srcobj, loader, srcobj is self.app)
                self.app.logger.info("Template %r found by %s", template, where)
            return rv
        where = "; ".join(tried) if tried else "no template folders are configured"
        if self.app.debug or self.app.config["EXPLAIN_TEMPLATE_LOADING"]:
            self.app.logger.info(f"Template {template!r} not found; searched: {where}")
        raise TemplateNotFound(template, f"Template {template!r} not found. Searched: {where}")

    def _iter_loaders(self) -> Iterator[tuple[Scaffold, BaseLoader]]:
        loader = self.app.jinja_loader
        if loader is not None:
            yield self.app, loader
        for blueprint in self.app.iter_blueprints():
            loader = blueprint.jinja_loader
            if loader is not None:
                yield blueprint, loader

    def list_templates(self) -> list[str]:
        result: set[str] = set()
        for _, loader in self._iter_loaders():
            result.update(loader.list_templates())
        return sorted(result)


def _describe(srcobj: Scaffold, loader: BaseLoader, is_app: bool) -> str:
    kind = "application" if is_app else "blueprint"
    paths = getattr(loader, "searchpath", None)
    where = ", ".join(paths) if paths else type(loader).__name__
    return f"{kind} {srcobj.name!r} ({where})"


def create_jinja_environment(app: App) -> Environment:
    """Build the app's environment from ``jinja_options``, with Flask's globals and
    autoescape/auto-reload defaults."""
    options = dict(app.jinja_options)
    if "autoescape" not in options:
        options["autoescape"] = app.select_jinja_autoescape
    if "auto_reload" not in options:
        auto_reload = app.config["TEMPLATES_AUTO_RELOAD"]
        if auto_reload is None:
            auto_reload = app.debug
        options["auto_reload"] = auto_reload
    env_class = getattr(app, "jinja_environment", None) or Environment
    env = env_class(app, **options)
    from .helpers import get_flashed_messages

    env.globals.update(
        url_for=app.url_for,
        get_flashed_messages=get_flashed_messages,
        config=app.config,
        request=request,
        session=session,
        g=g,
    )
    env.policies["json.dumps_function"] = app.json.dumps
    return env


def _flat_globals(template: Template) -> dict[str, t.Any]:
    """The template's globals as one plain dict.

    Jinja keeps them as ``ChainMap(template_globals, env.globals)``; iterating a ChainMap is
    slow in pure Python, and Jinja does it twice per render. Two C-level dict merges instead.
    """
    gl = template.globals
    if type(gl) is ChainMap and len(gl.maps) == 2:
        local, shared = gl.maps
        return {**shared, **local} if local else dict(shared)
    return dict(gl)


def _new_template_context(template: Template, context: dict[str, t.Any]) -> Context:
    """What ``template.new_context(context)`` builds, without the ChainMap iteration."""
    globals_ = _flat_globals(template)
    return _new_context(
        template.environment,
        template.name,
        template.blocks,
        {**globals_, **context},
        True,  # shared: the dict above already holds globals + context
        globals_,
        None,
    )


def _render_template_obj(template: Template, context: dict[str, t.Any]) -> str:
    """``template.render(context)``, same result and same error handling, faster."""
    env = template.environment
    if env.is_async:
        return template.render(context)
    ctx = _new_template_context(template, context)
    try:
        return env.concat(template.root_render_func(ctx))  # type: ignore[attr-defined,no-any-return]
    except Exception:
        env.handle_exception()


def _render(app: App, template: Template, context: dict[str, t.Any]) -> str:
    app.update_template_context(context)
    if before_render_template.receivers:
        before_render_template.send(
            app, _async_wrapper=app.ensure_sync, template=template, context=context
        )
    rv = _render_template_obj(template, context)
    if template_rendered.receivers:
        template_rendered.send(
            app, _async_wrapper=app.ensure_sync, template=template, context=context
        )
    return rv


def render_template(
    template_name_or_list: str | Template | list[str | Template], **context: t.Any
) -> str:
    """Render a template from the template folders with the given context."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    template = app.jinja_env.get_or_select_template(template_name_or_list)
    return _render(app, template, context)


def render_template_string(source: str, **context: t.Any) -> str:
    """Render a template from a source string (autoescaped, as ``.html`` files are)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    template = _template_from_string(app.jinja_env, source)
    return _render(app, template, context)


def _stream(app: App, template: Template, context: dict[str, t.Any]) -> Iterator[str]:
    app.update_template_context(context)
    if before_render_template.receivers:
        before_render_template.send(
            app, _async_wrapper=app.ensure_sync, template=template, context=context
        )

    def generate() -> Iterator[str]:
        env = template.environment
        if env.is_async:
            yield from template.generate(context)
        else:
            try:
                yield from template.root_render_func(_new_template_context(template, context))  # type: ignore[attr-defined]
            except Exception:
                yield env.handle_exception()
        if template_rendered.receivers:
            template_rendered.send(
                app, _async_wrapper=app.ensure_sync, template=template, context=context
            )

    rv = generate()
    if _get_request_ctx(None) is not None:
        from .helpers import stream_with_context

        rv = stream_with_context(rv)
    return rv


def stream_template(
    template_name_or_list: str | Template | list[str | Template], **context: t.Any
) -> Iterator[str]:
    """Render a template piece by piece, as a streamed response body."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    template = app.jinja_env.get_or_select_template(template_name_or_list)
    return _stream(app, template, context)


def stream_template_string(source: str, **context: t.Any) -> Iterator[str]:
    """Stream a template from a source string."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    template = _template_from_string(app.jinja_env, source)
    return _stream(app, template, context)
