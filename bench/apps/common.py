"""Data and settings shared by every peer's app, so all peers do the same work."""

from __future__ import annotations

import hashlib
import os
import random
from typing import Any

TEMPLATE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
SECRET_KEY = "bench-secret-key-not-for-production"
SESSION_COOKIE = "session"
SESSION_SALT = "cookie-session"  # Flask's salt: the by-hand peers sign the same way
SESSION_MAX_AGE = 31 * 24 * 3600  # Flask's default PERMANENT_SESSION_LIFETIME

#: Number of dynamic routes registered *before* /user/<int:id> in the main app.
OTHER_ROUTES = 50
#: Number of /r{i}/<int:id> routes in the many-routes app.
MANY_ROUTES = 1000

FORM_FIELDS = [(f"field{i}", f"value {i} & more") for i in range(10)]
FORM_ECHO_FIELD = "field3"

UPLOAD_SIZE = 1024 * 1024
UPLOAD_DATA: bytes = random.Random(1234).randbytes(UPLOAD_SIZE)
UPLOAD_BOUNDARY = "----erlenbenchboundary7MA4YWxkTrZu0gW"

TEMPLATE_CONTEXT: dict[str, Any] = {
    "title": "Scores & <ranks>",
    "engine": "jinja2",
    "rows": [{"id": i, "name": f"row <{i}> & co", "score": i * 1.5} for i in range(100)],
}


def upload_answer(data: bytes) -> str:
    """The upload view's body: size and SHA-256 hex of the received file."""
    return f"{len(data)} {hashlib.sha256(data).hexdigest()}"


def split_fields(value: str | None) -> list[str]:
    """``?fields=a,b`` → ``["a", "b"]`` (empty or missing → ``[]``)."""
    return value.split(",") if value else []


def make_jinja_env() -> Any:
    """A Jinja2 environment configured like Flask's (autoescape for .html), for peers
    that call Jinja2 directly."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=jinja2.select_autoescape(),
    )


def make_serializer() -> Any:
    """itsdangerous serializer signed like Flask's session cookie (HMAC-SHA1, derived key)."""
    import hashlib as _h

    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(
        SECRET_KEY,
        salt=SESSION_SALT,
        signer_kwargs={"key_derivation": "hmac", "digest_method": _h.sha1},
    )
