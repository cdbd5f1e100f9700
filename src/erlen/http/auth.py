"""``Authorization`` / ``WWW-Authenticate`` header values (Basic, Bearer, parameters)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from erlen.http.headerparse import dump_header, parse_dict_header

__all__ = ["Authorization", "WWWAuthenticate"]


class Authorization:
    """Parsed ``Authorization`` header: Basic gives ``username``/``password``, token schemes
    (Bearer) give ``token``, others give ``parameters`` (readable as attributes too)."""

    __slots__ = ("type", "parameters", "token")

    def __init__(
        self, auth_type: str, data: dict[str, str | None] | None = None, token: str | None = None
    ) -> None:
        self.type = auth_type
        self.parameters: dict[str, str | None] = {} if data is None else data
        self.token = token

    def __getattr__(self, name: str) -> str | None:
        if name.startswith("__"):
            raise AttributeError(name)
        return self.parameters.get(name)

    def __getitem__(self, name: str) -> str | None:
        return self.parameters.get(name)

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.parameters.get(key, default)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Authorization):
            return NotImplemented
        return (self.type, self.parameters, self.token) == (
            other.type,
            other.parameters,
            other.token,
        )

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def from_header(cls, value: str | None) -> Authorization | None:
        """Parse a header value; None when missing or malformed (never raises)."""
        if not value:
            return None
        scheme, _, rest = value.strip().partition(" ")
        scheme = scheme.lower()
        rest = rest.strip()
        if not scheme:
            return None
        if scheme == "basic":
            try:
                decoded = base64.b64decode(rest, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeError, ValueError):
                return None
            username, _, password = decoded.partition(":")
            return cls("basic", {"username": username, "password": password})
        if not rest:
            return cls(scheme, {}, None)
        if "=" in rest.rstrip("="):
            return cls(scheme, parse_dict_header(rest), None)
        return cls(scheme, None, rest)

    def to_header(self) -> str:
        """Serialise back to a header value."""
        if self.type == "basic":
            raw = f"{self.username}:{self.password}".encode()
            return "Basic " + base64.b64encode(raw).decode("ascii")
        if self.token is not None:
            return f"{self.type.title()} {self.token}"
        return f"{self.type.title()} {dump_header(self.parameters)}"

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_header()}>"


class WWWAuthenticate:
    """A ``WWW-Authenticate`` challenge, e.g. ``WWWAuthenticate("basic", {"realm": "x"})``."""

    __slots__ = ("type", "parameters", "token")

    def __init__(
        self, auth_type: str, values: dict[str, str | None] | None = None, token: str | None = None
    ) -> None:
        self.type = auth_type.lower()
        self.parameters: dict[str, str | None] = dict(values or {})
        self.token = token

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self.parameters.get(name)

    @classmethod
    def from_header(cls, value: str | None) -> WWWAuthenticate | None:
        if not value:
            return None
        scheme, _, rest = value.strip().partition(" ")
        rest = rest.strip()
        if rest and "=" in rest.rstrip("="):
            return cls(scheme, parse_dict_header(rest))
        return cls(scheme, None, rest or None)

    def to_header(self) -> str:
        if self.token is not None:
            return f"{self.type.title()} {self.token}"
        if self.parameters:
            return f"{self.type.title()} {dump_header(self.parameters)}"
        return self.type.title()

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_header()!r}>"
