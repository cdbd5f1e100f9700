"""Interpreter-specific speed-ups, each beside the plain version it must equal.

Every trick erlen plays on the interpreter (an undocumented CPython function, a private
accelerator, a workaround for one Python version) lives here and nowhere else, as a pair:
``<name>_fast`` and ``<name>_reference``. The reference uses only documented stdlib API and
is written to be obviously right; ``tests/test_speedups.py`` checks the fast one against it
on random input. At import, ``<name>`` is bound to the fast version where it applies and to
the reference elsewhere; callers use ``<name>`` only.

Set ``ERLEN_NO_SPEEDUPS=1`` in the environment (before erlen is imported) to run on the
reference versions alone: slower, but it rules the tricks out when chasing a bug.

Numbers: CPython 3.11.7, this project's 2-core VM, best of 9 ``timeit`` rounds, on the
benchmark's inputs; ``python -m bench.speedups`` measures them again. A trick that gains
less than 5 % of its function's time is not kept (docs/decisions/011-speedups.md).

This module is the bottom layer: it imports nothing from erlen.
"""

from __future__ import annotations

import codecs
import functools
import json
import os
import re
import sys
from collections.abc import Callable
from json import encoder as _json_encoder
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import unquote_to_bytes

__all__ = [
    "ENABLED",
    "PercentEscapeError",
    "cached_property",
    "cached_property_fast",
    "cached_property_reference",
    "compact_json_dumps",
    "compact_json_dumps_fast",
    "compact_json_dumps_reference",
    "percent_decode",
    "percent_decode_fast",
    "percent_decode_reference",
]

#: False when ``ERLEN_NO_SPEEDUPS`` is set (to anything but ``""`` or ``"0"``).
ENABLED: bool = os.environ.get("ERLEN_NO_SPEEDUPS", "") in ("", "0")

_T = TypeVar("_T")


# -- strict percent-decoding (query strings, urlencoded forms) ---------------------------


class PercentEscapeError(ValueError):
    """A ``%`` not followed by two hex digits; ``escape`` is it and up to two characters
    after it (``"%zz"``, ``"%4"``, ``"%"``), for the 400 message."""

    def __init__(self, escape: str) -> None:
        super().__init__(f"malformed percent-escape {escape!r}")
        self.escape = escape


_MALFORMED_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def percent_decode_reference(s: str) -> bytes:
    """``%XX`` escapes of ``s`` decoded to bytes, the rest UTF-8 encoded; strict, unlike
    ``urllib.parse.unquote_to_bytes`` (which keeps a malformed escape as it is): raises
    :class:`PercentEscapeError` for the first malformed one. ``+`` is not touched."""
    bad = _MALFORMED_ESCAPE.search(s)
    if bad is not None:
        raise PercentEscapeError(s[bad.start() : bad.start() + 3])
    return unquote_to_bytes(s)


_escape_decode: Callable[[bytes], tuple[bytes, int]] | None = getattr(codecs, "escape_decode", None)


def percent_decode_fast(s: str) -> bytes:
    """:func:`percent_decode_reference` by ``codecs.escape_decode``: every ``%`` becomes
    ``\\x`` (backslashes doubled first, so no other escape exists) and one C call decodes
    them all and rejects malformed ones; on any refusal the reference runs and raises
    the precise error (or decodes what C refused), so both always agree.

    ``codecs.escape_decode`` is in CPython, undocumented (elsewhere: the reference). Gain, whole
    ``parse_query_string`` (the form parser's hot loop): the bench's 10-field form 4.2 µs
    vs 6.5 µs (34 %), a 10-pair query with UTF-8 escapes 4.8 µs vs 9.8 µs (51 %), a 1-pair
    escaped query 1.6 µs vs 2.3 µs (29 %); a query without ``%`` or ``+``
    (``?fields=a,b``, 0.4 µs) never decodes.
    """
    assert _escape_decode is not None
    try:
        return _escape_decode(s.replace("\\", "\\\\").replace("%", "\\x").encode())[0]
    except ValueError:  # a malformed escape (or a lone surrogate): let the reference say
        return percent_decode_reference(s)


percent_decode: Callable[[str], bytes] = (
    percent_decode_fast if ENABLED and _escape_decode is not None else percent_decode_reference
)


