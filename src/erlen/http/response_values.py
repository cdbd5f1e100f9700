"""How a response's status line and plain header list are made.

The values ``Response`` builds for every plain answer (and ``plain_answer`` for the app's
answers no hook observes): Werkzeug's status lines, Content-Type values with their charset,
Content-Length strings, and a view's ``{name: value}`` header dict validated as ``Headers``
would validate it. Precomputed or memoised here, because they are on every response's path.
"""

from __future__ import annotations

from typing import Any

from ..status import HTTP_STATUS_CODES
from .headers import _check_name

__all__ = [
    "CT_CACHE",
    "LENGTHS",
    "STATUS_LINES",
    "clean_status",
    "get_content_type",
    "plain_answer",
    "plain_header_list",
]

# "200 OK", "404 NOT FOUND", ...: Werkzeug's upper-case status lines, built once.
STATUS_LINES: dict[int, str] = {
    code: f"{code} {phrase.upper()}" for code, phrase in HTTP_STATUS_CODES.items()
}
_CHARSET_MIMETYPES = frozenset(
    {
        "application/ecmascript",
        "application/javascript",
        "application/sql",
        "application/xml",
        "application/xml-dtd",
        "application/xml-external-parsed-entity",
    }
)
CT_CACHE: dict[str, str] = {}
#: Content-Length values of bodies under 2 KiB, made once (~100 KB): on CPython 3.11
#: str(len(data)) costs twice a tuple index. Read as ``LENGTHS[n] if n < 2048 else str(n)``.
LENGTHS = tuple(str(n) for n in range(2048))


def get_content_type(mimetype: str, charset: str = "utf-8") -> str:
    """Add ``; charset=utf-8`` to textual mimetypes, as Werkzeug does."""
    if charset == "utf-8":
        ct = CT_CACHE.get(mimetype)
        if ct is not None:
            return ct
    if "\r" in mimetype or "\n" in mimetype or "\0" in mimetype:
        raise ValueError("Header values must not contain CR, LF or NUL characters.")
    if mimetype.startswith("text/") or mimetype in _CHARSET_MIMETYPES or mimetype.endswith("+xml"):
        ct = f"{mimetype}; charset={charset}"
    else:
        ct = mimetype
    if charset == "utf-8" and len(CT_CACHE) < 256:
        CT_CACHE[mimetype] = ct
    return ct


# Validated header name -> 0, or 1 for Content-Type, 2 for Content-Length (bounded memo).
_NAME_KINDS: dict[str, int] = {}


def _name_kind(key: Any) -> int:
    if key.__class__ is not str:
        raise TypeError(f"Header names must be str, not {type(key).__name__}.")
    _check_name(key)
    lkey = key.lower()
    kind = 1 if lkey == "content-type" else 2 if lkey == "content-length" else 0
    if len(_NAME_KINDS) < 1024:
        _NAME_KINDS[key] = kind
    return kind


def _status_line(code: int) -> str:
    line = STATUS_LINES.get(code)
    return line if line is not None else f"{code} UNKNOWN"


def clean_status(value: str | int) -> tuple[str, int]:
    """Normalise a status given as int or str to ``(status_line, code)``."""
    if isinstance(value, int):
        code = int(value)
        return _status_line(code), code
    if not isinstance(value, str):
        raise TypeError("Invalid status argument: expected int or str.")
    value = value.strip()
    if not value:
        raise ValueError("Empty status argument")
    code_str, sep, _ = value.partition(" ")
    try:
        code = int(code_str)
    except ValueError:
        return f"0 {value}", 0  # only a reason phrase
    if sep:
        return value, code
    return _status_line(code), code


#: Header items (as a tuple) found valid, and whether they hold a Content-Type (bounded): a
#: view returns the same few header dicts request after request.
_CHECKED_ITEMS: dict[tuple[tuple[Any, Any], ...], bool] = {}


def _check_items(lst: list[tuple[Any, Any]]) -> bool | None:
    """Validate header items as ``Headers`` would: whether they hold a Content-Type, or None
    for what only the general path takes (a non-str value, a Content-Length)."""
    has_ct = False
    kinds = _NAME_KINDS
    for key, value in lst:
        if value.__class__ is not str:
            return None
        kind = kinds.get(key)
        if kind is None:
            kind = _name_kind(key)
        if kind:
            if kind == 2:
                return None
            has_ct = True
        if "\n" in value or "\r" in value or "\0" in value:
            raise ValueError("Header values must not contain CR, LF or NUL characters.")
    return has_ct


def plain_header_list(
    headers: Any, default_mimetype: str | None, mimetype: str | None, length: int
) -> list[tuple[str, str]] | None:
    """The header list of a str or bytes body of ``length`` bytes with ``headers`` (None or a
    ``{str: str}`` dict), validated as ``Headers`` would, plus ``Content-Type`` from
    ``default_mimetype`` if the dict has none, and ``Content-Length`` last.

    None means "take the general path": a non-str value, a ``Content-Length`` to overwrite,
    or both a ``Content-Type`` header and a ``mimetype`` argument. Every ``(body, status,
    headers)`` view return comes here, from ``Response()`` or ``plain_answer``.
    """
    if headers is None:
        lst: list[tuple[str, str]] = []
        has_ct = False
    elif type(headers) is dict:
        lst = list(headers.items())
        try:
            items = tuple(lst)
            found = _CHECKED_ITEMS.get(items)
        except TypeError:  # an unhashable value: not a plain str one
            return None
        if found is None:
            found = _check_items(lst)
            if found is None:
                return None
            if len(_CHECKED_ITEMS) < 512:
                _CHECKED_ITEMS[items] = found
        has_ct = found
        if has_ct:
            if mimetype is not None:
                return None
            lst.append(("Content-Length", LENGTHS[length] if length < 2048 else str(length)))
            return lst
    else:
        return None
    if default_mimetype is not None:
        # values added here are trusted (get_content_type rejects CR/LF)
        lst.append(
            ("Content-Type", CT_CACHE.get(default_mimetype) or get_content_type(default_mimetype))
        )
    lst.append(("Content-Length", LENGTHS[length] if length < 2048 else str(length)))
    return lst


# Statuses whose plain answers are sent with their headers as built (1xx, 204 and 304 need
# their body and Content-Length taken away: Response does that)
_PLAIN_STATUS_LINES = {
    code: line for code, line in STATUS_LINES.items() if code >= 200 and code not in (204, 304)
}


def plain_answer(
    rv: Any, default_mimetype: str | None
) -> tuple[str, list[tuple[str, str]], bytes] | None:
    """A view's ``str`` or ``(str, int, {str: str})`` return value as what to send (status
    line, header list, body), exactly as ``Response(...)`` would send it; None for any other
    value. The app uses it when no hook or signal could observe a ``Response`` object."""
    rv_type = type(rv)
    if rv_type is str:
        data = rv.encode()
        status = "200 OK"
        headers = None
    elif rv_type is tuple and len(rv) == 3:
        body, code, headers = rv
        if type(body) is not str or type(code) is not int:
            return None
        status = _PLAIN_STATUS_LINES.get(code)  # type: ignore[assignment]
        if status is None:
            return None
        data = body.encode()
    else:
        return None
    lst = plain_header_list(headers, default_mimetype, None, len(data))
    if lst is None:
        return None
    return status, lst, data
