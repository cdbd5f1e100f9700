"""Multi-value dicts for query strings, form data and files (Werkzeug semantics).

``MultiDict`` is a ``dict`` of lists: ``d[key]`` is the first value, ``getlist`` all of
them, and a missing key raises :class:`~erlen.exceptions.BadRequestKeyError` so that
``request.form["x"]`` on a missing field becomes a 400 instead of a 500.
"""

from __future__ import annotations

import copy as _copy
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from erlen.exceptions import BadRequestKeyError

__all__ = [
    "iter_multi_items",
    "MultiDict",
    "ImmutableMultiDict",
    "CombinedMultiDict",
    "FileMultiDict",
    "TypeConversionDict",
    "ImmutableDict",
    "ImmutableTypeConversionDict",
    "CallbackDict",
]

T = TypeVar("T")
_missing: Any = object()


def iter_multi_items(mapping: Any) -> Iterator[tuple[Any, Any]]:
    """Yield ``(key, value)`` pairs from a MultiDict, a dict (list values give repeated
    keys) or an iterable of pairs."""
    if isinstance(mapping, MultiDict):
        yield from mapping.items(multi=True)
    elif isinstance(mapping, Mapping):
        for key, value in mapping.items():
            if isinstance(value, (list, tuple, set)):
                for v in value:
                    yield key, v
            else:
                yield key, value
    else:
        yield from mapping


class TypeConversionDict(dict):  # type: ignore[type-arg]
    """A dict whose ``get`` can convert the value, falling back to the default on failure."""

    __slots__ = ()

    def get(self, key: Any, default: Any = None, type: Callable[[Any], Any] | None = None) -> Any:  # type: ignore[override]
        try:
            rv = self[key]
        except KeyError:
            return default
        if type is not None:
            try:
                rv = type(rv)
            except (ValueError, TypeError):
                rv = default
        return rv


def _immutable(self: Any, *args: Any, **kwargs: Any) -> Any:
    raise TypeError(f"{type(self).__name__!r} objects are immutable")


class ImmutableTypeConversionDict(TypeConversionDict):
    """Read-only :class:`TypeConversionDict`."""

    __slots__ = ()
    __setitem__ = __delitem__ = setdefault = update = pop = popitem = clear = _immutable
    __ior__ = _immutable

    def copy(self) -> TypeConversionDict:
        return TypeConversionDict(self)

    def __copy__(self) -> ImmutableTypeConversionDict:
        return self

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))


class ImmutableDict(dict):  # type: ignore[type-arg]
    """A hashable read-only dict (used for defaults like ``jinja_options``)."""

    __slots__ = ()
    __setitem__ = __delitem__ = setdefault = update = pop = popitem = clear = _immutable
    __ior__ = _immutable

    def copy(self) -> dict[Any, Any]:
        return dict(self)

    def __copy__(self) -> ImmutableDict:
        return self

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict.__repr__(self)})"


