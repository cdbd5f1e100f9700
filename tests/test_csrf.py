"""erlen.forms' CSRF protection: tokens, the app-wide check, exemptions, the 400 it answers,
and Flask-WTF (on real Flask) as the oracle for token format and messages."""

from __future__ import annotations

import json
import logging
import re
import time

import flask
import flask_wtf.csrf
import itsdangerous.timed
import pytest
from wtforms import ValidationError

import erlen
from erlen.forms import CSRFError, CSRFProtect, generate_csrf, rotate_csrf, validate_csrf

SECRET = "test key"


@pytest.fixture
def app() -> erlen.Erlen:
    app = erlen.Erlen("test_csrf")
    app.config.update(TESTING=True, SECRET_KEY=SECRET)
    return app


@pytest.fixture
def csrf(app: erlen.Erlen) -> CSRFProtect:
    csrf = CSRFProtect(app)

    @app.route("/token")
    def token() -> str:
        return generate_csrf()

    @app.route("/", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def index() -> str:
        return "done " + erlen.request.method

    return csrf


def _token(client) -> str:
    return client.get("/token").get_data(as_text=True)


def _freeze(monkeypatch, when: int) -> None:
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: when)


# -- the app-wide check --------------------------------------------------------------------


def test_get_needs_no_token(app, csrf):
    assert app.test_client().get("/").get_data() == b"done GET"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_unsafe_methods_need_a_token(app, csrf, method):
    client = app.test_client()
    token = _token(client)
    r = client.open("/", method=method)
    assert r.status_code == 400
    assert "The CSRF token is missing." in r.get_data(as_text=True)
    r = client.open("/", method=method, data={"csrf_token": token})
    assert (r.status_code, r.get_data()) == (200, b"done " + method.encode())


@pytest.mark.parametrize("header", ["X-CSRFToken", "X-CSRF-Token"])
def test_ajax_header(app, csrf, header):
    client = app.test_client()
    token = _token(client)
    r = client.post("/", json={"a": 1}, headers={header: token})
    assert (r.status_code, r.get_data()) == (200, b"done POST")
    r = client.post("/", json={"a": 1}, headers={"X-Other": token})
    assert r.status_code == 400


def test_configured_field_headers_and_methods(app):
    app.config.update(
        WTF_CSRF_FIELD_NAME="tok", WTF_CSRF_HEADERS=["X-My-Token"], WTF_CSRF_METHODS=["PUT"]
    )
    CSRFProtect(app)

    @app.route("/", methods=["GET", "POST", "PUT"])
    def index() -> str:
        return erlen.render_template_string("{{ csrf_token() }}")

    client = app.test_client()
    token = client.get("/").get_data(as_text=True)
    assert client.post("/").status_code == 200  # POST is no longer checked
    assert client.put("/", data={"csrf_token": token}).status_code == 400
    assert client.put("/", data={"tok": token}).status_code == 200
    assert client.put("/", headers={"X-My-Token": token}).status_code == 200
    assert client.put("/", headers={"X-CSRFToken": token}).status_code == 400
    with client.session_transaction() as sess:
        assert "tok" in sess and "csrf_token" not in sess


def test_prefixed_form_field(app, csrf):
    client = app.test_client()
    token = _token(client)
    assert client.post("/", data={"login-csrf_token": token}).status_code == 200


def test_tampered_token(app, csrf):
    client = app.test_client()
    token = _token(client)
    bad = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
    r = client.post("/", data={"csrf_token": bad})
    assert r.status_code == 400
    assert "The CSRF token is invalid." in r.get_data(as_text=True)


def test_token_of_another_session_does_not_match(app, csrf):
    mine, theirs = app.test_client(), app.test_client()
    _token(mine)
    r = mine.post("/", data={"csrf_token": _token(theirs)})
    assert r.status_code == 400
    assert "The CSRF tokens do not match." in r.get_data(as_text=True)


def test_token_without_session(app, csrf):
    token = _token(app.test_client())
    r = app.test_client().post("/", data={"csrf_token": token})
    assert r.status_code == 400
    assert "The CSRF session token is missing." in r.get_data(as_text=True)


def test_expired_token(app, csrf, monkeypatch):
    client = app.test_client()
    _freeze(monkeypatch, int(time.time()) - 3601)  # made an hour and a second ago
    token = _token(client)
    monkeypatch.undo()
    r = client.post("/", data={"csrf_token": token})
    assert r.status_code == 400
    assert "The CSRF token has expired." in r.get_data(as_text=True)
    app.config["WTF_CSRF_TIME_LIMIT"] = 7200
    assert client.post("/", data={"csrf_token": token}).status_code == 200
    app.config["WTF_CSRF_TIME_LIMIT"] = None  # no expiry at all
    assert client.post("/", data={"csrf_token": token}).status_code == 200


