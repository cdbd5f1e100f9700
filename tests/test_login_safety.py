"""erlen.login beyond Flask-Login: no session fixation, safe ``next``, JSON 401, forged cookies.

See docs/decisions/020-login.md for why each differs from Flask-Login.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from tests.test_login import _cookie_header, _who, make_app

from erlen import session
from erlen.login import decode_cookie, encode_cookie, is_safe_next_url, login_user, safe_next


# -- session fixation: signed-cookie sessions ------------------------------------------------
def test_login_clears_what_the_anonymous_session_held_but_flashes() -> None:
    app = make_app()

    @app.route("/plant")
    def plant() -> str:
        session["planted"] = "by attacker"
        from erlen import flash

        flash("welcome")
        return "planted"

    client = app.test_client()
    client.get("/plant")
    before = client.get_cookie("session").value
    client.get("/do-login/1")
    after = client.get_cookie("session").value
    assert before != after
    who = _who(client)
    assert who["id"] == "1" and who["keys"] == ["_fresh", "_id", "_user_id"]
    assert json.loads(client.get("/flashes").data)["flashes"] == [["message", "welcome"]]


def test_the_pre_login_cookie_cannot_act_as_the_user() -> None:
    app = make_app()
    client = app.test_client()
    client.get("/login")
    client.get("/whoami")
    with client.session_transaction() as sess:
        sess["visited"] = True
    old = client.get_cookie("session").value
    client.get("/do-login/1")
    attacker = app.test_client()
    attacker.set_cookie("session", old)
    assert _who(attacker)["id"] is None
    assert attacker.get("/protected").status_code == 302


def test_login_session_keep_keys_and_rotation_off() -> None:
    app = make_app(LOGIN_SESSION_KEEP_KEYS=["cart"])

    @app.route("/cart")
    def cart() -> str:
        session["cart"] = [1, 2]
        session["other"] = "x"
        return "ok"

    client = app.test_client()
    client.get("/cart")
    client.get("/do-login/1")
    assert _who(client)["keys"] == ["_fresh", "_id", "_user_id", "cart"]
    app.config["LOGIN_ROTATE_SESSION"] = False  # Flask-Login's behaviour
    client.get("/cart")
    client.get("/do-login/2")
    assert _who(client)["keys"] == ["_fresh", "_id", "_user_id", "cart", "other"]


def test_logout_drops_the_whole_session_but_flashes() -> None:
    app = make_app()

    @app.route("/stash")
    def stash() -> str:
        session["private"] = "of user 1"
        return "ok"

    client = app.test_client()
    client.get("/do-login/1")
    client.get("/stash")
    client.get("/logout")
    assert _who(client)["keys"] == []


# -- session fixation: server-side sessions ---------------------------------------------------
@pytest.fixture(params=["filesystem", "redis"])
def server_app(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """The test app on server-side sessions: files, and a real redis-server on loopback."""
    from erlen.sessions import Session

    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        app = make_app(SESSION_TYPE="redis", SESSION_REDIS=url)
    else:
        app = make_app(SESSION_TYPE="filesystem", SESSION_FILE_DIR=str(tmp_path / "sessions"))
    Session(app)

    @app.route("/plant")
    def plant() -> str:
        session["cart"] = "3 books"
        return "planted"

    @app.route("/cart")
    def cart() -> str:
        return str(session.get("cart"))

    return app


def test_server_side_session_gets_a_new_id_at_login_and_the_old_id_is_dead(server_app: Any) -> None:
    client = server_app.test_client()
    client.get("/plant")
    before = client.get_cookie("session").value
    client.get("/do-login/1")
    after = client.get_cookie("session").value
    assert before != after
    assert client.get("/cart").data == b"3 books"  # regenerate keeps the data
    assert _who(client)["id"] == "1"
    fixer = server_app.test_client()
    fixer.set_cookie("session", before)  # the id the attacker planted before the login
    assert _who(fixer)["id"] is None
    assert fixer.get("/cart").data == b"None"


def test_server_side_logout_revokes_the_session(server_app: Any) -> None:
    client = server_app.test_client()
    client.get("/do-login/1")
    logged_in = client.get_cookie("session").value
    client.get("/logout")
    assert client.get_cookie("session") is None or client.get_cookie("session").value != logged_in
    thief = server_app.test_client()
    thief.set_cookie("session", logged_in)  # a copy of the cookie taken while logged in
    assert _who(thief)["id"] is None


def test_server_side_login_from_the_remember_cookie_gets_a_new_id(server_app: Any) -> None:
    client = server_app.test_client()
    client.get("/do-login/1?remember=1")
    remember = client.get_cookie("remember_token").value
    victim = server_app.test_client()
    victim.get("/plant")
    planted = victim.get_cookie("session").value
    victim.set_cookie("remember_token", remember)
    assert _who(victim)["id"] == "1"
    assert victim.get_cookie("session").value != planted
    fixer = server_app.test_client()
    fixer.set_cookie("session", planted)
    assert _who(fixer)["id"] is None


# -- CSRF token rotation (erlen.forms) ------------------------------------------------------
def test_login_rotates_the_csrf_token() -> None:
    from erlen.forms import CSRFProtect, generate_csrf

    app = make_app()
    CSRFProtect(app)

    @app.route("/token")
    def token() -> str:
        return generate_csrf()

    @app.route("/token-and-login")
    def token_and_login() -> str:
        first = generate_csrf()
        login_user(app.users["1"])
        return json.dumps([first, generate_csrf()])

    client = app.test_client()
    client.get("/token")
    with client.session_transaction() as sess:
        raw_before = sess["csrf_token"]
    first, second = json.loads(client.get("/token-and-login").data)
    assert first != second
    with client.session_transaction() as sess:
        assert sess["csrf_token"] != raw_before


# -- next URLs --------------------------------------------------------------------------------
HOSTILE = [
    "//evil.com",
    "//evil.com/path",
    "///evil.com",
    "\\\\evil.com",
    "/\\evil.com",
    "\\/evil.com",
    "/\t/evil.com",
    "/\n/evil.com",
    "/\r\n/evil.com",
    "\t//evil.com",
    " //evil.com",
    "/ /evil.com",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "http://evil.com/",
    "https://evil.com/login",
    "https://localhost@evil.com/",
    "http://localhost:80@evil.com",
    "https:evil.com",
    "evil.com",
    "ftp://localhost/x",
    "/\x00/evil.com",
    "/\x7f",
    "",
    "/" + "a" * 3000,
    None,
    ["/ok"],
]
SAFE = ["/", "/account", "/a/b?c=d&e=%2F%2Fx", "/search?q=//not-a-host", "/#top", "/%2F%2Fevil.com"]


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
def test_hostile_next_values_are_refused(value: Any) -> None:
    app = make_app()
    with app.test_request_context("/login"):
        assert not is_safe_next_url(value)
        assert safe_next(next_url=value) == "/"
        assert safe_next("/home", next_url=value) == "/home"


@pytest.mark.parametrize("value", SAFE)
def test_same_site_paths_are_accepted(value: str) -> None:
    app = make_app()
    with app.test_request_context("/login"):
        assert is_safe_next_url(value)
        assert safe_next(next_url=value) == value


def test_same_host_absolute_urls_are_accepted() -> None:
    app = make_app()
    with app.test_request_context("/login", base_url="https://shop.example"):
        assert is_safe_next_url("https://shop.example/cart")
        assert is_safe_next_url("http://SHOP.example/cart")
        assert not is_safe_next_url("https://shop.example.evil.com/cart")
    assert not is_safe_next_url("https://shop.example/cart")  # no request: no host to compare
    assert is_safe_next_url("https://shop.example/cart", host="shop.example")


def test_safe_next_reads_the_query_form_and_session() -> None:
    app = make_app()

    @app.route("/go", methods=["GET", "POST"])
    def go() -> str:
        return safe_next()

    client = app.test_client()
    assert client.get("/go?next=/account").data == b"/account"
    assert client.get("/go?next=//evil.com").data == b"/"
    assert client.post("/go", data={"next": "/profile"}).data == b"/profile"
    app.config["USE_SESSION_FOR_NEXT"] = True
    client.get("/protected?tab=2")
    assert client.get("/go").data == b"/protected?tab=2"
    assert client.get("/go").data == b"/"  # popped


def test_the_session_next_survives_the_login_rotation() -> None:
    app = make_app(USE_SESSION_FOR_NEXT=True)

    @app.route("/login-then-next")
    def login_then_next() -> str:
        login_user(app.users["1"])
        return safe_next()

    client = app.test_client()
    client.get("/protected")
    assert client.get("/login-then-next").data == b"/protected"


# -- JSON 401 ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "headers",
    [
        {"Accept": "application/json"},
        {"Accept": "application/json, text/html;q=0.5"},
        {"Content-Type": "application/json"},
    ],
)
def test_api_requests_get_a_json_401(headers: dict[str, str], caplog: Any) -> None:
    app = make_app()
    with caplog.at_level(logging.INFO, logger="erlen.login"):
        resp = app.test_client().get("/protected", headers=headers)
    assert resp.status_code == 401
    assert resp.mimetype == "application/json"
    assert resp.get_json() == {"error": "unauthorized", "message": "Please log in to access this page."}
    assert "Location" not in resp.headers
    lines = [r for r in caplog.records if r.name == "erlen.login"]
    assert len(lines) == 1 and "/protected" in lines[0].getMessage()


@pytest.mark.parametrize("accept", ["text/html", "*/*", "text/html,application/json", ""])
def test_browsers_still_get_the_redirect(accept: str) -> None:
    resp = make_app().test_client().get("/protected", headers={"Accept": accept})
    assert resp.status_code == 302


def test_api_refresh_gets_a_json_401() -> None:
    client = make_app().test_client()
    client.get("/do-login/1?stale=1")
    resp = client.get("/fresh", headers={"Accept": "application/json"})
    assert resp.status_code == 401
    assert resp.get_json()["error"] == "reauthentication required"


def test_the_unauthorized_handler_wins_over_the_json_401() -> None:
    app = make_app()
    app.login_manager.unauthorized_handler(lambda: ("mine", 418))
    assert app.test_client().get("/protected", headers={"Accept": "application/json"}).status_code == 418


# -- remember cookie: forged or broken values are anonymous, never a 500 ---------------------
@pytest.mark.parametrize(
    "value",
    [
        "1",
        "1|",
        "|" + "0" * 128,
        "2|" + "0" * 128,
        "1|" + "g" * 128,
        "1|" + "é" * 128,
        "1|abc",
        "\x00|" + "0" * 128,
        "1" * 3000 + "|" + "0" * 128,
    ],
    ids=lambda v: repr(v)[:20],
)
def test_forged_remember_cookies_give_an_anonymous_user(value: str) -> None:
    client = make_app().test_client()
    client.set_cookie("remember_token", value)
    resp = client.get("/whoami")
    assert resp.status_code == 200 and json.loads(resp.data)["id"] is None


def test_a_cookie_signed_with_another_key_is_refused_and_fallback_keys_verify() -> None:
    app = make_app()
    with app.app_context():
        foreign = encode_cookie("1", key="some other key")
        assert decode_cookie(foreign) is None
        assert decode_cookie(encode_cookie("1")) == "1"
        assert decode_cookie("1" * 5000 + encode_cookie("1")) is None  # over 4 KiB: not read
        assert decode_cookie(None) is None
    client = app.test_client()
    client.set_cookie("remember_token", foreign)
    assert _who(client)["id"] is None
    app.config["SECRET_KEY_FALLBACKS"] = ["some other key"]
    assert _who(client)["id"] == "1"


def test_the_session_stores_the_user_id_as_a_string() -> None:
    app = make_app()

    class IntIdUser:
        is_active = True
        is_authenticated = True

        def get_id(self) -> int:
            return 42

    @app.route("/int-login")
    def int_login() -> str:
        login_user(IntIdUser())
        return type(session["_user_id"]).__name__

    assert app.test_client().get("/int-login").data == b"str"


def test_strong_protection_logs_one_line(caplog: Any) -> None:
    app = make_app()
    app.login_manager.session_protection = "strong"
    client = app.test_client()
    client.get("/do-login/1", headers={"User-Agent": "a"})
    with caplog.at_level(logging.INFO, logger="erlen.login"):
        resp = client.get("/whoami", headers={"User-Agent": "b"})
    assert json.loads(resp.data)["id"] is None
    assert len([r for r in caplog.records if r.name == "erlen.login"]) == 1
    header = _cookie_header(resp, "remember_token")  # cleared, as Flask-Login does
    assert header is not None and "Max-Age=0" in header


def test_apps_without_erlen_login_do_not_import_it() -> None:
    import subprocess
    import sys

    code = "import erlen, sys; erlen.Erlen('x'); print('erlen.login' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_requests_that_do_not_log_in_leave_the_response_alone() -> None:
    app = make_app()
    client = app.test_client()
    resp = client.get("/login")
    assert "Set-Cookie" not in resp.headers and "Vary" not in resp.headers