# -- compact JSON encoding (jsonify, a view's dict) --------------------------------------


def compact_json_dumps_reference(
    default: Callable[[Any], Any], ensure_ascii: bool, sort_keys: bool
) -> Callable[[Any], str]:
    """``json.dumps(obj, default=default, ensure_ascii=ensure_ascii, sort_keys=sort_keys,
    separators=(",", ":"))`` as a reusable function: one shared ``JSONEncoder`` (it keeps
    no state between calls, so threads may share it)."""
    return json.JSONEncoder(
        default=default, ensure_ascii=ensure_ascii, sort_keys=sort_keys, separators=(",", ":")
    ).encode


_c_make_encoder: Any = getattr(_json_encoder, "c_make_encoder", None)


def compact_json_dumps_fast(
    default: Callable[[Any], Any], ensure_ascii: bool, sort_keys: bool
) -> Callable[[Any], str]:
    """:func:`compact_json_dumps_reference` calling CPython's private C encoder
    (``json.encoder.c_make_encoder``) directly, the one ``JSONEncoder.iterencode(obj,
    _one_shot=True)`` builds per call, reused from a pool instead (building it, with its
    closures and ``markers`` dict, is most of the cost of a small response).

    Each call takes an encoder for itself (``list.pop``/``append`` are atomic), so threads
    and nested calls (``default`` calling dumps) never share one; its ``markers`` (the
    circular-reference check) is empty after a successful call, and an encoder whose call
    raised is dropped, so stale markers never give a false "circular" error. The pool grows
    only to the number of simultaneous calls. CPython only (``c_make_encoder`` is None
    where ``_json`` is missing, e.g. PyPy). Gain on ``{"id": 42, "fields": ["a", "b"]}``
    (the json-param answer): 0.86 µs vs 1.30 µs (35 %).
    """
    make = _c_make_encoder
    if make is None:
        return compact_json_dumps_reference(default, ensure_ascii, sort_keys)
    escape = (
        _json_encoder.encode_basestring_ascii if ensure_ascii else _json_encoder.encode_basestring
    )
    pool: list[Any] = []

    def dumps(obj: Any) -> str:
        # the arguments JSONEncoder.iterencode passes: markers, default, string escaper,
        # indent, key separator, item separator, sort_keys, skipkeys, allow_nan
        encode = (
            pool.pop()
            if pool
            else make({}, default, escape, None, ":", ",", sort_keys, False, True)
        )
        chunks = encode(obj, 0)
        pool.append(encode)
        return "".join(chunks)

    return dumps


compact_json_dumps: Callable[[Callable[[Any], Any], bool, bool], Callable[[Any], str]] = (
    compact_json_dumps_fast
    if ENABLED and _c_make_encoder is not None
    else compact_json_dumps_reference
)


# -- cached_property (the lazy Request attributes) ---------------------------------------


class cached_property_fast(Generic[_T]):  # noqa: N801 - mirrors functools' name
    """``functools.cached_property`` without its lock: computes once, stores the value as
    an instance attribute (which then shadows this non-data descriptor); assigning and
    deleting the attribute work as with functools'.

    Python 3.11's version takes a class-wide ``RLock`` on every first access (3.12 removed
    it). It stores with ``setattr`` rather than ``__dict__[name] =``, as reading
    ``__dict__`` makes CPython 3.11 build the instance's dict. Gain, ``request.args`` on a
    fresh request for ``?fields=a,b``: 0.59 µs vs 0.92 µs (37 %); a property returning a
    constant 0.20 µs vs 0.50 µs. A request reads several (``args``, ``cookies``, ...).
    Used on Python < 3.12 only (not measured on 3.12: none on this machine).
    """

    def __init__(self, func: Callable[[Any], _T]) -> None:
        self.func = func
        self.attrname = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.attrname = name

    def __get__(self, instance: Any, owner: type | None = None) -> _T:
        if instance is None:
            return self  # type: ignore[return-value]
        value = self.func(instance)
        setattr(instance, self.attrname, value)
        return value


#: The stdlib's, lock-free from Python 3.12 on.
cached_property_reference = functools.cached_property

if TYPE_CHECKING:
    from functools import cached_property
elif ENABLED and sys.version_info < (3, 12):
    cached_property = cached_property_fast
else:
    cached_property = cached_property_reference
