"""URL converters: turn one matched piece of a path into a Python value and back.

A converter's ``regex`` is spliced into the rule's compiled pattern at startup, so a request
costs one precompiled match plus a ``to_python`` call per variable.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote as _quote

if TYPE_CHECKING:
    from .map import Map

__all__ = [
    "DEFAULT_CONVERTERS",
    "AnyConverter",
    "BaseConverter",
    "FloatConverter",
    "IntegerConverter",
    "NumberConverter",
    "PathConverter",
    "UUIDConverter",
    "UnicodeConverter",
    "ValidationError",
]

# Characters left unescaped in a path segment: RFC 3986 sub-delims plus ':' and '@'.
_SEGMENT_SAFE = "!$&'()*+,:;=@"
_PATH_SAFE = _SEGMENT_SAFE + "/"


class ValidationError(ValueError):
    """Raised by ``to_python`` to say "this rule does not match": the matcher tries the next."""


def _url_quote(value: str, safe: str = _SEGMENT_SAFE) -> str:
    """Percent-encode a value for a path segment (non-ASCII as UTF-8)."""
    return _quote(value, safe=safe)


class BaseConverter:
    """Base of all converters; subclass and set ``regex`` (no capturing groups) and ``weight``.

    ``part_isolating`` says the regex never spans a ``/``; it is computed from ``regex`` for
    subclasses that do not set it, as Werkzeug does.
    """

    regex: ClassVar[str] = "[^/]+"
    weight: ClassVar[int] = 100
    part_isolating: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "regex" in cls.__dict__ and "part_isolating" not in cls.__dict__:
            cls.part_isolating = "/" not in cls.regex

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        self.map = map

    def to_python(self, value: str) -> Any:
        """Convert the matched string; raise ``ValidationError`` to reject the match."""
        return value

    def to_url(self, value: Any) -> str:
        """Convert a value to its URL-quoted form for ``build``."""
        return _url_quote(str(value))


class UnicodeConverter(BaseConverter):
    """The default converter: one path segment, optionally length-limited."""

    def __init__(
        self,
        map: Map,
        minlength: int = 1,
        maxlength: int | None = None,
        length: int | None = None,
    ) -> None:
        super().__init__(map)
        if length is not None:
            spec = f"{{{int(length)}}}"
        else:
            spec = f"{{{int(minlength)},{'' if maxlength is None else int(maxlength)}}}"
        self.regex = f"[^/]{spec}"  # type: ignore[misc]


class AnyConverter(BaseConverter):
    """Matches exactly one of the given items: ``<any(about, help):page>``."""

    def __init__(self, map: Map, *items: str) -> None:
        super().__init__(map)
        if not items:
            raise ValueError("the 'any' converter needs at least one item")
        self.items = {str(i) for i in items}
        self.regex = "(?:{})".format("|".join(re.escape(str(i)) for i in items))  # type: ignore[misc]

    def to_url(self, value: Any) -> str:
        if str(value) not in self.items:
            valid = ", ".join(f"'{i}'" for i in sorted(self.items))
            raise ValueError(f"'{value}' is not one of {valid}")
        return super().to_url(value)


class PathConverter(BaseConverter):
    """Like the default converter but also matches slashes; tried after segment converters."""

    regex = "[^/].*?"
    weight = 200
    part_isolating = False

    def to_url(self, value: Any) -> str:
        return _url_quote(str(value), _PATH_SAFE)


class NumberConverter(BaseConverter):
    """Shared logic of the int and float converters (bounds, fixed digits, sign)."""

    weight = 50
    num_convert: ClassVar[Any] = int
    signed_regex: ClassVar[str] = r"-?\d+"

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: float | None = None,
        max: float | None = None,
        signed: bool = False,
    ) -> None:
        super().__init__(map)
        if signed:
            self.regex = self.signed_regex  # type: ignore[misc]
        self.fixed_digits = fixed_digits
        self.min = min
        self.max = max
        self.signed = signed

    def to_python(self, value: str) -> Any:
        if self.fixed_digits and len(value) != self.fixed_digits:
            raise ValidationError()
        try:
            result = self.num_convert(value)
        except ValueError:  # e.g. more digits than int() accepts
            raise ValidationError()
        if (self.min is not None and result < self.min) or (
            self.max is not None and result > self.max
        ):
            raise ValidationError()
        return result

    def _builtin_to_python(self) -> Any:
        """``int``/``float`` itself when ``to_python`` would only call it (no limits, not
        overridden): the matcher then converts without a Python-level call. Its ValueError
        (e.g. more digits than ``int`` accepts) still means "no match"."""
        if (
            type(self).to_python is NumberConverter.to_python
            and not self.fixed_digits
            and self.min is None
            and self.max is None
        ):
            return self.num_convert
        return None

    def to_url(self, value: Any) -> str:
        text = str(self.num_convert(value))
        if self.fixed_digits:
            text = text.zfill(self.fixed_digits)
        return text


class IntegerConverter(NumberConverter):
    """``<int:x>``: digits only (``signed=True`` allows a minus), converted with ``int``."""

    regex = r"\d+"


class FloatConverter(NumberConverter):
    """``<float:x>``: ``1.5`` style decimals (a dot is required), converted with ``float``."""

    regex = r"\d+\.\d+"
    signed_regex = r"-?\d+\.\d+"
    num_convert = float

    def __init__(
        self,
        map: Map,
        min: float | None = None,
        max: float | None = None,
        signed: bool = False,
    ) -> None:
        super().__init__(map, min=min, max=max, signed=signed)


class UUIDConverter(BaseConverter):
    """``<uuid:x>``: a canonical hyphenated UUID, converted to ``uuid.UUID``."""

    regex = r"[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}"

    def to_python(self, value: str) -> uuid.UUID:
        return uuid.UUID(value)

    def to_url(self, value: Any) -> str:
        return str(value)


DEFAULT_CONVERTERS: dict[str, type[BaseConverter]] = {
    "default": UnicodeConverter,
    "string": UnicodeConverter,
    "any": AnyConverter,
    "path": PathConverter,
    "int": IntegerConverter,
    "float": FloatConverter,
    "uuid": UUIDConverter,
}
