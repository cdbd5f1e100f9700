"""Reading the token of a request (``jwt_required``, ``verify_jwt_in_request``), the
per-request getters (``get_jwt``, ``current_user``, …), making tokens and the cookie helpers.

The token found is kept on ``g`` (Flask-JWT-Extended's names) and only once every check
passed: a refused token leaves nothing behind.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any, TypeVar

import jwt as pyjwt

from ..globals import current_app, g, request
from . import tokens
from .exceptions import (
    CSRFError,
    FreshTokenRequired,
    InvalidHeaderError,
    InvalidQueryParamError,
    NoAuthorizationError,
    RevokedTokenError,
    UserClaimsVerificationError,
    UserLookupError,
    WrongTokenError,
)
from .manager import EXTENSION_KEY, JWTManager

F = TypeVar("F", bound=Callable[..., Any])
LocationType = str | Iterable[str] | None
_EXEMPT_METHODS = frozenset({"OPTIONS"})


def _manager(app: Any) -> JWTManager:
    try:
        return app.extensions[EXTENSION_KEY]  # type: ignore[no-any-return]
    except KeyError:
        raise RuntimeError(
            "You must initialize a JWTManager with this flask application before using this method"
        ) from None


# -- where the token is ----------------------------------------------------------------


def _from_headers(config: Any, refresh: bool) -> tuple[str, None]:
    name = config["JWT_HEADER_NAME"]
    kind = config["JWT_HEADER_TYPE"]
    value = request.headers.get(name, "").strip().strip(",")
    if not value:
        raise NoAuthorizationError(f"Missing {name} Header")
    if not kind:
        parts = value.split()
        if len(parts) != 1:
            raise InvalidHeaderError(f"Bad {name} header. Expected '{name}: <JWT>'")
        return parts[0], None
    # ``Authorization: Bearer <jwt>`` and also a comma-separated list of such fields.
    if "," in value:
        fields = [f for f in (f.strip() for f in value.split(",")) if f and f.split()[0] == kind]
    else:
        fields = [value] if value.split(None, 1)[0] == kind else []
    if len(fields) != 1:
        raise NoAuthorizationError(
            f"Missing '{kind}' type in '{name}' header. Expected '{name}: {kind} <JWT>'"
        )
    parts = fields[0].split()
    if len(parts) != 2:
        raise InvalidHeaderError(f"Bad {name} header. Expected '{name}: {kind} <JWT>'")
    return parts[1], None


def _from_cookies(config: Any, refresh: bool) -> tuple[str, str | None]:
    kind = "REFRESH" if refresh else "ACCESS"
    cookie = config[f"JWT_{kind}_COOKIE_NAME"]
    token = request.cookies.get(cookie)
    if not token:
        raise NoAuthorizationError(f'Missing cookie "{cookie}"')
    csrf = None
    if config["JWT_COOKIE_CSRF_PROTECT"] and request.method in config["JWT_CSRF_METHODS"]:
        csrf = request.headers.get(config[f"JWT_{kind}_CSRF_HEADER_NAME"])
        if not csrf and config["JWT_CSRF_CHECK_FORM"]:
            csrf = request.form.get(config[f"JWT_{kind}_CSRF_FIELD_NAME"])
        if not csrf:
            raise CSRFError("Missing CSRF token")
    return token, csrf


def _from_query_string(config: Any, refresh: bool) -> tuple[str, None]:
    name = config["JWT_QUERY_STRING_NAME"]
    prefix = config["JWT_QUERY_STRING_VALUE_PREFIX"]
    value = request.args.get(name)
    if not value:
        raise NoAuthorizationError(f"Missing '{name}' query paramater")  # sic, as the original
    if not value.startswith(prefix):
        raise InvalidQueryParamError(
            f"Invalid value for query parameter '{name}'. Expected the value to start with "
            f"'{prefix}'"
        )
    return value[len(prefix) :], None


def _from_json(config: Any, refresh: bool) -> tuple[str, None]:
    if not request.is_json:
        raise NoAuthorizationError("Invalid content-type. Must be application/json.")
    key = config["JWT_REFRESH_JSON_KEY" if refresh else "JWT_JSON_KEY"]
    data = request.get_json(silent=True)
    token = data.get(key) if isinstance(data, dict) else None
    if not token or not isinstance(token, str):
        raise NoAuthorizationError(f'Missing "{key}" key in json data.')
    return token, None


_FINDERS: dict[str, Callable[[Any, bool], tuple[str, str | None]]] = {
    "headers": _from_headers,
    "cookies": _from_cookies,
    "query_string": _from_query_string,
    "json": _from_json,
}


def _decode_from_request(
    app: Any,
    locations: LocationType,
    fresh: bool,
    refresh: bool,
    verify_type: bool,
    skip_revocation_check: bool,
) -> tuple[dict[str, Any], dict[str, Any], str]:
    config = app.config
    manager = _manager(app)
    where = tokens.token_locations(config, locations)
    errors = []
    for location in where:
        try:
            token, csrf = _FINDERS[location](config, refresh)
        except NoAuthorizationError as e:
            errors.append(str(e))
            continue
        header, data = manager._decode_complete(config, token, csrf)
        break
    else:
        if len(where) > 1:
            raise NoAuthorizationError(
                f"Missing JWT in {', '.join(where[:-1])} or {where[-1]} ({'; '.join(errors)})"
            )
        raise NoAuthorizationError(errors[0])

    if verify_type:
        if refresh and data["type"] == "access":
            raise WrongTokenError("Only refresh tokens are allowed")
        if not refresh and data["type"] == "refresh":
            raise WrongTokenError("Only non-refresh tokens are allowed")
    if fresh:
        _check_fresh(header, data)
    blocklist = manager._token_in_blocklist_callback
    if not skip_revocation_check and blocklist is not None and blocklist(header, data):
        raise RevokedTokenError("Token has been revoked", header, data)
    verify = manager._token_verification_callback
    if verify is not None and not verify(header, data):
        raise UserClaimsVerificationError("User claims verification failed", header, data)
    return data, header, location


def _check_fresh(header: dict[str, Any], data: dict[str, Any]) -> None:
    import time

    value = data["fresh"]
    if isinstance(value, bool):
        if not value:
            raise FreshTokenRequired("Fresh token required", header, data)
    elif not isinstance(value, int | float) or value < time.time():
        raise FreshTokenRequired("Fresh token required", header, data)


def verify_jwt_in_request(
    optional: bool = False,
    fresh: bool = False,
    refresh: bool = False,
    locations: LocationType = None,
    verify_type: bool = True,
    skip_revocation_check: bool = False,
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Check the request's token (raising the battery's errors), keep it for ``get_jwt``.

    Returns ``(jwt_header, jwt_data)``, or None for an OPTIONS request or, with
    ``optional=True``, when no token was sent (an invalid token is refused all the same).
    """
    if request.method in _EXEMPT_METHODS:
        return None
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        data, header, location = _decode_from_request(
            app, locations, fresh, refresh, verify_type, skip_revocation_check
        )
    except NoAuthorizationError:
        if not optional:
            raise
        g._jwt_extended_jwt = {}
        g._jwt_extended_jwt_header = {}
        g._jwt_extended_jwt_user = {"loaded_user": None}
        g._jwt_extended_jwt_location = None
        return None
    manager = app.extensions[EXTENSION_KEY]
    user = None
    if manager._user_lookup_callback is not None:
        loaded = manager._user_lookup_callback(header, data)
        if loaded is None:
            identity = data[app.config["JWT_IDENTITY_CLAIM"]]
            raise UserLookupError(f"user_lookup returned None for {identity}", header, data)
        user = {"loaded_user": loaded}
    g._jwt_extended_jwt_user = user
    g._jwt_extended_jwt_header = header
    g._jwt_extended_jwt = data
    g._jwt_extended_jwt_location = location
    return header, data


