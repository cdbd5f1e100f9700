"""HTTP parsing and formatting functions (Werkzeug's ``http`` / ``urls`` names).

Query strings, ``Accept*`` and ``Content-Length`` live here; cookies, dates, header
values and ETags live in small modules and are re-exported so callers need one import.
All parsers are linear in their input and report malformed client data as
:class:`~erlen.exceptions.BadRequest` (or return None where Werkzeug does).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus, unquote

from erlen.exceptions import BadRequest
from erlen.http.accept import Accept
from erlen.http.cachecontrol import parse_cache_control_header
from erlen.http.conditional import (
    generate_etag,
    parse_content_range_header,
    parse_etags,
    parse_if_range_header,
    parse_range_header,
    quote_etag,
    unquote_etag,
)
from erlen.http.cookies import dump_cookie, parse_cookie_header
from erlen.http.dates import dump_age, http_date, parse_age, parse_date
from erlen.http.headerparse import (
    dump_header,
    dump_options_header,
    parse_dict_header,
    parse_list_header,
    parse_options_header,
    quote_header_value,
    unquote_header_value,
)
from erlen.http.headerset import parse_set_header
from erlen.http.multidict import ImmutableMultiDict, iter_multi_items
from erlen.http.speedups import PercentEscapeError, percent_decode

__all__ = [
    "parse_query_string",
    "parse_cookie_header",
    "dump_cookie",
    "parse_options_header",
    "dump_options_header",
    "dump_header",
    "quote_header_value",
    "unquote_header_value",
    "parse_accept_header",
    "parse_date",
    "http_date",
    "parse_age",
    "dump_age",
    "quote_etag",
    "unquote_etag",
    "parse_etags",
    "generate_etag",
    "parse_range_header",
    "parse_content_range_header",
    "parse_if_range_header",
    "parse_list_header",
    "parse_dict_header",
    "parse_set_header",
    "parse_cache_control_header",
    "url_quote",
    "url_unquote",
    "url_encode",
    "parse_content_length",
]

A = TypeVar("A", bound=Accept)
_new_imd = dict.__new__
_dict_setitem = dict.__setitem__  # ImmutableMultiDict's own refuses


def _decode_component(s: str) -> str:
    if "+" in s:
        s = s.replace("+", " ")
    if "%" not in s:
        return s
    try:
        return percent_decode(s).decode("utf-8")
    except PercentEscapeError as e:
        raise BadRequest(f"Malformed percent-encoding {e.escape!r} in URL-encoded data.") from None
    except UnicodeError:
        raise BadRequest("URL-encoded data is not valid UTF-8.") from None


def parse_query_string(qs: str | bytes | None) -> ImmutableMultiDict:
    """Parse ``a=1&b=2&a=3`` (query string or urlencoded form body).

    Only ``&`` separates pairs (``;`` is data), ``+`` is a space, a pair without ``=``
    has the value ``""`` and empty pairs are skipped.  A malformed ``%`` escape or
    invalid UTF-8 raises :class:`BadRequest`.  A str is taken as the WSGI form (latin-1
    characters standing for the raw bytes); a str with characters beyond latin-1 is
    taken as already-decoded text.
    """
    if not qs:
        return ImmutableMultiDict()
    if isinstance(qs, bytes):
        try:
            qs = qs.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("URL-encoded data is not valid UTF-8.") from None
    elif not qs.isascii():
        try:
            qs = qs.encode("latin-1").decode("utf-8")
        except UnicodeEncodeError:
            pass  # real text, not WSGI bytes-as-latin-1
        except UnicodeDecodeError:
            raise BadRequest("URL-encoded data is not valid UTF-8.") from None
    plain = "%" not in qs and "+" not in qs  # nothing to decode (most query strings)
    if plain and "&" not in qs:  # one pair (?page=2, ?q=x): the commonest query
        key, _, value = qs.partition("=")
        rv = _new_imd(ImmutableMultiDict)
        _dict_setitem(rv, key, [value])
        return rv
    result: dict[str, list[str]] = {}
    if not plain:
        flat = _decode_joined(qs)
        if flat is not None:
            keys, values = flat[::2], flat[1::2]
            result = {key: [value] for key, value in zip(keys, values, strict=True)}
            if len(result) != len(keys):  # a key repeats: collect its values in order
                result = {}
                for key, value in zip(keys, values, strict=True):
                    lst = result.get(key)
                    if lst is None:
                        result[key] = [value]
                    else:
                        lst.append(value)
            rv = _new_imd(ImmutableMultiDict)
            dict.update(rv, result)
            return rv
    decode = _decode_component
    for part in qs.split("&"):
        if not part:
            continue
        key, _, value = part.partition("=")
        if not plain:
            if "+" in key or "%" in key:
                key = decode(key)
            if "+" in value or "%" in value:
                value = decode(value)
        lst = result.get(key)
        if lst is None:
            result[key] = [value]
        else:
            lst.append(value)
    rv = _new_imd(ImmutableMultiDict)  # ImmutableMultiDict._from_lists(result), inlined
    dict.update(rv, result)
    return rv


def _decode_joined(qs: str) -> list[str] | None:
    """Keys and values of ``qs``, alternating, percent- and plus-decoded in one call:
    joined by NUL (which neither the input nor its escapes may contain), decoded, split
    again. Forms escape most values, and one call per value was most of their cost. None
    when that cannot work (a NUL, a malformed escape, invalid UTF-8): the caller then decodes
    part by part and raises the precise BadRequest."""
    if "\0" in qs or "%00" in qs:
        return None
    # each "key=value" as "key\0value" (only its first "=" separates), "key" as "key\0"
    pairs = [
        part.replace("=", "\0", 1) if "=" in part else part + "\0"
        for part in qs.split("&")
        if part
    ]
    try:
        return percent_decode("\0".join(pairs).replace("+", " ")).decode().split("\0")
    except ValueError:  # incl. UnicodeDecodeError
        return None


def parse_accept_header(value: str | None, cls: type[A] | None = None) -> A:
    """Parse an ``Accept*`` header into ``cls`` (default :class:`Accept`).

    Items with an invalid ``q`` (not a number in 0..1) are dropped; other parameters stay
    part of the value (``text/html; level=1``).  A missing header gives an instance with
    ``provided == False``.
    """
    if cls is None:
        cls = Accept  # type: ignore[assignment]
    assert cls is not None
    if not value:
        return cls(None)
    items: list[tuple[str, float]] = []
    for item in parse_list_header(value) if '"' in value else value.split(","):
        main, params = parse_options_header(item)
        if not main:
            continue
        q_raw = params.pop("q", None)
        quality: float = 1
        if q_raw is not None:
            try:
                quality = float(q_raw)
            except ValueError:
                continue
            if not 0 <= quality <= 1:  # also rejects nan
                continue
        if params:
            main = dump_options_header(main, params)
        items.append((main, quality))
    return cls(items)


def url_quote(s: str | bytes, safe: str = "/:") -> str:
    """Percent-encode ``s`` (UTF-8), leaving ``safe`` characters alone."""
    return quote(s, safe=safe)


def url_unquote(s: str) -> str:
    """Percent-decode ``s`` (lenient: invalid escapes are kept)."""
    return unquote(s)


_URLENCODE_SAFE = "!$'()*,/:;?@"


def url_encode(obj: Any, sort: bool = False) -> str:
    """Encode a dict, MultiDict or iterable of pairs as a query string.

    ``None`` values are skipped and list values give repeated keys.
    """
    pairs: Iterable[tuple[Any, Any]] = iter_multi_items(obj)
    items = [(str(k), v) for k, v in pairs if v is not None]
    if sort:
        items.sort(key=lambda kv: kv[0])
    out = []
    for key, value in items:
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        out.append(
            f"{quote_plus(key, safe=_URLENCODE_SAFE)}={quote_plus(str(value), safe=_URLENCODE_SAFE)}"
        )
    return "&".join(out)


def parse_content_length(value: str | None) -> int | None:
    """Parse ``Content-Length``: None if missing/empty, :class:`BadRequest` if not a
    non-negative decimal integer."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit()):
        raise BadRequest("The Content-Length header is not a valid non-negative integer.")
    return int(value)
