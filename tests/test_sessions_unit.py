"""Session interface unit tests with fake app/request/response; Flask as the cookie oracle."""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

import flask
import pytest
from flask.sessions import SecureCookieSessionInterface as FlaskInterface
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.datastructures import Headers

from erlen.sessions import (
    NullSession,
    SecureCookieSession,
    SecureCookieSessionInterface,
    SessionInterface,
    SessionMixin,
)
from erlen.sessions.base import _add_vary_cookie

KEY = "current-secret"


class FakeResponse:
    def __init__(self, vary: str | None = None) -> None:
        self.headers = Headers()
        if vary is not None:
            self.headers["Vary"] = vary
        self.set_calls: list[tuple[str, str, dict[str, Any]]] = []
        self.delete_calls: list[tuple[str, dict[str, Any]]] = []

    def set_cookie(self, key: str, value: str = "", **kwargs: Any) -> None:
        self.set_calls.append((key, value, kwargs))

    def delete_cookie(self, key: str, **kwargs: Any) -> None:
        self.delete_calls.append((key, kwargs))


def make_app(secret_key: Any = KEY, **config: Any) -> SimpleNamespace:
    base = {
        "SECRET_KEY": secret_key,
        "SECRET_KEY_FALLBACKS": [],
        "SESSION_COOKIE_NAME": "session",
        "SESSION_COOKIE_DOMAIN": None,
        "SESSION_COOKIE_PATH": None,
        "APPLICATION_ROOT": "/",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SECURE": False,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_PARTITIONED": False,
        "SESSION_REFRESH_EACH_REQUEST": True,
    }
    base.update(config)
    return SimpleNamespace(
        config=base,
        secret_key=secret_key,
        permanent_session_lifetime=timedelta(days=31),
        session_interface=SecureCookieSessionInterface(),
    )


def make_request(cookie: str | None = None, name: str = "session") -> SimpleNamespace:
    return SimpleNamespace(cookies={name: cookie} if cookie is not None else {})


def roundtrip_cookie(app: SimpleNamespace, data: dict[str, Any]) -> str:
    iface = app.session_interface
    session = iface.open_session(app, make_request())
    session.update(data)
    resp = FakeResponse()
    iface.save_session(app, session, resp)
    assert len(resp.set_calls) == 1
    return resp.set_calls[0][1]


# -- SecureCookieSession tracking ----------------------------------------------------------
def test_new_session_is_untouched() -> None:
    s = SecureCookieSession({"a": 1})
    assert s.modified is False and s.accessed is False and s.new is False


@pytest.mark.parametrize(
    "read",
    [
        lambda s: s["a"],
        lambda s: s.get("a"),
        lambda s: "a" in s,
        lambda s: list(s),
        lambda s: len(s),
        lambda s: s.keys(),
        lambda s: s.items(),
        lambda s: s.values(),
        lambda s: bool(s),
        lambda s: s.copy(),
        lambda s: s == {},
        lambda s: s.permanent,
        lambda s: list(reversed(s)),
    ],
)
def test_reads_mark_accessed_not_modified(read: Any) -> None:
    s = SecureCookieSession({"a": 1})
    read(s)
    assert s.accessed is True
    assert s.modified is False


@pytest.mark.parametrize(
    "write",
    [
        lambda s: s.__setitem__("b", 2),
        lambda s: s.__delitem__("a"),
        lambda s: s.update(b=2),
        lambda s: s.pop("a"),
        lambda s: s.popitem(),
        lambda s: s.setdefault("new", 1),
        lambda s: s.clear(),
        lambda s: s.__ior__({"c": 3}),
        lambda s: setattr(s, "permanent", True),
    ],
)
def test_writes_mark_modified(write: Any) -> None:
    s = SecureCookieSession({"a": 1})
    write(s)
    assert s.modified is True


def test_non_mutating_pop_and_setdefault() -> None:
    s = SecureCookieSession({"a": 1})
    assert s.pop("missing", 5) == 5
    assert s.setdefault("a", 9) == 1
    assert s.modified is False and s.accessed is True
    with pytest.raises(KeyError):
        s.pop("missing")
    s2 = SecureCookieSession({"a": 1})
    s2 |= {"b": 2}
    assert s2 == {"a": 1, "b": 2} and s2.modified is True
    assert "SecureCookieSession" in repr(s2)


