"""Password hashing: argon2id default, Werkzeug formats (werkzeug.security as oracle), bcrypt,
and robustness against malformed or hostile hashes."""

from __future__ import annotations

import logging
import time
from typing import Any

import argon2
import bcrypt
import pytest
from werkzeug.security import check_password_hash as wz_check
from werkzeug.security import generate_password_hash as wz_generate

from erlen import security
from erlen.security import check_password_hash, gen_salt, generate_password_hash, needs_rehash

PW = "correct horse ✓ battery"


def test_default_is_argon2id_phc() -> None:
    h = generate_password_hash(PW)
    assert h.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert check_password_hash(h, PW) is True
    assert check_password_hash(h, PW + "x") is False
    assert check_password_hash(h, "") is False
    assert needs_rehash(h) is False
    # readable by argon2-cffi directly (standard format)
    assert argon2.PasswordHasher().verify(h, PW) is True


def test_hashes_are_salted() -> None:
    assert generate_password_hash(PW) != generate_password_hash(PW)
    assert generate_password_hash(PW, "pbkdf2:sha256:1000") != generate_password_hash(
        PW, "pbkdf2:sha256:1000"
    )


def test_argon2_salt_length() -> None:
    h = generate_password_hash(PW, salt_length=32)
    params = argon2.extract_parameters(h)
    assert params.salt_len == 32
    assert check_password_hash(h, PW)
    with pytest.raises(ValueError):
        generate_password_hash(PW, salt_length=4)


@pytest.mark.parametrize(
    ("method", "prefix"),
    [
        ("scrypt", "scrypt:32768:8:1$"),
        ("scrypt:16384:8:1", "scrypt:16384:8:1$"),
        ("pbkdf2", "pbkdf2:sha256:600000$"),
        ("pbkdf2:sha256:600000", "pbkdf2:sha256:600000$"),
        ("pbkdf2:sha512:1000", "pbkdf2:sha512:1000$"),
        ("pbkdf2:sha1", "pbkdf2:sha1:600000$"),
    ],
)
def test_werkzeug_format_generation_verified_by_werkzeug(method: str, prefix: str) -> None:
    h = generate_password_hash(PW, method)
    assert h.startswith(prefix)
    _, salt, digest = h.split("$")
    assert len(salt) == 16 and salt.isalnum()
    assert check_password_hash(h, PW) is True
    assert check_password_hash(h, "wrong") is False
    assert wz_check(h, PW) is True
    assert wz_check(h, "wrong") is False
    assert needs_rehash(h) is True


@pytest.mark.parametrize(
    "method", ["scrypt", "scrypt:16384:8:1", "pbkdf2", "pbkdf2:sha256:600000", "pbkdf2:sha512:2000"]
)
def test_werkzeug_hashes_verified_by_erlen(method: str) -> None:
    h = wz_generate(PW, method)
    assert check_password_hash(h, PW) is True
    assert check_password_hash(h, PW.upper()) is False


def test_werkzeug_salt_length_respected() -> None:
    h = generate_password_hash(PW, "pbkdf2:sha256:1000", salt_length=8)
    assert len(h.split("$")[1]) == 8
    with pytest.raises(ValueError):
        generate_password_hash(PW, "pbkdf2", salt_length=0)


@pytest.mark.parametrize(
    "method",
    [
        "md5",
        "pbkdf2:md4",
        "pbkdf2:sha256:0",
        "pbkdf2:sha256:x",
        "scrypt:3:8:1",
        "scrypt:1:2",
        "plain",
    ],
)
def test_generate_rejects_bad_methods(method: str) -> None:
    with pytest.raises(ValueError):
        generate_password_hash(PW, method)


def test_generate_requires_str() -> None:
    with pytest.raises(TypeError):
        generate_password_hash(b"bytes")  # type: ignore[arg-type]


@pytest.mark.parametrize("prefix", ["$2a$", "$2b$", "$2y$"])
def test_bcrypt_hashes(prefix: str) -> None:
    raw = bcrypt.hashpw(PW.encode(), bcrypt.gensalt(4)).decode()
    h = prefix + raw[4:]
    assert check_password_hash(h, PW) is True
    assert check_password_hash(h, "nope") is False
    assert needs_rehash(h) is True


def test_bcrypt_long_password_truncated_like_classic_bcrypt() -> None:
    long_pw = "a" * 100
    h = bcrypt.hashpw(long_pw.encode()[:72], bcrypt.gensalt(4)).decode()
    assert check_password_hash(h, long_pw) is True
    assert check_password_hash(h, "a" * 71) is False


