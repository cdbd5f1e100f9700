"""erlen.jwt.config (``flask_jwt_extended.config.config``), the extension's other public
modules, and the settings they check: each case on erlen.jwt and Flask-JWT-Extended alike."""

from __future__ import annotations

import importlib
import json
import uuid
from datetime import date, timedelta
from typing import Any

import jwt as pyjwt
import pytest

from jwt_apps import IMPLS, SECRET, bearer, claims_of, make, token


@pytest.fixture(params=list(IMPLS))
def impl(request: pytest.FixtureRequest) -> str:
    return request.param  # type: ignore[no-any-return]


def _config(impl: str) -> Any:
    return importlib.import_module(IMPLS[impl][1] + ".config").config


def test_config_answers_the_defaults(impl: str) -> None:
    t, config = make(impl), _config(impl)
    with t.app.app_context():
        assert config.token_location == ("headers",)
        assert (config.jwt_in_headers, config.jwt_in_cookies) == (True, False)
        assert config.header_name == "Authorization" and config.header_type == "Bearer"
        assert config.access_cookie_name == "access_token_cookie"
        assert config.csrf_request_methods == ["POST", "PUT", "PATCH", "DELETE"]
        assert config.access_expires == timedelta(minutes=15)
        assert config.refresh_expires == timedelta(days=30)
        assert config.algorithm == "HS256" and config.decode_algorithms == ["HS256"]
        assert config.is_asymmetric is False
        assert config.encode_key == SECRET and config.decode_key == SECRET
        assert config.cookie_max_age is None and config.identity_claim_key == "sub"
        assert config.error_msg_key == "msg" and set(config.exempt_methods) == {"OPTIONS"}


def test_config_reads_changes_live(impl: str) -> None:
    t, config = make(impl), _config(impl)
    t.app.config.update(
        JWT_TOKEN_LOCATION="cookies",
        JWT_SESSION_COOKIE=False,
        JWT_ACCESS_TOKEN_EXPIRES=300,
        JWT_REFRESH_TOKEN_EXPIRES=False,
        JWT_ALGORITHM="RS256",
        JWT_PRIVATE_KEY="private",
        JWT_PUBLIC_KEY="public",
    )
    with t.app.app_context():
        assert config.token_location == ("cookies",) and config.jwt_in_cookies is True
        assert config.cookie_max_age == 31540000
        assert config.access_expires == timedelta(minutes=5)
        assert config.refresh_expires is False
        assert config.is_asymmetric is True
        assert (config.encode_key, config.decode_key) == ("private", "public")


@pytest.mark.parametrize(
    ("key", "value", "attribute"),
    [
        ("JWT_TOKEN_LOCATION", [], "token_location"),
        ("JWT_TOKEN_LOCATION", 1, "token_location"),
        ("JWT_TOKEN_LOCATION", ["headers", "banana"], "token_location"),
        ("JWT_HEADER_NAME", "", "header_name"),
        ("JWT_ACCESS_TOKEN_EXPIRES", "banana", "access_expires"),
        ("JWT_REFRESH_TOKEN_EXPIRES", True, "refresh_expires"),
        ("JWT_ALGORITHM", "RS256", "encode_key"),  # no JWT_PRIVATE_KEY
    ],
)
def test_config_refuses_bad_settings(impl: str, key: str, value: Any, attribute: str) -> None:
    t, config = make(impl), _config(impl)
    t.app.config[key] = value
    with t.app.app_context(), pytest.raises(RuntimeError):
        getattr(config, attribute)


def test_expiry_true_is_refused_when_making_a_token(impl: str) -> None:
    t = make(impl, JWT_ACCESS_TOKEN_EXPIRES=True)
    with pytest.raises(RuntimeError):
        token(t)


def test_expiry_in_seconds(impl: str) -> None:
    data = claims_of(None, token(make(impl, JWT_ACCESS_TOKEN_EXPIRES=60)))  # type: ignore[arg-type]
    assert data["exp"] - data["iat"] == 60


def test_signing_algorithm_is_always_accepted_for_decoding(impl: str) -> None:
    t = make(
        impl, JWT_ALGORITHM="HS512", JWT_DECODE_ALGORITHMS=["HS256"], JWT_SECRET_KEY="k" * 64
    )
    with t.app.app_context():
        assert _config(impl).decode_algorithms == ["HS256", "HS512"]
    r = t.client.get("/protected", headers=bearer(token(t)))
    assert r.status_code == 200 and r.get_json()["alg"] == "HS512"


def test_claims_are_encoded_by_the_apps_json_provider(impl: str) -> None:
    t = make(impl)
    user = uuid.UUID(int=7)
    tok = token(t, additional_claims={"day": date(2022, 8, 12), "user": user})
    data = claims_of(t, tok)
    assert data["day"] == "Fri, 12 Aug 2022 00:00:00 GMT" and data["user"] == str(user)
    with t.app.app_context():
        encoder = _config(impl).json_encoder
        assert json.dumps({"d": date(2022, 8, 12)}, cls=encoder) == (
            '{"d": "Fri, 12 Aug 2022 00:00:00 GMT"}'
        )
        # what apps do with it: make a token by hand that the app accepts
        forged = pyjwt.encode(
            {"sub": "bob", "on": date(2022, 1, 1)}, SECRET, algorithm="HS256", json_encoder=encoder
        )
    assert t.client.get("/protected", headers=bearer(forged)).get_json()["id"] == "bob"


def test_public_modules_answer_the_same_names(impl: str) -> None:
    ext = IMPLS[impl][1]
    utils = importlib.import_module(ext + ".utils")
    decorators = importlib.import_module(ext + ".view_decorators")
    manager = importlib.import_module(ext + ".jwt_manager")
    top = importlib.import_module(ext)
    assert utils.create_access_token is top.create_access_token
    assert utils.get_jwt_identity is top.get_jwt_identity
    assert decorators.jwt_required is top.jwt_required
    assert decorators.verify_jwt_in_request is top.verify_jwt_in_request
    assert manager.JWTManager is top.JWTManager
    exceptions = importlib.import_module(ext + ".exceptions")
    assert issubclass(exceptions.NoAuthorizationError, exceptions.JWTExtendedException)
    t = make(impl)
    t.jwt.user_lookup_loader(lambda header, data: {"name": data["sub"]})
    with t.app.test_request_context(headers=bearer(token(t, identity="bob"))):
        decorators.verify_jwt_in_request()
        assert utils.current_user_context_processor()["current_user"] == {"name": "bob"}


def test_default_callbacks_answer_as_the_manager(impl: str) -> None:
    dc = importlib.import_module(IMPLS[impl][1] + ".default_callbacks")
    t = make(impl, JWT_ERROR_MESSAGE_KEY="error")
    with t.app.test_request_context():
        response, status = dc.default_unauthorized_callback("Missing Authorization Header")
        assert status == 401 and response.get_json() == {"error": "Missing Authorization Header"}
        response, status = dc.default_user_lookup_error_callback({}, {"sub": "bob"})
        assert status == 401 and response.get_json() == {"error": "Error loading the user bob"}
        assert dc.default_blocklist_callback({}, {}) is False
        assert dc.default_token_verification_callback({}, {}) is True
        assert dc.default_decode_key_callback({}, {}) == SECRET
        assert dc.default_encode_key_callback("bob") == SECRET
