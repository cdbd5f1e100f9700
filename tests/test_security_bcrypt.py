"""erlen.security.Bcrypt against Flask-Bcrypt 1.0 (the oracle) and the bcrypt library."""

from __future__ import annotations

from typing import Any

import bcrypt
import flask
import flask_bcrypt
import pytest

import erlen
from erlen.security import Bcrypt, check_password_hash
from erlen.security import bcrypt as erlen_bcrypt

PW = "correct horse ✓ battery"


def _pair(**config: Any) -> tuple[Any, Any]:
    ours = erlen.Erlen(__name__)
    ours.config.update(config)
    theirs = flask.Flask(__name__)
    theirs.config.update(config)
    return Bcrypt(ours), flask_bcrypt.Bcrypt(theirs)


def test_defaults_are_flask_bcrypts() -> None:
    ours, theirs = _pair()
    h = ours.generate_password_hash(PW)
    assert isinstance(h, bytes) and h.startswith(b"$2b$12$") and len(h) == 60
    assert theirs.generate_password_hash(PW).startswith(b"$2b$12$")


@pytest.mark.parametrize("config", [{}, {"BCRYPT_LOG_ROUNDS": 4}, {"BCRYPT_HASH_PREFIX": "2a"}])
def test_hashes_verify_both_ways(config: dict[str, Any]) -> None:
    config.setdefault("BCRYPT_LOG_ROUNDS", 4)
    ours, theirs = _pair(**config)
    mine = ours.generate_password_hash(PW)
    other = theirs.generate_password_hash(PW)
    assert mine[:7] == other[:7]
    for h in (mine, other, mine.decode(), other.decode()):
        assert ours.check_password_hash(h, PW) and theirs.check_password_hash(h, PW)
        assert not ours.check_password_hash(h, PW + "!")
        assert check_password_hash(h if isinstance(h, str) else h.decode(), PW)  # argon2 API too
    assert bcrypt.checkpw(PW.encode(), mine)


def test_rounds_and_prefix_arguments() -> None:
    ours, theirs = _pair()
    h = ours.generate_password_hash(PW, rounds=5, prefix="2a")
    assert h.startswith(b"$2a$05$") and theirs.check_password_hash(h, PW)
    assert ours.generate_password_hash(b"bytes pw", 4).startswith(b"$2b$04$")


def test_long_passwords() -> None:
    long_pw = "x" * 100
    ours, theirs = _pair(BCRYPT_LOG_ROUNDS=4, BCRYPT_HANDLE_LONG_PASSWORDS=True)
    h = ours.generate_password_hash(long_pw)
    assert theirs.check_password_hash(h, long_pw) and ours.check_password_hash(h, long_pw)
    assert not ours.check_password_hash(h, "x" * 99)
    assert ours.check_password_hash(theirs.generate_password_hash(long_pw), long_pw)
    plain, _ = _pair(BCRYPT_LOG_ROUNDS=4)
    with pytest.raises(ValueError, match="72 bytes"):
        plain.generate_password_hash(long_pw)
    # a hash made by an older bcrypt that cut the password at 72 bytes still verifies
    old = bcrypt.hashpw(long_pw.encode()[:72], bcrypt.gensalt(4))
    assert plain.check_password_hash(old, long_pw)


def test_empty_password_is_refused_as_flask_bcrypt() -> None:
    ours, theirs = _pair()
    for ext in (ours, theirs):
        with pytest.raises(ValueError):
            ext.generate_password_hash("")


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "not a hash",
        "$2b$12$short",
        "$2b$99$" + "a" * 53,
        "$2b$31$" + "a" * 53,
        "$2x$12$" + "a" * 53,
        "$2b$12$" + "!" * 53,
        None,
        12,
    ],
)
def test_malformed_hashes_are_false_not_errors(bad: Any) -> None:
    ours, _ = _pair()
    assert ours.check_password_hash(bad, PW) is False


def test_module_level_functions() -> None:
    h = erlen_bcrypt.generate_password_hash(PW, 4)
    assert h.startswith(b"$2b$04$")
    assert erlen_bcrypt.check_password_hash(h, PW) and flask_bcrypt.check_password_hash(h, PW)
    assert erlen_bcrypt.check_password_hash(flask_bcrypt.generate_password_hash(PW, 4), PW)


def test_init_app_registers_the_extension() -> None:
    app = erlen.Erlen(__name__)
    ext = Bcrypt()
    ext.init_app(app)
    assert app.extensions["bcrypt"] is ext


def test_flask_bcrypt_bytes_hashes_verify_with_the_argon2_api() -> None:
    """Apps that stored Flask-Bcrypt's bytes as they came keep their users' passwords."""
    h = flask_bcrypt.Bcrypt(flask.Flask(__name__)).generate_password_hash(PW, 4)
    assert isinstance(h, bytes)
    assert check_password_hash(h, PW) and not check_password_hash(h, "wrong")
    assert check_password_hash(b"\xff" + h, PW) is False
    y = bcrypt.hashpw(PW.encode(), bcrypt.gensalt(4)).replace(b"$2b$", b"$2y$")
    assert check_password_hash(y, PW)  # PHP's prefix
