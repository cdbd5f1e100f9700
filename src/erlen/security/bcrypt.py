"""Flask-Bcrypt 1.0's API (``from erlen.security.bcrypt import Bcrypt`` for ``flask_bcrypt``).

Hashes are the ``bcrypt`` library's (``$2b$12$...`` as bytes), so hashes made by Flask-Bcrypt
verify here and the other way round. Differences, for safety (docs/decisions/021):
``check_password_hash`` never raises (a malformed or hostile hash is False, a cost above 16
rounds is refused rather than computed), and a password over bcrypt's 72-byte limit is a
``ValueError`` when hashing (bcrypt 5 refuses it too; older versions cut it silently) unless
``BCRYPT_HANDLE_LONG_PASSWORDS`` pre-hashes it with SHA-256 as Flask-Bcrypt does. For new apps
``erlen.security.generate_password_hash`` (argon2id) is the better choice; it verifies these
bcrypt hashes too, so users keep their passwords when an app moves off bcrypt.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import bcrypt as _bcrypt_lib

__all__ = ["Bcrypt", "check_password_hash", "generate_password_hash"]

_MAX_ROUNDS = 16
_MAX_BYTES = 72


def _to_bytes(value: Any) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes):
        return value
    raise TypeError(f"expected str or bytes, not {type(value).__name__}")


def _prehash(password: bytes) -> bytes:
    """Flask-Bcrypt's long-password handling: the SHA-256 hex digest (64 bytes, no NUL)."""
    return hashlib.sha256(password).hexdigest().encode("ascii")


class Bcrypt:
    """bcrypt hashing configured from the app: ``BCRYPT_LOG_ROUNDS`` (12),
    ``BCRYPT_HASH_PREFIX`` (``"2b"``), ``BCRYPT_HANDLE_LONG_PASSWORDS`` (False)."""

    _log_rounds = 12
    _prefix = "2b"
    _handle_long_passwords = False

    def __init__(self, app: Any = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Any) -> None:
        """Read the configuration (once, as Flask-Bcrypt does)."""
        self._log_rounds = app.config.get("BCRYPT_LOG_ROUNDS", 12)
        self._prefix = app.config.get("BCRYPT_HASH_PREFIX", "2b")
        self._handle_long_passwords = app.config.get("BCRYPT_HANDLE_LONG_PASSWORDS", False)
        app.extensions["bcrypt"] = self

    def generate_password_hash(
        self, password: str | bytes, rounds: int | None = None, prefix: str | bytes | None = None
    ) -> bytes:
        """A bcrypt hash of ``password`` (bytes, as Flask-Bcrypt; ``.decode()`` to store text).

        ``ValueError`` for an empty password, or one over 72 bytes without long-password
        handling.
        """
        if not password:
            raise ValueError("Password must be non-empty.")
        secret = _to_bytes(password)
        if self._handle_long_passwords:
            secret = _prehash(secret)
        elif len(secret) > _MAX_BYTES:
            raise ValueError(
                "bcrypt uses at most 72 bytes of a password; set BCRYPT_HANDLE_LONG_PASSWORDS "
                "(new apps only) or hash with erlen.security.generate_password_hash (argon2)."
            )
        salt = _bcrypt_lib.gensalt(
            rounds=self._log_rounds if rounds is None else rounds,
            prefix=_to_bytes(self._prefix if prefix is None else prefix),
        )
        return bytes(_bcrypt_lib.hashpw(secret, salt))

    def check_password_hash(self, pw_hash: str | bytes, password: str | bytes) -> bool:
        """Whether ``password`` matches ``pw_hash`` (constant time). False, never an error,
        for a malformed hash, a wrong type or a cost above 16 rounds."""
        try:
            hashed = _to_bytes(pw_hash)
            secret = _to_bytes(password)
        except TypeError:
            return False
        if not _well_formed(hashed):
            return False
        secret = _prehash(secret) if self._handle_long_passwords else secret[:_MAX_BYTES]
        try:
            return hmac.compare_digest(_bcrypt_lib.hashpw(secret, hashed), hashed)
        except ValueError:
            return False


def _well_formed(hashed: bytes) -> bool:
    """``$2a$``/``$2b$``/``$2y$``, two-digit cost 4–16, ``$``, 53 characters of salt and hash."""
    if len(hashed) != 60 or hashed[:4] not in (b"$2a$", b"$2b$", b"$2y$") or hashed[6:7] != b"$":
        return False
    cost = hashed[4:6]
    return cost.isdigit() and 4 <= int(cost) <= _MAX_ROUNDS


_default = Bcrypt()


def generate_password_hash(password: str | bytes, rounds: int | None = None) -> bytes:
    """Flask-Bcrypt's module-level function: default settings (12 rounds, ``2b``)."""
    return _default.generate_password_hash(password, rounds)


def check_password_hash(pw_hash: str | bytes, password: str | bytes) -> bool:
    """Flask-Bcrypt's module-level function: default settings."""
    return _default.check_password_hash(pw_hash, password)
