"""``flask_jwt_extended.jwt_manager``'s public name, for code importing it from there."""

from __future__ import annotations

from .manager import JWTManager

__all__ = ["JWTManager"]
