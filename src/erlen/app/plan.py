"""The request plan: what an app's requests must run, resolved once when setup closes.

Flask resolves hooks on every request: it walks the request's blueprint chain and looks
each name up in five dicts. erlen does that once per endpoint, when the first request
arrives (registration is closed from then on, as in Flask), and keeps the result as flat
tuples. It also records which of Flask's overridable request-path methods an app replaced
(on its class or on the instance), so that a step with nothing to do is skipped only when
the app did not replace it. A request then runs only the steps its endpoint's plan holds.

The plan is dropped (and built again on the next request) when a request-path method or a
hook registry is assigned on the app (``App.__setattr__``).
"""

from __future__ import annotations

import typing as t
from collections.abc import Callable
from typing import NamedTuple

from ..routing import Map
from ..wrappers import Response

if t.TYPE_CHECKING:
    from .app import App

Hook = Callable[..., t.Any]

#: Request-path methods whose default has nothing to do when no hook is registered: the
#: plan skips them unless the app replaced them.
SKIPPABLE_METHODS = (
    "preprocess_request",
    "process_response",
    "do_teardown_request",
    "do_teardown_appcontext",
)
#: Attributes whose assignment on the app invalidates its plan.
PLAN_INPUTS = frozenset(
    {
        *SKIPPABLE_METHODS,
        "app_context",
        "before_request_funcs",
        "after_request_funcs",
        "teardown_request_funcs",
        "url_value_preprocessors",
        "error_handler_spec",
        "create_url_adapter",
        "full_dispatch_request",
        "finalize_request",
        "make_response",
        "response_class",
        "url_map",
        "config",
        "subdomain_matching",
    }
)


class EndpointHooks(NamedTuple):
    """The hooks one endpoint's requests run, in call order, flattened over its blueprints."""

    #: The endpoint's blueprint and its parents, innermost first (``request.blueprints``).
    blueprints: tuple[str, ...]
    url_value_preprocessors: tuple[Hook, ...]
    before_request: tuple[Hook, ...]
    #: After-request hooks: innermost blueprint first, each registry's last hook first.
    after_request: tuple[Hook, ...]
    teardown_request: tuple[Hook, ...]
    #: Whether ``preprocess_request`` has anything to call.
    runs_before: bool
    #: Whether a request may get a plain answer (no ``Response`` object; see
    #: ``App.handle_request``): the plan allows them and no after-request hook would see it.
    answers_plain: bool


def _default(cls: type, name: str) -> t.Any:
    """erlen's own definition of the method ``name`` in ``cls``'s bases (the app core's)."""
    for klass in cls.__mro__:
        if klass.__module__.startswith(_CORE) and name in klass.__dict__:
            return klass.__dict__[name]
    raise AttributeError(name)


_CORE = __name__.rpartition(".")[0] + "."  # "erlen.app."


def blueprint_chain(endpoint: str | None) -> tuple[str, ...]:
    """``"a.b.view"`` → ``("a.b", "a")``: the blueprints an endpoint belongs to."""
    if endpoint is None or "." not in endpoint:
        return ()
    name = endpoint.rpartition(".")[0]
    chain = [name]
    while "." in name:
        name = name.rpartition(".")[0]
        chain.append(name)
    return tuple(chain)


def _collect(registry: dict[t.Any, list[Hook]], names: tuple[t.Any, ...]) -> tuple[Hook, ...]:
    out: list[Hook] = []
    for name in names:
        funcs = registry.get(name)
        if funcs:
            out.extend(funcs)
    return tuple(out)


def _collect_reversed(
    registry: dict[t.Any, list[Hook]], names: tuple[t.Any, ...]
) -> tuple[Hook, ...]:
    out: list[Hook] = []
    for name in names:
        funcs = registry.get(name)
        if funcs:
            out.extend(reversed(funcs))
    return tuple(out)


