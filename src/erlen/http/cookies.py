"""Cookie header parsing and ``Set-Cookie`` serialisation (RFC 6265 as browsers do it).

Parsing is a single forward scan with ``str.find`` (linear in the header, whatever its
shape); nameless pairs such as ``=x`` are dropped so that a value can never pose as a
``__Host-`` / ``__Secure-`` cookie.  ``dump_cookie`` quotes values the way Werkzeug does,
so cookies set by erlen round-trip through Flask and vice versa.
"""

from __future__ import annotations

import re
import time
import warnings
from datetime import date, datetime, timedelta

from erlen.http.dates import http_date
from erlen.http.headerparse import is_token
from erlen.http.multidict import ImmutableMultiDict

__all__ = ["parse_cookie_header", "dump_cookie"]

# A complete quoted cookie value; linear (no nested quantifiers that can overlap).
_QUOTED_RE = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_UNSLASH_RE = re.compile(rb"\\([0-3][0-7]{2}|.)", re.S)
_NO_QUOTE_RE = re.compile(r"[\w!#$%&'()*+\-./:<=>?@\[\]^`{|}~]*", re.A)
_SLASH_RE = re.compile(r'[\x00-\x19",;\\\x7f-\U0010ffff]')
_BAD_ATTR_CHARS = frozenset(";\r\n\0")


def _unslash(match: re.Match[bytes]) -> bytes:
    esc = match.group(1)
    if len(esc) == 3:
        return bytes((int(esc, 8),))
    return esc


def _unquote_cookie(value: str) -> str:
    value = value[1:-1]
    if "\\" in value:
        raw = _UNSLASH_RE.sub(_unslash, value.encode("utf-8"))
        value = raw.decode("utf-8", "replace")
    return value


def parse_cookie_header(value: str | None) -> ImmutableMultiDict:
    """Parse a ``Cookie`` header into an ImmutableMultiDict (repeated names keep all values).

    ``a; b=1`` gives ``a=""``; quoted values are unquoted and ``\\"`` / ``\\ooo`` escapes
    decoded; pairs without a name are ignored.  A WSGI header (latin-1 str of the raw
    bytes) is re-decoded as UTF-8.
    """
    if not value:
        return ImmutableMultiDict()
    if not value.isascii():
        try:
            value = value.encode("latin-1").decode("utf-8", "replace")
        except UnicodeEncodeError:
            pass
    result: dict[str, list[str]] = {}
    find = value.find
    n = len(value)
    i = 0
    quotes_possible = True
    while i < n:
        semi = find(";", i)
        if semi < 0:
            semi = n
        eq = find("=", i, semi)
        if eq < 0:
            key = value[i:semi].strip()
            val = ""
        else:
            key = value[i:eq].strip()
            j = eq + 1
            while j < semi and value[j] in " \t":
                j += 1
            if j < semi and value[j] == '"':
                m = _QUOTED_RE.match(value, j) if quotes_possible else None
                if m is not None:
                    val = _unquote_cookie(m.group())
                    semi = find(";", m.end())
                    if semi < 0:
                        semi = n
                else:
                    # No closing quote anywhere after here: no later value can have one.
                    quotes_possible = False
                    val = value[j:semi].strip()
            else:
                val = value[j:semi].strip()
        i = semi + 1
        if key:
            lst = result.get(key)
            if lst is None:
                result[key] = [val]
            else:
                lst.append(val)
    return ImmutableMultiDict._from_lists(result)


def _slash(match: re.Match[str]) -> str:
    ch = match.group()
    if ch == '"' or ch == "\\":
        return "\\" + ch
    return "".join(f"\\{b:03o}" for b in ch.encode("utf-8"))


def _quote_cookie_value(value: str) -> str:
    if _NO_QUOTE_RE.fullmatch(value) is not None:
        return value
    return '"' + _SLASH_RE.sub(_slash, value) + '"'


def _check_attr(name: str, value: str) -> str:
    if not _BAD_ATTR_CHARS.isdisjoint(value):
        raise ValueError(f"Invalid character in cookie {name}: {value!r}")
    return value


def dump_cookie(
    key: str,
    value: str = "",
    max_age: timedelta | int | None = None,
    expires: str | datetime | date | float | None = None,
    path: str | None = "/",
    domain: str | None = None,
    secure: bool = False,
    httponly: bool = False,
    samesite: str | None = None,
    partitioned: bool = False,
    max_size: int = 4093,
) -> str:
    """Build a ``Set-Cookie`` header value.

    The name must be a token (``ValueError`` otherwise: no attribute injection); the
    value is quoted with backslash/octal escapes when needed.  ``max_age`` without
    ``expires`` also sets ``Expires``; ``partitioned`` implies ``Secure``; a leading dot
    of ``domain`` is dropped.  A result longer than ``max_size`` only warns, as browsers
    may ignore it.
    """
    if not isinstance(key, str) or not is_token(key):
        raise ValueError(f"Invalid cookie name {key!r}.")
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    parts = [f"{key}={_quote_cookie_value(str(value))}"]

    if isinstance(max_age, timedelta):
        max_age = int(max_age.total_seconds())
    if expires is not None:
        if not isinstance(expires, str):
            expires = http_date(expires)
        else:
            _check_attr("expires", expires)
    elif max_age is not None:
        expires = http_date(time.time() + max_age)

    if samesite is not None:
        samesite = samesite.title()
        if samesite not in ("Strict", "Lax", "None"):
            raise ValueError("SameSite must be 'Strict', 'Lax', or 'None'.")
    if partitioned:
        secure = True

    if domain:
        domain = _check_attr("domain", domain.partition(":")[0].lstrip("."))
        if domain:
            parts.append(f"Domain={domain}")
    if expires is not None:
        parts.append(f"Expires={expires}")
    if max_age is not None:
        parts.append(f"Max-Age={int(max_age)}")
    if secure:
        parts.append("Secure")
    if httponly:
        parts.append("HttpOnly")
    if path is not None:
        parts.append(f"Path={_check_attr('path', path)}")
    if samesite is not None:
        parts.append(f"SameSite={samesite}")
    if partitioned:
        parts.append("Partitioned")

    rv = "; ".join(parts)
    if max_size and len(rv) > max_size:
        value_size = len(parts[0]) - len(key) - 1
        warnings.warn(
            f"The {key!r} cookie is too large: the value was {value_size} bytes but the"
            f" header required {len(rv) - value_size} extra bytes. The final size was"
            f" {len(rv)} bytes but the limit is {max_size} bytes. Browsers may silently"
            " ignore cookies larger than this.",
            stacklevel=2,
        )
    return rv
