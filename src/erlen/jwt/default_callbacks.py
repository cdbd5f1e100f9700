"""What ``JWTManager`` does until an app registers its own loader, under
Flask-JWT-Extended's names (``flask_jwt_extended.default_callbacks``): an app's loader can
fall back to one of these (e.g. answer as the default, then log).

The answers are JSON ``{JWT_ERROR_MESSAGE_KEY: message}`` with the extension's status codes.
"""

from __future__ import annotations

from typing import Any

from ..globals import current_app
from ..json import jsonify
from .config import config


def _answer(message: str, status: int) -> Any:
    return jsonify({current_app.config["JWT_ERROR_MESSAGE_KEY"]: message}), status


def default_additional_claims_callback(userdata: Any) -> dict[str, Any]:
    """No claims beyond the standard ones."""
    return {}


def default_jwt_headers_callback(default_headers: Any) -> dict[str, Any]:
    """No JOSE headers beyond PyJWT's."""
    return {}


def default_user_identity_callback(userdata: Any) -> Any:
    """The identity as given (it must be a string: see decision 018)."""
    return userdata


def default_blocklist_callback(jwt_headers: dict[str, Any], jwt_data: dict[str, Any]) -> bool:
    """No token is revoked."""
    return False


def default_token_verification_callback(
    _jwt_header: dict[str, Any], _jwt_data: dict[str, Any]
) -> bool:
    """Every token's claims are accepted."""
    return True


def default_expired_token_callback(_jwt_header: dict[str, Any], _jwt_data: dict[str, Any]) -> Any:
    """401 ``Token has expired``."""
    return _answer("Token has expired", 401)


def default_invalid_token_callback(error_string: str) -> Any:
    """422 with PyJWT's or the battery's reason."""
    return _answer(error_string, 422)


def default_unauthorized_callback(error_string: str) -> Any:
    """401 with where the token was looked for (or the CSRF failure)."""
    return _answer(error_string, 401)


def default_needs_fresh_token_callback(
    jwt_header: dict[str, Any], jwt_data: dict[str, Any]
) -> Any:
    """401 ``Fresh token required``."""
    return _answer("Fresh token required", 401)


def default_revoked_token_callback(jwt_header: dict[str, Any], jwt_data: dict[str, Any]) -> Any:
    """401 ``Token has been revoked``."""
    return _answer("Token has been revoked", 401)


def default_user_lookup_error_callback(
    _jwt_header: dict[str, Any], jwt_data: dict[str, Any]
) -> Any:
    """401 ``Error loading the user <identity>``."""
    identity = jwt_data[current_app.config["JWT_IDENTITY_CLAIM"]]
    return _answer(f"Error loading the user {identity}", 401)


def default_token_verification_failed_callback(
    _jwt_header: dict[str, Any], _jwt_data: dict[str, Any]
) -> Any:
    """400 ``User claims verification failed``."""
    return _answer("User claims verification failed", 400)


def default_decode_key_callback(jwt_header: dict[str, Any], jwt_data: dict[str, Any]) -> Any:
    """The configured verifying key."""
    return config.decode_key


def default_encode_key_callback(identity: Any) -> Any:
    """The configured signing key."""
    return config.encode_key
