"""``flask_jwt_extended.view_decorators``'s public names, for code importing them from there."""

from __future__ import annotations

from .view import LocationType, jwt_required, verify_jwt_in_request

__all__ = ["LocationType", "jwt_required", "verify_jwt_in_request"]
