"""``Accept*`` header values with content negotiation (``best_match``, ``quality``).

Items are ``(value, quality)`` pairs ordered most specific first, then by quality, the
order Werkzeug uses, so ``best_match`` and iteration give the same answers as in Flask.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

__all__ = ["Accept", "MIMEAccept", "LanguageAccept", "CharsetAccept"]

_locale_delim_re = re.compile(r"[_-]")


class Accept(tuple):  # type: ignore[type-arg]
    """An immutable list of ``(value, quality)`` pairs; ``accept["x"]`` is x's quality."""

    provided: bool

    def __new__(cls, values: Iterable[tuple[str, float]] | None = ()) -> Accept:
        if values is None:
            obj = super().__new__(cls, ())
            obj.provided = False
            return obj
        if isinstance(values, Accept):
            obj = super().__new__(cls, values)
            obj.provided = values.provided
            return obj
        items = sorted(values, key=lambda x: (cls._specificity(x[0]), x[1]), reverse=True)
        obj = super().__new__(cls, items)
        obj.provided = True
        return obj

    @staticmethod
    def _specificity(value: str) -> tuple[bool, ...]:
        return (value != "*",)

    def _value_matches(self, value: str, item: str) -> bool:
        return item == "*" or item.lower() == value.lower()

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return self.quality(key)
        return tuple.__getitem__(self, key)

    def quality(self, key: str) -> float:
        """The quality the client gives ``key`` (0 if not acceptable)."""
        for item, quality in self:
            if self._value_matches(key, item):
                return quality
        return 0

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, str):
            return False
        return any(self._value_matches(value, item) for item, _q in self)

    def __repr__(self) -> str:
        pairs = ", ".join(f"({x!r}, {y})" for x, y in self)
        return f"{type(self).__name__}([{pairs}])"

    def index(self, key: Any, *args: Any) -> int:  # type: ignore[override]
        """Position of the first item matching ``key`` (ValueError if none)."""
        if isinstance(key, str):
            for idx, (item, _q) in enumerate(self):
                if self._value_matches(key, item):
                    return idx
            raise ValueError(key)
        return tuple.index(self, key, *args)

    def find(self, key: Any) -> int:
        """Like :meth:`index` but -1 if nothing matches."""
        try:
            return self.index(key)
        except ValueError:
            return -1

    def values(self) -> Iterator[str]:
        """The values, best first."""
        for item in self:
            yield item[0]

    def to_header(self) -> str:
        """Serialise back to a header value."""
        out = []
        for value, quality in self:
            if quality != 1:
                value = f"{value};q={quality}"
            out.append(value)
        return ",".join(out)

    def __str__(self) -> str:
        return self.to_header()

    def best_match(self, matches: Iterable[str], default: str | None = None) -> str | None:
        """The server value the client prefers.

        Each server value gets the quality of the most specific client item matching it;
        the highest quality wins, then the more specific client item, then the earlier
        entry of ``matches``.
        """
        result = default
        best_quality: float = 0
        best_specificity: tuple[bool, ...] = ()
        for server_item in matches:
            for client_item, quality in self:
                if not self._value_matches(server_item, client_item):
                    continue
                if quality > 0:
                    specificity = self._specificity(client_item)
                    if quality > best_quality or (
                        quality == best_quality and specificity > best_specificity
                    ):
                        best_quality = quality
                        best_specificity = specificity
                        result = server_item
                break
        return result

    @property
    def best(self) -> str | None:
        """The client's most preferred value."""
        if self:
            return self[0][0]  # type: ignore[no-any-return]
        return None


@lru_cache(maxsize=512)
def _split_mime(value: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    from erlen.http.headerparse import parse_options_header

    main, params = parse_options_header(value)
    type_, _, sub = main.lower().partition("/")
    lowered = tuple(sorted((k, v.lower()) for k, v in params.items()))
    return type_.strip(), sub.strip(), lowered


class MIMEAccept(Accept):
    """``Accept``: media ranges with ``*/*`` and ``type/*`` wildcards and parameters."""

    @staticmethod
    def _specificity(value: str) -> tuple[bool, ...]:
        type_, _, rest = value.partition("/")
        sub, _, params = rest.partition(";")
        spec: tuple[bool, ...] = (type_.strip() != "*", sub.strip() != "*")
        if params.strip():
            spec += (True,) * len([p for p in params.split(";") if p.strip()])
        return spec

    def _value_matches(self, value: str, item: str) -> bool:
        if "/" not in value and value != "*":
            return False
        v_type, v_sub, v_params = _split_mime(value)
        i_type, i_sub, i_params = _split_mime(item)
        if i_type == "*" and i_sub in ("*", ""):
            return True
        if i_type == "*" and i_sub != "*":
            return False
        if v_type == "*" and v_sub == "*":
            return True
        if i_type != v_type:
            return False
        if i_sub != "*" and v_sub != "*" and i_sub != v_sub:
            return False
        return not i_params or i_params == v_params

    @property
    def accept_html(self) -> bool:
        """True if the client accepts HTML."""
        return "text/html" in self or self.accept_xhtml

    @property
    def accept_xhtml(self) -> bool:
        """True if the client accepts XHTML."""
        return "application/xhtml+xml" in self or "application/xml" in self

    @property
    def accept_json(self) -> bool:
        """True if the client accepts JSON."""
        return "application/json" in self


def _normalize_lang(value: str) -> list[str]:
    return _locale_delim_re.split(value.lower())


class LanguageAccept(Accept):
    """``Accept-Language``: ``en-US`` and ``en_US`` are equal; falls back to primary tags."""

    def _value_matches(self, value: str, item: str) -> bool:
        return item == "*" or _normalize_lang(value) == _normalize_lang(item)

    def best_match(self, matches: Iterable[str], default: str | None = None) -> str | None:
        """Exact tags first; then client ``en-US`` may match server ``en`` and vice versa."""
        matches = list(matches)
        result = super().best_match(matches)
        if result is not None:
            return result
        fallback = Accept([(_locale_delim_re.split(item, 1)[0], q) for item, q in self])
        result = fallback.best_match(matches)
        if result is not None:
            return result
        primaries = [_locale_delim_re.split(m, 1)[0] for m in matches]
        result = super().best_match(primaries)
        if result is not None:
            return next(m for m in matches if m.startswith(result))
        return default


class CharsetAccept(Accept):
    """``Accept-Charset``: codec aliases compare equal (``utf8`` == ``UTF-8``)."""

    def _value_matches(self, value: str, item: str) -> bool:
        def norm(name: str) -> str:
            try:
                return codecs.lookup(name).name
            except LookupError:
                return name.lower()

        return item == "*" or norm(value) == norm(item)