def test_bcrypt_missing_package_returns_false_and_warns(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    h = bcrypt.hashpw(b"pw", bcrypt.gensalt(4)).decode()
    monkeypatch.setattr(security, "_bcrypt", None)
    with caplog.at_level(logging.WARNING, logger="erlen.security"):
        assert check_password_hash(h, "pw") is False
    assert "bcrypt" in caplog.text


def test_argon2i_and_argon2d_verify_but_need_rehash() -> None:
    for kind in (argon2.Type.I, argon2.Type.D):
        h = argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=kind).hash(PW)
        assert check_password_hash(h, PW) is True
        assert check_password_hash(h, "x") is False
        assert needs_rehash(h) is True


def test_needs_rehash_for_weaker_argon2id() -> None:
    weak = argon2.PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PW)
    assert check_password_hash(weak, PW) is True
    assert needs_rehash(weak) is True
    assert needs_rehash("$argon2id$garbage") is True
    assert needs_rehash(None) is True  # type: ignore[arg-type]


GOOD_PBKDF2 = wz_generate("pw", "pbkdf2:sha256:1000")
GOOD_SCRYPT = wz_generate("pw", "scrypt:1024:8:1")


@pytest.mark.parametrize(
    "pwhash",
    [
        "",
        "$",
        "$$",
        "garbage",
        "pbkdf2:sha256:1000$salt",
        GOOD_PBKDF2[:-1],  # truncated digest
        GOOD_PBKDF2[:-2] + "zz",  # non-hex digest
        GOOD_PBKDF2.upper(),
        GOOD_PBKDF2.replace("sha256", "sha999"),
        GOOD_PBKDF2.replace("pbkdf2:sha256:1000", "pbkdf2:sha256:-1000"),
        GOOD_PBKDF2.replace("pbkdf2:sha256:1000", "pbkdf2:sha256:1_000"),
        GOOD_PBKDF2.replace("pbkdf2:sha256:1000", "pbkdf2:sha256:1000:9"),
        GOOD_PBKDF2.replace("pbkdf2:sha256:1000", "md5"),
        GOOD_SCRYPT[:-4],
        GOOD_SCRYPT.replace("scrypt:1024:8:1", "scrypt:1000:8:1"),  # n not a power of two
        GOOD_SCRYPT.replace("scrypt:1024:8:1", "scrypt:1024:0:1"),
        GOOD_SCRYPT.replace("scrypt:1024:8:1", "scrypt:1024:8"),
        "$argon2id$v=19$m=65536,t=3,p=4$short",
        "$argon2id$",
        "$2b$12$tooshort",
        "$2b$xx$" + "a" * 53,
        "$2x$04$" + "a" * 53,
        "\x00\udcff$\x00$\x00",
    ],
)
def test_malformed_hashes_are_false(pwhash: str) -> None:
    assert check_password_hash(pwhash, "pw") is False


@pytest.mark.parametrize(
    "pwhash",
    [
        "scrypt:1099511627776:8:1$salt$" + "00" * 64,  # n = 2**40
        "scrypt:1048576:64:1$salt$" + "00" * 64,  # 8 GiB
        "scrypt:32768:8:100000$salt$" + "00" * 64,
        "pbkdf2:sha256:1000000000000$salt$" + "00" * 32,  # 10**12 iterations
        "pbkdf2:sha256:99999999999999999999$salt$" + "00" * 32,
        "$argon2id$v=19$m=4294967295,t=3,p=4$c2FsdHNhbHRzYWx0$" + "A" * 43,
        "$argon2id$v=19$m=65536,t=100000,p=4$c2FsdHNhbHRzYWx0$" + "A" * 43,
        "$argon2id$v=19$m=65536,t=3,p=255$c2FsdHNhbHRzYWx0$" + "A" * 43,
        "$2b$31$" + "a" * 53,
    ],
)
def test_absurd_parameters_refused_quickly(pwhash: str) -> None:
    start = time.perf_counter()
    assert check_password_hash(pwhash, "pw") is False
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize(
    ("pwhash", "password"),
    [(None, "pw"), (123, "pw"), (b"bytes", "pw"), (GOOD_PBKDF2, None), (GOOD_PBKDF2, b"pw")],
)
def test_wrong_types_are_false(pwhash: Any, password: Any) -> None:
    assert check_password_hash(pwhash, password) is False


def test_check_uses_constant_time_compare(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str]] = []
    real = security.hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(security.hmac, "compare_digest", spy)
    assert check_password_hash(GOOD_PBKDF2, "pw") is True
    assert len(calls) == 1


def test_gen_salt() -> None:
    s = gen_salt(24)
    assert len(s) == 24 and s.isalnum()
    with pytest.raises(ValueError):
        gen_salt(0)
