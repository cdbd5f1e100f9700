"""Password hashing: argon2id by default, and verification of the formats apps migrate from.

``generate_password_hash`` makes argon2id hashes in the standard PHC format
(``$argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>``); ``method="scrypt"`` and
``method="pbkdf2"`` make Werkzeug-format hashes for apps that must stay readable by
Werkzeug. ``check_password_hash`` verifies argon2 (id/i/d), Werkzeug's ``scrypt:`` and
``pbkdf2:`` hashes and, when the ``bcrypt`` package is installed, bcrypt ``$2a$/$2b$/$2y$``
hashes. It never raises: anything malformed, unknown, truncated or with parameters so large
that verifying would be a denial of service gives False. ``needs_rehash`` tells an app to
re-hash a password on login (after a successful check) so old hashes upgrade themselves.

Also here: Flask-Bcrypt's ``Bcrypt`` (``erlen.security.bcrypt``) and Flask-Security-Too's roles
(``Security``, ``SQLAlchemyUserDatastore``, ``roles_required``, ...; ``docs/security.md``).

Why argon2id and these parameters: docs/decisions/003-password-hashing.md.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import logging
import secrets
import string
from typing import Any

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "ARGON2_MEMORY_COST",
    "ARGON2_PARALLELISM",
    "ARGON2_TIME_COST",
    "Bcrypt",
    "RoleMixin",
    "SQLAlchemySessionUserDatastore",
    "SQLAlchemyUserDatastore",
    "Security",
    "UserDatastore",
    "UserMixin",
    "auth_required",
    "check_password_hash",
    "current_user",
    "gen_salt",
    "generate_password_hash",
    "hash_password",
    "needs_rehash",
    "roles_accepted",
    "roles_required",
    "verify_and_update_password",
    "verify_password",
]

# Flask-Bcrypt (``bcrypt``) and Flask-Security-Too's roles (``roles``, ``datastore``) are
# submodules loaded on first use of one of their names, so ``import erlen.security`` stays
# as cheap as before (no SQLAlchemy import). ``current_user`` is erlen.login's (a battery in
# a higher layer: looked up lazily, never imported here at module level).
_LAZY = {
    "Bcrypt": "bcrypt",
    "RoleMixin": "roles",
    "Security": "roles",
    "UserMixin": "roles",
    "auth_required": "roles",
    "roles_accepted": "roles",
    "roles_required": "roles",
    "verify_and_update_password": "roles",
    "verify_password": "roles",
    "hash_password": "datastore",
    "SQLAlchemySessionUserDatastore": "datastore",
    "SQLAlchemyUserDatastore": "datastore",
    "UserDatastore": "datastore",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is not None:
        return getattr(importlib.import_module(f"{__name__}.{module}"), name)
    if name == "current_user":
        from erlen.login import current_user  # lazy: erlen.login is a battery above this layer

        return current_user
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

_log = logging.getLogger("erlen.security")

#: argon2id parameters for new hashes: RFC 9106's second recommended option
#: (64 MiB, 3 passes, 4 lanes), the argon2-cffi default; above OWASP's minimum.
ARGON2_TIME_COST = 3
ARGON2_MEMORY_COST = 65536  # KiB
ARGON2_PARALLELISM = 4
_ARGON2_HASH_LEN = 32
_ARGON2_MIN_SALT = 8  # the argon2 specification's minimum salt length in bytes

#: Werkzeug-compatible defaults for the explicit methods.
_SCRYPT_DEFAULT = (2**15, 8, 1)  # n, r, p: 32 MiB
_PBKDF2_DEFAULT_HASH = "sha256"
_PBKDF2_DEFAULT_ITERATIONS = 600_000  # OWASP 2023 for PBKDF2-HMAC-SHA256

# Upper bounds on what a stored hash may ask for. A hash that exceeds them is refused
# (False) rather than computed: a hostile or corrupted hash must not pin a CPU for
# minutes or allocate gigabytes. They are far above any sane setting.
_MAX_ARGON2_MEMORY = 1 << 21  # KiB: 2 GiB, RFC 9106's first recommended option
_MAX_ARGON2_TIME = 16
_MAX_ARGON2_PARALLELISM = 64
_MAX_SCRYPT_MEMORY = 1 << 30  # bytes: 128 * n * r
_MAX_SCRYPT_WORK = 1 << 24  # n * r * p (the default is 2**18)
_MAX_SCRYPT_P = 64
_MAX_PBKDF2_ITERATIONS = 10_000_000
_MAX_BCRYPT_ROUNDS = 16
_PBKDF2_HASHES = frozenset(
    ("sha1", "sha224", "sha256", "sha384", "sha512", "sha3_256", "sha3_384", "sha3_512")
)
_SALT_CHARS = string.ascii_letters + string.digits
_HEX = frozenset("0123456789abcdef")

_hasher = argon2.PasswordHasher(
    time_cost=ARGON2_TIME_COST,
    memory_cost=ARGON2_MEMORY_COST,
    parallelism=ARGON2_PARALLELISM,
    hash_len=_ARGON2_HASH_LEN,
    salt_len=16,
    type=argon2.Type.ID,
)

_bcrypt: Any
try:  # optional: only needed to verify bcrypt hashes from older apps
    _bcrypt = importlib.import_module("bcrypt")
except ImportError:  # pragma: no cover - depends on the environment
    _bcrypt = None


def gen_salt(length: int) -> str:
    """A random salt of ``length`` letters and digits (the Werkzeug salt alphabet)."""
    if length <= 0:
        raise ValueError("Salt length must be at least 1.")
    return "".join(secrets.choice(_SALT_CHARS) for _ in range(length))


def generate_password_hash(password: str, method: str | None = None, salt_length: int = 16) -> str:
    """Hash ``password`` for storage.

    ``method`` is None or ``"argon2"``/``"argon2id"`` (default), ``"scrypt"`` or
    ``"scrypt:n:r:p"``, ``"pbkdf2"``, ``"pbkdf2:<hash>"`` or ``"pbkdf2:<hash>:<iterations>"``.
    ``salt_length`` is bytes for argon2 (at least 8) and characters for the Werkzeug formats.
    Raises ``ValueError`` for an unknown method or out-of-range parameters, ``TypeError``
    when ``password`` is not a string.
    """
    if not isinstance(password, str):
        raise TypeError("password must be a str")
    if method is None or method in ("argon2", "argon2id"):
        if salt_length < _ARGON2_MIN_SALT:
            raise ValueError(f"argon2 needs a salt of at least {_ARGON2_MIN_SALT} bytes.")
        hasher = _hasher
        if salt_length != hasher.salt_len:
            hasher = argon2.PasswordHasher(
                time_cost=ARGON2_TIME_COST,
                memory_cost=ARGON2_MEMORY_COST,
                parallelism=ARGON2_PARALLELISM,
                hash_len=_ARGON2_HASH_LEN,
                salt_len=salt_length,
                type=argon2.Type.ID,
            )
        return hasher.hash(password)
    salt = gen_salt(salt_length)
    params = _parse_werkzeug_method(method)
    if params is None:
        raise ValueError(f"Invalid or out-of-range hash method {method!r}.")
    canonical, digest = _werkzeug_hash(params, salt, password)
    return f"{canonical}${salt}${digest}"


def check_password_hash(pwhash: str | bytes, password: str) -> bool:
    """Check ``password`` against ``pwhash`` in constant time; False on any problem.

    ``pwhash`` may also be ASCII bytes: Flask-Bcrypt returns its hashes as bytes and some
    apps stored them that way, so their users keep their passwords.
    """
    if isinstance(pwhash, bytes):
        try:
            pwhash = pwhash.decode("ascii")
        except UnicodeDecodeError:
            return False
    if not isinstance(pwhash, str) or not isinstance(password, str):
        return False
    try:
        if pwhash.startswith("$argon2"):
            return _check_argon2(pwhash, password)
        if pwhash.startswith("$2"):
            return _check_bcrypt(pwhash, password)
        return _check_werkzeug(pwhash, password)
    except (ValueError, TypeError, OverflowError, MemoryError, UnicodeError):
        return False


def needs_rehash(pwhash: str) -> bool:
    """True when ``pwhash`` is not argon2id with the current parameters (or is malformed):
    after a successful ``check_password_hash``, store a fresh ``generate_password_hash``."""
    if not isinstance(pwhash, str) or not pwhash.startswith("$argon2id$"):
        return True
    try:
        return bool(_hasher.check_needs_rehash(pwhash))
    except (InvalidHashError, ValueError, TypeError):
        return True


# -- argon2 ---------------------------------------------------------------------------------
def _check_argon2(pwhash: str, password: str) -> bool:
    try:
        params = argon2.extract_parameters(pwhash)
    except (InvalidHashError, ValueError, TypeError):
        return False
    if (
        not 8 <= params.memory_cost <= _MAX_ARGON2_MEMORY
        or not 1 <= params.time_cost <= _MAX_ARGON2_TIME
        or not 1 <= params.parallelism <= _MAX_ARGON2_PARALLELISM
    ):
        return False
    try:
        return bool(_hasher.verify(pwhash, password))
    except (VerificationError, InvalidHashError):
        return False


# -- bcrypt ---------------------------------------------------------------------------------
def _check_bcrypt(pwhash: str, password: str) -> bool:
    # $2b$12$ + 53 characters of salt and hash
    if len(pwhash) != 60 or pwhash[:4] not in ("$2a$", "$2b$", "$2y$") or pwhash[6] != "$":
        return False
    rounds = pwhash[4:6]
    if not rounds.isdigit() or not 4 <= int(rounds) <= _MAX_BCRYPT_ROUNDS:
        return False
    if _bcrypt is None:
        _log.warning("A bcrypt password hash cannot be checked: install the 'bcrypt' package.")
        return False
    # bcrypt only ever used the first 72 bytes; recent versions of the package refuse longer
    # input instead of truncating, so truncate here to keep old hashes verifiable.
    secret = password.encode("utf-8")[:72]
    return bool(_bcrypt.checkpw(secret, pwhash.encode("ascii")))


# -- Werkzeug formats: "scrypt:n:r:p$salt$hex" and "pbkdf2:hash:iterations$salt$hex" -------
def _parse_werkzeug_method(method: str) -> tuple[Any, ...] | None:
    """Parse and bound-check a Werkzeug method string; None if invalid or too costly."""
    name, *args = method.split(":")
    try:
        if name == "scrypt":
            if not args:
                n, r, p = _SCRYPT_DEFAULT
            elif len(args) == 3:
                n, r, p = (_small_int(a) for a in args)
            else:
                return None
            if (
                n < 2
                or n & (n - 1)
                or r < 1
                or not 1 <= p <= _MAX_SCRYPT_P
                or 128 * n * r > _MAX_SCRYPT_MEMORY
                or n * r * p > _MAX_SCRYPT_WORK
            ):
                return None
            return ("scrypt", n, r, p)
        if name == "pbkdf2":
            if len(args) > 2:
                return None
            hash_name = args[0] if args else _PBKDF2_DEFAULT_HASH
            iterations = _small_int(args[1]) if len(args) == 2 else _PBKDF2_DEFAULT_ITERATIONS
            if hash_name not in _PBKDF2_HASHES or not 1 <= iterations <= _MAX_PBKDF2_ITERATIONS:
                return None
            return ("pbkdf2", hash_name, iterations)
    except ValueError:
        return None
    return None


def _small_int(text: str) -> int:
    """A plain decimal integer of at most 12 digits (no sign, spaces or underscores)."""
    if not (0 < len(text) <= 12 and text.isascii() and text.isdigit()):
        raise ValueError("bad number")
    return int(text)


def _werkzeug_hash(params: tuple[Any, ...], salt: str, password: str) -> tuple[str, str]:
    """Compute the hex digest for parsed parameters; return (canonical method, hex)."""
    salt_bytes = salt.encode("utf-8")
    secret = password.encode("utf-8")
    if params[0] == "scrypt":
        _, n, r, p = params
        digest = hashlib.scrypt(
            secret, salt=salt_bytes, n=n, r=r, p=p, maxmem=132 * n * r * p
        ).hex()
        return f"scrypt:{n}:{r}:{p}", digest
    _, hash_name, iterations = params
    digest = hashlib.pbkdf2_hmac(hash_name, secret, salt_bytes, iterations).hex()
    return f"pbkdf2:{hash_name}:{iterations}", digest


def _check_werkzeug(pwhash: str, password: str) -> bool:
    parts = pwhash.split("$", 2)
    if len(parts) != 3:
        return False
    method, salt, expected = parts
    if not salt or not expected or not _HEX.issuperset(expected):
        return False
    params = _parse_werkzeug_method(method)
    if params is None:
        return False
    # Sizes of the stored digest: scrypt 64 bytes, pbkdf2 the hash's digest size.
    want = 64 if params[0] == "scrypt" else hashlib.new(params[1]).digest_size
    if len(expected) != 2 * want:
        return False
    _, actual = _werkzeug_hash(params, salt, password)
    return hmac.compare_digest(actual, expected)