class MultiDict(TypeConversionDict):
    """A dict mapping each key to a list of values; ``[]``/``get`` give the first one."""

    __slots__ = ()

    def __init__(self, mapping: Any = None) -> None:
        if mapping is None:
            return
        if isinstance(mapping, MultiDict):
            dict.update(self, ((k, list(v)) for k, v in mapping.lists()))
        elif isinstance(mapping, Mapping):
            tmp = {}
            for key, value in mapping.items():
                if isinstance(value, (list, tuple, set)):
                    if not value:
                        continue
                    value = list(value)
                else:
                    value = [value]
                tmp[key] = value
            dict.update(self, tmp)
        else:
            tmp2: dict[Any, list[Any]] = {}
            for key, value in mapping:
                tmp2.setdefault(key, []).append(value)
            dict.update(self, tmp2)

    @classmethod
    def _from_lists(cls: type[T], lists: dict[Any, list[Any]]) -> T:
        """Wrap a trusted ``{key: [values]}`` dict without copying each list (parser fast path)."""
        obj = cls.__new__(cls)
        dict.update(obj, lists)  # type: ignore[call-overload]
        return obj

    def __getstate__(self) -> dict[Any, list[Any]]:
        return dict(self.lists())

    def __setstate__(self, value: dict[Any, list[Any]]) -> None:
        dict.clear(self)
        dict.update(self, value)

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (type(self), (list(self.items(multi=True)),))

    def __iter__(self) -> Iterator[Any]:
        # Not dict's own slot: CPython copies a dict subclass that keeps it straight from the
        # storage, so dict(md), {**md} and {}.update(md) would give the value lists. Overridden,
        # they go through keys() and __getitem__: first values, as Werkzeug (cpython#87412).
        return dict.__iter__(self)

    def __getitem__(self, key: Any) -> Any:
        try:
            lst = dict.__getitem__(self, key)
        except KeyError:
            raise BadRequestKeyError(key) from None
        if lst:
            return lst[0]
        raise BadRequestKeyError(key)

    def __setitem__(self, key: Any, value: Any) -> None:
        dict.__setitem__(self, key, [value])

    def add(self, key: Any, value: Any) -> None:
        """Append a value for ``key`` (``[]=`` replaces all values)."""
        dict.setdefault(self, key, []).append(value)

    def get(self, key: Any, default: Any = None, type: Callable[[Any], Any] | None = None) -> Any:  # type: ignore[override]
        """First value for ``key``, converted by ``type``; ``default`` if missing or invalid."""
        try:
            lst = dict.__getitem__(self, key)
        except KeyError:
            return default
        if not lst:
            return default
        rv = lst[0]
        if type is not None:
            try:
                rv = type(rv)
            except (ValueError, TypeError):
                return default
        return rv

    def getlist(self, key: Any, type: Callable[[Any], Any] | None = None) -> list[Any]:
        """All values for ``key`` (a new list); values ``type`` cannot convert are skipped."""
        try:
            rv = dict.__getitem__(self, key)
        except KeyError:
            return []
        if type is None:
            return list(rv)
        result = []
        for item in rv:
            try:
                result.append(type(item))
            except (ValueError, TypeError):
                pass
        return result

    def setlist(self, key: Any, new_list: Iterable[Any]) -> None:
        """Replace all values for ``key``."""
        dict.__setitem__(self, key, list(new_list))

    def setdefault(self, key: Any, default: Any = None) -> Any:  # type: ignore[override]
        if key not in self:
            self[key] = default
            return default
        return self[key]

    def setlistdefault(self, key: Any, default_list: Iterable[Any] | None = None) -> list[Any]:
        """The (live) value list for ``key``, created from ``default_list`` if missing."""
        if key not in self:
            lst = list(default_list or ())
            dict.__setitem__(self, key, lst)
            return lst
        return dict.__getitem__(self, key)  # type: ignore[no-any-return]

    def items(self, multi: bool = False) -> Iterator[tuple[Any, Any]]:  # type: ignore[override]
        """``(key, first value)`` pairs, or every ``(key, value)`` pair with ``multi=True``."""
        for key, values in dict.items(self):
            if multi:
                for value in values:
                    yield key, value
            elif values:
                yield key, values[0]

    def lists(self) -> Iterator[tuple[Any, list[Any]]]:
        """``(key, [values])`` pairs (copies of the lists)."""
        for key, values in dict.items(self):
            yield key, list(values)

    def values(self) -> Iterator[Any]:  # type: ignore[override]
        """The first value of each key."""
        for values in dict.values(self):
            if values:
                yield values[0]

    def listvalues(self) -> Iterator[list[Any]]:
        """The value list of each key."""
        return iter(dict.values(self))

    def copy(self) -> MultiDict:
        """A shallow copy (always a mutable :class:`MultiDict` subclass instance)."""
        return self.__class__(self)

    def deepcopy(self, memo: Any = None) -> MultiDict:
        """A deep copy of keys and values."""
        return self.__class__(_copy.deepcopy(self.to_dict(flat=False), memo))

    def to_dict(self, flat: bool = True) -> dict[Any, Any]:
        """A plain dict: first values, or lists with ``flat=False``."""
        if flat:
            return dict(self.items())
        return dict(self.lists())

    def update(self, mapping: Any = None, /, **kwargs: Any) -> None:  # type: ignore[override]
        """Add the values of ``mapping`` (existing values are kept, unlike ``dict.update``)."""
        if mapping is not None:
            for key, value in iter_multi_items(mapping):
                self.add(key, value)
        for key, value in iter_multi_items(kwargs):
            self.add(key, value)

    def __or__(self, other: Any) -> MultiDict:  # type: ignore[override]
        if not isinstance(other, Mapping):
            return NotImplemented
        rv = self.copy()
        rv.update(other)
        return rv

    def __ior__(self, other: Any) -> MultiDict:  # type: ignore[override,misc]
        if not isinstance(other, (Mapping, Iterable)):
            return NotImplemented
        self.update(other)
        return self

    def pop(self, key: Any, default: Any = _missing) -> Any:
        """Remove ``key`` and return its first value."""
        try:
            lst = dict.pop(self, key)
        except KeyError:
            if default is not _missing:
                return default
            raise BadRequestKeyError(key) from None
        if not lst:
            if default is not _missing:
                return default
            raise BadRequestKeyError(key)
        return lst[0]

    def popitem(self) -> tuple[Any, Any]:
        """Remove an item and return ``(key, first value)``."""
        try:
            key, lst = dict.popitem(self)
        except KeyError as e:
            raise BadRequestKeyError(e.args[0] if e.args else None) from None
        if not lst:
            raise BadRequestKeyError(key)
        return key, lst[0]

    def poplist(self, key: Any) -> list[Any]:
        """Remove ``key`` and return all its values (``[]`` if missing)."""
        return dict.pop(self, key, [])  # type: ignore[no-any-return]

    def popitemlist(self) -> tuple[Any, list[Any]]:
        """Remove an item and return ``(key, [values])``."""
        try:
            return dict.popitem(self)  # type: ignore[no-any-return]
        except KeyError as e:
            raise BadRequestKeyError(e.args[0] if e.args else None) from None

    def __copy__(self) -> MultiDict:
        return self.copy()

    def __deepcopy__(self, memo: Any) -> MultiDict:
        return self.deepcopy(memo=memo)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self.items(multi=True))!r})"


