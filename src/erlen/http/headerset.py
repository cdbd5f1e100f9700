"""``HeaderSet`` (case-insensitive ordered set header, e.g. ``Vary``) and ``UserAgent``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from erlen.http.headerparse import dump_header, parse_list_header

__all__ = ["HeaderSet", "UserAgent", "parse_set_header"]


class HeaderSet:
    """An ordered, case-insensitive set of header tokens (``Vary``, ``Allow``...) calling
    ``on_update(self)`` after changes so a response can write the header back."""

    def __init__(
        self,
        headers: Iterable[str] | None = None,
        on_update: Callable[[HeaderSet], None] | None = None,
    ) -> None:
        self._headers = list(headers or ())
        self._set = {x.lower() for x in self._headers}
        self.on_update = on_update

    def _changed(self) -> None:
        if self.on_update is not None:
            self.on_update(self)

    def add(self, header: str) -> None:
        self.update((header,))

    def remove(self, header: str) -> None:
        """Remove ``header`` (KeyError if missing)."""
        key = header.lower()
        if key not in self._set:
            raise KeyError(header)
        self._set.remove(key)
        self._headers = [h for h in self._headers if h.lower() != key]
        self._changed()

    def discard(self, header: str) -> None:
        try:
            self.remove(header)
        except KeyError:
            pass

    def update(self, iterable: Iterable[str]) -> None:
        changed = False
        for header in iterable:
            key = header.lower()
            if key not in self._set:
                self._headers.append(header)
                self._set.add(key)
                changed = True
        if changed:
            self._changed()

    def find(self, header: str) -> int:
        key = header.lower()
        for idx, item in enumerate(self._headers):
            if item.lower() == key:
                return idx
        return -1

    def index(self, header: str) -> int:
        rv = self.find(header)
        if rv < 0:
            raise IndexError(header)
        return rv

    def clear(self) -> None:
        self._set.clear()
        self._headers.clear()
        self._changed()

    def as_set(self, preserve_casing: bool = False) -> set[str]:
        if preserve_casing:
            return set(self._headers)
        return set(self._set)

    def to_header(self) -> str:
        return dump_header(self._headers)

    def __getitem__(self, idx: int) -> str:
        return self._headers[idx]

    def __delitem__(self, idx: int) -> None:
        rv = self._headers.pop(idx)
        self._set.discard(rv.lower())
        self._changed()

    def __setitem__(self, idx: int, value: str) -> None:
        old = self._headers[idx]
        self._set.discard(old.lower())
        self._headers[idx] = value
        self._set.add(value.lower())
        self._changed()

    def __contains__(self, header: object) -> bool:
        return isinstance(header, str) and header.lower() in self._set

    def __len__(self) -> int:
        return len(self._set)

    def __iter__(self) -> Iterator[str]:
        return iter(self._headers)

    def __bool__(self) -> bool:
        return bool(self._set)

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._headers!r})"


def parse_set_header(
    value: str | None, on_update: Callable[[HeaderSet], None] | None = None
) -> HeaderSet:
    """Parse a comma-separated set header (``Vary: Accept, Cookie``)."""
    return HeaderSet(parse_list_header(value), on_update)


class UserAgent:
    """The ``User-Agent`` string; like Werkzeug 3 it does no parsing (the detail attributes
    are None), subclass to plug a parser in."""

    platform: str | None = None
    browser: str | None = None
    version: str | None = None
    language: str | None = None

    def __init__(self, string: str) -> None:
        self.string = string

    def to_header(self) -> str:
        return self.string

    def __str__(self) -> str:
        return self.string

    def __bool__(self) -> bool:
        return bool(self.browser)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.browser!r}/{self.version}>"
