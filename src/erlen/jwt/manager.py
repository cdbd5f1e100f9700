"""``JWTManager``: the per-app settings, the loaders an app registers, and the error answers.

Flask-JWT-Extended 4's API: ``JWTManager(app)`` or ``init_app``; the decorators
``user_lookup_loader``, ``additional_claims_loader``, ``token_in_blocklist_loader``, … replace
the default callbacks; every refusal becomes a JSON answer ``{"msg": ...}`` with the same
status codes (401 missing/expired/revoked/CSRF, 422 malformed or badly signed, 400 failed
claims verification). Each refusal is logged on one line (never the token or a key).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import jwt as pyjwt

from ..globals import request
from . import default_callbacks as dc
from . import tokens
from .config import JSONEncoder
from .exceptions import (
    CSRFError,
    FreshTokenRequired,
    InvalidHeaderError,
    InvalidQueryParamError,
    JWTDecodeError,
    NoAuthorizationError,
    RevokedTokenError,
    UserClaimsVerificationError,
    UserLookupError,
    WrongTokenError,
)

EXTENSION_KEY = "flask-jwt-extended"  # Flask-JWT-Extended's key: code reading it keeps working
_log = logging.getLogger("erlen.jwt")

F = Callable[..., Any]


class JWTManager:
    """The JWT battery of one or more apps (``app.extensions["flask-jwt-extended"]``)."""

    def __init__(self, app: Any = None, add_context_processor: bool = False) -> None:
        self._user_identity_callback: F = dc.default_user_identity_callback
        self._user_claims_callback: F = dc.default_additional_claims_callback
        self._jwt_additional_header_callback: F = dc.default_jwt_headers_callback
        # None: not registered, skipped (no call per request)
        self._user_lookup_callback: F | None = None
        self._token_in_blocklist_callback: F | None = None
        self._token_verification_callback: F | None = None
        self._encode_key_callback: F | None = None
        self._decode_key_callback: F | None = None
        self._expired_token_callback: F = dc.default_expired_token_callback
        self._invalid_token_callback: F = dc.default_invalid_token_callback
        self._unauthorized_callback: F = dc.default_unauthorized_callback
        self._needs_fresh_token_callback: F = dc.default_needs_fresh_token_callback
        self._revoked_token_callback: F = dc.default_revoked_token_callback
        self._user_lookup_error_callback: F = dc.default_user_lookup_error_callback
        self._token_verification_failed_callback: F = (
            dc.default_token_verification_failed_callback
        )
        if app is not None:
            self.init_app(app, add_context_processor)

    def init_app(self, app: Any, add_context_processor: bool = False) -> None:
        """Set the ``JWT_*`` defaults, register the error handlers, remember this manager."""
        app.extensions[EXTENSION_KEY] = self
        for key, value in tokens.DEFAULTS.items():
            app.config.setdefault(key, value)
        self._set_error_handlers(app)
        if add_context_processor:
            from .current import current_user

            app.context_processor(lambda: {"current_user": current_user})

    # -- the error answers ---------------------------------------------------------------

    def _set_error_handlers(self, app: Any) -> None:
        def by_message(callback_name: str, status: int) -> F:
            def handle(e: Exception) -> Any:
                _refused(status, str(e))
                return getattr(self, callback_name)(str(e))

            return handle

        def by_token(callback_name: str, status: int) -> F:
            def handle(e: Any) -> Any:
                _refused(status, str(e) or type(e).__name__)
                return getattr(self, callback_name)(e.jwt_header, e.jwt_data)

            return handle

        unauthorized = by_message("_unauthorized_callback", 401)
        invalid = by_message("_invalid_token_callback", 422)
        for exc in (NoAuthorizationError, CSRFError):
            app.register_error_handler(exc, unauthorized)
        for invalid_exc in (
            pyjwt.InvalidTokenError,  # DecodeError, bad signature, audience, issuer, claims…
            JWTDecodeError,
            InvalidHeaderError,
            InvalidQueryParamError,
            WrongTokenError,
        ):
            app.register_error_handler(invalid_exc, invalid)
        app.register_error_handler(
            pyjwt.ExpiredSignatureError, by_token("_expired_token_callback", 401)
        )
        app.register_error_handler(FreshTokenRequired, by_token("_needs_fresh_token_callback", 401))
        app.register_error_handler(RevokedTokenError, by_token("_revoked_token_callback", 401))
        app.register_error_handler(UserLookupError, by_token("_user_lookup_error_callback", 401))
        app.register_error_handler(
            UserClaimsVerificationError, by_token("_token_verification_failed_callback", 400)
        )

    # -- loaders (each returns the function, as a decorator) ------------------------------

    def additional_claims_loader(self, callback: F) -> F:
        """``callback(identity) -> dict`` of claims added to every new token."""
        self._user_claims_callback = callback
        return callback

    def additional_headers_loader(self, callback: F) -> F:
        """``callback(identity) -> dict`` of JOSE headers added to every new token."""
        self._jwt_additional_header_callback = callback
        return callback

    def user_identity_loader(self, callback: F) -> F:
        """``callback(obj) -> str``: what goes into ``sub`` for ``create_*_token(obj)``."""
        self._user_identity_callback = callback
        return callback

    def user_lookup_loader(self, callback: F) -> F:
        """``callback(jwt_header, jwt_data) -> user or None``: ``current_user``'s source."""
        self._user_lookup_callback = callback
        return callback

    def user_lookup_error_loader(self, callback: F) -> F:
        """Answer when ``user_lookup_loader`` returned None (default 401)."""
        self._user_lookup_error_callback = callback
        return callback

    def token_in_blocklist_loader(self, callback: F) -> F:
        """``callback(jwt_header, jwt_data) -> bool``: True refuses the token as revoked."""
        self._token_in_blocklist_callback = callback
        return callback

    def token_verification_loader(self, callback: F) -> F:
        """``callback(jwt_header, jwt_data) -> bool``: False refuses the token (400)."""
        self._token_verification_callback = callback
        return callback

    def token_verification_failed_loader(self, callback: F) -> F:
        """Answer when ``token_verification_loader`` returned False."""
        self._token_verification_failed_callback = callback
        return callback

    def expired_token_loader(self, callback: F) -> F:
        """Answer for an expired token: ``callback(jwt_header, jwt_data)``."""
        self._expired_token_callback = callback
        return callback

    def invalid_token_loader(self, callback: F) -> F:
        """Answer for a malformed or badly signed token: ``callback(message)``."""
        self._invalid_token_callback = callback
        return callback

    def unauthorized_loader(self, callback: F) -> F:
        """Answer when no token was sent (or CSRF failed): ``callback(message)``."""
        self._unauthorized_callback = callback
        return callback

    def needs_fresh_token_loader(self, callback: F) -> F:
        """Answer when a fresh token is required: ``callback(jwt_header, jwt_data)``."""
        self._needs_fresh_token_callback = callback
        return callback

    def revoked_token_loader(self, callback: F) -> F:
        """Answer for a revoked token: ``callback(jwt_header, jwt_data)``."""
        self._revoked_token_callback = callback
        return callback

    def encode_key_loader(self, callback: F) -> F:
        """``callback(identity) -> key`` used to sign new tokens instead of the config's."""
        self._encode_key_callback = callback
        return callback

    def decode_key_loader(self, callback: F) -> F:
        """``callback(unverified_header, unverified_claims) -> key`` to verify tokens."""
        self._decode_key_callback = callback
        return callback

    # -- making and reading tokens --------------------------------------------------------

    def _encode_jwt_from_config(
        self,
        config: Any,
        identity: Any,
        token_type: str,
        claims: dict[str, Any] | None = None,
        fresh: Any = False,
        expires_delta: Any = None,
        headers: dict[str, Any] | None = None,
    ) -> str:
        header_overrides = dict(self._jwt_additional_header_callback(identity) or {})
        if headers:
            header_overrides.update(headers)
        claim_overrides = dict(self._user_claims_callback(identity) or {})
        if claims:
            claim_overrides.update(claims)
        if expires_delta is None:
            expires = tokens.expires_delta(config, token_type)
        else:
            expires = tokens._delta(expires_delta, "expires_delta")
        key = (
            self._encode_key_callback(identity)
            if self._encode_key_callback is not None
            else tokens.encode_key(config)
        )
        subject = self._user_identity_callback(identity)
        if (
            config["JWT_VERIFY_SUB"]
            and config["JWT_IDENTITY_CLAIM"] == "sub"
            and not isinstance(subject, str)
        ):
            raise TypeError(
                f"the JWT identity must be a string ('sub' claim, RFC 7519), got "
                f"{type(subject).__name__}: convert it, e.g. "
                "@jwt.user_identity_loader returning str(user.id)"
            )
        csrf = bool(config["JWT_COOKIE_CSRF_PROTECT"])  # as Flask-JWT-Extended, any location
        return tokens.encode(
            config,
            subject,
            token_type,
            key,
            fresh,
            expires,
            claim_overrides,
            header_overrides,
            csrf,
            JSONEncoder,
        )

    def _decode_jwt_from_config(
        self,
        config: Any,
        token: str,
        csrf_value: str | None = None,
        allow_expired: bool = False,
    ) -> dict[str, Any]:
        return self._decode_complete(config, token, csrf_value, allow_expired)[1]

    def _decode_complete(
        self,
        config: Any,
        token: str,
        csrf_value: str | None = None,
        allow_expired: bool = False,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(header, claims)`` of a verified token; an expired one's error carries both."""
        if self._decode_key_callback is None:
            key = tokens.decode_key(config)
        else:
            header = pyjwt.get_unverified_header(token)
            claims = pyjwt.decode(token, options={"verify_signature": False})
            key = self._decode_key_callback(header, claims)
        try:
            return tokens.decode(config, token, key, csrf_value, allow_expired)
        except pyjwt.ExpiredSignatureError as e:
            header, data = tokens.decode(config, token, key, csrf_value, allow_expired=True)
            e.jwt_header, e.jwt_data = header, data  # type: ignore[attr-defined]
            raise


def _refused(status: int, message: str) -> None:
    """One log line per refused token: status, request line and why (never the token)."""
    level = logging.WARNING if status != 401 else logging.INFO
    if _log.isEnabledFor(level):
        _log.log(level, "JWT %d %s %s: %s", status, request.method, request.path, message)