class ImmutableMultiDict(MultiDict):
    """A read-only, hashable :class:`MultiDict` (``request.args``, ``request.form``)."""

    __slots__ = ()
    __setitem__ = __delitem__ = add = setlist = setdefault = setlistdefault = _immutable
    update = pop = poplist = popitem = popitemlist = clear = __ior__ = _immutable

    def copy(self) -> MultiDict:
        """A mutable :class:`MultiDict` copy."""
        return MultiDict(self)

    def __copy__(self) -> ImmutableMultiDict:
        return self

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items(multi=True)))


class CombinedMultiDict(ImmutableMultiDict):
    """A read-only view over several MultiDicts, searched in order (``request.values``)."""

    __slots__ = ("dicts",)

    def __init__(self, dicts: Iterable[MultiDict] | None = None) -> None:
        super().__init__()
        self.dicts: list[MultiDict] = list(dicts or ())

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (type(self), (self.dicts,))

    def __getitem__(self, key: Any) -> Any:
        for d in self.dicts:
            if key in d:
                return d[key]
        raise BadRequestKeyError(key)

    def get(self, key: Any, default: Any = None, type: Callable[[Any], Any] | None = None) -> Any:  # type: ignore[override]
        for d in self.dicts:
            if key in d:
                if type is not None:
                    try:
                        return type(d[key])
                    except (ValueError, TypeError):
                        continue
                return d[key]
        return default

    def getlist(self, key: Any, type: Callable[[Any], Any] | None = None) -> list[Any]:
        rv: list[Any] = []
        for d in self.dicts:
            rv.extend(d.getlist(key, type))
        return rv

    def _keys_impl(self) -> dict[Any, None]:
        keys: dict[Any, None] = {}
        for d in self.dicts:
            keys.update(dict.fromkeys(d.keys()))
        return keys

    def keys(self) -> Any:  # type: ignore[override]
        return self._keys_impl().keys()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._keys_impl())

    def items(self, multi: bool = False) -> Iterator[tuple[Any, Any]]:  # type: ignore[override]
        found = set()
        for d in self.dicts:
            for key, value in d.items(multi):
                if multi:
                    yield key, value
                elif key not in found:
                    found.add(key)
                    yield key, value

    def values(self) -> Iterator[Any]:  # type: ignore[override]
        for _key, value in self.items():
            yield value

    def lists(self) -> Iterator[tuple[Any, list[Any]]]:
        rv: dict[Any, list[Any]] = {}
        for d in self.dicts:
            for key, values in d.lists():
                rv.setdefault(key, []).extend(values)
        return iter(rv.items())

    def listvalues(self) -> Iterator[list[Any]]:
        return (x[1] for x in self.lists())

    def copy(self) -> MultiDict:
        return MultiDict(self)

    def to_dict(self, flat: bool = True) -> dict[Any, Any]:
        if flat:
            return dict(self.items())
        return dict(self.lists())

    def __len__(self) -> int:
        return len(self._keys_impl())

    def __contains__(self, key: object) -> bool:
        return any(key in d for d in self.dicts)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self.to_dict(flat=False) == (
                other.to_dict(flat=False) if isinstance(other, MultiDict) else dict(other)
            )
        return NotImplemented

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(id(d) for d in self.dicts))

    def __bool__(self) -> bool:
        return any(self.dicts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.dicts!r})"