def jwt_required(
    optional: bool = False,
    fresh: bool = False,
    refresh: bool = False,
    locations: LocationType = None,
    verify_type: bool = True,
    skip_revocation_check: bool = False,
) -> Callable[[F], F]:
    """Decorator: the view runs only with a valid token (see ``verify_jwt_in_request``)."""

    # what erlen.openapi reads to document the route's security (no per-request cost)
    marker = {"optional": optional, "fresh": fresh, "refresh": refresh, "locations": locations}

    def wrapper(fn: F) -> F:
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            def run_async(*args: Any, **kwargs: Any) -> Any:
                verify_jwt_in_request(
                    optional, fresh, refresh, locations, verify_type, skip_revocation_check
                )
                return current_app.ensure_sync(fn)(*args, **kwargs)

            run_async._erlen_jwt_required = marker  # type: ignore[attr-defined]
            return run_async  # type: ignore[return-value]

        @functools.wraps(fn)
        def decorator(*args: Any, **kwargs: Any) -> Any:
            verify_jwt_in_request(
                optional, fresh, refresh, locations, verify_type, skip_revocation_check
            )
            return fn(*args, **kwargs)

        decorator._erlen_jwt_required = marker  # type: ignore[attr-defined]
        return decorator  # type: ignore[return-value]

    wrapper._erlen_jwt_required = marker  # type: ignore[attr-defined]  # method_decorators
    return wrapper


# -- making and decoding tokens ----------------------------------------------------------


