"""erlen.jwt's pinned algorithm and its deliberate differences from Flask-JWT-Extended."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import timedelta

import jwt as pyjwt
import pytest

from jwt_apps import IMPLS, SECRET, bearer, forge_hs256, make, rsa_pair, token


@pytest.fixture(params=list(IMPLS))
def impl(request: pytest.FixtureRequest) -> str:
    return request.param  # type: ignore[no-any-return]


# -- the pinned algorithm ------------------------------------------------------------------


def test_rs256_and_the_public_key_as_hmac_secret(impl: str) -> None:
    private, public = rsa_pair()
    t = make(impl, JWT_ALGORITHM="RS256", JWT_PRIVATE_KEY=private, JWT_PUBLIC_KEY=public)
    tok = token(t)
    assert pyjwt.get_unverified_header(tok)["alg"] == "RS256"
    assert t.client.get("/protected", headers=bearer(tok)).status_code == 200
    # The classic confusion attack: an HS256 token "signed" with the public key as secret.
    good = pyjwt.decode(tok, public, algorithms=["RS256"])
    forged = forge_hs256(public, {"alg": "HS256", "typ": "JWT"}, dict(good, sub="admin"))
    r = t.client.get("/protected", headers=bearer(forged))
    assert (r.status_code, r.get_json()) == (422, {"msg": "The specified alg value is not allowed"})


def test_public_key_as_hmac_secret_refused_even_if_hs256_allowed(impl: str) -> None:
    private, public = rsa_pair()
    t = make(
        impl,
        JWT_ALGORITHM="RS256",
        JWT_PRIVATE_KEY=private,
        JWT_PUBLIC_KEY=public,
        JWT_DECODE_ALGORITHMS=["RS256", "HS256"],
    )
    forged = forge_hs256(public, {"alg": "HS256"}, {"sub": "admin", "type": "access"})
    if impl == "flask":
        # Flask-JWT-Extended lets PyJWT's InvalidKeyError through as a 500 (refused, but loudly).
        t.app.config["PROPAGATE_EXCEPTIONS"] = True
        with pytest.raises(pyjwt.InvalidKeyError):
            t.client.get("/protected", headers=bearer(forged))
        return
    r = t.client.get("/protected", headers=bearer(forged))
    assert (r.status_code, r.get_json()) == (422, {"msg": "Signature verification failed"})


def test_alg_none_token_refused(impl: str) -> None:
    t = make(impl)
    unsigned = pyjwt.encode({"sub": "admin", "type": "access"}, None, algorithm="none")
    r = t.client.get("/protected", headers=bearer(unsigned))
    assert (r.status_code, r.get_json()) == (422, {"msg": "The specified alg value is not allowed"})


def test_none_algorithm_config_refused() -> None:
    t = make("erlen", JWT_ALGORITHM="none")
    with pytest.raises(RuntimeError, match="'none' JWT algorithm is refused"):
        token(t)
    t = make("erlen", JWT_DECODE_ALGORITHMS=["HS256", "none"])
    t.app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(RuntimeError, match="refused"):
        t.client.get("/protected", headers=bearer(token(make("erlen"))))


# -- deliberate differences ------------------------------------------------------------------


def test_non_string_identity() -> None:
    """Flask-JWT-Extended makes the token and refuses it later (422 'Subject must be a
    string'); erlen refuses to make it, saying how to convert the identity."""
    f = make("flask")
    r = f.client.get("/protected", headers=bearer(token(f, identity=7)))
    assert (r.status_code, r.get_json()) == (422, {"msg": "Subject must be a string"})
    e = make("erlen")
    with pytest.raises(TypeError, match="must be a string.*user_identity_loader"):
        token(e, identity=7)
    e = make("erlen", JWT_VERIFY_SUB=False)  # opting out, as with Flask-JWT-Extended
    r = e.client.get("/protected", headers=bearer(token(e, identity=7)))
    assert r.get_json()["id"] == 7


def test_refusals_logged_without_token(caplog: pytest.LogCaptureFixture) -> None:
    t = make("erlen")
    tok = token(t)
    bad = tok[:-4] + ("AAAA" if not tok.endswith("AAAA") else "BBBB")
    with caplog.at_level(logging.INFO, logger="erlen.jwt"):
        t.client.get("/protected", headers=bearer(bad))
    lines = [r.getMessage() for r in caplog.records if r.name == "erlen.jwt"]
    assert lines == ["JWT 422 GET /protected: Signature verification failed"]
    assert SECRET not in caplog.text and bad not in caplog.text


def test_import_erlen_does_not_import_jwt() -> None:
    code = "import sys, erlen; print('jwt' in sys.modules, 'erlen.jwt' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_without_manager_is_a_clear_error() -> None:
    import erlen
    from erlen.jwt import create_access_token

    app = erlen.Flask("nomanager")
    with app.app_context(), pytest.raises(RuntimeError, match="initialize a JWTManager"):
        create_access_token("x")


def test_init_app_later_and_defaults() -> None:
    import erlen
    from erlen.jwt import JWTManager

    manager = JWTManager()
    app = erlen.Flask("later")
    manager.init_app(app)
    assert app.extensions["flask-jwt-extended"] is manager
    assert app.config["JWT_ACCESS_TOKEN_EXPIRES"] == timedelta(minutes=15)
    assert app.config["JWT_TOKEN_LOCATION"] == ("headers",)
    assert app.config["JWT_COOKIE_CSRF_PROTECT"] is True
