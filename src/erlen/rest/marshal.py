"""Marshalling: shape output data with a dict of fields (``marshal``, ``marshal_with``,
``marshal_with_field``), as Flask-RESTful does; see :mod:`erlen.rest.fields`."""

from __future__ import annotations

import typing as t
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps

from .utils import unpack

if t.TYPE_CHECKING:
    from .fields import Raw

__all__ = ["marshal", "marshal_with", "marshal_with_field"]

F = t.TypeVar("F", bound=Callable[..., t.Any])


def _field(field: t.Any) -> t.Any:
    return field() if isinstance(field, type) else field


def marshal(data: t.Any, fields: t.Mapping[str, t.Any], envelope: str | None = None) -> t.Any:
    """Only the keys of ``fields``, each formatted by its field, from ``data`` (a dict, an
    object, or a list/tuple of them); ``envelope`` wraps the result in ``{envelope: ...}``.
    A nested dict of fields marshals the same object into a sub-dict."""
    if isinstance(data, list | tuple):
        items: t.Any = [marshal(d, fields) for d in data]
    else:
        items = OrderedDict(
            (
                key,
                marshal(data, field)
                if isinstance(field, dict)
                else _field(field).output(key, data),
            )
            for key, field in fields.items()
        )
    return OrderedDict([(envelope, items)]) if envelope else items


class marshal_with:  # noqa: N801 - Flask-RESTful's public name
    """Decorator: marshal what the function returns (also ``(data, status, headers)``)."""

    def __init__(self, fields: t.Mapping[str, t.Any], envelope: str | None = None) -> None:
        self.fields = fields
        self.envelope = envelope

    def __call__(self, f: F) -> F:
        @wraps(f)
        def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
            resp = f(*args, **kwargs)
            if isinstance(resp, tuple):
                data, code, headers = unpack(resp)
                return marshal(data, self.fields, self.envelope), code, headers
            return marshal(resp, self.fields, self.envelope)

        return wrapper  # type: ignore[return-value]


class marshal_with_field:  # noqa: N801 - Flask-RESTful's public name
    """Decorator: format what the function returns with one field (``fields.List(...)``)."""

    def __init__(self, field: Raw | type[Raw]) -> None:
        self.field = _field(field)

    def __call__(self, f: F) -> F:
        @wraps(f)
        def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
            resp = f(*args, **kwargs)
            if isinstance(resp, tuple):
                data, code, headers = unpack(resp)
                return self.field.format(data), code, headers
            return self.field.format(resp)

        return wrapper  # type: ignore[return-value]
