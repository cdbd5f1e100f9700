"""erlen.login: full flows with the test client, side by side with Flask + Flask-Login 0.6.

One app source (``make_app``) runs on erlen + erlen.login and on Flask + flask_login, so the
redirect ``Location`` values, flashed messages, cookies and session keys are compared with
the real extension. The safety additions (session rotation, hostile ``next``, JSON 401) are in
``tests/test_login_safety.py``.
"""

from __future__ import annotations

import importlib
import json
from datetime import timedelta
from typing import Any

import pytest

FRAMEWORKS = [("erlen", "erlen.login"), ("flask", "flask_login")]


def make_app(framework: str = "erlen", login: str = "erlen.login", **config: Any) -> Any:
    """The test app on ``framework`` with ``login``'s module; returns the app (``app.users``,
    ``app.login_module``, ``app.fw`` for tests)."""
    fw = importlib.import_module(framework)
    lm = importlib.import_module(login)
    app = fw.Flask(__name__)
    app.config.update(TESTING=True, SECRET_KEY="login test key", **config)
    manager = lm.LoginManager(app)
    manager.login_view = "login"
    manager.refresh_view = "reauth"

    class User(lm.UserMixin):
        def __init__(self, id: int, active: bool = True) -> None:
            self.id = id
            self.active = active

        @property
        def is_active(self) -> bool:
            return self.active

    users = {"1": User(1), "2": User(2), "3": User(3, active=False)}
    loaded: list[Any] = []

    @manager.user_loader
    def load(user_id: str) -> Any:
        loaded.append(user_id)
        return users.get(user_id)

    @app.route("/login")
    def login() -> str:
        return "login page"

    @app.route("/do-login/<uid>")
    def do_login(uid: str) -> str:
        args = fw.request.args
        duration = args.get("duration")
        ok = lm.login_user(
            users[uid],
            remember=bool(args.get("remember")),
            duration=timedelta(seconds=int(duration)) if duration else None,
            force=bool(args.get("force")),
            fresh=not args.get("stale"),
        )
        return "ok" if ok else "refused"

    @app.route("/logout")
    def logout() -> str:
        lm.logout_user()
        return "bye"

    @app.route("/protected")
    @lm.login_required
    def protected() -> str:
        return f"hello {lm.current_user.get_id()}"

    @app.route("/fresh")
    @lm.fresh_login_required
    def fresh() -> str:
        return "fresh ok"

    @app.route("/reauth")
    def reauth() -> str:
        lm.confirm_login()
        return "confirmed"

    @app.route("/whoami")
    def whoami() -> Any:
        sess = fw.session
        return {
            "id": lm.current_user.get_id(),
            "authenticated": lm.current_user.is_authenticated,
            "fresh": lm.login_fresh(),
            "remembered": lm.login_remembered(),
            "keys": sorted(k for k in sess if k != "_flashes"),
            "user_id_type": type(sess.get("_user_id")).__name__,
        }

    @app.route("/flashes")
    def flashes() -> Any:
        return {"flashes": fw.get_flashed_messages(with_categories=True)}

    @app.route("/template")
    def template() -> str:
        return fw.render_template_string("{{ current_user.is_authenticated }}")

    admin = fw.Blueprint("admin", __name__, url_prefix="/admin")

    @admin.route("/login")
    def admin_login() -> str:
        return "admin login"

    @admin.route("/secret")
    @lm.login_required
    def secret() -> str:
        return "admin secret"

    app.register_blueprint(admin)
    manager.blueprint_login_views["admin"] = "admin.admin_login"
    app.users = users
    app.loaded = loaded
    app.login_module = lm
    app.fw = fw
    return app


@pytest.fixture(params=FRAMEWORKS, ids=[f for f, _ in FRAMEWORKS])
def both(request: pytest.FixtureRequest) -> Any:
    """The test app on erlen and on Flask (the oracle): tests assert they agree."""
    return make_app(*request.param)


