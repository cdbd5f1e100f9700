"""``flask_jwt_extended.utils``'s public names (the getters, making and decoding tokens, the
cookie helpers), for code importing them from there; they live in ``current`` and ``view``."""

from __future__ import annotations

from typing import Any

from .current import (
    current_user,
    get_current_user,
    get_jwt,
    get_jwt_header,
    get_jwt_identity,
    get_jwt_request_location,
)
from .view import (
    create_access_token,
    create_refresh_token,
    decode_token,
    get_csrf_token,
    get_jti,
    get_unverified_jwt_headers,
    set_access_cookies,
    set_refresh_cookies,
    unset_access_cookies,
    unset_jwt_cookies,
    unset_refresh_cookies,
)


def current_user_context_processor() -> dict[str, Any]:
    """``{"current_user": current_user}`` for templates (``JWTManager(app,
    add_context_processor=True)`` registers it)."""
    return {"current_user": current_user}


__all__ = [
    "create_access_token",
    "create_refresh_token",
    "current_user",
    "current_user_context_processor",
    "decode_token",
    "get_csrf_token",
    "get_current_user",
    "get_jti",
    "get_jwt",
    "get_jwt_header",
    "get_jwt_identity",
    "get_jwt_request_location",
    "get_unverified_jwt_headers",
    "set_access_cookies",
    "set_refresh_cookies",
    "unset_access_cookies",
    "unset_jwt_cookies",
    "unset_refresh_cookies",
]