def create_access_token(
    identity: Any,
    fresh: bool | timedelta | float = False,
    expires_delta: timedelta | int | bool | None = None,
    additional_claims: dict[str, Any] | None = None,
    additional_headers: dict[str, Any] | None = None,
) -> str:
    """A signed access token for ``identity`` (``JWT_ACCESS_TOKEN_EXPIRES``, 15 min)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return _manager(app)._encode_jwt_from_config(
        app.config,
        identity,
        "access",
        additional_claims,
        fresh,
        expires_delta,
        additional_headers,
    )


def create_refresh_token(
    identity: Any,
    expires_delta: timedelta | int | bool | None = None,
    additional_claims: dict[str, Any] | None = None,
    additional_headers: dict[str, Any] | None = None,
) -> str:
    """A signed refresh token for ``identity`` (``JWT_REFRESH_TOKEN_EXPIRES``, 30 days)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return _manager(app)._encode_jwt_from_config(
        app.config,
        identity,
        "refresh",
        additional_claims,
        False,
        expires_delta,
        additional_headers,
    )


def decode_token(
    encoded_token: str, csrf_value: str | None = None, allow_expired: bool = False
) -> dict[str, Any]:
    """The verified claims of a token (raises PyJWT's or the battery's errors)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return _manager(app)._decode_jwt_from_config(
        app.config, encoded_token, csrf_value, allow_expired
    )


def get_unverified_jwt_headers(encoded_token: str) -> dict[str, Any]:
    """The JOSE header of a token, without checking it: never trust it for access."""
    return pyjwt.get_unverified_header(encoded_token)


def get_jti(encoded_token: str) -> str | None:
    """The ``jti`` of a (verified) token, e.g. to put it on a blocklist."""
    return decode_token(encoded_token).get("jti")


def get_csrf_token(encoded_token: str) -> str:
    """The CSRF value of a cookie token (what ``set_access_cookies`` puts in its cookie)."""
    return decode_token(encoded_token)["csrf"]  # type: ignore[no-any-return]


# -- cookies -----------------------------------------------------------------------------


def _set(response: Any, kind: str, token: str, max_age: Any, domain: str | None) -> None:
    config = current_app.config
    if max_age is None and not config["JWT_SESSION_COOKIE"]:
        max_age = tokens.COOKIE_MAX_AGE  # a year: the token's own exp still rules
    common = {
        "max_age": max_age,
        "secure": config["JWT_COOKIE_SECURE"],
        "domain": domain or config["JWT_COOKIE_DOMAIN"],
        "samesite": config["JWT_COOKIE_SAMESITE"],
    }
    response.set_cookie(
        config[f"JWT_{kind}_COOKIE_NAME"],
        value=token,
        httponly=True,
        path=config[f"JWT_{kind}_COOKIE_PATH"],
        **common,
    )
    if config["JWT_CSRF_IN_COOKIES"] and config["JWT_COOKIE_CSRF_PROTECT"]:
        response.set_cookie(
            config[f"JWT_{kind}_CSRF_COOKIE_NAME"],
            value=get_csrf_token(token),
            httponly=False,  # the page's script reads it to send the X-CSRF-TOKEN header
            path=config[f"JWT_{kind}_CSRF_COOKIE_PATH"],
            **common,
        )


def _unset(response: Any, kind: str, domain: str | None) -> None:
    config = current_app.config
    common = {
        "expires": 0,
        "secure": config["JWT_COOKIE_SECURE"],
        "domain": domain or config["JWT_COOKIE_DOMAIN"],
        "samesite": config["JWT_COOKIE_SAMESITE"],
    }
    response.set_cookie(
        config[f"JWT_{kind}_COOKIE_NAME"],
        value="",
        httponly=True,
        path=config[f"JWT_{kind}_COOKIE_PATH"],
        **common,
    )
    if config["JWT_CSRF_IN_COOKIES"] and config["JWT_COOKIE_CSRF_PROTECT"]:
        response.set_cookie(
            config[f"JWT_{kind}_CSRF_COOKIE_NAME"],
            value="",
            httponly=False,
            path=config[f"JWT_{kind}_CSRF_COOKIE_PATH"],
            **common,
        )


def set_access_cookies(
    response: Any, encoded_access_token: str, max_age: int | None = None, domain: str | None = None
) -> None:
    """Put an access token (HttpOnly) and its CSRF value (readable by script) in cookies."""
    _set(response, "ACCESS", encoded_access_token, max_age, domain)


def set_refresh_cookies(
    response: Any, encoded_refresh_token: str, max_age: int | None = None, domain: str | None = None
) -> None:
    """Put a refresh token and its CSRF value in cookies."""
    _set(response, "REFRESH", encoded_refresh_token, max_age, domain)


def unset_access_cookies(response: Any, domain: str | None = None) -> None:
    """Expire the access token cookies (logout)."""
    _unset(response, "ACCESS", domain)


def unset_refresh_cookies(response: Any, domain: str | None = None) -> None:
    """Expire the refresh token cookies."""
    _unset(response, "REFRESH", domain)


def unset_jwt_cookies(response: Any, domain: str | None = None) -> None:
    """Expire every JWT cookie (logout)."""
    _unset(response, "ACCESS", domain)
    _unset(response, "REFRESH", domain)