def test_token_signed_with_fallback_key_validates(app, csrf):
    client = app.test_client()
    token = _token(client)
    app.config.update(SECRET_KEY="new key", SECRET_KEY_FALLBACKS=[SECRET])
    assert client.post("/", data={"csrf_token": token}).status_code == 200
    new = _token(client)  # signed with the new key
    assert new != token
    assert client.post("/", data={"csrf_token": new}).status_code == 200
    app.config.update(SECRET_KEY_FALLBACKS=[])
    # without the fallback the old token is refused (and the old session cookie with it)
    assert client.post("/", data={"csrf_token": token}).status_code == 400


def test_wtf_csrf_secret_key_is_used(app, csrf):
    app.config["WTF_CSRF_SECRET_KEY"] = "csrf only"
    client = app.test_client()
    token = _token(client)
    with app.test_request_context():
        with pytest.raises(itsdangerous.BadSignature):
            itsdangerous.URLSafeTimedSerializer(SECRET, salt="wtf-csrf-token").loads(token)
        assert itsdangerous.URLSafeTimedSerializer("csrf only", salt="wtf-csrf-token").loads(token)
    assert client.post("/", data={"csrf_token": token}).status_code == 200


def test_disabled_and_check_default(app, csrf):
    client = app.test_client()
    app.config["WTF_CSRF_ENABLED"] = False
    assert client.post("/").status_code == 200
    app.config.update(WTF_CSRF_ENABLED=True, WTF_CSRF_CHECK_DEFAULT=False)
    assert client.post("/").status_code == 200


def test_manual_protect(app):
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf = CSRFProtect(app)

    @app.route("/token")
    def token() -> str:
        return generate_csrf()

    @app.route("/open", methods=["POST"])
    def open_() -> str:
        return "open"

    @app.route("/checked", methods=["POST"])
    def checked() -> str:
        csrf.protect()
        return "checked"

    client = app.test_client()
    assert client.post("/open").get_data() == b"open"
    assert client.post("/checked").status_code == 400
    assert client.post("/checked", data={"csrf_token": _token(client)}).get_data() == b"checked"


# -- exemptions ----------------------------------------------------------------------------


def test_exempt_view_by_object_and_by_name(app, csrf):
    @app.route("/hook", methods=["POST"])
    @csrf.exempt
    def hook() -> str:
        return "hook"

    @app.route("/named", methods=["POST"])
    def named() -> str:
        return "named"

    @app.route("/dotted", methods=["POST"])
    def dotted() -> str:
        return "dotted"

    client = app.test_client()
    assert client.post("/named").status_code == 400  # cached as "not exempt" ...
    csrf.exempt("named")  # ... and exempt() clears that cache
    csrf.exempt(f"{__name__}.dotted")  # Flask-WTF's "module.function" spelling
    assert client.post("/hook").get_data() == b"hook"
    assert client.post("/named").get_data() == b"named"
    assert client.post("/dotted").get_data() == b"dotted"
    assert client.post("/").status_code == 400


def test_exempt_blueprint_and_nested(app, csrf):
    api = erlen.Blueprint("api", __name__)
    v1 = erlen.Blueprint("v1", __name__)
    other = erlen.Blueprint("other", __name__)

    @v1.route("/x", methods=["POST"])
    def x() -> str:
        return "v1"

    @api.route("/y", methods=["POST"])
    def y() -> str:
        return "api"

    @other.route("/z", methods=["POST"])
    def z() -> str:
        return "other"

    api.register_blueprint(v1, url_prefix="/v1")
    csrf.exempt(api)
    app.register_blueprint(api, url_prefix="/api")
    app.register_blueprint(other, url_prefix="/other")
    client = app.test_client()
    assert client.post("/api/y").get_data() == b"api"
    assert client.post("/api/v1/x").get_data() == b"v1"
    assert client.post("/other/z").status_code == 400


def test_unrouted_request_is_a_404_not_a_csrf_error(app, csrf):
    r = app.test_client().post("/nowhere")
    assert r.status_code == 404


# -- bearer tokens without cookies -----------------------------------------------------------


def test_bearer_without_cookies_needs_no_token(app, csrf):
    client = app.test_client(use_cookies=False)
    r = client.post("/", headers={"Authorization": "Bearer abc.def"})
    assert (r.status_code, r.get_data()) == (200, b"done POST")


