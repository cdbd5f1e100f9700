"""``Cache-Control`` as a dict with typed properties (Werkzeug's ``cache_control`` objects).

Flask code reads and sets directives through attributes (``rv.cache_control.max_age = 60``,
``.public = True``); each change is written back to the header through ``on_update``.
Keys are the directive names (``max-age``); values are ``str`` or ``None`` for a bare
directive.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from erlen.http.headerparse import dump_header, parse_dict_header

__all__ = [
    "RequestCacheControl",
    "ResponseCacheControl",
    "cache_control_property",
    "parse_cache_control_header",
]


def cache_control_property(key: str, empty: Any, type: type | None) -> Any:
    """A property for one directive: ``bool`` (present or not), ``int`` or ``str`` valued."""

    def fget(self: _CacheControl) -> Any:
        if type is bool:
            return key in self
        if key not in self:
            return None
        value = self[key]
        if value is None:
            return empty
        if type is not None:
            try:
                return type(value)
            except ValueError:
                return None
        return value

    def fset(self: _CacheControl, value: Any) -> None:
        if type is bool:
            if value:
                self[key] = None
            else:
                self.pop(key, None)
        elif value is None or value is False:
            self.pop(key, None)
        elif value is True:
            self[key] = None
        else:
            self[key] = str(type(value) if type is not None else value)

    def fdel(self: _CacheControl) -> None:
        self.pop(key, None)

    return property(fget, fset, fdel, doc=f"The ``{key}`` directive.")


class _CacheControl(dict[str, str | None]):
    """Directives common to requests and responses; every mutation calls ``on_update``."""

    def __init__(
        self,
        values: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = (),
        on_update: Callable[[_CacheControl], None] | None = None,
    ) -> None:
        super().__init__(values or ())
        self.on_update = on_update
        self.provided = values is not None

    def _changed(self) -> None:
        if self.on_update is not None:
            self.on_update(self)

    def __setitem__(self, key: str, value: str | None) -> None:
        super().__setitem__(key, value)
        self._changed()

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._changed()

    def pop(self, key: str, *default: Any) -> Any:  # type: ignore[override]
        had = key in self
        rv = super().pop(key, *default)
        if had:
            self._changed()
        return rv

    def clear(self) -> None:
        super().clear()
        self._changed()

    def update(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        super().update(*args, **kwargs)
        self._changed()

    def setdefault(self, key: str, default: str | None = None) -> str | None:
        if key in self:
            return self[key]
        self[key] = default
        return default

    def to_header(self) -> str:
        """The header value, e.g. ``public, max-age=60``."""
        return dump_header(self)

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        items = " ".join(f"{k}={v!r}" for k, v in sorted(self.items()))
        return f"<{type(self).__name__} {items}>"

    no_store = cache_control_property("no-store", None, bool)
    max_age = cache_control_property("max-age", None, int)
    no_transform = cache_control_property("no-transform", None, bool)
    stale_if_error = cache_control_property("stale-if-error", None, int)


class RequestCacheControl(_CacheControl):
    """The request's ``Cache-Control`` (read-only in practice: nothing writes it back)."""

    no_cache = cache_control_property("no-cache", None, bool)
    max_stale = cache_control_property("max-stale", True, int)
    min_fresh = cache_control_property("min-fresh", None, int)
    only_if_cached = cache_control_property("only-if-cached", None, bool)


class ResponseCacheControl(_CacheControl):
    """The response's ``Cache-Control``; changes rewrite the header."""

    no_cache = cache_control_property("no-cache", True, None)
    public = cache_control_property("public", None, bool)
    private = cache_control_property("private", True, None)
    must_revalidate = cache_control_property("must-revalidate", None, bool)
    proxy_revalidate = cache_control_property("proxy-revalidate", None, bool)
    s_maxage = cache_control_property("s-maxage", None, int)
    immutable = cache_control_property("immutable", None, bool)
    must_understand = cache_control_property("must-understand", None, bool)
    stale_while_revalidate = cache_control_property("stale-while-revalidate", None, int)


def parse_cache_control_header(
    value: str | None,
    on_update: Callable[[_CacheControl], None] | None = None,
    cls: type[_CacheControl] | None = None,
) -> Any:
    """Parse a ``Cache-Control`` value into ``cls`` (default :class:`RequestCacheControl`)."""
    if cls is None:
        cls = RequestCacheControl
    if not value:
        return cls(None, on_update)
    return cls(parse_dict_header(value), on_update)
