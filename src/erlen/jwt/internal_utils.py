"""The one name of Flask-JWT-Extended's internal module that its public API hands out:
``JSONEncoder`` is what ``config.json_encoder`` answers, so code comparing against it (or
passing it to PyJWT) keeps working. Nothing else of that module is provided."""

from __future__ import annotations

from .config import JSONEncoder

__all__ = ["JSONEncoder"]
