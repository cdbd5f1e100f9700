"""This request's token, as kept on ``g`` by ``verify_jwt_in_request``: ``get_jwt``,
``get_jwt_header``, ``get_jwt_identity``, ``get_jwt_request_location``, ``current_user``."""

from __future__ import annotations

from typing import Any

from ..globals import LocalProxy, current_app, g

_NOT_VERIFIED = (
    "You must call `@jwt_required()` or `verify_jwt_in_request()` before using this method"
)


def get_jwt() -> dict[str, Any]:
    """The claims of this request's token (``{}`` when optional and absent)."""
    data = g.get("_jwt_extended_jwt", None)
    if data is None:
        raise RuntimeError(_NOT_VERIFIED)
    return data  # type: ignore[no-any-return]


def get_jwt_header() -> dict[str, Any]:
    """The JOSE header of this request's token."""
    header = g.get("_jwt_extended_jwt_header", None)
    if header is None:
        raise RuntimeError(_NOT_VERIFIED)
    return header  # type: ignore[no-any-return]


def get_jwt_identity() -> Any:
    """The identity claim (``sub``) of this request's token, or None."""
    return get_jwt().get(current_app.config["JWT_IDENTITY_CLAIM"], None)


def get_jwt_request_location() -> str | None:
    """Where the token was found: ``headers``, ``cookies``, ``query_string`` or ``json``."""
    return g.get("_jwt_extended_jwt_location", None)  # type: ignore[no-any-return]


def get_current_user() -> Any:
    """What ``user_lookup_loader`` returned for this request's token (None if optional)."""
    user = g.get("_jwt_extended_jwt_user", None)
    if user is None:
        get_jwt()  # not verified yet: say so first
        raise RuntimeError(
            "You must provide a `@jwt.user_lookup_loader` callback to use this method"
        )
    return user["loaded_user"]


current_user: Any = LocalProxy(get_current_user)