def _cookie_header(resp: Any, name: str) -> str | None:
    for value in resp.headers.getlist("Set-Cookie"):
        if value.startswith(name + "="):
            return str(value)
    return None


def _who(client: Any, **kw: Any) -> dict[str, Any]:
    return json.loads(client.get("/whoami", **kw).data)


# -- flows, each on both frameworks ----------------------------------------------------------
def test_anonymous_is_redirected_to_the_login_view_with_next(both: Any) -> None:
    client = both.test_client()
    resp = client.get("/protected?x=1")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/login?next=%2Fprotected%3Fx%3D1"
    assert json.loads(client.get("/flashes").data) == {
        "flashes": [["message", "Please log in to access this page."]]
    }


def test_login_then_protected_page(both: Any) -> None:
    client = both.test_client()
    assert client.get("/do-login/1").data == b"ok"
    assert client.get("/protected").data == b"hello 1"
    who = _who(client)
    assert who["authenticated"] and who["fresh"] and not who["remembered"]
    assert who["keys"] == ["_fresh", "_id", "_user_id"]
    assert who["user_id_type"] == "str"


def test_an_inactive_user_is_refused_unless_forced(both: Any) -> None:
    client = both.test_client()
    assert client.get("/do-login/3").data == b"refused"
    assert client.get("/protected").status_code == 302
    assert client.get("/do-login/3?force=1").data == b"ok"
    assert _who(client)["id"] == "3"  # logged in, but UserMixin: inactive is unauthenticated
    assert client.get("/protected").status_code == 302


def test_remember_cookie_restores_the_login_after_the_session_is_lost(both: Any) -> None:
    client = both.test_client()
    resp = client.get("/do-login/1?remember=1")
    header = _cookie_header(resp, "remember_token")
    assert header is not None and "HttpOnly" in header and "Path=/" in header
    cookie = client.get_cookie("remember_token")
    assert cookie is not None and cookie.value.split("|")[0] == "1"
    assert len(cookie.value.split("|")[1]) == 128  # HMAC-SHA512, hex
    client.delete_cookie("session")
    who = _who(client)
    assert who["id"] == "1" and who["remembered"] and not who["fresh"]
    # restored from the cookie: not fresh, so fresh_login_required sends to the refresh view
    resp = client.get("/fresh")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/reauth?next=%2Ffresh"
    assert json.loads(client.get("/flashes").data)["flashes"] == [
        ["message", "Please reauthenticate to access this page."]
    ]
    assert client.get("/reauth").data == b"confirmed"
    assert client.get("/fresh").data == b"fresh ok"


def test_the_remember_cookie_of_one_framework_works_on_the_other() -> None:
    erlen_app = make_app("erlen", "erlen.login")
    flask_app = make_app("flask", "flask_login")
    with flask_app.test_client() as fc:
        fc.get("/do-login/2?remember=1")
        value = fc.get_cookie("remember_token").value
    client = erlen_app.test_client()
    client.set_cookie("remember_token", value)
    assert _who(client)["id"] == "2"


def test_duration_sets_the_cookie_expiry(both: Any) -> None:
    from email.utils import parsedate_to_datetime

    client = both.test_client()
    resp = client.get("/do-login/1?remember=1&duration=3600")
    header = _cookie_header(resp, "remember_token")
    assert header is not None
    expires = next(p.split("=", 1)[1] for p in header.split("; ") if p.startswith("Expires="))
    when = parsedate_to_datetime(expires)
    date = parsedate_to_datetime(resp.headers["Date"]) if "Date" in resp.headers else None
    from datetime import UTC, datetime

    now = date or datetime.now(UTC)
    assert timedelta(seconds=3500) < when - now < timedelta(seconds=3700)
    default = _cookie_header(both.test_client().get("/do-login/1?remember=1"), "remember_token")
    assert default is not None
    year = parsedate_to_datetime(
        next(p.split("=", 1)[1] for p in default.split("; ") if p.startswith("Expires="))
    )
    assert timedelta(days=364) < year - now < timedelta(days=366)


