"""Making and checking tokens with PyJWT, from the app's ``JWT_*`` config.

The algorithm is pinned: decoding accepts only ``JWT_DECODE_ALGORITHMS`` (default: the one
``JWT_ALGORITHM``), never ``none``, and a key PyJWT refuses for an algorithm (an RSA public key
offered as an HMAC secret) is an invalid token, not a crash. Keys are never logged.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt as pyjwt

from .exceptions import CSRFError, JWTDecodeError

#: Defaults of every ``JWT_*`` key (Flask-JWT-Extended 4's), set with ``setdefault``.
DEFAULTS: dict[str, Any] = {
    "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=15),
    "JWT_ACCESS_COOKIE_NAME": "access_token_cookie",
    "JWT_ACCESS_COOKIE_PATH": "/",
    "JWT_ACCESS_CSRF_COOKIE_NAME": "csrf_access_token",
    "JWT_ACCESS_CSRF_COOKIE_PATH": "/",
    "JWT_ACCESS_CSRF_FIELD_NAME": "csrf_token",
    "JWT_ACCESS_CSRF_HEADER_NAME": "X-CSRF-TOKEN",
    "JWT_ALGORITHM": "HS256",
    "JWT_COOKIE_CSRF_PROTECT": True,
    "JWT_COOKIE_DOMAIN": None,
    "JWT_COOKIE_SAMESITE": None,
    "JWT_COOKIE_SECURE": False,
    "JWT_CSRF_CHECK_FORM": False,
    "JWT_CSRF_IN_COOKIES": True,
    "JWT_CSRF_METHODS": ["POST", "PUT", "PATCH", "DELETE"],
    "JWT_DECODE_ALGORITHMS": None,
    "JWT_DECODE_AUDIENCE": None,
    "JWT_DECODE_ISSUER": None,
    "JWT_DECODE_LEEWAY": 0,
    "JWT_ENCODE_AUDIENCE": None,
    "JWT_ENCODE_ISSUER": None,
    "JWT_ERROR_MESSAGE_KEY": "msg",
    "JWT_HEADER_NAME": "Authorization",
    "JWT_HEADER_TYPE": "Bearer",
    "JWT_IDENTITY_CLAIM": "sub",
    "JWT_JSON_KEY": "access_token",
    "JWT_PRIVATE_KEY": None,
    "JWT_PUBLIC_KEY": None,
    "JWT_QUERY_STRING_NAME": "jwt",
    "JWT_QUERY_STRING_VALUE_PREFIX": "",
    "JWT_REFRESH_COOKIE_NAME": "refresh_token_cookie",
    "JWT_REFRESH_COOKIE_PATH": "/",
    "JWT_REFRESH_CSRF_COOKIE_NAME": "csrf_refresh_token",
    "JWT_REFRESH_CSRF_COOKIE_PATH": "/",
    "JWT_REFRESH_CSRF_FIELD_NAME": "csrf_token",
    "JWT_REFRESH_CSRF_HEADER_NAME": "X-CSRF-TOKEN",
    "JWT_REFRESH_JSON_KEY": "refresh_token",
    "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=30),
    "JWT_SECRET_KEY": None,
    "JWT_SESSION_COOKIE": True,
    "JWT_TOKEN_LOCATION": ("headers",),
    "JWT_VERIFY_SUB": True,
    "JWT_ENCODE_NBF": True,
}

_LOCATIONS = ("headers", "cookies", "query_string", "json")
#: ``max_age`` of JWT cookies when ``JWT_SESSION_COOKIE`` is False: a year, as the extension
COOKIE_MAX_AGE = 31540000


def token_locations(config: Any, locations: str | Iterable[str] | None = None) -> list[str]:
    """The locations to look in (``locations`` or ``JWT_TOKEN_LOCATION``), checked against
    the four known ones: a bad setting is a RuntimeError naming it, not a 500 later."""
    if locations is None or locations == [] or locations == ():
        locations = config["JWT_TOKEN_LOCATION"]
    if isinstance(locations, str):
        found = [locations]
    elif isinstance(locations, Iterable):
        found = list(locations)
    else:
        raise RuntimeError("JWT_TOKEN_LOCATION must be a string, a sequence or a set")
    if not found:
        raise RuntimeError(f"JWT_TOKEN_LOCATION must contain at least one of {_LOCATIONS}")
    for location in found:
        if location not in _LOCATIONS:
            raise RuntimeError(f"'{location}' is not a valid location: use one of {_LOCATIONS}")
    return found


def _symmetric(algorithm: str) -> bool:
    return algorithm.upper().startswith("HS")


def _refuse_none(algorithms: Iterable[str]) -> None:
    for algorithm in algorithms:
        if algorithm.lower() == "none":
            raise RuntimeError("the 'none' JWT algorithm is refused: tokens must be signed")


def encode_key(config: Any) -> Any:
    """The signing key: the secret for HS*, else ``JWT_PRIVATE_KEY``."""
    _refuse_none([config["JWT_ALGORITHM"]])
    return _key(config, "JWT_PRIVATE_KEY")


def decode_key(config: Any) -> Any:
    """The verifying key: the secret for HS*, else ``JWT_PUBLIC_KEY``."""
    return _key(config, "JWT_PUBLIC_KEY")


def _key(config: Any, asymmetric_name: str) -> Any:
    algorithm = config["JWT_ALGORITHM"]
    if _symmetric(algorithm):
        return _secret(config, algorithm)
    key = config[asymmetric_name]
    if not key:
        raise RuntimeError(
            f'{asymmetric_name} must be set to use asymmetric cryptography algorithm "{algorithm}"'
        )
    return key


def _secret(config: Any, algorithm: str) -> Any:
    key = config["JWT_SECRET_KEY"] or config.get("SECRET_KEY")
    if not key:
        raise RuntimeError(
            "JWT_SECRET_KEY or flask SECRET_KEY must be set when using symmetric algorithm "
            f'"{algorithm}"'
        )
    return key


def decode_algorithms(config: Any) -> list[str]:
    """``JWT_DECODE_ALGORITHMS`` plus ``JWT_ALGORITHM`` (tokens this app makes must decode);
    ``none`` is refused."""
    algorithm = config["JWT_ALGORITHM"]
    algorithms = config["JWT_DECODE_ALGORITHMS"] or [algorithm]
    algorithms = [algorithms] if isinstance(algorithms, str) else list(algorithms)
    if algorithm not in algorithms:
        algorithms.append(algorithm)
    _refuse_none(algorithms)
    return algorithms


def _delta(value: Any, name: str) -> Any:
    """An expiry setting as a timedelta (or dateutil's relativedelta); False: never expires
    (None). Anything that cannot be added to a datetime (a string, True) is a RuntimeError."""
    if value is False:
        return None
    if type(value) is int:
        return timedelta(seconds=value)
    if isinstance(value, bool):
        raise RuntimeError(f"{name} must be a datetime.timedelta, an int of seconds or False")
    try:
        datetime.now(UTC) + value
    except TypeError:
        raise RuntimeError(
            f"{name} must be a datetime.timedelta, an int of seconds or False"
        ) from None
    return value


def expires_delta(config: Any, token_type: str) -> timedelta | None:
    """The configured lifetime of an access or refresh token (None: no ``exp``)."""
    name = "JWT_ACCESS_TOKEN_EXPIRES" if token_type == "access" else "JWT_REFRESH_TOKEN_EXPIRES"
    return _delta(config[name], name)


def encode(
    config: Any,
    identity: Any,
    token_type: str,
    key: Any,
    fresh: bool | timedelta | float,
    expires: timedelta | None,
    claims: dict[str, Any],
    headers: dict[str, Any] | None,
    csrf: bool,
    json_encoder: Any = None,
) -> str:
    """A signed token with Flask-JWT-Extended's claims layout, then ``claims`` on top."""
    now = datetime.now(UTC)
    if isinstance(fresh, timedelta):
        fresh = (now + fresh).timestamp()
    data: dict[str, Any] = {
        "fresh": fresh,
        "iat": now,
        "jti": str(uuid.uuid4()),
        "type": token_type,
        config["JWT_IDENTITY_CLAIM"]: identity,
    }
    if config["JWT_ENCODE_NBF"]:
        data["nbf"] = now
    if csrf:
        data["csrf"] = str(uuid.uuid4())
    if expires is not None:
        data["exp"] = now + expires
    if config["JWT_ENCODE_AUDIENCE"]:
        data["aud"] = config["JWT_ENCODE_AUDIENCE"]
    if config["JWT_ENCODE_ISSUER"]:
        data["iss"] = config["JWT_ENCODE_ISSUER"]
    data.update(claims)
    return pyjwt.encode(
        data,
        key,
        algorithm=config["JWT_ALGORITHM"],
        headers=headers or None,
        json_encoder=json_encoder,
    )


def decode(
    config: Any,
    token: str,
    key: Any,
    csrf_value: str | None = None,
    allow_expired: bool = False,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and verified claims of ``token`` (PyJWT errors and ours propagate).

    One parse: ``decode_complete`` gives the header too (PyJWT's parsing is most of the cost).
    """
    audience = config["JWT_DECODE_AUDIENCE"]
    options = {"verify_aud": audience is not None, "verify_sub": config["JWT_VERIFY_SUB"]}
    if allow_expired:
        options["verify_exp"] = False
    try:
        complete = pyjwt.decode_complete(
            token,
            key,
            algorithms=decode_algorithms(config),
            audience=audience,
            issuer=config["JWT_DECODE_ISSUER"],
            leeway=config["JWT_DECODE_LEEWAY"],
            options=options,  # type: ignore[arg-type]
        )
    except pyjwt.InvalidKeyError:
        # e.g. an HS* token checked with a PEM public key: PyJWT refuses the key itself.
        raise pyjwt.InvalidSignatureError("Signature verification failed") from None
    data: dict[str, Any] = complete["payload"]
    claim = config["JWT_IDENTITY_CLAIM"]
    if claim not in data:
        raise JWTDecodeError(f"Missing claim: {claim}")
    if "type" not in data:
        data["type"] = "access"
    if "fresh" not in data:
        data["fresh"] = False
    if "jti" not in data:
        data["jti"] = None
    if csrf_value:
        expected = data.get("csrf")
        if expected is None:
            raise JWTDecodeError("Missing claim: csrf")
        if not hmac.compare_digest(str(expected).encode(), csrf_value.encode()):
            raise CSRFError("CSRF double submit tokens do not match")
    return complete["header"], data
