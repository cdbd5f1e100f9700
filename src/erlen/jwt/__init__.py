"""JSON Web Tokens for erlen apps: Flask-JWT-Extended 4's API on PyJWT.

``from flask_jwt_extended import ...`` becomes ``from erlen.jwt import ...``. Importing
``erlen`` does not import this package (nor PyJWT): apps that do not use it pay nothing.
See ``docs/jwt.md``.
"""

from __future__ import annotations

from .current import (
    current_user,
    get_current_user,
    get_jwt,
    get_jwt_header,
    get_jwt_identity,
    get_jwt_request_location,
)
from .manager import JWTManager
from .view import (
    create_access_token,
    create_refresh_token,
    decode_token,
    get_csrf_token,
    get_jti,
    get_unverified_jwt_headers,
    jwt_required,
    set_access_cookies,
    set_refresh_cookies,
    unset_access_cookies,
    unset_jwt_cookies,
    unset_refresh_cookies,
    verify_jwt_in_request,
)

__all__ = [
    "JWTManager",
    "create_access_token",
    "create_refresh_token",
    "current_user",
    "decode_token",
    "get_csrf_token",
    "get_current_user",
    "get_jti",
    "get_jwt",
    "get_jwt_header",
    "get_jwt_identity",
    "get_jwt_request_location",
    "get_unverified_jwt_headers",
    "jwt_required",
    "set_access_cookies",
    "set_refresh_cookies",
    "unset_access_cookies",
    "unset_jwt_cookies",
    "unset_refresh_cookies",
    "verify_jwt_in_request",
]
