"""What a view binds, read once from its signature: the parameters, their sources and types,
the body and the response type (:class:`Plan`, whose ``spec`` is the public ViewSpec)."""

from __future__ import annotations

import copy
import dataclasses
import datetime
import decimal
import enum
import inspect
import logging
import pathlib
import typing as t
import uuid
from collections.abc import Callable, Collection

from . import REQUIRED, Body, BodySpec, Form, Param, ParamSpec, ViewSpec
from .libs import is_model, strip_none

_SCALARS: frozenset[t.Any] = frozenset(
    {
        str,
        int,
        float,
        bool,
        bytes,
        decimal.Decimal,
        uuid.UUID,
        datetime.datetime,
        datetime.date,
        datetime.time,
        datetime.timedelta,
        pathlib.Path,
    }
)
_SEQUENCES: frozenset[t.Any] = frozenset({list, set, frozenset, tuple})
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@dataclasses.dataclass
class Bound:
    """One parameter bound from the request."""

    name: str
    alias: str
    location: str  # query, header, cookie, body, form
    annotation: t.Any  # what is validated (markers removed)
    default: t.Any
    required: bool
    many: bool  # a list-like value: every value of a repeated key
    plain_str: bool  # str (or list of str): taken as it is, no validation


@dataclasses.dataclass
class Plan:
    """Everything the runtime needs about one view; ``spec`` is what ``describe_view`` says."""

    spec: ViewSpec
    params: list[Bound]
    body: list[Bound]
    embed: bool  # the body is an object holding each body parameter under its name
    form_only: bool  # Form() parameters: the body must be a form
    response: t.Any  # the return annotation to validate the response as, or None
    skip_first: bool  # a method: the first parameter is ``self``


_log = logging.getLogger("erlen.binding")


def class_view_target(view_class: type, method: str | None) -> Callable[..., t.Any] | None:
    """The function of a class-based view that handles ``method`` (a MethodView's verb
    method, or a View's ``dispatch_request``)."""
    from ..views import MethodView

    if issubclass(view_class, MethodView):
        if method is None:
            return None
        found = getattr(view_class, method.lower(), None)
        if found is None and method.upper() == "HEAD":
            found = getattr(view_class, "get", None)
        return found
    return getattr(view_class, "dispatch_request", None)


def _resolve(annotation: t.Any, globalns: dict[str, t.Any]) -> t.Any:
    """A string annotation (``from __future__ import annotations``) evaluated; one that names
    what is not there at run time (a TYPE_CHECKING import) is ``inspect.Parameter.empty``."""
    if isinstance(annotation, str):
        try:
            return eval(annotation, globalns)  # noqa: S307 - the module's own annotation
        except Exception:  # noqa: BLE001 - unresolvable: the parameter is not bound
            return inspect.Parameter.empty
    return annotation


def _split_annotated(tp: t.Any) -> tuple[t.Any, Param | None]:
    """``Annotated[X, Query(), Field(gt=0)]`` → ``(Annotated[X, Field(gt=0)], Query())``."""
    if t.get_origin(tp) is not t.Annotated:
        return tp, None
    marker: Param | None = None
    rest = []
    for meta in tp.__metadata__:
        if isinstance(meta, type) and issubclass(meta, Param):
            meta = meta()
        if isinstance(meta, Param):
            marker = meta
        else:
            rest.append(meta)
    base = tp.__origin__
    if rest:
        base = t.Annotated[(base, *rest)]  # type: ignore[valid-type]
    return base, marker


def _core(tp: t.Any) -> t.Any:
    """``tp`` without Annotated and Optional around it."""
    while True:
        if t.get_origin(tp) is t.Annotated:
            tp = tp.__origin__
            continue
        inner, was_optional = strip_none(tp)
        if not was_optional:
            return tp
        tp = inner


def _is_scalar(tp: t.Any) -> bool:
    tp = _core(tp)
    if tp in _SCALARS:
        return True
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return True
    origin = t.get_origin(tp)
    if origin is t.Literal:
        return True
    if origin is t.Union:
        return all(_is_scalar(a) for a in t.get_args(tp))
    return False


def _many(tp: t.Any) -> tuple[bool, t.Any]:
    """Whether ``tp`` is list-like (of scalars), and its item type."""
    core = _core(tp)
    if core in _SEQUENCES:
        return True, str
    if t.get_origin(core) in _SEQUENCES:
        args = t.get_args(core)
        item = args[0] if args else str
        if _is_scalar(item):
            return True, item
    return False, None


def _is_plain_str(tp: t.Any) -> bool:
    if tp is str:
        return True
    inner, optional = strip_none(tp)
    if optional and inner is str:
        return True
    return t.get_origin(tp) is list and t.get_args(tp) in ((str,), ())


def _model_like(tp: t.Any) -> bool:
    core = _core(tp)
    if is_model(core):
        return True
    origin = t.get_origin(core)
    if origin in _SEQUENCES or origin is dict:
        return any(_model_like(a) for a in t.get_args(core))
    if origin is t.Union:
        return any(_model_like(a) for a in t.get_args(core))
    return False


def _header_alias(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("_"))