def test_permanent_property() -> None:
    s = SecureCookieSession()
    assert s.permanent is False
    s.permanent = True
    assert s["_permanent"] is True and s.permanent is True
    s.permanent = 0  # type: ignore[assignment]
    assert s["_permanent"] is False


def test_mixin_defaults_are_safe() -> None:
    assert SessionMixin.modified is True and SessionMixin.accessed is True


def test_null_session_reads_but_refuses_writes() -> None:
    s = NullSession()
    assert s.get("x") is None and "x" not in s and len(s) == 0
    for write in (
        lambda: s.__setitem__("a", 1),
        lambda: s.__delitem__("a"),
        lambda: s.update(a=1),
        lambda: s.pop("a"),
        lambda: s.popitem(),
        lambda: s.setdefault("a", 1),
        lambda: s.clear(),
        lambda: s.__ior__({"a": 1}),
    ):
        with pytest.raises(RuntimeError, match="no secret key was set.*SECRET_KEY"):
            write()


# -- SessionInterface config getters -------------------------------------------------------
def test_config_getters() -> None:
    iface = SecureCookieSessionInterface()
    app = make_app(
        SESSION_COOKIE_NAME="sid",
        SESSION_COOKIE_DOMAIN="example.com",
        APPLICATION_ROOT="/app",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_PARTITIONED=True,
        SESSION_COOKIE_HTTPONLY=False,
    )
    assert iface.get_cookie_name(app) == "sid"
    assert iface.get_cookie_domain(app) == "example.com"
    assert iface.get_cookie_path(app) == "/app"
    app.config["SESSION_COOKIE_PATH"] = "/p"
    assert iface.get_cookie_path(app) == "/p"
    assert iface.get_cookie_secure(app) is True
    assert iface.get_cookie_samesite(app) == "Strict"
    assert iface.get_cookie_partitioned(app) is True
    assert iface.get_cookie_httponly(app) is False
    assert iface.get_cookie_domain(make_app()) is None


def test_expiration_and_should_set_cookie() -> None:
    iface = SecureCookieSessionInterface()
    app = make_app()
    s = SecureCookieSession()
    assert iface.get_expiration_time(app, s) is None
    assert iface.should_set_cookie(app, s) is False
    s.permanent = True
    exp = iface.get_expiration_time(app, s)
    assert exp is not None and exp.tzinfo is not None
    assert abs((exp - datetime.now(UTC)) - timedelta(days=31)) < timedelta(seconds=5)
    s.modified = False
    assert iface.should_set_cookie(app, s) is True
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    assert iface.should_set_cookie(app, s) is False


def test_null_session_helpers_and_abstract_base() -> None:
    iface = SessionInterface()
    null = iface.make_null_session(make_app())
    assert isinstance(null, NullSession)
    assert iface.is_null_session(null) and not iface.is_null_session(SecureCookieSession())
    assert iface.pickle_based is False
    with pytest.raises(NotImplementedError):
        iface.open_session(make_app(), make_request())
    with pytest.raises(NotImplementedError):
        iface.save_session(make_app(), SecureCookieSession(), FakeResponse())


# -- open/save ----------------------------------------------------------------------------
def test_no_secret_key_gives_none() -> None:
    for key in (None, ""):
        app = make_app(secret_key=key)
        assert app.session_interface.open_session(app, make_request("x")) is None


def test_missing_cookie_gives_empty_session() -> None:
    app = make_app()
    s = app.session_interface.open_session(app, make_request())
    assert isinstance(s, SecureCookieSession) and dict(s) == {}
    assert s.modified is False


def test_round_trip_with_tagged_values() -> None:
    app = make_app()
    data = {"user": 7, "pair": (1, 2), "raw": b"\x00", "when": datetime(2020, 1, 1, tzinfo=UTC)}
    cookie = roundtrip_cookie(app, data)
    s = app.session_interface.open_session(app, make_request(cookie))
    assert s == data
    assert s.modified is False


def test_save_sets_cookie_with_attributes_and_vary() -> None:
    app = make_app(
        SESSION_COOKIE_DOMAIN="example.com",
        SESSION_COOKIE_PATH="/x",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_PARTITIONED=True,
    )
    s = SecureCookieSession()
    s["a"] = 1
    resp = FakeResponse()
    app.session_interface.save_session(app, s, resp)
    ((name, value, kw),) = resp.set_calls
    assert name == "session" and value
    assert kw == {
        "expires": None,
        "path": "/x",
        "domain": "example.com",
        "secure": True,
        "httponly": True,
        "samesite": "Strict",
        "partitioned": True,
    }
    assert resp.headers["Vary"] == "Cookie"


