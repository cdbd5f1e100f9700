"""Output fields for :func:`erlen.rest.marshal`: Flask-RESTful's ``fields`` module.

Each field pulls its value from the object (``attribute=`` when the output name differs;
dotted paths and callables work) and formats it; ``None`` gives the field's ``default``.
"""

from __future__ import annotations

import typing as t
from calendar import timegm
from datetime import datetime
from decimal import ROUND_HALF_EVEN
from decimal import Decimal as MyDecimal
from email.utils import formatdate
from urllib.parse import urlparse, urlunparse

from ..globals import request
from ..helpers import url_for
from .marshal import marshal

__all__ = [
    "Arbitrary",
    "Boolean",
    "DateTime",
    "Fixed",
    "Float",
    "FormattedString",
    "Integer",
    "List",
    "MarshallingException",
    "Nested",
    "Price",
    "Raw",
    "String",
    "Url",
    "get_value",
    "to_marshallable_type",
]


class MarshallingException(Exception):
    """A value a field could not format; the message says why, without internals."""

    def __init__(self, underlying_exception: t.Any) -> None:
        super().__init__(str(underlying_exception))


def is_indexable_but_not_string(obj: t.Any) -> bool:
    return not hasattr(obj, "strip") and hasattr(obj, "__iter__")


def get_value(key: t.Any, obj: t.Any, default: t.Any = None) -> t.Any:
    """``obj[key]`` or ``obj.key``; ``"a.b"`` walks down, a callable key is called with ``obj``."""
    if isinstance(key, int):
        return _get_value_for_key(key, obj, default)
    if callable(key):
        return key(obj)
    for part in key.split("."):
        obj = _get_value_for_key(part, obj, default)
    return obj


def _get_value_for_key(key: t.Any, obj: t.Any, default: t.Any) -> t.Any:
    if is_indexable_but_not_string(obj):
        try:
            return obj[key]
        except (IndexError, TypeError, KeyError):
            pass
    return getattr(obj, key, default)


def to_marshallable_type(obj: t.Any) -> t.Any:
    """``obj`` as something indexable: itself, ``obj.__marshallable__()`` or its ``__dict__``."""
    if obj is None:
        return None
    if hasattr(obj, "__marshallable__"):
        return obj.__marshallable__()
    if hasattr(obj, "__getitem__"):
        return obj
    return dict(obj.__dict__)


class Raw:
    """A field that outputs the value as it is; the base of the others (override ``format``,
    or ``output`` for a value that is not read from the object)."""

    def __init__(self, default: t.Any = None, attribute: t.Any = None) -> None:
        self.attribute = attribute
        self.default = default

    def format(self, value: t.Any) -> t.Any:
        return value

    def output(self, key: t.Any, obj: t.Any) -> t.Any:
        value = get_value(key if self.attribute is None else self.attribute, obj)
        if value is None:
            return self.default
        return self.format(value)


class Nested(Raw):
    """A sub-object marshalled with its own fields; ``allow_null`` gives None for a missing
    one (else ``default``, else a dict of the nested fields' defaults)."""

    def __init__(self, nested: t.Mapping[str, t.Any], allow_null: bool = False, **kwargs: t.Any):
        self.nested = nested
        self.allow_null = allow_null
        super().__init__(**kwargs)

    def output(self, key: t.Any, obj: t.Any) -> t.Any:
        value = get_value(key if self.attribute is None else self.attribute, obj)
        if value is None:
            if self.allow_null:
                return None
            if self.default is not None:
                return self.default
        return marshal(value, self.nested)