def test_an_expired_remember_cookie_is_not_sent_so_the_user_is_anonymous(both: Any) -> None:
    client = both.test_client()
    client.get("/do-login/1?remember=1&duration=3600")
    cookie = client.get_cookie("remember_token")
    assert cookie is not None
    client.delete_cookie("session")
    # the browser drops the cookie once it expires: simulate the passing of the hour
    client.set_cookie("remember_token", cookie.value, expires=0)
    assert _who(client)["id"] is None


def test_logout_clears_the_session_and_the_remember_cookie(both: Any) -> None:
    client = both.test_client()
    client.get("/do-login/1?remember=1")
    resp = client.get("/logout")
    header = _cookie_header(resp, "remember_token")
    assert header is not None and "Expires=Thu, 01 Jan 1970" in header
    assert client.get_cookie("remember_token") is None
    assert _who(client)["id"] is None
    assert client.get("/protected").status_code == 302


def test_non_fresh_login_and_fresh_login_required(both: Any) -> None:
    client = both.test_client()
    client.get("/do-login/1?stale=1")
    assert client.get("/protected").data == b"hello 1"
    assert client.get("/fresh").headers["Location"] == "/reauth?next=%2Ffresh"


def test_fresh_login_required_for_anonymous_goes_to_login(both: Any) -> None:
    resp = both.test_client().get("/fresh")
    assert resp.headers["Location"] == "/login?next=%2Ffresh"


def test_blueprint_login_view(both: Any) -> None:
    resp = both.test_client().get("/admin/secret")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/admin/login?next=%2Fadmin%2Fsecret"


def test_no_login_view_is_a_plain_401(both: Any) -> None:
    both.login_manager.login_view = None
    both.login_manager.blueprint_login_views.clear()
    assert both.test_client().get("/protected").status_code == 401


def test_options_and_login_disabled_pass(both: Any) -> None:
    client = both.test_client()
    assert client.options("/protected").status_code == 200
    both.config["LOGIN_DISABLED"] = True
    assert client.get("/protected").data == b"hello None"


def test_unauthorized_handler_and_needs_refresh_handler(both: Any) -> None:
    manager = both.login_manager
    manager.unauthorized_handler(lambda: ("custom no", 403))
    manager.needs_refresh_handler(lambda: ("custom stale", 403))
    client = both.test_client()
    resp = client.get("/protected")
    assert (resp.status_code, resp.data) == (403, b"custom no")
    client.get("/do-login/1?stale=1")
    resp = client.get("/fresh")
    assert (resp.status_code, resp.data) == (403, b"custom stale")


def test_messages_categories_and_localize_callback(both: Any) -> None:
    manager = both.login_manager
    manager.login_message = "Log in first"
    manager.login_message_category = "info"
    manager.localize_callback = str.upper
    client = both.test_client()
    client.get("/protected")
    assert json.loads(client.get("/flashes").data)["flashes"] == [["info", "LOG IN FIRST"]]
    manager.login_message = None
    client.get("/protected")
    assert json.loads(client.get("/flashes").data)["flashes"] == []


def test_use_session_for_next(both: Any) -> None:
    both.config["USE_SESSION_FOR_NEXT"] = True
    client = both.test_client()
    resp = client.get("/protected?a=b")
    assert resp.headers["Location"] == "/login"
    with client.session_transaction() as sess:
        assert sess["next"] == "/protected?a=b"


def test_current_user_in_templates(both: Any) -> None:
    client = both.test_client()
    assert client.get("/template").data == b"False"
    client.get("/do-login/1")
    assert client.get("/template").data == b"True"


def test_the_user_is_loaded_once_per_request_and_only_when_asked(both: Any) -> None:
    client = both.test_client()
    client.get("/do-login/1")
    both.loaded.clear()
    client.get("/login")  # never touches current_user
    assert both.loaded == []
    client.get("/protected")
    assert both.loaded == ["1"]


