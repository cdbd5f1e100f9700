"""Typed request binding and validation on Flask's routing (FastAPI-style).

A view parameter that is not a URL variable is bound from the request by its annotation:
a pydantic model, dataclass or msgspec Struct from the JSON body (or the form of a form
post), scalars (``q: int = 0``, ``tags: list[str] = []``) from the query string, and
``Annotated[..., Header()]`` / ``Cookie()`` / ``Query(alias=...)`` / ``Form()`` / ``Body()``
from where the marker says. A model return annotation validates and serializes the response.
Invalid input is a 422 with FastAPI's ``{"detail": [...]}`` body.

The analysis runs once, when the view is registered (:func:`bind_view`, called by
``add_url_rule``); a view that asks for no binding is registered unchanged. This module
imports neither pydantic nor msgspec: only the views whose annotations use them do
(decision 024 says which library validates what, and why).
"""

from __future__ import annotations

import typing as t
from collections.abc import Callable, Collection
from dataclasses import dataclass

from .errors import RequestValidationError

__all__ = [
    "Body",
    "BodySpec",
    "Cookie",
    "Form",
    "Header",
    "ParamSpec",
    "Query",
    "RequestValidationError",
    "ViewSpec",
    "bind",
    "bind_view",
    "describe_view",
    "json_schema",
]


class _Required:
    """The default of a marker without one: the parameter's own default (or none) applies."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: t.Any = _Required()


class Param:
    """Base of the markers: where a parameter comes from, under which name.

    Use in ``Annotated[int, Query(alias="page-size")]`` or as the default
    (``q: int = Query(0)``, FastAPI's older spelling).
    """

    location: t.ClassVar[str] = ""
    __slots__ = ("alias", "default", "description", "embed", "media_type")

    def __init__(
        self,
        default: t.Any = REQUIRED,
        *,
        alias: str | None = None,
        description: str | None = None,
        embed: bool = False,
        media_type: str | None = None,
    ) -> None:
        self.default = default
        self.alias = alias
        self.description = description
        self.embed = embed
        self.media_type = media_type

    def __repr__(self) -> str:
        return f"{type(self).__name__}(alias={self.alias!r})"


class Query(Param):
    """From the query string (lists from repeated keys)."""

    location = "query"


class Header(Param):
    """From a request header; ``user_agent`` is looked up as ``User-Agent``."""

    location = "header"


class Cookie(Param):
    """From a request cookie."""

    location = "cookie"


class Body(Param):
    """From the JSON body; ``embed=True`` (or several body parameters) reads the value
    under the parameter's name in a JSON object."""

    location = "body"


class Form(Param):
    """From the form of an urlencoded or multipart body."""

    location = "form"


@dataclass
class ParamSpec:
    """One parameter outside the body (``default`` is None when ``required``)."""

    name: str
    alias: str
    location: t.Literal["query", "header", "cookie", "path"]
    annotation: t.Any
    default: t.Any
    required: bool


@dataclass
class BodySpec:
    """The request body a view reads: its type and media type."""

    annotation: t.Any
    media_type: str


@dataclass
class ViewSpec:
    """What a view binds (parameters, body) and the type its response is validated as."""

    params: list[ParamSpec]
    body: BodySpec | None
    response: type | None


def _needs_look(func: t.Any) -> bool:
    """Cheap test: could ``func`` (or what it wraps) ask for binding at all?"""
    seen = 0
    while func is not None and seen < 32:
        ann = getattr(func, "__annotations__", None)
        if ann:
            return True
        func = getattr(func, "__wrapped__", None)
        seen += 1
    return False


def describe_view(
    func: Callable[..., t.Any], method: str | None = None, path_names: Collection[str] = ()
) -> ViewSpec | None:
    """What ``func`` binds, or None when it asks for no binding.

    ``func`` is a registered view function, a view before registration, or a ``MethodView``
    class's method; for a class-based view's registered function (``as_view``), ``method``
    names the verb (``"POST"``). URL variables of the rules it was registered on are
    ``path`` parameters; before registration name them in ``path_names``.
    """
    view_class = getattr(func, "view_class", None)
    if view_class is not None:
        from .analysis import class_view_target

        target = class_view_target(view_class, method)
        if target is None:
            return None
        func = target
    spec = getattr(func, "__erlen_view_spec__", None)
    if spec is not None and getattr(func, "__erlen_binder_of__", None) is not None:
        return spec  # type: ignore[no-any-return]
    if not _needs_look(func):
        return None
    from .analysis import analyse
    from .runtime import path_names_of

    plan = analyse(func, path_names_of(func) | set(path_names))
    return None if plan is None else plan.spec


def bind_view(func: t.Any, path_names: Collection[str] = ()) -> t.Any:
    """The view to register for ``func``: ``func`` itself when it asks for no binding, else a
    wrapper that binds and validates (the same wrapper each time ``func`` is registered).

    For a class-based view (``as_view``), its verb methods are wrapped on the class instead.
    ``path_names`` are the URL variables of the rule it is registered on.
    """
    view_class = getattr(func, "view_class", None)
    if view_class is not None:
        from .runtime import bind_class_view

        bind_class_view(view_class, path_names)
        return func
    if not _needs_look(func):
        return func
    from .runtime import bind_function

    return bind_function(func, path_names)


def bind(func: t.Any) -> t.Any:
    """Decorator: bind ``func`` here, under the decorators above it. Registration binds a
    typed view outside every decorator (a ``login_required`` above it runs after validation);
    with ``@bind`` as the innermost decorator they run first, then the binding."""
    return bind_view(func)


def json_schema(
    tp: t.Any, ref_template: str = "#/components/schemas/{model}"
) -> tuple[dict[str, t.Any], dict[str, dict[str, t.Any]]]:
    """The JSON schema of ``tp`` and the named component schemas it references (for
    pydantic models, dataclasses, msgspec Structs, scalars, lists, Optional)."""
    from .schema import json_schema as _json_schema

    return _json_schema(tp, ref_template)