class List(Raw):
    """A list whose items are formatted by one field (a class or an instance)."""

    def __init__(self, cls_or_instance: t.Any, **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        error = "The type of the list elements must be a subclass of erlen.rest.fields.Raw"
        if isinstance(cls_or_instance, type):
            if not issubclass(cls_or_instance, Raw):
                raise MarshallingException(error)
            self.container = cls_or_instance()
        else:
            if not isinstance(cls_or_instance, Raw):
                raise MarshallingException(error)
            self.container = cls_or_instance

    def format(self, value: t.Any) -> t.Any:
        if isinstance(value, set):
            value = list(value)
        container = self.container
        # items that are dicts (or carry the container's attribute) are read from themselves,
        # anything else by index from the list (Flask-RESTful's rule)
        by_item = not isinstance(container, Nested) and type(container) is not Raw
        return [
            container.output(
                idx,
                val
                if by_item
                and (
                    isinstance(val, dict)
                    or (container.attribute and hasattr(val, container.attribute))
                )
                else value,
            )
            for idx, val in enumerate(value)
        ]

    def output(self, key: t.Any, data: t.Any) -> t.Any:
        value = get_value(key if self.attribute is None else self.attribute, data)
        if is_indexable_but_not_string(value) and not isinstance(value, dict):
            return self.format(value)
        if value is None:
            return self.default
        return [marshal(value, self.container.nested)]  # type: ignore[attr-defined]


class String(Raw):
    """The value as ``str``."""

    def format(self, value: t.Any) -> str:
        try:
            return str(value)
        except ValueError as ve:
            raise MarshallingException(ve) from ve


class Integer(Raw):
    """The value as ``int`` (default 0)."""

    def __init__(self, default: t.Any = 0, **kwargs: t.Any) -> None:
        super().__init__(default=default, **kwargs)

    def format(self, value: t.Any) -> t.Any:
        try:
            if value is None:
                return self.default
            return int(value)
        except ValueError as ve:
            raise MarshallingException(ve) from ve


class Boolean(Raw):
    """The value's truth (empty collections are False)."""

    def format(self, value: t.Any) -> bool:
        return bool(value)


class FormattedString(Raw):
    """``str.format`` of a template with the object's values: ``FormattedString("Hi {name}")``."""

    def __init__(self, src_str: str) -> None:
        super().__init__()
        self.src_str = str(src_str)

    def output(self, key: t.Any, obj: t.Any) -> str:
        try:
            return self.src_str.format(**to_marshallable_type(obj))
        except (TypeError, IndexError) as error:
            raise MarshallingException(error) from error


class Url(Raw):
    """The URL of ``endpoint`` (default: the request's) built from the object's values;
    ``absolute`` adds scheme and host (``scheme`` overrides the scheme)."""

    def __init__(
        self,
        endpoint: str | None = None,
        absolute: bool = False,
        scheme: str | None = None,
        **kwargs: t.Any,
    ) -> None:
        super().__init__(**kwargs)
        self.endpoint = endpoint
        self.absolute = absolute
        self.scheme = scheme

    def output(self, key: t.Any, obj: t.Any) -> str:
        try:
            data = to_marshallable_type(obj)
            endpoint = self.endpoint if self.endpoint is not None else request.endpoint
            o = urlparse(url_for(endpoint, _external=self.absolute, **data))  # type: ignore[arg-type]
            if self.absolute:
                scheme = self.scheme if self.scheme is not None else o.scheme
                return urlunparse((scheme, o.netloc, o.path, "", "", ""))
            return urlunparse(("", "", o.path, "", "", ""))
        except TypeError as te:
            raise MarshallingException(te) from te


class Float(Raw):
    """The value as ``float``."""

    def format(self, value: t.Any) -> float:
        try:
            return float(value)
        except ValueError as ve:
            raise MarshallingException(ve) from ve


class Arbitrary(Raw):
    """A decimal of any precision, as a string (``"634271127864378216478362784632.23"``)."""

    def format(self, value: t.Any) -> str:
        return str(MyDecimal(value))


class DateTime(Raw):
    """A datetime as an RFC 822 (default) or ISO 8601 string (``dt_format="iso8601"``)."""

    def __init__(self, dt_format: str = "rfc822", **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        self.dt_format = dt_format

    def format(self, value: t.Any) -> str:
        try:
            if self.dt_format == "rfc822":
                return _rfc822(value)
            if self.dt_format == "iso8601":
                return _iso8601(value)
            raise MarshallingException(f"Unsupported date format {self.dt_format}")
        except AttributeError as ae:
            raise MarshallingException(ae) from ae


ZERO = MyDecimal()


class Fixed(Raw):
    """A decimal rounded (half-even) to ``decimals`` places, as a string."""

    def __init__(self, decimals: int = 5, **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        self.precision = MyDecimal("0." + "0" * (decimals - 1) + "1")

    def format(self, value: t.Any) -> str:
        dvalue = MyDecimal(value)
        if not dvalue.is_normal() and dvalue != ZERO:
            raise MarshallingException("Invalid Fixed precision number.")
        return str(dvalue.quantize(self.precision, rounding=ROUND_HALF_EVEN))


#: Flask-RESTful's alias of :class:`Fixed`.
Price = Fixed


def _rfc822(dt: datetime) -> str:
    """``Sat, 01 Jan 2011 00:00:00 -0000`` (in UTC)."""
    return formatdate(timegm(dt.utctimetuple()))


def _iso8601(dt: datetime) -> str:
    """``2012-01-01T00:00:00`` (``datetime.isoformat``)."""
    return dt.isoformat()