class RequestPlan:
    """One app's plan (see the module docstring). Built by ``App.request_plan``."""

    __slots__ = (
        "by_endpoint",
        "error_handlers",
        "_registries",
        "calls_preprocess",
        "calls_process_response",
        "calls_teardown_request",
        "calls_teardown_appcontext",
        "implied_app_context",
        "unbound_matching",
        "url_map",
        "config",
        "calls_full_dispatch",
        "plain_answers",
        "domain_part",
    )

    def __init__(self, app: App) -> None:
        # the registries, not the app: a plan referring to its app would be a cycle
        self._registries = (
            app.url_value_preprocessors,
            app.before_request_funcs,
            app.after_request_funcs,
            app.teardown_request_funcs,
        )

        def replaced(name: str) -> bool:
            # Replaced on the class or the instance unless what ``app.name`` gives is the
            # default method bound to the app. (Not ``app.__dict__``: reading it makes
            # CPython 3.11 turn the instance's attribute storage into a slower dict.)
            return getattr(getattr(app, name), "__func__", None) is not _default(type(app), name)

        #: Whether the step is called whatever the hooks (the app replaced its method).
        self.calls_preprocess = replaced("preprocess_request")
        self.calls_process_response = replaced("process_response")
        self.calls_teardown_request = replaced("do_teardown_request")
        self.calls_teardown_appcontext = replaced("do_teardown_appcontext")
        #: A request may run in an implied app context (created on first use) unless the
        #: app replaced ``app_context``.
        self.implied_app_context = not replaced("app_context")
        self.calls_full_dispatch = replaced("full_dispatch_request")
        #: Requests whose hooks and signals cannot see the response object may be answered
        #: without one: the app builds and sends responses as erlen does.
        self.plain_answers = app.response_class is Response and not (
            replaced("finalize_request") or replaced("make_response") or replaced("process_response")
        )
        url_map = app.url_map
        #: Requests may be matched without binding a ``MapAdapter`` (``Map.find``): the app
        #: binds its map as erlen does, in one domain (no host or subdomain matching).
        self.unbound_matching = (
            not replaced("create_url_adapter")
            and type(url_map).bind_to_environ is Map.bind_to_environ
            and not url_map.host_matching
            and not app.subdomain_matching
        )
        #: The app's map and config (the plan is dropped when ``url_map`` is assigned).
        self.url_map = url_map
        self.config = app.config
        #: The domain part those requests match in.
        self.domain_part: str = url_map.default_subdomain or ""
        #: ``(exception class, blueprint chain)`` -> its error handler or None, resolved on
        #: first use (``App._find_error_handler``).
        self.error_handlers: dict[tuple[type, tuple[str, ...]], Hook | None] = {}
        #: The hooks of each endpoint seen so far (``hooks`` fills it).
        self.by_endpoint: dict[str | None, EndpointHooks] = {}

    def _resolve(self, endpoint: str | None) -> EndpointHooks:
        url_value_preprocessors, before, after, teardown = self._registries
        chain = blueprint_chain(endpoint)
        # before hooks and URL preprocessors: the app's first, then outer to inner blueprint;
        # after and teardown hooks: inner to outer, then the app's (Flask's order)
        outer_first = (None, *reversed(chain))
        inner_first = (*chain, None)
        preprocessors = _collect(url_value_preprocessors, outer_first)
        after_funcs = _collect_reversed(after, inner_first)
        before_funcs = _collect(before, outer_first)
        hooks = EndpointHooks(
            chain,
            preprocessors,
            before_funcs,
            after_funcs,
            _collect_reversed(teardown, inner_first),
            bool(preprocessors or before_funcs),
            self.plain_answers and not after_funcs,
        )
        self.by_endpoint[endpoint] = hooks
        return hooks

    def hooks(self, endpoint: str | None) -> EndpointHooks:
        """The hooks of ``endpoint`` (None: a request that matched no rule)."""
        found = self.by_endpoint.get(endpoint)
        if found is None:
            found = self._resolve(endpoint)
        return found