def test_permanent_session_sets_expires() -> None:
    app = make_app()
    s = SecureCookieSession()
    s.permanent = True
    resp = FakeResponse()
    app.session_interface.save_session(app, s, resp)
    exp = resp.set_calls[0][2]["expires"]
    assert isinstance(exp, datetime)
    assert exp > datetime.now(UTC) + timedelta(days=30)


def test_untouched_session_sets_nothing() -> None:
    app = make_app()
    s = SecureCookieSession({"a": 1})
    resp = FakeResponse()
    app.session_interface.save_session(app, s, resp)
    assert resp.set_calls == [] and resp.delete_calls == []
    assert "Vary" not in resp.headers


def test_read_only_access_adds_vary_without_cookie() -> None:
    app = make_app()
    s = SecureCookieSession({"a": 1})
    assert "a" in s
    resp = FakeResponse(vary="Accept-Encoding")
    app.session_interface.save_session(app, s, resp)
    assert resp.set_calls == []
    assert resp.headers["Vary"] == "Accept-Encoding, Cookie"


def test_cleared_session_deletes_cookie_with_same_attributes() -> None:
    app = make_app(SESSION_COOKIE_DOMAIN="d.example", SESSION_COOKIE_SECURE=True)
    s = SecureCookieSession({"a": 1})
    s.clear()
    resp = FakeResponse()
    app.session_interface.save_session(app, s, resp)
    assert resp.set_calls == []
    assert resp.delete_calls == [
        (
            "session",
            {
                "path": "/",
                "domain": "d.example",
                "secure": True,
                "httponly": True,
                "samesite": "Lax",
                "partitioned": False,
            },
        )
    ]
    assert resp.headers["Vary"] == "Cookie"


def test_refresh_each_request_for_permanent_session() -> None:
    app = make_app()
    cookie = roundtrip_cookie(app, {"_permanent": True, "a": 1})
    s = app.session_interface.open_session(app, make_request(cookie))
    resp = FakeResponse()
    app.session_interface.save_session(app, s, resp)
    assert len(resp.set_calls) == 1
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    s = app.session_interface.open_session(app, make_request(cookie))
    resp = FakeResponse()
    app.session_interface.save_session(app, s, resp)
    assert resp.set_calls == []


@pytest.mark.parametrize(
    "cookie",
    [
        "garbage",
        "a.b.c",
        "....",
        "\udcff\x00",
        "eyJhIjoxfQ.ZZZZZZ.AAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "x" * 5000,
    ],
)
def test_bad_cookie_gives_empty_session(cookie: str, caplog: pytest.LogCaptureFixture) -> None:
    app = make_app()
    with caplog.at_level(logging.DEBUG, logger="erlen.sessions"):
        s = app.session_interface.open_session(app, make_request(cookie))
    assert isinstance(s, SecureCookieSession) and dict(s) == {}
    assert len(caplog.records) == 1
    assert cookie not in caplog.text and KEY not in caplog.text


def test_tampered_cookie_is_rejected() -> None:
    app = make_app()
    cookie = roundtrip_cookie(app, {"admin": False})
    payload, rest = cookie.split(".", 1)
    forged = URLSafeTimedSerializer(KEY).dump_payload({"admin": True}).decode()
    s = app.session_interface.open_session(app, make_request(f"{forged}.{rest}"))
    assert dict(s) == {}
    # flipping one signature character also fails (not the last one: its low two bits are
    # base64 padding, which itsdangerous, like Flask, ignores when decoding)
    flipped = cookie[:-5] + ("A" if cookie[-5] != "A" else "B") + cookie[-4:]
    assert dict(app.session_interface.open_session(app, make_request(flipped))) == {}


def test_foreign_key_and_foreign_salt_are_rejected() -> None:
    app = make_app()
    other = make_app(secret_key="someone-else")
    cookie = roundtrip_cookie(other, {"a": 1})
    assert dict(app.session_interface.open_session(app, make_request(cookie))) == {}
    wrong_salt = URLSafeTimedSerializer(KEY, salt="other").dumps({"a": 1})
    assert dict(app.session_interface.open_session(app, make_request(wrong_salt))) == {}


def test_non_dict_payload_is_rejected() -> None:
    app = make_app()
    signer = app.session_interface.get_signing_serializer(app)
    cookie = signer.dumps([1, 2, 3])
    assert dict(app.session_interface.open_session(app, make_request(cookie))) == {}