def analyse(func: Callable[..., t.Any], path_names: Collection[str] = ()) -> Plan | None:
    """The plan of ``func``, or None when it binds nothing and has no response model."""
    target = inspect.unwrap(func)
    globalns = getattr(target, "__globals__", {})
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    params: list[Bound] = []
    body: list[Bound] = []
    path_specs: list[ParamSpec] = []
    items = list(sig.parameters.values())
    skip_first = bool(items) and items[0].name in ("self", "cls")
    if skip_first:
        items = items[1:]
    for p in items:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.POSITIONAL_ONLY):
            continue
        annotation = _resolve(p.annotation, globalns)
        default = p.default
        marker: Param | None = None
        if isinstance(default, Param):
            marker, default = default, default.default
        if annotation is inspect.Parameter.empty:
            if isinstance(p.annotation, str) and default is p.empty and p.name not in path_names:
                # the view will miss this argument at every call: say so now, not per request
                _log.warning(
                    "%s: the annotation %r of parameter %r cannot be resolved in its module"
                    " (a class defined inside a function?); the parameter is not bound",
                    getattr(func, "__qualname__", func),
                    p.annotation,
                    p.name,
                )
            continue
        annotation, in_annotation = _split_annotated(annotation)
        marker = in_annotation or marker
        if marker is not None and marker.default is not REQUIRED and default is p.empty:
            default = marker.default
        required = default is p.empty or default is REQUIRED
        if required:
            default = REQUIRED
        if p.name in path_names:
            path_specs.append(ParamSpec(p.name, p.name, "path", annotation, None, True))
            continue
        if marker is not None:
            location = marker.location
        elif _model_like(annotation):
            location = "body"
        elif _is_scalar(annotation) or _many(annotation)[0]:
            location = "query"
        else:
            continue  # not a type binding knows: left as Flask leaves it
        alias = (marker.alias if marker is not None else None) or (
            _header_alias(p.name) if location == "header" else p.name
        )
        many = location in ("query", "header", "form") and _many(annotation)[0]
        bound = Bound(
            p.name,
            alias,
            location,
            annotation,
            default,
            required,
            many,
            _is_plain_str(annotation),
        )
        (body if location in ("body", "form") else params).append(bound)
    response = _resolve(sig.return_annotation, globalns)
    if response is inspect.Signature.empty or not _model_like(response):
        response = None
    if not params and not body and response is None:
        return None
    embed, form_only, body_spec = _body_shape(func, body)
    spec = ViewSpec(
        params=[
            *path_specs,
            *(
                ParamSpec(
                    b.name,
                    b.alias,
                    b.location,  # type: ignore[arg-type]
                    b.annotation,
                    None if b.required else b.default,
                    b.required,
                )
                for b in params
            ),
        ],
        body=body_spec,
        response=response,
    )
    return Plan(spec, params, body, embed, form_only, response, skip_first)


def _body_shape(func: t.Any, body: list[Bound]) -> tuple[bool, bool, BodySpec | None]:
    """Whether the body is embedded (an object of named parameters), form-only, and its spec."""
    if not body:
        return False, False, None
    forms = [b for b in body if b.location == "form"]
    if forms and len(forms) != len(body):
        raise TypeError(
            f"view {getattr(func, '__name__', func)!r} mixes Form() and JSON body parameters:"
            " a request has one body"
        )
    form_only = bool(forms)
    one = body[0]
    embed = len(body) > 1 or (not is_model(_core(one.annotation)) and form_only)
    embed = embed or any(_marker_embeds(func, b) for b in body)
    if embed:
        fields = [
            (b.alias, b.annotation)
            if b.required
            else (b.alias, b.annotation, _field_default(b.default))
            for b in sorted(body, key=lambda b: not b.required)
        ]
        name = f"Body_{getattr(func, '__name__', 'view')}"
        annotation: t.Any = dataclasses.make_dataclass(name, fields)
    else:
        annotation = one.annotation if one.required else t.Optional[one.annotation]  # noqa: UP045
    if form_only:
        media = _form_media_type(func, body)
    else:
        media = "application/json"
    return embed, form_only, BodySpec(annotation, media)


def _field_default(default: t.Any) -> t.Any:
    if isinstance(default, (list, dict, set)):
        return dataclasses.field(default_factory=lambda: copy.copy(default))
    return dataclasses.field(default=default)


def _markers(func: t.Any, name: str) -> list[Param]:
    target = inspect.unwrap(func)
    raw = inspect.signature(func).parameters[name]
    found: list[Param] = []
    if isinstance(raw.default, Param):
        found.append(raw.default)
    ann = _resolve(raw.annotation, getattr(target, "__globals__", {}))
    _, marker = _split_annotated(ann)
    if marker is not None:
        found.append(marker)
    return found


def _marker_embeds(func: t.Any, b: Bound) -> bool:
    return any(isinstance(m, Body) and m.embed for m in _markers(func, b.name))


def _form_media_type(func: t.Any, body: list[Bound]) -> str:
    for b in body:
        for m in _markers(func, b.name):
            if isinstance(m, Form) and m.media_type:
                return m.media_type
    return _FORM_TYPES[0]
