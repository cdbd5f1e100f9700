"""Conditional and partial requests: ETags, ``Range``, ``Content-Range``, ``If-Range``."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from hashlib import sha1
from typing import Any

from erlen.http.dates import http_date, parse_date

__all__ = [
    "ETags",
    "quote_etag",
    "unquote_etag",
    "parse_etags",
    "generate_etag",
    "Range",
    "ContentRange",
    "IfRange",
    "parse_range_header",
    "parse_content_range_header",
    "parse_if_range_header",
]

_ETAG_RE = re.compile(r'([Ww]/)?(?:"([^"]*)"|([^",\s]+))')


def quote_etag(etag: str, weak: bool = False) -> str:
    """Quote an entity tag (``abc`` -> ``"abc"``, weak: ``W/"abc"``)."""
    if '"' in etag:
        raise ValueError("invalid etag")
    etag = f'"{etag}"'
    return "W/" + etag if weak else etag


def unquote_etag(etag: str | None) -> tuple[str, bool] | tuple[None, None]:
    """Split a quoted entity tag into ``(tag, is_weak)``; ``(None, None)`` if empty."""
    if not etag:
        return None, None
    etag = etag.strip()
    weak = False
    if etag[:2] in ("W/", "w/"):
        weak = True
        etag = etag[2:]
    if len(etag) >= 2 and etag[0] == etag[-1] == '"':
        etag = etag[1:-1]
    return etag, weak


def generate_etag(data: bytes) -> str:
    """A strong ETag for a body (SHA-1 hex digest, as Werkzeug generates)."""
    return sha1(data, usedforsecurity=False).hexdigest()


class ETags:
    """A set of entity tags from ``If-Match`` / ``If-None-Match`` (strong, weak, ``*``)."""

    __slots__ = ("_strong", "_weak", "star_tag")

    def __init__(
        self,
        strong_etags: Iterable[str] | None = None,
        weak_etags: Iterable[str] | None = None,
        star_tag: bool = False,
    ) -> None:
        self._strong = frozenset(strong_etags or ())
        self._weak = frozenset(weak_etags or ())
        self.star_tag = star_tag

    def as_set(self, include_weak: bool = False) -> set[str]:
        """The tags as a set (strong only unless ``include_weak``)."""
        rv = set(self._strong)
        if include_weak:
            rv.update(self._weak)
        return rv

    def is_weak(self, etag: str) -> bool:
        return etag in self._weak

    def is_strong(self, etag: str) -> bool:
        return etag in self._strong

    def contains_weak(self, etag: str) -> bool:
        """Weak comparison: strong or weak tags match."""
        return self.is_weak(etag) or self.contains(etag)

    def contains(self, etag: str) -> bool:
        """Strong comparison (``*`` matches everything)."""
        if self.star_tag:
            return True
        return self.is_strong(etag)

    def contains_raw(self, etag: str) -> bool:
        """Like :meth:`contains` for a quoted tag; a ``W/`` tag uses weak comparison."""
        tag, weak = unquote_etag(etag)
        if tag is None:
            return False
        if weak:
            return self.contains_weak(tag)
        return self.contains(tag)

    def to_header(self) -> str:
        if self.star_tag:
            return "*"
        return ", ".join(
            [f'"{x}"' for x in sorted(self._strong)] + [f'W/"{x}"' for x in sorted(self._weak)]
        )

    def __call__(
        self, etag: str | None = None, data: bytes | None = None, include_weak: bool = False
    ) -> bool:
        if etag is None:
            if data is None:
                raise TypeError("'data' is required when 'etag' is not given.")
            etag = generate_etag(data)
        if include_weak and etag in self._weak:
            return True
        return etag in self._strong

    def __bool__(self) -> bool:
        return bool(self.star_tag or self._strong or self._weak)

    def __str__(self) -> str:
        return self.to_header()

    def __len__(self) -> int:
        return len(self._strong)

    def __iter__(self) -> Iterator[str]:
        return iter(self._strong)

    def __contains__(self, etag: object) -> bool:
        return isinstance(etag, str) and self.contains(etag)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {str(self)!r}>"


def parse_etags(value: str | None) -> ETags:
    """Parse an ``If-Match`` / ``If-None-Match`` header."""
    if not value:
        return ETags()
    strong: list[str] = []
    weak: list[str] = []
    for m in _ETAG_RE.finditer(value):
        is_weak, quoted, raw = m.groups()
        tag = quoted if quoted is not None else raw
        if raw == "*":
            return ETags(star_tag=True)
        (weak if is_weak else strong).append(tag)
    return ETags(strong, weak)


class Range:
    """A parsed ``Range`` header: ``units`` and ``(start, stop)`` pairs, stop exclusive,
    ``stop`` None for open ranges, negative ``start`` for suffix ranges."""

    __slots__ = ("units", "ranges")

    def __init__(self, units: str, ranges: list[tuple[int, int | None]]) -> None:
        self.units = units
        self.ranges = ranges

    def range_for_length(self, length: int | None) -> tuple[int, int] | None:
        """The single ``(start, stop)`` satisfiable for a body of ``length``, else None."""
        if self.units != "bytes" or length is None or len(self.ranges) != 1:
            return None
        start, end = self.ranges[0]
        if end is None:
            end = length
            if start < 0:
                start += length
                start = max(start, 0)
        if 0 <= start < length:
            return start, min(end, length)
        return None

    def make_content_range(self, length: int | None) -> ContentRange | None:
        rng = self.range_for_length(length)
        if rng is not None:
            return ContentRange(self.units, rng[0], rng[1], length)
        return None

    def to_header(self) -> str:
        parts = []
        for begin, end in self.ranges:
            if end is None:
                parts.append(f"{begin}-" if begin >= 0 else str(begin))
            else:
                parts.append(f"{begin}-{end - 1}")
        return f"{self.units}={','.join(parts)}"

    def to_content_range_header(self, length: int | None) -> str | None:
        rng = self.range_for_length(length)
        if rng is not None:
            return f"{self.units} {rng[0]}-{rng[1] - 1}/{length}"
        return None

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {str(self)!r}>"


def parse_range_header(value: str | None, make_inclusive: bool = True) -> Range | None:
    """Parse ``bytes=0-499,-500,9500-``; None if malformed or unsatisfiable in form."""
    if not value or "=" not in value:
        return None
    units, _, spec = value.partition("=")
    units = units.strip().lower()
    if not units:
        return None
    ranges: list[tuple[int, int | None]] = []
    last_end = 0
    for item in spec.split(","):
        item = item.strip()
        begin_s, sep, end_s = item.partition("-")
        if not sep:
            return None
        begin_s, end_s = begin_s.strip(), end_s.strip()
        if not begin_s:
            if last_end < 0 or not end_s.isdigit():
                return None
            ranges.append((-int(end_s), None))
            last_end = -1
            continue
        if not begin_s.isdigit() or last_end < 0:
            return None
        begin = int(begin_s)
        if begin < last_end:
            return None
        if end_s:
            if not end_s.isdigit():
                return None
            end = int(end_s) + 1
            if begin >= end:
                return None
            ranges.append((begin, end))
            last_end = end
        else:
            ranges.append((begin, None))
            last_end = -1
    return Range(units, ranges) if ranges else None


class ContentRange:
    """A ``Content-Range`` value: ``units start-(stop-1)/length`` (stop exclusive)."""

    __slots__ = ("units", "start", "stop", "length", "on_update")

    def __init__(
        self,
        units: str | None,
        start: int | None,
        stop: int | None,
        length: int | None = None,
        on_update: Callable[[ContentRange], None] | None = None,
    ) -> None:
        self.units = units
        self.start = start
        self.stop = stop
        self.length = length
        self.on_update = on_update

    def set(
        self, start: int | None, stop: int | None, length: int | None = None, units: str = "bytes"
    ) -> None:
        self.units, self.start, self.stop, self.length = units, start, stop, length
        if self.on_update is not None:
            self.on_update(self)

    def unset(self) -> None:
        self.set(None, None, units=None)  # type: ignore[arg-type]

    def to_header(self) -> str:
        if self.units is None:
            return ""
        length = "*" if self.length is None else str(self.length)
        if self.start is None or self.stop is None:
            return f"{self.units} */{length}"
        return f"{self.units} {self.start}-{self.stop - 1}/{length}"

    def __bool__(self) -> bool:
        return self.units is not None

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {str(self)!r}>"


def parse_content_range_header(value: str | None) -> ContentRange | None:
    """Parse ``bytes 0-99/200`` (or ``bytes */200``, ``bytes 0-99/*``); None if malformed."""
    if not value:
        return None
    units, _, rng = value.strip().partition(" ")
    rng = rng.strip()
    if not units or "/" not in rng:
        return None
    span, _, length_s = rng.partition("/")
    length: int | None
    if length_s == "*":
        length = None
    elif length_s.isdigit():
        length = int(length_s)
    else:
        return None
    if span == "*":
        return ContentRange(units, None, None, length) if length is not None else None
    start_s, sep, stop_s = span.partition("-")
    if not sep or not start_s.isdigit() or not stop_s.isdigit():
        return None
    start, stop = int(start_s), int(stop_s) + 1
    if start >= stop or (length is not None and stop > length):
        return None
    return ContentRange(units, start, stop, length)


class IfRange:
    """An ``If-Range`` value: either an entity tag or a date."""

    __slots__ = ("etag", "date")

    def __init__(self, etag: str | None = None, date: datetime | None = None) -> None:
        self.etag = etag
        self.date = date

    def to_header(self) -> str:
        if self.date is not None:
            return http_date(self.date)
        if self.etag is not None:
            return quote_etag(self.etag)
        return ""

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {str(self)!r}>"


def parse_if_range_header(value: str | None) -> IfRange:
    """Parse ``If-Range``: a date if it looks like one, else an entity tag."""
    if not value:
        return IfRange()
    date = parse_date(value)
    if date is not None:
        return IfRange(date=date)
    return IfRange(unquote_etag(value)[0])


def is_resource_modified(
    environ: Mapping[str, Any], etag: str | None, last_modified: str | None
) -> bool:
    """False when the request's validators (If-None-Match, If-Modified-Since, If-Match) say
    the client's cached copy of a resource with this ``etag`` and ``last_modified`` is
    current (Werkzeug's ``is_resource_modified``, for an environ)."""
    unmodified = False
    lm = parse_date(last_modified) if last_modified else None
    if lm is not None:
        since = parse_date(environ.get("HTTP_IF_MODIFIED_SINCE"))
        if since is not None and lm.replace(microsecond=0) <= since:
            unmodified = True
    if etag:
        tag, _ = unquote_etag(etag)
        if tag is not None:
            if_none_match = parse_etags(environ.get("HTTP_IF_NONE_MATCH"))
            if if_none_match:
                # RFC 9110 13.1.2: weak comparison for If-None-Match
                unmodified = if_none_match.contains_weak(tag)
            if_match = parse_etags(environ.get("HTTP_IF_MATCH"))
            if if_match:
                # RFC 9110 13.1.1: strong comparison for If-Match
                unmodified = not if_match.is_strong(tag)
    return not unmodified
