"""erlen.jwt against Flask-JWT-Extended 4 (the oracle): one app source on both, same answers.

Each test runs twice, on ``erlen`` + ``erlen.jwt`` and on ``flask`` + ``flask_jwt_extended``,
except where erlen deliberately differs (non-string identities, ``none``), marked below.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import jwt as pyjwt
import pytest

from jwt_apps import IMPLS, SECRET, bearer, claims_of, make, token


@pytest.fixture(params=list(IMPLS))
def impl(request: pytest.FixtureRequest) -> str:
    return request.param  # type: ignore[no-any-return]


# -- tokens and claims ------------------------------------------------------------------


def test_access_token_claims_layout(impl: str) -> None:
    t = make(impl)
    data = claims_of(t, token(t))
    assert set(data) == {"sub", "iat", "nbf", "jti", "exp", "type", "fresh", "csrf"}
    assert data["sub"] == "alice" and data["type"] == "access" and data["fresh"] is False
    assert data["exp"] - data["iat"] == 15 * 60
    assert pyjwt.get_unverified_header(token(t)) == {"alg": "HS256", "typ": "JWT"}


def test_refresh_token_lasts_30_days(impl: str) -> None:
    t = make(impl)
    data = claims_of(t, token(t, "refresh"))
    assert data["type"] == "refresh" and data["fresh"] is False
    assert data["exp"] - data["iat"] == 30 * 24 * 3600


def test_csrf_claim_follows_csrf_protect(impl: str) -> None:
    t = make(impl, JWT_TOKEN_LOCATION=["headers", "cookies"])
    assert len(claims_of(t, token(t))["csrf"]) == 36
    assert "csrf" not in claims_of(t, token(make(impl, JWT_COOKIE_CSRF_PROTECT=False)))


def test_additional_claims_and_headers_merge_over_loader(impl: str) -> None:
    t = make(impl)
    t.jwt.additional_claims_loader(lambda identity: {"role": "user", "org": identity})
    t.jwt.additional_headers_loader(lambda identity: {"kid": "loader"})
    tok = token(t, additional_claims={"role": "admin"}, additional_headers={"x": 1})
    data = claims_of(t, tok)
    assert data["role"] == "admin" and data["org"] == "alice"
    header = pyjwt.get_unverified_header(tok)
    assert header["kid"] == "loader" and header["x"] == 1


def test_expires_delta_false_means_no_exp(impl: str) -> None:
    t = make(impl)
    assert "exp" not in claims_of(t, token(t, expires_delta=False))
    assert claims_of(t, token(t, expires_delta=timedelta(seconds=5)))["exp"] > time.time()


def test_identity_loader_converts_objects(impl: str) -> None:
    t = make(impl)
    t.jwt.user_identity_loader(lambda user: str(user["id"]))
    tok = token(t, identity={"id": 42})
    r = t.client.get("/protected", headers=bearer(tok))
    assert r.status_code == 200 and r.get_json()["id"] == "42"


def test_secret_falls_back_to_secret_key(impl: str) -> None:
    t = make(impl, JWT_SECRET_KEY=None, SECRET_KEY="app-secret-key-long-enough-for-hs256!")
    tok = token(t)
    assert pyjwt.decode(tok, "app-secret-key-long-enough-for-hs256!", algorithms=["HS256"])
    assert t.client.get("/protected", headers=bearer(tok)).status_code == 200


def test_no_secret_is_a_clear_error(impl: str) -> None:
    t = make(impl, JWT_SECRET_KEY=None)
    with pytest.raises(RuntimeError, match="JWT_SECRET_KEY or flask SECRET_KEY must be set"):
        token(t)


# -- reading the token of a request ------------------------------------------------------


def test_valid_bearer_token(impl: str) -> None:
    t = make(impl)
    r = t.client.get("/protected", headers=bearer(token(t)))
    assert r.status_code == 200
    body = r.get_json()
    assert body["id"] == "alice" and body["claims"]["type"] == "access" and body["alg"] == "HS256"


@pytest.mark.parametrize(
    ("headers", "status", "msg"),
    [
        ({}, 401, "Missing Authorization Header"),
        (
            {"Authorization": "Basic abc"},
            401,
            "Missing 'Bearer' type in 'Authorization' header. Expected 'Authorization: Bearer <JWT>'",
        ),
        (
            {"Authorization": "Bearer a b"},
            422,
            "Bad Authorization header. Expected 'Authorization: Bearer <JWT>'",
        ),
        ({"Authorization": "Bearer not-a-token"}, 422, "Not enough segments"),
    ],
)
def test_missing_or_bad_header(impl: str, headers: dict[str, str], status: int, msg: str) -> None:
    r = make(impl).client.get("/protected", headers=headers)
    assert (r.status_code, r.get_json()) == (status, {"msg": msg})


def test_tampered_token_is_422(impl: str) -> None:
    t = make(impl)
    head, payload, sig = token(t).split(".")
    forged = pyjwt.encode({"sub": "admin"}, "other-secret-other-secret-other!!", algorithm="HS256")
    for bad in (f"{head}.{forged.split('.')[1]}.{sig}", forged):
        r = t.client.get("/protected", headers=bearer(bad))
        assert (r.status_code, r.get_json()) == (422, {"msg": "Signature verification failed"})


def test_expired_token_is_401(impl: str) -> None:
    t = make(impl)
    tok = token(t, expires_delta=timedelta(seconds=-1))
    r = t.client.get("/protected", headers=bearer(tok))
    assert (r.status_code, r.get_json()) == (401, {"msg": "Token has expired"})


def test_expired_loader_gets_header_and_claims(impl: str) -> None:
    t = make(impl)
    t.jwt.expired_token_loader(lambda h, d: ({"gone": d["sub"], "alg": h["alg"]}, 401))
    r = t.client.get("/protected", headers=bearer(token(t, expires_delta=timedelta(seconds=-1))))
    assert (r.status_code, r.get_json()) == (401, {"gone": "alice", "alg": "HS256"})


def test_leeway_accepts_recently_expired(impl: str) -> None:
    t = make(impl, JWT_DECODE_LEEWAY=60)
    tok = token(t, expires_delta=timedelta(seconds=-5))
    assert t.client.get("/protected", headers=bearer(tok)).status_code == 200


def test_token_without_sub_is_422(impl: str) -> None:
    t = make(impl)
    tok = pyjwt.encode({"type": "access"}, SECRET, algorithm="HS256")
    r = t.client.get("/protected", headers=bearer(tok))
    assert (r.status_code, r.get_json()) == (422, {"msg": "Missing claim: sub"})


def test_refresh_token_refused_where_access_wanted(impl: str) -> None:
    t = make(impl)
    r = t.client.get("/protected", headers=bearer(token(t, "refresh")))
    assert (r.status_code, r.get_json()) == (422, {"msg": "Only non-refresh tokens are allowed"})
    r = t.client.post("/refresh", headers=bearer(token(t)))
    assert (r.status_code, r.get_json()) == (422, {"msg": "Only refresh tokens are allowed"})
    r = t.client.post("/refresh", headers=bearer(token(t, "refresh")))
    assert r.status_code == 200 and claims_of(t, r.get_json()["access"])["sub"] == "alice"


def test_fresh_required(impl: str) -> None:
    t = make(impl)
    r = t.client.get("/fresh", headers=bearer(token(t)))
    assert (r.status_code, r.get_json()) == (401, {"msg": "Fresh token required"})
    assert t.client.get("/fresh", headers=bearer(token(t, fresh=True))).status_code == 200
    soon = token(t, fresh=timedelta(minutes=5))
    assert t.client.get("/fresh", headers=bearer(soon)).status_code == 200
    past = token(t, fresh=timedelta(minutes=-5))
    assert t.client.get("/fresh", headers=bearer(past)).status_code == 401


def test_optional_without_token(impl: str) -> None:
    t = make(impl)
    r = t.client.get("/optional")
    assert (r.status_code, r.get_json()) == (200, {"id": None, "claims": {}})
    r = t.client.get("/optional", headers=bearer("garbage"))
    assert r.status_code == 422  # an invalid token is refused even when optional


def test_options_requests_are_exempt(impl: str) -> None:
    t = make(impl)
    with t.app.test_request_context(method="OPTIONS"):
        assert t.ext.verify_jwt_in_request() is None


def test_blocklist_revokes(impl: str) -> None:
    t = make(impl)
    revoked: set[str] = set()
    t.jwt.token_in_blocklist_loader(lambda h, d: d["jti"] in revoked)
    tok = token(t)
    assert t.client.get("/protected", headers=bearer(tok)).status_code == 200
    revoked.add(claims_of(t, tok)["jti"])
    r = t.client.get("/protected", headers=bearer(tok))
    assert (r.status_code, r.get_json()) == (401, {"msg": "Token has been revoked"})


def test_token_verification_loader(impl: str) -> None:
    t = make(impl)
    t.jwt.token_verification_loader(lambda h, d: d.get("role") == "admin")
    r = t.client.get("/protected", headers=bearer(token(t)))
    assert (r.status_code, r.get_json()) == (400, {"msg": "User claims verification failed"})
    ok = token(t, additional_claims={"role": "admin"})
    assert t.client.get("/protected", headers=bearer(ok)).status_code == 200
    t.jwt.token_verification_failed_loader(lambda h, d: ({"no": d["sub"]}, 403))
    r = t.client.get("/protected", headers=bearer(token(t)))
    assert (r.status_code, r.get_json()) == (403, {"no": "alice"})


def test_custom_message_loaders_and_key(impl: str) -> None:
    t = make(impl, JWT_ERROR_MESSAGE_KEY="error")
    r = t.client.get("/protected")
    assert r.get_json() == {"error": "Missing Authorization Header"}
    t.jwt.unauthorized_loader(lambda msg: ({"why": msg}, 401))
    t.jwt.invalid_token_loader(lambda msg: ({"bad": msg}, 400))
    assert t.client.get("/protected").get_json() == {"why": "Missing Authorization Header"}
    r = t.client.get("/protected", headers=bearer("x.y.z"))
    assert r.status_code == 400 and "bad" in r.get_json()
    t.jwt.needs_fresh_token_loader(lambda h, d: ({"fresh": "please"}, 401))
    t.jwt.revoked_token_loader(lambda h, d: ({"revoked": d["sub"]}, 401))
    assert t.client.get("/fresh", headers=bearer(token(t))).get_json() == {"fresh": "please"}
    t.jwt.token_in_blocklist_loader(lambda h, d: True)
    r = t.client.get("/protected", headers=bearer(token(t)))
    assert r.get_json() == {"revoked": "alice"}


def test_current_user_via_user_lookup(impl: str) -> None:
    t = make(impl)
    users = {"alice": {"name": "Alice"}}
    t.jwt.user_lookup_loader(lambda h, d: users.get(d["sub"]))

    @t.app.route("/me")
    @t.ext.jwt_required()
    def me() -> Any:
        return {
            "name": t.ext.current_user["name"],
            "same": t.ext.get_current_user() is users["alice"],
        }

    r = t.client.get("/me", headers=bearer(token(t)))
    assert (r.status_code, r.get_json()) == (200, {"name": "Alice", "same": True})
    r = t.client.get("/me", headers=bearer(token(t, identity="bob")))
    assert (r.status_code, r.get_json()) == (401, {"msg": "Error loading the user bob"})
    t.jwt.user_lookup_error_loader(lambda h, d: ({"unknown": d["sub"]}, 404))
    r = t.client.get("/me", headers=bearer(token(t, identity="bob")))
    assert (r.status_code, r.get_json()) == (404, {"unknown": "bob"})


def test_getters_before_verification_raise(impl: str) -> None:
    t = make(impl)
    with t.app.test_request_context():
        with pytest.raises(RuntimeError, match="You must call `@jwt_required\\(\\)`"):
            t.ext.get_jwt()
        with pytest.raises(RuntimeError, match="You must call"):
            t.ext.get_current_user()
    with t.app.test_request_context(headers=bearer(token(t))):
        t.ext.verify_jwt_in_request()
        with pytest.raises(RuntimeError, match="user_lookup_loader"):
            t.ext.get_current_user()


def test_verify_jwt_in_request_returns_header_and_claims(impl: str) -> None:
    t = make(impl)
    tok = token(t)
    with t.app.test_request_context(headers=bearer(tok)):
        header, data = t.ext.verify_jwt_in_request()
        assert header["alg"] == "HS256" and data["sub"] == "alice"
        assert t.ext.get_jwt_request_location() == "headers"
    with t.app.test_request_context():
        assert t.ext.verify_jwt_in_request(optional=True) is None


def test_decode_token(impl: str) -> None:
    t = make(impl)
    tok = token(t, expires_delta=timedelta(seconds=-1))
    with t.app.app_context():
        with pytest.raises(pyjwt.ExpiredSignatureError):
            t.ext.decode_token(tok)
        assert t.ext.decode_token(tok, allow_expired=True)["sub"] == "alice"
        fresh_token = token(t)
        assert t.ext.get_jti(fresh_token) == claims_of(t, fresh_token)["jti"]


def test_custom_header_name_and_type(impl: str) -> None:
    t = make(impl, JWT_HEADER_NAME="X-Token", JWT_HEADER_TYPE="")
    r = t.client.get("/protected", headers={"X-Token": token(t)})
    assert r.status_code == 200
    r = t.client.get("/protected")
    assert r.get_json() == {"msg": "Missing X-Token Header"}


def test_identity_claim_renamed(impl: str) -> None:
    t = make(impl, JWT_IDENTITY_CLAIM="user")
    tok = token(t)
    assert claims_of(t, tok)["user"] == "alice"
    assert t.client.get("/protected", headers=bearer(tok)).get_json()["id"] == "alice"


def test_issuer_and_audience(impl: str) -> None:
    t = make(
        impl,
        JWT_ENCODE_ISSUER="me",
        JWT_DECODE_ISSUER="me",
        JWT_ENCODE_AUDIENCE="api",
        JWT_DECODE_AUDIENCE="api",
    )
    assert t.client.get("/protected", headers=bearer(token(t))).status_code == 200
    other = make(impl, JWT_DECODE_AUDIENCE="api")
    r = other.client.get("/protected", headers=bearer(token(other)))
    assert (r.status_code, r.get_json()) == (422, {"msg": 'Token is missing the "aud" claim'})
    other = make(impl, JWT_DECODE_ISSUER="me", JWT_ENCODE_ISSUER="someone")
    r = other.client.get("/protected", headers=bearer(token(other)))
    assert (r.status_code, r.get_json()) == (422, {"msg": "Invalid issuer"})


# -- other locations ---------------------------------------------------------------------


def test_cookies_with_double_submit_csrf(impl: str) -> None:
    t = make(impl, JWT_TOKEN_LOCATION=["cookies"])
    r = t.client.post("/login")
    cookies = {c.split("=", 1)[0]: c for c in r.headers.getlist("Set-Cookie")}
    assert set(cookies) == {
        "access_token_cookie",
        "csrf_access_token",
        "refresh_token_cookie",
        "csrf_refresh_token",
    }
    assert "HttpOnly" in cookies["access_token_cookie"]
    assert "HttpOnly" not in cookies["csrf_access_token"]
    csrf = t.client.get_cookie("csrf_access_token").value
    assert t.client.get("/protected").status_code == 200  # GET needs no CSRF value
    r = t.client.post("/protected")
    assert (r.status_code, r.get_json()) == (401, {"msg": "Missing CSRF token"})
    r = t.client.post("/protected", headers={"X-CSRF-TOKEN": "forged"})
    assert (r.status_code, r.get_json()) == (401, {"msg": "CSRF double submit tokens do not match"})
    r = t.client.post("/protected", headers={"X-CSRF-TOKEN": csrf})
    assert r.status_code == 200 and r.get_json()["id"] == "alice"
    refresh_csrf = t.client.get_cookie("csrf_refresh_token").value
    assert t.client.post("/refresh", headers={"X-CSRF-TOKEN": refresh_csrf}).status_code == 200
    r = t.client.post("/logout")
    gone = [c for c in r.headers.getlist("Set-Cookie") if c.startswith("access_token_cookie=")]
    assert gone and "Expires=Thu, 01 Jan 1970 00:00:00 GMT" in gone[0]
    r = t.client.get("/protected")
    assert (r.status_code, r.get_json()) == (401, {"msg": 'Missing cookie "access_token_cookie"'})


def test_cookie_options(impl: str) -> None:
    t = make(
        impl,
        JWT_TOKEN_LOCATION=["cookies"],
        JWT_COOKIE_SECURE=True,
        JWT_COOKIE_SAMESITE="Lax",
        JWT_SESSION_COOKIE=False,
        JWT_COOKIE_CSRF_PROTECT=False,
    )
    r = t.client.post("/login")
    cookies = r.headers.getlist("Set-Cookie")
    assert len(cookies) == 2
    access = next(c for c in cookies if c.startswith("access_token_cookie="))
    assert "Secure" in access and "SameSite=Lax" in access and "Max-Age=31540000" in access
    assert t.client.post("/protected").status_code == 200  # CSRF protection off


def test_query_string_and_json(impl: str) -> None:
    t = make(impl, JWT_TOKEN_LOCATION=["query_string", "json"])
    tok = token(t)
    assert t.client.get("/protected?jwt=" + tok).status_code == 200
    assert t.client.post("/protected", json={"access_token": tok}).status_code == 200
    r = t.client.get("/protected")
    assert (r.status_code, r.get_json()["msg"]) == (
        401,
        "Missing JWT in query_string or json (Missing 'jwt' query paramater; "
        "Invalid content-type. Must be application/json.)",
    )
    r = t.client.post("/protected", json={"other": 1})
    assert r.get_json()["msg"].endswith('Missing "access_token" key in json data.)')


def test_per_view_locations(impl: str) -> None:
    t = make(impl)

    @t.app.route("/q")
    @t.ext.jwt_required(locations="query_string")
    def q() -> Any:
        return {"id": t.ext.get_jwt_identity()}

    assert t.client.get("/q?jwt=" + token(t)).status_code == 200
    assert t.client.get("/q", headers=bearer(token(t))).status_code == 401


def test_current_user_in_templates(impl: str) -> None:
    import importlib

    fw = importlib.import_module(impl)
    ext = importlib.import_module("erlen.jwt" if impl == "erlen" else "flask_jwt_extended")
    app = fw.Flask("ctxproc")
    app.config["JWT_SECRET_KEY"] = SECRET
    manager = ext.JWTManager(app, add_context_processor=True)
    manager.user_lookup_loader(lambda h, d: {"name": d["sub"].title()})

    @app.route("/page")
    @ext.jwt_required()
    def page() -> Any:
        return fw.render_template_string("hi {{ current_user.name }}")

    with app.app_context():
        tok = ext.create_access_token("alice")
    r = app.test_client().get("/page", headers=bearer(tok))
    assert (r.status_code, r.get_data(as_text=True)) == (200, "hi Alice")


def test_verify_type_false_and_skip_revocation_check(impl: str) -> None:
    t = make(impl)
    t.jwt.token_in_blocklist_loader(lambda h, d: True)

    @t.app.route("/any-type")
    @t.ext.jwt_required(verify_type=False, skip_revocation_check=True)
    def any_type() -> Any:
        return {"type": t.ext.get_jwt()["type"]}

    r = t.client.get("/any-type", headers=bearer(token(t, "refresh")))
    assert (r.status_code, r.get_json()) == (200, {"type": "refresh"})
    assert t.client.get("/protected", headers=bearer(token(t))).status_code == 401


def test_async_view(impl: str) -> None:
    t = make(impl)

    @t.app.route("/async")
    @t.ext.jwt_required()
    async def async_view() -> Any:
        return {"id": t.ext.get_jwt_identity()}

    r = t.client.get("/async", headers=bearer(token(t)))
    assert (r.status_code, r.get_json()) == (200, {"id": "alice"})
    assert t.client.get("/async").status_code == 401