def test_expired_cookie_is_rejected() -> None:
    app = make_app()
    cookie = roundtrip_cookie(app, {"a": 1})
    app.permanent_session_lifetime = timedelta(seconds=60)
    later = time.time() + 120
    with mock.patch("itsdangerous.timed.time.time", return_value=later):
        assert dict(app.session_interface.open_session(app, make_request(cookie))) == {}
    assert app.session_interface.open_session(app, make_request(cookie)) == {"a": 1}


def test_secret_key_fallbacks_verify_but_current_key_signs() -> None:
    old = make_app(secret_key="old-key")
    old_cookie = roundtrip_cookie(old, {"a": 1})
    app = make_app(secret_key="new-key", SECRET_KEY_FALLBACKS=["older-key", "old-key"])
    s = app.session_interface.open_session(app, make_request(old_cookie))
    assert s == {"a": 1}
    new_cookie = roundtrip_cookie(app, {"b": 2})
    only_new = make_app(secret_key="new-key")
    assert only_new.session_interface.open_session(only_new, make_request(new_cookie)) == {"b": 2}
    assert dict(old.session_interface.open_session(old, make_request(new_cookie))) == {}


def test_signer_cache_follows_key_changes() -> None:
    app = make_app(secret_key="k1")
    iface = app.session_interface
    s1 = iface.get_signing_serializer(app)
    assert iface.get_signing_serializer(app) is s1
    app.secret_key = "k2"
    assert iface.get_signing_serializer(app) is not s1
    for i in range(20):
        app.secret_key = f"key{i}"
        iface.get_signing_serializer(app)
    assert len(iface._signers) <= 8


# -- Vary helper ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("before", "after"),
    [
        (None, "Cookie"),
        ("", "Cookie"),
        ("Accept", "Accept, Cookie"),
        ("Accept, cookie", "Accept, cookie"),
        ("Cookie", "Cookie"),
        ("*", "*"),
        ("Accept,Origin", "Accept, Origin, Cookie"),
    ],
)
def test_add_vary_cookie(before: str | None, after: str) -> None:
    resp = FakeResponse(vary=before)
    _add_vary_cookie(resp)
    _add_vary_cookie(resp)
    assert resp.headers["Vary"] == after


# -- Flask compatibility -------------------------------------------------------------------
def flask_app(secret_key: str = KEY, fallbacks: list[str] | None = None) -> flask.Flask:
    app = flask.Flask(__name__)
    app.secret_key = secret_key
    app.config["SECRET_KEY_FALLBACKS"] = fallbacks or []
    return app


def test_flask_signed_cookie_opens_in_erlen() -> None:
    fapp = flask_app()

    @fapp.route("/set")
    def set_session() -> str:
        flask.session["user"] = 42
        flask.session["pair"] = (1, "x")
        flask.session["raw"] = b"bytes"
        return "ok"

    client = fapp.test_client()
    client.get("/set")
    cookie = client.get_cookie("session")
    assert cookie is not None
    app = make_app()
    s = app.session_interface.open_session(app, make_request(cookie.value))
    assert s == {"user": 42, "pair": (1, "x"), "raw": b"bytes"}


def test_erlen_signed_cookie_opens_in_flask() -> None:
    app = make_app()
    cookie = roundtrip_cookie(app, {"user": 42, "pair": (1, "x"), "_permanent": True})
    fapp = flask_app()

    @fapp.route("/get")
    def get_session() -> Any:
        return {"user": flask.session.get("user"), "pair": list(flask.session["pair"])}

    client = fapp.test_client()
    client.set_cookie("session", cookie)
    assert client.get("/get").get_json() == {"user": 42, "pair": [1, "x"]}


def test_flask_fallback_keys_interoperate() -> None:
    fapp = flask_app(secret_key="old")
    with fapp.test_request_context():
        old_cookie = FlaskInterface().get_signing_serializer(fapp).dumps({"a": 1})
    app = make_app(secret_key="new", SECRET_KEY_FALLBACKS=["old"])
    assert app.session_interface.open_session(app, make_request(old_cookie)) == {"a": 1}
    new_cookie = roundtrip_cookie(app, {"b": 2})
    fapp_new = flask_app(secret_key="new", fallbacks=["old"])
    with fapp_new.test_request_context(headers={"Cookie": f"session={new_cookie}"}):
        fs = FlaskInterface().open_session(fapp_new, flask.request)
        assert dict(fs) == {"b": 2}