def test_bearer_with_a_cookie_still_needs_a_token(app, csrf):
    client = app.test_client()
    _token(client)  # the browser now holds a session cookie: ambient credentials
    assert client.post("/", headers={"Authorization": "Bearer abc.def"}).status_code == 400
    bare = app.test_client(use_cookies=False)
    assert bare.post("/", headers={"Authorization": "Basic dTpw"}).status_code == 400
    assert bare.post("/", headers={"Authorization": "Bearer "}).status_code == 400


# -- HTTPS: Origin / Referer ----------------------------------------------------------------


@pytest.fixture
def https(app, csrf):
    client = app.test_client()
    token = client.get("/token", base_url="https://example.com").get_data(as_text=True)

    def post(**headers: str):
        r = client.post(
            "/", base_url="https://example.com", data={"csrf_token": token}, headers=headers
        )
        return r.status_code, r.get_data(as_text=True)

    return post


def test_https_referrer_missing(https):
    status, body = https()
    assert status == 400 and "The referrer header is missing." in body


def test_https_referrer_other_host(https):
    status, body = https(Referer="https://evil.example/form")
    assert status == 400 and "The referrer does not match the host." in body
    status, body = https(Referer="http://example.com/form")  # same host, not https
    assert status == 400 and "The referrer does not match the host." in body
    status, body = https(Referer="https://example.com:8443/form")
    assert status == 400


def test_https_referrer_same_host(https):
    assert https(Referer="https://example.com/form?x=1") == (200, "done POST")
    assert https(Referer="https://EXAMPLE.com:443/") == (200, "done POST")


def test_https_origin_is_checked_first(https):
    assert https(Origin="https://example.com") == (200, "done POST")
    status, body = https(Origin="https://evil.example", Referer="https://example.com/")
    assert status == 400 and "The origin does not match the host." in body
    status, _ = https(Origin="null", Referer="https://example.com/")
    assert status == 400


def test_https_trusted_origins(app, https):
    app.config["WTF_CSRF_TRUSTED_ORIGINS"] = ["https://shop.example.com/", "https://b.example:443"]
    assert https(Origin="https://shop.example.com") == (200, "done POST")
    assert https(Referer="https://shop.example.com/cart") == (200, "done POST")
    assert https(Origin="https://B.example") == (200, "done POST")
    assert https(Origin="https://c.example")[0] == 400


def test_https_strict_off(app, https):
    app.config["WTF_CSRF_SSL_STRICT"] = False
    assert https() == (200, "done POST")


# -- the 400: JSON or HTML, a handler, one log line ------------------------------------------