def test_request_loader(both: Any) -> None:
    lm = both.login_module

    @both.login_manager.request_loader
    def from_header(req: Any) -> Any:
        return both.users.get(req.headers.get("X-User", ""))

    got: list[Any] = []

    def receiver(sender: Any, user: Any) -> None:
        got.append(user.get_id())

    lm.user_loaded_from_request.connect(receiver, both)
    try:
        client = both.test_client()
        assert client.get("/protected", headers={"X-User": "2"}).data == b"hello 2"
        assert client.get("/protected").status_code == 302
    finally:
        lm.user_loaded_from_request.disconnect(receiver, both)
    assert got == ["2"]


def test_session_protection_strong_drops_the_login_for_a_new_client(both: Any) -> None:
    both.login_manager.session_protection = "strong"
    client = both.test_client()
    ua = {"User-Agent": "browser one"}
    client.get("/do-login/1?remember=1", headers=ua)
    assert _who(client, headers=ua)["id"] == "1"
    resp = client.get("/whoami", headers={"User-Agent": "thief"})
    assert json.loads(resp.data)["id"] is None
    header = _cookie_header(resp, "remember_token")
    assert header is not None and "Expires=Thu, 01 Jan 1970" in header  # cookie cleared too
    assert _who(client, headers=ua)["id"] is None


def test_session_protection_basic_marks_the_login_non_fresh(both: Any) -> None:
    client = both.test_client()
    client.get("/do-login/1", headers={"User-Agent": "one"})
    who = _who(client, headers={"User-Agent": "other"})
    assert who["id"] == "1" and who["fresh"] is False


