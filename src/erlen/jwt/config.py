"""``config``: the current app's ``JWT_*`` settings, checked, as Flask-JWT-Extended's
``flask_jwt_extended.config.config`` (apps and their tests read ``config.decode_key``,
``config.algorithm``, ``config.json_encoder`` … to make or check tokens themselves).

Read-only and live: every attribute reads ``current_app.config`` when asked (settings are
changed in ``app.config``), so it needs an app context. A bad setting raises RuntimeError
saying which.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, Literal

from ..globals import current_app
from . import tokens


class JSONEncoder(json.JSONEncoder):
    """Encodes claims as the app's JSON provider does (dates, UUIDs, …) for PyJWT."""

    def default(self, o: Any) -> Any:
        from ..json.provider import DefaultJSONProvider

        default = getattr(current_app.json, "default", DefaultJSONProvider.default)
        return default(o)


def _setting(key: str) -> property:
    def read(self: _Config) -> Any:
        return current_app.config[key]

    read.__doc__ = f"``app.config[{key!r}]``"
    return property(read)


def _expires(key: str) -> property:
    def read(self: _Config) -> timedelta | Literal[False]:
        value = current_app.config[key]
        if value is False:
            return False
        return tokens._delta(value, key)  # type: ignore[return-value]  # None only for False

    read.__doc__ = f"``app.config[{key!r}]`` as a timedelta (int: seconds), or False: no expiry"
    return property(read)


class _Config:
    """The settings Flask-JWT-Extended's ``config`` answers, under its attribute names."""

    @property
    def algorithm(self) -> str:
        """``JWT_ALGORITHM``, the signing algorithm."""
        return current_app.config["JWT_ALGORITHM"]  # type: ignore[no-any-return]

    @property
    def is_asymmetric(self) -> bool:
        """True for RS*/ES*/PS*/EdDSA: keys are ``JWT_PRIVATE_KEY`` / ``JWT_PUBLIC_KEY``."""
        return not tokens._symmetric(self.algorithm)

    @property
    def encode_key(self) -> Any:
        """The signing key (the secret for HS*, else ``JWT_PRIVATE_KEY``)."""
        return tokens.encode_key(current_app.config)

    @property
    def decode_key(self) -> Any:
        """The verifying key (the secret for HS*, else ``JWT_PUBLIC_KEY``)."""
        return tokens.decode_key(current_app.config)

    @property
    def decode_algorithms(self) -> list[str]:
        """``JWT_DECODE_ALGORITHMS`` plus ``JWT_ALGORITHM`` (never ``none``)."""
        return tokens.decode_algorithms(current_app.config)

    @property
    def token_location(self) -> Any:
        """``JWT_TOKEN_LOCATION`` checked (a single string answers as a 1-tuple)."""
        locations = current_app.config["JWT_TOKEN_LOCATION"]
        tokens.token_locations(current_app.config)  # raises on a bad setting
        return (locations,) if isinstance(locations, str) else locations

    @property
    def jwt_in_headers(self) -> bool:
        return "headers" in self.token_location

    @property
    def jwt_in_cookies(self) -> bool:
        return "cookies" in self.token_location

    @property
    def jwt_in_query_string(self) -> bool:
        return "query_string" in self.token_location

    @property
    def jwt_in_json(self) -> bool:
        return "json" in self.token_location

    @property
    def header_name(self) -> str:
        """``JWT_HEADER_NAME``, which cannot be empty."""
        name = current_app.config["JWT_HEADER_NAME"]
        if not name:
            raise RuntimeError("JWT_HEADER_NAME cannot be empty")
        return name  # type: ignore[no-any-return]

    @property
    def cookie_max_age(self) -> int | None:
        """None (a browser-session cookie) unless ``JWT_SESSION_COOKIE`` is False: a year."""
        return None if self.session_cookie else tokens.COOKIE_MAX_AGE

    @property
    def exempt_methods(self) -> frozenset[str]:
        """Methods never asked for a token (CORS preflight)."""
        return frozenset({"OPTIONS"})

    @property
    def json_encoder(self) -> type[json.JSONEncoder]:
        """The encoder PyJWT gets for claims: the app's JSON provider's ``default``."""
        return JSONEncoder

    access_expires = _expires("JWT_ACCESS_TOKEN_EXPIRES")
    refresh_expires = _expires("JWT_REFRESH_TOKEN_EXPIRES")
    header_type = _setting("JWT_HEADER_TYPE")
    query_string_name = _setting("JWT_QUERY_STRING_NAME")
    query_string_value_prefix = _setting("JWT_QUERY_STRING_VALUE_PREFIX")
    access_cookie_name = _setting("JWT_ACCESS_COOKIE_NAME")
    refresh_cookie_name = _setting("JWT_REFRESH_COOKIE_NAME")
    access_cookie_path = _setting("JWT_ACCESS_COOKIE_PATH")
    refresh_cookie_path = _setting("JWT_REFRESH_COOKIE_PATH")
    cookie_secure = _setting("JWT_COOKIE_SECURE")
    cookie_domain = _setting("JWT_COOKIE_DOMAIN")
    session_cookie = _setting("JWT_SESSION_COOKIE")
    cookie_samesite = _setting("JWT_COOKIE_SAMESITE")
    json_key = _setting("JWT_JSON_KEY")
    refresh_json_key = _setting("JWT_REFRESH_JSON_KEY")
    cookie_csrf_protect = _setting("JWT_COOKIE_CSRF_PROTECT")
    csrf_request_methods = _setting("JWT_CSRF_METHODS")
    csrf_in_cookies = _setting("JWT_CSRF_IN_COOKIES")
    access_csrf_cookie_name = _setting("JWT_ACCESS_CSRF_COOKIE_NAME")
    refresh_csrf_cookie_name = _setting("JWT_REFRESH_CSRF_COOKIE_NAME")
    access_csrf_cookie_path = _setting("JWT_ACCESS_CSRF_COOKIE_PATH")
    refresh_csrf_cookie_path = _setting("JWT_REFRESH_CSRF_COOKIE_PATH")
    access_csrf_header_name = _setting("JWT_ACCESS_CSRF_HEADER_NAME")
    refresh_csrf_header_name = _setting("JWT_REFRESH_CSRF_HEADER_NAME")
    csrf_check_form = _setting("JWT_CSRF_CHECK_FORM")
    access_csrf_field_name = _setting("JWT_ACCESS_CSRF_FIELD_NAME")
    refresh_csrf_field_name = _setting("JWT_REFRESH_CSRF_FIELD_NAME")
    identity_claim_key = _setting("JWT_IDENTITY_CLAIM")
    error_msg_key = _setting("JWT_ERROR_MESSAGE_KEY")
    decode_audience = _setting("JWT_DECODE_AUDIENCE")
    encode_audience = _setting("JWT_ENCODE_AUDIENCE")
    encode_issuer = _setting("JWT_ENCODE_ISSUER")
    decode_issuer = _setting("JWT_DECODE_ISSUER")
    leeway = _setting("JWT_DECODE_LEEWAY")
    verify_sub = _setting("JWT_VERIFY_SUB")
    encode_nbf = _setting("JWT_ENCODE_NBF")


#: The one instance, as ``from flask_jwt_extended.config import config``.
config = _Config()

__all__ = ["JSONEncoder", "config"]