def test_html_400_and_one_log_line(app, csrf, caplog):
    client = app.test_client()
    with caplog.at_level(logging.INFO):
        r = client.post("/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status_code == 400
    assert r.mimetype == "text/html"
    assert "<p>The CSRF token is missing.</p>" in r.get_data(as_text=True)
    lines = [rec.getMessage() for rec in caplog.records if rec.levelno >= logging.INFO]
    assert lines == ["400 POST '/': The CSRF token is missing."]


def test_json_400_for_json_clients(app, csrf):
    client = app.test_client()
    r = client.post("/", json={"a": 1}, headers={"Accept": "application/json"})
    assert r.status_code == 400
    assert r.mimetype == "application/json"
    assert json.loads(r.get_data()) == {"error": "The CSRF token is missing.", "code": 400}
    r = client.post("/", headers={"Accept": "*/*"})
    assert r.mimetype == "text/html"


def test_app_handles_csrf_error(app, csrf):
    @app.errorhandler(CSRFError)
    def handle(e: CSRFError):
        return {"reason": e.description}, 400

    r = app.test_client().post("/")
    assert r.status_code == 400
    assert r.get_json() == {"reason": "The CSRF token is missing."}
    assert issubclass(CSRFError, erlen.exceptions.BadRequest)


# -- generate / validate / rotate -----------------------------------------------------------


def test_generate_once_per_request_and_rotate(app):
    with app.test_request_context():
        first = generate_csrf()
        assert generate_csrf() == first
        raw = erlen.session["csrf_token"]
        assert re.fullmatch(r"[0-9a-f]{40}", raw)
        validate_csrf(first)
        rotate_csrf()
        assert "csrf_token" not in erlen.session
        second = generate_csrf()
        assert second != first and erlen.session["csrf_token"] != raw
        validate_csrf(second)
        with pytest.raises(ValidationError, match="do not match"):
            validate_csrf(first)


def test_rotate_without_a_token_does_not_touch_the_session(app):
    with app.test_request_context():
        rotate_csrf()
        assert erlen.session.modified is False


def test_validate_arguments(app):
    with app.test_request_context():
        token = generate_csrf(secret_key="other", token_key="my_token")
        validate_csrf(token, secret_key="other", token_key="my_token")
        with pytest.raises(ValidationError, match="invalid"):
            validate_csrf(token, token_key="my_token")
        with pytest.raises(ValidationError, match="session token is missing"):
            validate_csrf(token, secret_key="other")
        with pytest.raises(ValidationError, match="invalid"):
            validate_csrf(12, secret_key="other", token_key="my_token")


def test_no_secret_key_is_an_error(app):
    app.config["SECRET_KEY"] = None
    with app.test_request_context(), pytest.raises(RuntimeError, match="secret key is required"):
        generate_csrf()


def test_csrf_token_template_global(app, csrf):
    @app.route("/page")
    def page() -> str:
        return erlen.render_template_string('<input name="csrf_token" value="{{ csrf_token() }}">')

    client = app.test_client()
    html = client.get("/page").get_data(as_text=True)
    token = re.search(r'value="([^"]+)"', html).group(1)
    assert client.post("/", data={"csrf_token": token}).status_code == 200
    assert app.extensions["csrf"] is csrf


# -- Flask-WTF on real Flask as the oracle -----------------------------------------------------


def _flask_app() -> flask.Flask:
    fapp = flask.Flask("oracle")
    fapp.config.update(TESTING=True, SECRET_KEY=SECRET)
    return fapp


def test_same_token_as_flask_wtf(app, monkeypatch):
    _freeze(monkeypatch, 1_700_000_000)
    raw = "0123456789abcdef0123456789abcdef01234567"
    with app.test_request_context():
        erlen.session["csrf_token"] = raw
        ours = generate_csrf()
    fapp = _flask_app()
    with fapp.test_request_context():
        flask.session["csrf_token"] = raw
        theirs = flask_wtf.csrf.generate_csrf()
    assert ours == theirs
    monkeypatch.undo()
    fapp.config["WTF_CSRF_TIME_LIMIT"] = None  # the frozen clock made `ours` old
    with fapp.test_request_context():  # and each side accepts the other's fresh token
        flask.session["csrf_token"] = raw
        flask_wtf.csrf.validate_csrf(ours)
        fresh = flask_wtf.csrf.generate_csrf()
    with app.test_request_context():
        erlen.session["csrf_token"] = raw
        validate_csrf(fresh)


def _message(fn, *args, **kwargs) -> str:
    with pytest.raises(ValidationError) as info:
        fn(*args, **kwargs)
    return str(info.value.args[0])


def test_same_messages_as_flask_wtf(app, monkeypatch):
    fapp = _flask_app()
    raw = "0123456789abcdef0123456789abcdef01234567"
    _freeze(monkeypatch, int(time.time()) - 4000)
    with fapp.test_request_context():
        flask.session["csrf_token"] = raw
        old = flask_wtf.csrf.generate_csrf()
    monkeypatch.undo()
    cases = [
        ("", raw),
        (old, None),
        (old, raw),
        (old[:-2] + "xx", raw),
        (old, "f" * 40),
    ]
    for data, session_raw in cases:
        with fapp.test_request_context():
            if session_raw:
                flask.session["csrf_token"] = session_raw
            want = _message(flask_wtf.csrf.validate_csrf, data, time_limit=3600 if data else None)
        with app.test_request_context():
            if session_raw:
                erlen.session["csrf_token"] = session_raw
            got = _message(validate_csrf, data, time_limit=3600 if data else None)
        assert got == want, (data, session_raw)
    assert CSRFError().description == flask_wtf.csrf.CSRFError().description
    with fapp.test_request_context():
        flask.session["csrf_token"] = raw
        fresh = flask_wtf.csrf.generate_csrf()
        flask.session["csrf_token"] = "f" * 40
        want = _message(flask_wtf.csrf.validate_csrf, fresh)
    with app.test_request_context():
        erlen.session["csrf_token"] = "f" * 40
        assert _message(validate_csrf, fresh) == want == "The CSRF tokens do not match."


def test_same_config_defaults_as_flask_wtf(app):
    CSRFProtect(app)
    fapp = _flask_app()
    flask_wtf.csrf.CSRFProtect(fapp)
    for key in [
        "WTF_CSRF_ENABLED",
        "WTF_CSRF_CHECK_DEFAULT",
        "WTF_CSRF_FIELD_NAME",
        "WTF_CSRF_TIME_LIMIT",
        "WTF_CSRF_SSL_STRICT",
    ]:
        assert app.config[key] == fapp.config[key], key
    assert set(app.config["WTF_CSRF_METHODS"]) == set(fapp.config["WTF_CSRF_METHODS"])
    assert list(app.config["WTF_CSRF_HEADERS"]) == list(fapp.config["WTF_CSRF_HEADERS"])


def test_same_https_referrer_messages_as_flask_wtf(app, csrf):
    fapp = _flask_app()
    flask_wtf.csrf.CSRFProtect(fapp)

    @fapp.route("/token")
    def token() -> str:
        return flask_wtf.csrf.generate_csrf()

    @fapp.route("/", methods=["POST"])
    def index() -> str:
        return "done POST"

    for target in (app, fapp):
        bodies = []
        client = target.test_client()
        tok = client.get("/token", base_url="https://example.com").get_data(as_text=True)
        for headers in ({}, {"Referer": "https://evil.example/"}):
            r = client.post(
                "/", base_url="https://example.com", data={"csrf_token": tok}, headers=headers
            )
            assert r.status_code == 400
            bodies.append(r.get_data(as_text=True))
        assert "The referrer header is missing." in bodies[0]
        assert "The referrer does not match the host." in bodies[1]


def test_one_before_request_hook_and_forms_alone_register_none():
    app = erlen.Erlen("hooks")
    app.config["SECRET_KEY"] = SECRET
    assert not app.before_request_funcs.get(None)
    CSRFProtect(app)
    assert len(app.before_request_funcs[None]) == 1
    assert not app.after_request_funcs.get(None)
    assert "csrf_token" in app.jinja_env.globals


def test_csrf_meta_tag_carries_a_token_the_header_check_accepts() -> None:
    from erlen import Erlen, render_template_string
    from erlen.forms import CSRFProtect

    app = Erlen(__name__)
    app.config.update(SECRET_KEY="k", WTF_CSRF_META_NAME="x-csrf")
    CSRFProtect(app)
    app.add_url_rule("/", "page", lambda: render_template_string("{{ csrf_meta_tag() }}"))
    app.add_url_rule("/act", "act", lambda: "done", methods=["POST"])
    client = app.test_client()
    page = client.get("/").text
    assert page.startswith('<meta name="x-csrf" content="') and page.endswith('">')
    token = page.split('content="', 1)[1][:-2]
    assert client.post("/act", headers={"X-CSRFToken": token}).text == "done"
    assert client.post("/act", headers={"X-CSRFToken": token + "x"}).status_code == 400


# -- Flask-WTF 1.3 details its own tests pin --------------------------------------------------


def test_protect_apply_exemptions(app):
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf = CSRFProtect(app)

    @app.before_request
    def custom() -> None:
        if erlen.request.headers.get("Authorization", "").startswith("Token "):
            return
        csrf.protect(apply_exemptions=True)

    @app.route("/api", methods=["POST"])
    def api() -> str:
        return "api"

    @app.route("/hook", methods=["POST"])
    @csrf.exempt
    def hook() -> str:
        return "hook"

    public = erlen.Blueprint("public", __name__, url_prefix="/public")

    @public.route("/", methods=["POST"])
    def page() -> str:
        return "public"

    csrf.exempt(public)
    app.register_blueprint(public)
    client = app.test_client()
    assert client.post("/api").status_code == 400
    assert client.post("/api", headers={"Authorization": "Token x"}).get_data() == b"api"
    assert client.post("/hook").get_data() == b"hook"
    assert client.post("/public/").get_data() == b"public"
    assert client.post("/missing").status_code == 404  # no route: not a CSRF error
    # without apply_exemptions an exempt view is checked
    with app.test_request_context("/hook", method="POST"), pytest.raises(CSRFError):
        csrf.protect()


def test_token_is_kept_in_g_under_its_field_name(app):
    with app.test_request_context():
        token = generate_csrf()
        assert erlen.g.csrf_token == token and "csrf_token" in erlen.session
        other = generate_csrf(token_key="oauth_token")
        assert erlen.g.oauth_token == other and "oauth_token" in erlen.session
        rotate_csrf()
        assert "csrf_token" not in erlen.g and "oauth_token" in erlen.g


def test_no_secret_key_is_an_error_after_a_token_was_made(app):
    with app.test_request_context():
        generate_csrf()
        app.secret_key = None
        with pytest.raises(RuntimeError, match="secret key is required"):
            generate_csrf()
        assert generate_csrf(secret_key="direct")  # an explicit key still works


def test_form_logs_the_reason_once(app, caplog):
    from erlen.forms import FlaskForm

    with app.test_request_context(method="POST"), caplog.at_level(logging.INFO, "erlen.forms"):
        assert not FlaskForm().validate()
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        ("erlen.forms", logging.INFO, "The CSRF token is missing.")
    ]