def test_session_protection_strong_compares_the_address() -> None:
    app = make_app()
    app.login_manager.session_protection = "strong"
    client = app.test_client()
    client.get("/do-login/1", environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert _who(client, environ_base={"REMOTE_ADDR": "10.0.0.1"})["id"] == "1"
    assert _who(client, environ_base={"REMOTE_ADDR": "10.0.0.2"})["id"] is None
    # X-Forwarded-For is chosen by the client: it does not count (unlike Flask-Login)
    client.get("/do-login/1", environ_base={"REMOTE_ADDR": "10.0.0.1"})
    spoof = {"X-Forwarded-For": "10.0.0.1"}
    assert _who(client, headers=spoof, environ_base={"REMOTE_ADDR": "10.0.0.2"})["id"] is None


def test_signals(both: Any) -> None:
    lm = both.login_module
    events: list[tuple[str, Any]] = []
    names = [
        "user_logged_in",
        "user_logged_out",
        "user_loaded_from_cookie",
        "user_login_confirmed",
        "user_unauthorized",
        "user_needs_refresh",
        "user_accessed",
        "session_protected",
    ]
    receivers = []
    for name in names:

        def receiver(sender: Any, _name: str = name, **kw: Any) -> None:
            assert sender is both
            user = kw.get("user")
            events.append((_name, user.get_id() if user is not None else None))

        getattr(lm, name).connect(receiver, both)
        receivers.append((name, receiver))
    try:
        client = both.test_client()
        client.get("/protected")
        client.get("/do-login/1?remember=1")
        client.delete_cookie("session")
        client.get("/fresh")
        client.get("/reauth")
        client.get("/whoami", headers={"User-Agent": "elsewhere"})
        client.get("/logout")
    finally:
        for name, receiver in receivers:
            getattr(lm, name).disconnect(receiver, both)
    assert events == [
        ("user_accessed", None),
        ("user_unauthorized", None),
        ("user_logged_in", "1"),
        ("user_accessed", None),
        ("user_loaded_from_cookie", "1"),
        ("user_needs_refresh", None),
        ("user_login_confirmed", None),
        ("user_accessed", None),
        ("session_protected", None),
        ("user_accessed", None),
        ("user_logged_out", "1"),
    ]


def test_login_url_and_make_next_param(both: Any) -> None:
    lm = both.login_module
    with both.test_request_context("/x"):
        assert lm.login_url("login") == "/login"
        assert lm.login_url("login", next_url="http://localhost/a?b=c") == "/login?next=%2Fa%3Fb%3Dc"
        assert lm.login_url("/sign-in?lang=de", "/p", next_field="to") == "/sign-in?lang=de&to=%2Fp"
        assert (
            lm.login_url("https://auth.example/in", "http://localhost/p")
            == "https://auth.example/in?next=http%3A%2F%2Flocalhost%2Fp"
        )
        assert lm.make_next_param("/login", "http://localhost/a/b?c=1") == "/a/b?c=1"
        both.config["FORCE_HOST_FOR_REDIRECTS"] = "good.example"
        assert lm.login_url("https://auth.example/in", "/p") == "https://good.example/in?next=%2Fp"


def test_mixins(both: Any) -> None:
    lm = both.login_module
    anon = lm.AnonymousUserMixin()
    assert (anon.is_authenticated, anon.is_active, anon.is_anonymous, anon.get_id()) == (
        False,
        False,
        True,
        None,
    )
    u1, u1b, u2 = both.users["1"], type(both.users["1"])(1), both.users["2"]
    assert u1 == u1b and u1 != u2 and hash(u1) != hash(u1b)
    assert u1.get_id() == "1" and u1.is_authenticated and not u1.is_anonymous
    with pytest.raises(NotImplementedError):
        lm.UserMixin().get_id()


def test_custom_anonymous_user(both: Any) -> None:
    class Guest(both.login_module.AnonymousUserMixin):
        name = "guest"

    both.login_manager.anonymous_user = Guest
    with both.test_request_context("/"):
        assert both.login_module.current_user.name == "guest"


def test_current_user_outside_a_request_is_none(both: Any) -> None:
    with both.app_context():
        assert both.login_module.utils._get_user() is None


def test_login_client(both: Any) -> None:
    both.test_client_class = both.login_module.FlaskLoginClient
    client = both.test_client(user=both.users["2"])
    assert client.get("/protected").data == b"hello 2"
    stale = both.test_client(user=both.users["2"], fresh_login=False)
    assert stale.get("/fresh").status_code == 302


def test_missing_user_loader_is_a_clear_error() -> None:
    import erlen
    from erlen.login import LoginManager, current_user

    app = erlen.Erlen(__name__)
    app.config["SECRET_KEY"] = "k"
    LoginManager(app)
    with app.test_request_context("/"), pytest.raises(RuntimeError, match="user_loader"):
        bool(current_user.is_authenticated)


def test_refresh_each_request_sets_the_cookie_for_a_logged_in_user(both: Any) -> None:
    both.config["REMEMBER_COOKIE_REFRESH_EACH_REQUEST"] = True
    client = both.test_client()
    client.get("/do-login/1")
    assert _cookie_header(client.get("/login"), "remember_token") is not None


def test_remember_cookie_config() -> None:
    app = make_app(
        REMEMBER_COOKIE_NAME="keep",
        REMEMBER_COOKIE_DOMAIN="example.test",
        REMEMBER_COOKIE_PATH="/app",
        REMEMBER_COOKIE_SECURE=True,
        REMEMBER_COOKIE_SAMESITE="Strict",
        REMEMBER_COOKIE_DURATION=60,
    )
    header = _cookie_header(app.test_client().get("/do-login/1?remember=1"), "keep")
    assert header is not None
    for part in ("Domain=example.test", "Path=/app", "Secure", "HttpOnly", "SameSite=Strict"):
        assert part in header.split("; ")


def test_remember_cookie_is_samesite_lax_by_default() -> None:
    header = _cookie_header(make_app().test_client().get("/do-login/1?remember=1"), "remember_token")
    assert header is not None and "SameSite=Lax" in header.split("; ")


def test_invalid_remember_duration_is_flask_logins_error(both: Any) -> None:
    both.config["REMEMBER_COOKIE_DURATION"] = "123"
    with pytest.raises(Exception) as caught:
        both.test_client().get("/do-login/1?remember=1")
    assert str(caught.value) == (
        "REMEMBER_COOKIE_DURATION must be a datetime.timedelta, instead got: 123"
    )
