"""The errors of ``erlen.jwt``, named as Flask-JWT-Extended's (``flask_jwt_extended.exceptions``).

``JWTManager`` turns each into a JSON answer (``{"msg": ...}``) through its error loaders, so
a view never sees them unless it calls ``verify_jwt_in_request`` itself.
"""

from __future__ import annotations

from typing import Any


class JWTExtendedException(Exception):
    """Base class of the errors this battery raises (PyJWT's own errors are also handled)."""


class JWTDecodeError(JWTExtendedException):
    """The token decoded but is not one of ours (a required claim is missing): 422."""


class InvalidHeaderError(JWTExtendedException):
    """The ``Authorization`` header is there but not ``Bearer <JWT>``: 422."""


class InvalidQueryParamError(JWTExtendedException):
    """The query parameter lacks the configured prefix: 422."""


class NoAuthorizationError(JWTExtendedException):
    """No token where one was looked for: 401 through ``unauthorized_loader``."""


class CSRFError(JWTExtendedException):
    """A cookie token on a state-changing request without a matching CSRF value: 401."""


class WrongTokenError(JWTExtendedException):
    """A refresh token where an access token is wanted, or the reverse: 422."""


class _TokenError(JWTExtendedException):
    """An error about a token that decoded: carries its header and claims for the loader."""

    def __init__(self, message: str, jwt_header: dict[str, Any], jwt_data: dict[str, Any]):
        super().__init__(message)
        self.jwt_header = jwt_header
        self.jwt_data = jwt_data


class RevokedTokenError(_TokenError):
    """``token_in_blocklist_loader`` said the token is revoked: 401."""


class FreshTokenRequired(_TokenError):
    """The view wants a fresh token: 401."""


class UserLookupError(_TokenError):
    """``user_lookup_loader`` returned None: 401."""


class UserClaimsVerificationError(_TokenError):
    """``token_verification_loader`` returned False: 400."""