class FileMultiDict(MultiDict):
    """A MultiDict of :class:`~erlen.http.filestorage.FileStorage` (test request builder)."""

    __slots__ = ()

    def add_file(
        self, name: str, file: Any, filename: str | None = None, content_type: str | None = None
    ) -> None:
        """Add a file from a path, a file object or a ready FileStorage."""
        from erlen.http.filestorage import FileStorage

        if isinstance(file, FileStorage):
            value = file
        else:
            if isinstance(file, str):
                if filename is None:
                    filename = file
                file = open(file, "rb")  # noqa: SIM115 - owned by the FileStorage
            if filename and content_type is None:
                import mimetypes

                content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
            value = FileStorage(file, filename, name, content_type)
        self.add(name, value)


class CallbackDict(dict):  # type: ignore[type-arg]
    """A dict calling ``on_update(self)`` after each change (sessions track modification)."""

    def __init__(self, initial: Any = None, on_update: Callable[[Any], None] | None = None) -> None:
        super().__init__(initial or ())
        self.on_update = on_update

    def _changed(self) -> None:
        if self.on_update is not None:
            self.on_update(self)

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        self._changed()

    def __delitem__(self, key: Any) -> None:
        super().__delitem__(key)
        self._changed()

    def setdefault(self, key: Any, default: Any = None) -> Any:
        modified = key not in self
        rv = super().setdefault(key, default)
        if modified:
            self._changed()
        return rv

    def update(self, *args: Any, **kwargs: Any) -> None:
        super().update(*args, **kwargs)
        self._changed()

    def pop(self, key: Any, default: Any = _missing) -> Any:
        modified = key in self
        if default is _missing:
            rv = super().pop(key)
        else:
            rv = super().pop(key, default)
        if modified:
            self._changed()
        return rv

    def popitem(self) -> tuple[Any, Any]:
        rv = super().popitem()
        self._changed()
        return rv

    def clear(self) -> None:
        super().clear()
        self._changed()

    def __ior__(self, other: Any) -> CallbackDict:  # type: ignore[override,misc]
        self.update(other)
        return self

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {dict.__repr__(self)}>"
