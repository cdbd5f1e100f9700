"""Low-level header value parsing and quoting (options, lists, dicts, RFC 2231).

A leaf module (no data structures) so that ``Headers``, ``FileStorage`` and
``Authorization`` can use it without import cycles; ``erlen.http.parsing`` re-exports it.
All regexes are compiled once at import and are linear in their input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote_to_bytes

__all__ = [
    "quote_header_value",
    "unquote_header_value",
    "parse_list_header",
    "parse_dict_header",
    "parse_options_header",
    "dump_options_header",
    "dump_header",
    "is_token",
]

_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# One list element: runs of quoted strings and non-comma text.  No suffix is required
# after the repetition, so the engine never backtracks into it.
_LIST_ITEM_RE = re.compile(r'(?:"(?:[^"\\]|\\.)*"|[^,"]+|")+')
# One ";name[*[N][*]]=value" parameter of an options header.
_PARAM_RE = re.compile(
    r';\s*([^\s=;*"]+)(\*(?:\d+\*?)?)?\s*(?:=\s*("(?:[^"\\]|\\.)*"(?=\s*(?:;|$))|[^;]*))?'
)
_UNESCAPE_RE = re.compile(r"\\(.)")


def is_token(value: str) -> bool:
    """True if ``value`` is a non-empty RFC 9110 token (valid header / cookie name)."""
    return _TOKEN_RE.fullmatch(value) is not None


def quote_header_value(value: Any, allow_token: bool = True) -> str:
    """Quote ``value`` for a header unless it is a plain token."""
    value = str(value)
    if not value:
        return '""'
    if allow_token and _TOKEN_CHARS.issuperset(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def unquote_header_value(value: str) -> str:
    """Remove quotes and backslash escapes from a quoted-string; other values unchanged."""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
        if "\\" in value:
            value = _UNESCAPE_RE.sub(r"\1", value)
    return value


def _split_list(value: str) -> list[str]:
    """Split on commas outside quoted strings; items stripped, empty ones dropped."""
    out = []
    for m in _LIST_ITEM_RE.finditer(value):
        item = m.group().strip()
        if item:
            out.append(item)
    return out


def parse_list_header(value: str | None) -> list[str]:
    """Parse a comma-separated list header (``a, "b, c"`` -> ``["a", "b, c"]``)."""
    if not value:
        return []
    return [unquote_header_value(item) for item in _split_list(value)]


def _decode_rfc2231(value: str) -> str:
    """Decode ``charset'lang'percent-encoded`` (RFC 2231 / RFC 8187)."""
    charset, _, rest = value.partition("'")
    _lang, sep, encoded = rest.partition("'")
    if not sep:
        encoded = value
        charset = "utf-8"
    raw = unquote_to_bytes(encoded)
    try:
        return raw.decode(charset or "utf-8", "replace")
    except LookupError:
        return raw.decode("utf-8", "replace")


def parse_dict_header(value: str | None) -> dict[str, str | None]:
    """Parse ``a=1, b="x y", c`` into a dict (``c`` -> None); ``key*=`` is RFC 2231."""
    result: dict[str, str | None] = {}
    if not value:
        return result
    for item in _split_list(value):
        key, eq, val = item.partition("=")
        key = key.strip()
        if not key:
            continue
        if not eq:
            result[key] = None
            continue
        val = val.strip()
        if key[-1] == "*":
            result[key[:-1].rstrip()] = _decode_rfc2231(unquote_header_value(val))
        else:
            result[key] = unquote_header_value(val)
    return result


def parse_options_header(value: str | None) -> tuple[str, dict[str, str]]:
    """Parse ``text/html; charset=utf-8`` into ``("text/html", {"charset": "utf-8"})``.

    Parameter names are lower-cased, quoted values unquoted, RFC 2231 extended values
    (``filename*=UTF-8''%e2%82%ac.txt``) and continuations (``t*0``, ``t*1``) decoded;
    parameters without a value are dropped.
    """
    if not value:
        return "", {}
    semi = value.find(";")
    if semi == -1:
        return value.strip(), {}
    options: dict[str, str] = {}
    extended: dict[str, str] = {}
    parts: dict[str, list[tuple[int, bool, str]]] = {}
    for m in _PARAM_RE.finditer(value, semi):
        raw = m.group(3)
        if raw is None:
            continue
        key = m.group(1).lower()
        star = m.group(2)
        raw = raw.strip()
        if raw[:1] == '"':
            raw = unquote_header_value(raw)
        if star is None:
            options[key] = raw
        elif star == "*":
            extended[key] = _decode_rfc2231(raw)
        else:
            encoded = star[-1] == "*" and len(star) > 1
            index = int(star[1:-1] if encoded else star[1:])
            parts.setdefault(key, []).append((index, encoded, raw))
    for key, items in parts.items():
        items.sort(key=lambda p: p[0])
        charset = "utf-8"
        chunks: list[bytes] = []
        for i, (_idx, encoded, text) in enumerate(items):
            if encoded:
                if i == 0 and text.count("'") >= 2:
                    charset, _, rest = text.partition("'")
                    text = rest.partition("'")[2]
                    charset = charset or "utf-8"
                chunks.append(unquote_to_bytes(text))
            else:
                chunks.append(text.encode("utf-8"))
        try:
            extended[key] = b"".join(chunks).decode(charset, "replace")
        except LookupError:
            extended[key] = b"".join(chunks).decode("utf-8", "replace")
    if extended:
        options.update(extended)
    return value[:semi].strip(), options


def dump_options_header(header: str | None, options: Mapping[str, Any]) -> str:
    """Build ``header; key=value; ...`` quoting values as needed; None values are skipped."""
    segments = [header] if header is not None else []
    for key, value in options.items():
        if value is None:
            continue
        if key[-1:] == "*":
            segments.append(f"{key}={value}")
        else:
            segments.append(f"{key}={quote_header_value(value)}")
    return "; ".join(segments)


def dump_header(iterable: Mapping[str, Any] | Iterable[Any]) -> str:
    """Build a comma-separated header from a list (``a, "b c"``) or dict (``a=1, b``)."""
    if isinstance(iterable, Mapping):
        items = []
        for key, value in iterable.items():
            if value is None:
                items.append(key)
            elif key[-1:] == "*":
                items.append(f"{key}={value}")
            else:
                items.append(f"{key}={quote_header_value(value)}")
        return ", ".join(items)
    return ", ".join(quote_header_value(x) for x in iterable)
