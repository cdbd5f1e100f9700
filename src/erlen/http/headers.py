"""Ordered, case-insensitive HTTP headers (``Headers``) and a WSGI environ view.

``Headers`` keeps the ``(name, value)`` list a WSGI server wants, so sending a response
needs no conversion (``to_wsgi_list`` returns the list itself).  Every name and value that
enters through the public API is validated: a CR, LF or NUL in a value (response
splitting) or a non-token name raises ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from erlen.exceptions import BadRequestKeyError
from erlen.http.headerparse import dump_options_header, is_token

__all__ = ["Headers", "EnvironHeaders"]

_missing: Any = object()
# Names already validated: a hot response path sets the same few names over and over.
_valid_names: set[str] = set()


def _check_name(key: Any) -> str:
    if key.__class__ is str and key in _valid_names:
        return key  # type: ignore[no-any-return]
    if not isinstance(key, str):
        raise TypeError(f"Header names must be str, not {type(key).__name__}.")
    if not is_token(key):
        raise ValueError(f"Invalid header name {key!r}.")
    if len(_valid_names) < 1024:
        _valid_names.add(key)
    return key


def _check_value(value: Any) -> str:
    if value.__class__ is not str:
        value = str(value)
    if "\n" in value or "\r" in value or "\0" in value:
        raise ValueError("Header values must not contain CR, LF or NUL characters.")
    return value  # type: ignore[no-any-return]


def _with_options(value: Any, options: dict[str, Any]) -> Any:
    if not options:
        return value
    return dump_options_header(str(value), {k.replace("_", "-"): v for k, v in options.items()})


def _iter_pairs(obj: Any) -> Iterator[tuple[Any, Any]]:
    if isinstance(obj, Headers):
        yield from obj.items()
    elif isinstance(obj, Mapping):
        if hasattr(obj, "getlist"):  # a MultiDict: every value of every key
            yield from obj.items(multi=True)  # type: ignore[call-arg]
            return
        for key, value in obj.items():
            if isinstance(value, (list, tuple, set)):
                for v in value:
                    yield key, v
            else:
                yield key, value
    else:
        yield from obj


class Headers:
    """An ordered multi-value header collection with case-insensitive lookup."""

    __slots__ = ("_list",)

    def __init__(self, defaults: Any = None) -> None:
        self._list: list[tuple[str, str]] = []
        if defaults is not None:
            self.extend(defaults)

    @classmethod
    def _from_list(cls, lst: list[tuple[str, str]]) -> Headers:
        """Wrap a trusted list without validation or copying (response fast path)."""
        obj = cls.__new__(cls)
        obj._list = lst
        return obj

    # -- reading ---------------------------------------------------------------------------
    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            ikey = key.lower()
            for k, v in self._list:
                if k == key or k.lower() == ikey:
                    return v
            raise BadRequestKeyError(key)
        if isinstance(key, slice):
            return self._from_list(self._list[key])
        if isinstance(key, int):
            return self._list[key]
        raise BadRequestKeyError(key)

    def get(self, key: str, default: Any = None, type: Callable[[str], Any] | None = None) -> Any:
        """First value for ``key`` converted by ``type``; ``default`` if missing or invalid."""
        # A direct scan: raising and catching KeyError for every miss is several times slower.
        ikey = key.lower()
        for k, v in self._list:
            if k == key or k.lower() == ikey:
                rv = v
                break
        else:
            return default
        if type is None:
            return rv
        try:
            return type(rv)
        except (ValueError, TypeError):
            return default

    def getlist(self, key: str, type: Callable[[str], Any] | None = None) -> list[Any]:
        """All values for ``key``; values ``type`` cannot convert are skipped."""
        ikey = key.lower()
        result = []
        for k, v in self._list:
            if k.lower() == ikey:
                if type is not None:
                    try:
                        v = type(v)
                    except (ValueError, TypeError):
                        continue
                result.append(v)
        return result

    def get_all(self, name: str) -> list[str]:
        """Alias of :meth:`getlist` (``wsgiref`` / ``email`` style)."""
        return self.getlist(name)

    def items(self, lower: bool = False) -> Iterator[tuple[str, str]]:
        for key, value in self:
            yield (key.lower() if lower else key), value

    def keys(self, lower: bool = False) -> Iterator[str]:
        for key, _ in self.items(lower):
            yield key

    def values(self) -> Iterator[str]:
        for _, value in self.items():
            yield value

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._list)

    def __len__(self) -> int:
        return len(self._list)

    def __bool__(self) -> bool:
        return len(self) > 0

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        ikey = key.lower()
        # a plain loop: any() over a generator costs twice as much
        for k, _ in self._list:  # noqa: SIM110
            if k == key or k.lower() == ikey:
                return True
        return False

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            return NotImplemented
        return {(k.lower(), v) for k, v in other.items()} == {
            (k.lower(), v) for k, v in self.items()
        }

    __hash__ = None  # type: ignore[assignment]

    def to_wsgi_list(self) -> list[tuple[str, str]]:
        """The underlying list, for ``start_response`` (not a copy)."""
        return self._list

    def copy(self) -> Headers:
        return self._from_list(list(self._list))

    def __copy__(self) -> Headers:
        return self.copy()

    def __str__(self) -> str:
        return "".join(f"{k}: {v}\r\n" for k, v in self.to_wsgi_list()) + "\r\n"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self)!r})"

    # -- writing ---------------------------------------------------------------------------
    def add(self, key: str, value: Any, **options: Any) -> None:
        """Append a header; keyword options are appended as ``; key=value`` parameters."""
        self._list.append((_check_name(key), _check_value(_with_options(value, options))))

    def add_header(self, key: str, value: Any, **options: Any) -> None:
        """Alias of :meth:`add` (``wsgiref`` style)."""
        self.add(key, value, **options)

    def set(self, key: str, value: Any, **options: Any) -> None:
        """Replace all headers named ``key`` by one, keeping the first one's position."""
        self._set_trusted(_check_name(key), _check_value(_with_options(value, options)))

    def _set_trusted(self, key: str, value: str) -> None:
        """:meth:`set` for a name and value the caller guarantees valid (e.g. a computed
        ``Content-Length``): the response hot path skips the validation calls."""
        lst = self._list
        ikey = key.lower()
        for idx, (k, _) in enumerate(lst):
            if k.lower() == ikey:
                lst[idx] = (key, value)
                self._list = lst[: idx + 1] + [x for x in lst[idx + 1 :] if x[0].lower() != ikey]
                return
        lst.append((key, value))

    def setlist(self, key: str, values: Iterable[Any]) -> None:
        """Replace all headers named ``key`` by one header per value (none: remove)."""
        checked = [_check_value(v) for v in values]
        if not checked:
            self.remove(key)
            return
        self.set(key, checked[0])
        for v in checked[1:]:
            self.add(key, v)

    def setdefault(self, key: str, default: Any) -> Any:
        """The value of ``key``, setting it to ``default`` first if missing."""
        try:
            return self[key]
        except KeyError:
            self.set(key, default)
            return self[key]

    def setlistdefault(self, key: str, default: Iterable[Any]) -> list[str]:
        """All values of ``key``, setting them to ``default`` first if missing."""
        if key not in self:
            self.setlist(key, default)
        return self.getlist(key)

    def __setitem__(self, key: Any, value: Any) -> None:
        if isinstance(key, str):
            self.set(key, value)
        elif isinstance(key, int):
            k, v = value
            self._list[key] = (_check_name(k), _check_value(v))
        elif isinstance(key, slice):
            self._list[key] = [(_check_name(k), _check_value(v)) for k, v in value]
        else:
            raise TypeError("Header keys must be str, int or slice.")

    def __delitem__(self, key: Any) -> None:
        if isinstance(key, str):
            ikey = key.lower()
            self._list = [x for x in self._list if x[0].lower() != ikey]
        else:
            del self._list[key]

    def remove(self, key: str) -> None:
        """Remove every header named ``key`` (no error if missing)."""
        del self[key]

    def pop(self, key: Any = None, default: Any = _missing) -> Any:
        """Remove and return the first value of ``key`` (or the last item / item by index)."""
        if key is None:
            return self._list.pop()
        if isinstance(key, int):
            return self._list.pop(key)
        try:
            rv = self[key]
        except KeyError:
            if default is not _missing:
                return default
            raise
        self.remove(key)
        return rv

    def popitem(self) -> tuple[str, str]:
        return self._list.pop()

    def extend(self, *args: Any, **kwargs: Any) -> None:
        """Append headers from a mapping, Headers or iterable of pairs (existing ones kept)."""
        if len(args) > 1:
            raise TypeError(f"update expected at most 1 arguments, got {len(args)}")
        if args:
            for key, value in _iter_pairs(args[0]):
                self.add(key, value)
        for key, value in _iter_pairs(kwargs):
            self.add(key, value)

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Replace headers by those given (lists set several values), like ``dict.update``."""
        if len(args) > 1:
            raise TypeError(f"update expected at most 1 arguments, got {len(args)}")
        sources: list[Any] = list(args)
        if kwargs:
            sources.append(kwargs)
        for src in sources:
            if isinstance(src, Headers):
                seen: dict[str, list[str]] = {}
                for k, v in src.items():
                    seen.setdefault(k, []).append(v)
                for k, vs in seen.items():
                    self.setlist(k, vs)
            elif isinstance(src, Mapping):
                if hasattr(src, "getlist"):  # a MultiDict: every value of every key
                    for k in src:
                        self.setlist(k, src.getlist(k))
                    continue
                for k, v in src.items():
                    if isinstance(v, (list, tuple)):
                        self.setlist(k, v)
                    else:
                        self.set(k, v)
            else:
                for k, v in src:
                    self.set(k, v)

    def __ior__(self, other: Any) -> Headers:
        self.update(other)
        return self

    def __or__(self, other: Any) -> Headers:
        rv = self.copy()
        rv.update(other)
        return rv

    def clear(self) -> None:
        self._list.clear()


_SPECIAL = {"CONTENT_TYPE": "Content-Type", "CONTENT_LENGTH": "Content-Length"}
# "X-Foo" -> "HTTP_X_FOO", memoised: header names repeat across requests.
_environ_keys: dict[str, str] = {}


def _environ_key(key: str) -> str:
    try:
        return _environ_keys[key]
    except KeyError:
        pass
    upper = key.upper().replace("-", "_")
    ekey = upper if upper in _SPECIAL else "HTTP_" + upper
    if len(_environ_keys) < 1024:
        _environ_keys[key] = ekey
    return ekey


class EnvironHeaders(Headers):
    """Read-only request headers backed directly by a WSGI environ (no copy, no scan)."""

    __slots__ = ("environ",)

    def __init__(self, environ: dict[str, Any]) -> None:
        self.environ = environ

    def __getitem__(self, key: Any) -> Any:
        if not isinstance(key, str):
            raise BadRequestKeyError(key)
        try:
            return self.environ[_environ_key(key)]
        except KeyError:
            raise BadRequestKeyError(key) from None

    def get(self, key: str, default: Any = None, type: Callable[[str], Any] | None = None) -> Any:
        try:
            rv = self.environ[_environ_key(key)]
        except KeyError:
            return default
        if type is None:
            return rv
        try:
            return type(rv)
        except (ValueError, TypeError):
            return default

    def getlist(self, key: str, type: Callable[[str], Any] | None = None) -> list[Any]:
        try:
            rv = self.environ[_environ_key(key)]
        except KeyError:
            return []
        if type is not None:
            try:
                rv = type(rv)
            except (ValueError, TypeError):
                return []
        return [rv]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and _environ_key(key) in self.environ

    def __iter__(self) -> Iterator[tuple[str, str]]:
        for key, value in self.environ.items():
            if key[:5] == "HTTP_":
                if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                    yield key[5:].replace("_", "-").title(), value
            elif key in _SPECIAL and value:
                yield _SPECIAL[key], value

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, EnvironHeaders):
            return self.environ is other.environ
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def to_wsgi_list(self) -> list[tuple[str, str]]:
        return list(self)

    def copy(self) -> Headers:
        """A mutable :class:`Headers` copy."""
        return Headers._from_list(list(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self)!r})"

    def _immutable(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(f"{type(self).__name__!r} objects are immutable")

    add = add_header = set = setlist = setdefault = setlistdefault = _immutable  # type: ignore[assignment]
    __setitem__ = __delitem__ = remove = pop = popitem = extend = update = _immutable  # type: ignore[assignment]
    __ior__ = clear = _immutable  # type: ignore[assignment]