# -- the session serializer vs stock itsdangerous ------------------------------------------
def _its(keys: list[str], key_derivation: str = "hmac") -> URLSafeTimedSerializer:
    from erlen.sessions import session_json_serializer

    return URLSafeTimedSerializer(
        keys,
        salt="cookie-session",
        serializer=session_json_serializer,
        signer_kwargs={"key_derivation": key_derivation, "digest_method": hashlib.sha1},
    )


@pytest.mark.parametrize(
    "data",
    [
        {"a": 1},
        {"big": "x" * 2000, "t": (1, 2)},  # compressible: leading-dot payload
        {"u": "ünïcødé", "b": b"\x00\x01"},
    ],
)
def test_serializer_matches_itsdangerous_both_ways(data: dict[str, Any]) -> None:
    app = make_app(SECRET_KEY_FALLBACKS=["old"])
    signer = app.session_interface.get_signing_serializer(app)
    with mock.patch("time.time", return_value=time.time()):  # one timestamp for both
        ours = signer.dumps(data)
        assert ours == _its(["old", KEY]).dumps(data)  # byte for byte
    assert ours.startswith(".") or "big" not in data
    for _ in range(2):  # the reused signer gives the same answers again
        assert _its(["old", KEY]).loads(ours, max_age=60) == data
        assert signer.loads(_its([KEY]).dumps(data), max_age=60) == data
        assert signer.loads(_its(["old"]).dumps(data), max_age=60) == data
        with pytest.raises(BadSignature):
            signer.loads(_its(["unknown"]).dumps(data), max_age=60)
    # another salt, given per call, is honoured (itsdangerous' API)
    other = signer.dumps(data, salt="elsewhere")
    with pytest.raises(BadSignature):
        signer.loads(other)
    assert signer.loads(other, salt="elsewhere") == data


def test_serializer_honours_a_subclass_key_derivation() -> None:
    class Concat(SecureCookieSessionInterface):
        key_derivation = "django-concat"

    app = make_app(SECRET_KEY_FALLBACKS=["old"])
    app.session_interface = Concat()
    cookie = roundtrip_cookie(app, {"a": 1})
    assert _its([KEY], "django-concat").loads(cookie) == {"a": 1}
    with pytest.raises(BadSignature):
        _its([KEY]).loads(cookie)
    old = _its(["old"], "django-concat").dumps({"b": 2})
    assert app.session_interface.open_session(app, make_request(old)) == {"b": 2}


def test_serializer_rejects_future_timestamp(caplog: pytest.LogCaptureFixture) -> None:
    app = make_app()
    signer = app.session_interface.get_signing_serializer(app)
    with mock.patch("time.time", return_value=time.time() + 3600):
        future = signer.dumps({"a": 1})
    with pytest.raises(SignatureExpired):
        signer.loads(future, max_age=60)
    with caplog.at_level(logging.DEBUG, logger="erlen.sessions"):
        assert dict(app.session_interface.open_session(app, make_request(future))) == {}
    assert "SignatureExpired" in caplog.text


def test_sessions_sign_with_itsdangerous_only() -> None:
    """No second signer: the module holds no HMAC or base64 code of its own."""
    import erlen.sessions as sessions

    source = "".join(p.read_text() for p in Path(sessions.__file__).parent.glob("*.py"))
    for name in ("import hmac", "b2a_base64", "a2b_base64", "hmac.digest", "compare_digest"):
        assert name not in source


def test_subclass_signing_serializer_is_honoured() -> None:
    class Custom(SecureCookieSessionInterface):
        def get_signing_serializer(self, app: Any) -> URLSafeTimedSerializer | None:
            return URLSafeTimedSerializer(app.secret_key, salt="custom")

    app = make_app()
    app.session_interface = Custom()
    cookie = roundtrip_cookie(app, {"a": 1})
    assert URLSafeTimedSerializer(KEY, salt="custom").loads(cookie) == {"a": 1}
    assert app.session_interface.open_session(app, make_request(cookie)) == {"a": 1}


def test_large_flask_session_interoperates() -> None:
    fapp = flask_app()
    data = {"items": [f"item-{i}" for i in range(200)], "t": (1, 2)}
    with fapp.test_request_context():
        cookie = FlaskInterface().get_signing_serializer(fapp).dumps(data)
    assert cookie.startswith(".")
    app = make_app()
    assert app.session_interface.open_session(app, make_request(cookie)) == data
