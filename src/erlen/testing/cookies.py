"""The test client's cookie jar: a small browser model of RFC 6265.

Cookies set by responses are kept per (domain, path, name) and sent back only
where a browser would send them: the host matches (exactly for host-only
cookies, or as a subdomain of ``Domain=``), the request path is under the
cookie's path, the cookie has not expired (``Max-Age`` wins over ``Expires``),
and ``Secure`` cookies only over https.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..http.dates import parse_date

__all__ = ["Cookie", "CookieJar"]

_ESCAPE = re.compile(r"\\(?:([0-3][0-7]{2})|(.))")


def _unescape(m: re.Match[str]) -> str:
    if m.group(1):
        return chr(int(m.group(1), 8))
    return m.group(2)


def _decode_value(value: str) -> str:
    """A cookie value as the server's cookie parser would see it (quotes removed)."""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
        if "\\" in value:
            value = _ESCAPE.sub(_unescape, value)
    return value


@dataclass(slots=True)
class Cookie:
    """One stored cookie (Werkzeug's ``Cookie`` fields).

    ``key``/``value`` are as sent on the wire; ``decoded_key``/``decoded_value``
    are unquoted.
    """

    key: str
    value: str
    decoded_key: str
    decoded_value: str
    expires: datetime | None
    max_age: int | None
    domain: str
    origin_only: bool
    path: str
    secure: bool | None
    http_only: bool | None
    same_site: str | None
    partitioned: bool = False
    #: Absolute expiry (``time.time()`` seconds) or None for a session cookie.
    _expiry: float | None = field(default=None, repr=False, compare=False)

    def _matches_request(self, server_name: str, path: str, secure: bool = False) -> bool:
        """Whether a browser would send this cookie to ``server_name`` + ``path``."""
        domain = self.domain
        if server_name != domain and (
            self.origin_only
            or not server_name.endswith(domain)
            or server_name[-len(domain) - 1] != "."
        ):
            return False
        cpath = self.path
        if path != cpath and not (
            path.startswith(cpath) and (cpath.endswith("/") or path[len(cpath)] == "/")
        ):
            return False
        return not (self.secure and not secure)

    def _to_request_header(self) -> str:
        """The ``name=value`` pair for the Cookie request header."""
        return f"{self.key}={self.value}"

    @property
    def _storage_key(self) -> tuple[str, str, str]:
        return self.domain, self.path, self.decoded_key

    @property
    def _expired(self) -> bool:
        return self._expiry is not None and self._expiry <= time.time()

    @property
    def _should_delete(self) -> bool:
        """A cookie that arrives already expired deletes the stored one."""
        return self._expired

    @classmethod
    def _from_response_header(cls, server_name: str, path: str, header: str) -> Cookie:
        """Parse a ``Set-Cookie`` value received from ``server_name`` at ``path``."""
        pair, _, attrs = header.partition(";")
        key, _, value = pair.partition("=")
        key = key.strip()
        value = value.strip()
        decoded_value = _decode_value(value)
        params: dict[str, str | None] = {}
        for item in attrs.split(";"):
            name, sep, val = item.partition("=")
            name = name.strip().lower()
            if name:
                params[name] = val.strip() if sep else None
        max_age: int | None = None
        if "max-age" in params:
            try:
                max_age = int(params["max-age"] or 0)
            except ValueError:
                max_age = None
        expires = parse_date(params.get("expires")) if params.get("expires") else None
        if max_age is not None:
            expiry: float | None = time.time() + max_age if max_age > 0 else 0.0
        elif expires is not None:
            expiry = expires.timestamp()
        else:
            expiry = None
        domain = (params.get("domain") or "").lstrip(".").lower()
        default_path = path.rpartition("/")[0] or "/"
        cookie_path = params.get("path") or ""
        if not cookie_path.startswith("/"):
            cookie_path = default_path
        return cls(
            key=key,
            value=value,
            decoded_key=key,
            decoded_value=decoded_value,
            expires=expires,
            max_age=max_age,
            domain=domain or server_name,
            origin_only=not domain,
            path=cookie_path,
            secure="secure" in params,
            http_only="httponly" in params,
            same_site=params.get("samesite"),
            partitioned="partitioned" in params,
            _expiry=expiry,
        )


class CookieJar:
    """The client's cookies, keyed by (domain, path, name)."""

    __slots__ = ("_cookies",)

    def __init__(self) -> None:
        self._cookies: dict[tuple[str, str, str], Cookie] = {}

    def __iter__(self) -> Any:
        return iter(list(self._cookies.values()))

    def __len__(self) -> int:
        return len(self._cookies)

    def store(self, cookie: Cookie) -> None:
        """Keep ``cookie``, or delete the stored one when it arrives expired."""
        if cookie._should_delete:
            self._cookies.pop(cookie._storage_key, None)
        else:
            self._cookies[cookie._storage_key] = cookie

    def update_from_headers(self, server_name: str, path: str, headers: Iterable[str]) -> None:
        """Store the cookies of a response's ``Set-Cookie`` header values."""
        for header in headers:
            cookie = Cookie._from_response_header(server_name, path, header)
            if cookie.key:
                self.store(cookie)

    def get(self, key: str, domain: str, path: str) -> Cookie | None:
        """The stored cookie, None if absent or expired."""
        cookie = self._cookies.get((domain, path, key))
        if cookie is not None and cookie._expired:
            del self._cookies[(domain, path, key)]
            return None
        return cookie

    def delete(self, key: str, domain: str, path: str) -> None:
        """Forget a cookie."""
        self._cookies.pop((domain, path, key), None)

    def request_header(self, server_name: str, path: str, secure: bool) -> str:
        """The Cookie header value for a request (empty when nothing matches)."""
        if not self._cookies:
            return ""
        out = []
        expired = []
        for skey, cookie in self._cookies.items():
            if cookie._expired:
                expired.append(skey)
            elif cookie._matches_request(server_name, path, secure):
                out.append(cookie._to_request_header())
        for skey in expired:
            del self._cookies[skey]
        return "; ".join(out)
