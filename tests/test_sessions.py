"""Sessions end to end, through the app and the test client, as a Flask app uses them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import erlen
from erlen import Markup, session
from erlen.http.parsing import parse_date


def _set_cookie(rv: Any, name: str = "session") -> str | None:
    """The Set-Cookie header for ``name`` (None if the response sets none)."""
    for value in rv.headers.getlist("Set-Cookie"):
        if value.startswith(name + "="):
            return str(value)
    return None


def _attrs(header: str) -> dict[str, str]:
    parts = [p.strip() for p in header.split(";")]
    out = {}
    for p in parts[1:]:
        k, _, v = p.partition("=")
        out[k.lower()] = v
    return out


@pytest.fixture
def sapp(app: erlen.Erlen) -> erlen.Erlen:
    @app.route("/set/<key>/<value>")
    def set_value(key: str, value: str) -> str:
        session[key] = value
        return "ok"

    @app.route("/get/<key>")
    def get_value(key: str) -> str:
        return str(session.get(key, "<missing>"))

    @app.route("/incr")
    def incr() -> str:
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    @app.route("/clear")
    def clear() -> str:
        session.clear()
        return "cleared"

    @app.route("/permanent")
    def permanent() -> str:
        session.permanent = True
        session["p"] = 1
        return "perm"

    @app.route("/nothing")
    def nothing() -> str:
        return "nothing"

    return app


# -- basic life cycle -----------------------------------------------------------------------
def test_set_read_modify_clear(sapp: erlen.Erlen) -> None:
    c = sapp.test_client()
    assert c.get("/get/a").text == "<missing>"
    assert c.get("/set/a/1").status_code == 200
    assert c.get("/get/a").text == "1"
    assert [c.get("/incr").text for _ in range(3)] == ["1", "2", "3"]
    assert c.get("/get/a").text == "1"
    rv = c.get("/clear")
    cookie = _set_cookie(rv)
    assert cookie is not None and cookie.startswith("session=;")
    assert _attrs(cookie)["expires"] == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert rv.headers["Vary"] == "Cookie"
    assert c.get("/get/a").text == "<missing>"
    assert c.get_cookie("session") is None


def test_default_cookie_attributes(sapp: erlen.Erlen) -> None:
    rv = sapp.test_client().get("/set/a/1")
    cookie = _set_cookie(rv)
    assert cookie is not None
    attrs = _attrs(cookie)
    assert "httponly" in attrs
    assert attrs["samesite"] == "Lax"
    assert attrs["path"] == "/"
    assert "secure" not in attrs and "domain" not in attrs and "partitioned" not in attrs
    assert "expires" not in attrs  # a browser-session cookie
    assert rv.headers["Vary"] == "Cookie"


def test_all_cookie_settings_reflected(sapp: erlen.Erlen) -> None:
    sapp.config.update(
        SESSION_COOKIE_NAME="sid",
        SESSION_COOKIE_DOMAIN="example.com",
        SESSION_COOKIE_PATH="/app",
        SESSION_COOKIE_HTTPONLY=False,
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_PARTITIONED=True,
    )
    rv = sapp.test_client().get("/set/a/1", base_url="https://example.com")
    assert _set_cookie(rv, "session") is None
    cookie = _set_cookie(rv, "sid")
    assert cookie is not None
    attrs = _attrs(cookie)
    assert attrs["domain"] == "example.com"
    assert attrs["path"] == "/app"
    assert "httponly" not in attrs
    assert "secure" in attrs
    assert attrs["samesite"] == "Strict"
    assert "partitioned" in attrs


def test_application_root_is_default_cookie_path(sapp: erlen.Erlen) -> None:
    sapp.config["APPLICATION_ROOT"] = "/root"
    cookie = _set_cookie(sapp.test_client().get("/set/a/1"))
    assert cookie is not None and _attrs(cookie)["path"] == "/root"


def test_samesite_none_and_no_samesite(sapp: erlen.Erlen) -> None:
    sapp.config["SESSION_COOKIE_SAMESITE"] = None
    cookie = _set_cookie(sapp.test_client().get("/set/a/1"))
    assert cookie is not None and "samesite" not in _attrs(cookie)


def test_bad_samesite_value_is_an_error(sapp: erlen.Erlen) -> None:
    sapp.config["SESSION_COOKIE_SAMESITE"] = "sometimes"
    with pytest.raises(ValueError):
        sapp.test_client().get("/set/a/1")


# -- permanent sessions ------------------------------------------------------------------------
def test_permanent_session_expires(sapp: erlen.Erlen) -> None:
    sapp.config["PERMANENT_SESSION_LIFETIME"] = timedelta(days=3)
    before = datetime.now(UTC)
    rv = sapp.test_client().get("/permanent")
    cookie = _set_cookie(rv)
    assert cookie is not None
    expires = parse_date(_attrs(cookie)["expires"])
    assert expires is not None
    delta = expires - before
    assert timedelta(days=3) - timedelta(seconds=5) < delta < timedelta(days=3, seconds=5)


def test_permanent_lifetime_as_int_seconds(sapp: erlen.Erlen) -> None:
    sapp.config["PERMANENT_SESSION_LIFETIME"] = 600
    rv = sapp.test_client().get("/permanent")
    cookie = _set_cookie(rv)
    assert cookie is not None
    expires = parse_date(_attrs(cookie)["expires"])
    assert expires is not None
    assert abs((expires - datetime.now(UTC)).total_seconds() - 600) < 5


def test_refresh_each_request(sapp: erlen.Erlen) -> None:
    c = sapp.test_client()
    c.get("/permanent")
    # as in Flask, a permanent session's cookie is refreshed even when the view does not
    # touch the session, and the refreshed response varies on Cookie
    rv = c.get("/nothing")
    assert _set_cookie(rv) is not None
    assert rv.headers["Vary"] == "Cookie"
    rv = c.get("/get/p")  # touched, permanent, refresh on: cookie re-sent
    assert rv.text == "1"
    assert _set_cookie(rv) is not None
    assert rv.headers["Vary"] == "Cookie"
    sapp.config["SESSION_REFRESH_EACH_REQUEST"] = False
    rv = c.get("/get/p")
    assert _set_cookie(rv) is None
    assert rv.headers["Vary"] == "Cookie"
    rv = c.get("/nothing")
    assert _set_cookie(rv) is None
    assert "Vary" not in rv.headers


def test_refresh_matches_flask(sapp: erlen.Erlen) -> None:
    """Which responses carry a Set-Cookie: the same as Flask's for the same requests."""
    flask = pytest.importorskip("flask")
    fapp = flask.Flask("f")
    fapp.secret_key = "test key"

    @fapp.route("/permanent")
    def permanent() -> str:
        flask.session.permanent = True
        flask.session["p"] = 1
        return "perm"

    @fapp.route("/nothing")
    def nothing() -> str:
        return "nothing"

    def trace(app: Any) -> list[tuple[bool, str | None]]:
        c = app.test_client()
        out = []
        for path in ("/nothing", "/permanent", "/nothing", "/nothing"):
            rv = c.get(path)
            out.append((_set_cookie(rv) is not None, rv.headers.get("Vary")))
        return out

    assert trace(sapp) == trace(fapp)


def test_non_permanent_session_not_refreshed(sapp: erlen.Erlen) -> None:
    c = sapp.test_client()
    c.get("/set/a/1")
    rv = c.get("/get/a")
    assert rv.text == "1"
    assert _set_cookie(rv) is None


def test_expired_permanent_cookie_gives_empty_session(sapp: erlen.Erlen) -> None:
    c = sapp.test_client()
    c.get("/permanent")
    # the cookie is verified against PERMANENT_SESSION_LIFETIME: shrink it to "already old"
    sapp.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=-10)
    rv = c.get("/get/p")
    assert (rv.status_code, rv.text) == (200, "<missing>")


# -- write only when needed, Vary: Cookie when read ---------------------------------------------
def test_untouched_session_sets_nothing(sapp: erlen.Erlen) -> None:
    c = sapp.test_client()
    c.get("/set/a/1")
    rv = c.get("/nothing")
    assert _set_cookie(rv) is None
    assert "Vary" not in rv.headers


@pytest.mark.parametrize(
    "access",
    [
        lambda s: s["a"],
        lambda s: s.get("a"),
        lambda s: "a" in s,
        lambda s: list(s),
        lambda s: len(s),
        lambda s: list(s.items()),
        lambda s: list(s.keys()),
        lambda s: s.setdefault("a", "1"),
    ],
    ids=["getitem", "get", "in", "iter", "len", "items", "keys", "setdefault-existing"],
)
def test_vary_cookie_on_any_access(sapp: erlen.Erlen, access: Any) -> None:
    @sapp.route("/access")
    def do_access() -> str:
        access(session)
        return "read"

    c = sapp.test_client()
    c.get("/set/a/1")
    rv = c.get("/access")
    assert rv.headers["Vary"] == "Cookie"
    assert _set_cookie(rv) is None  # read only: no cookie written


def test_vary_merges_with_existing(sapp: erlen.Erlen) -> None:
    @sapp.route("/vary")
    def vary() -> Any:
        session.get("a")
        return "x", 200, {"Vary": "Accept-Encoding"}

    rv = sapp.test_client().get("/vary")
    assert rv.headers["Vary"] == "Accept-Encoding, Cookie"


def test_empty_session_read_without_cookie_sets_vary_only(sapp: erlen.Erlen) -> None:
    rv = sapp.test_client().get("/get/x")
    assert rv.headers["Vary"] == "Cookie"
    assert _set_cookie(rv) is None


def test_mutating_nested_value_needs_modified(sapp: erlen.Erlen) -> None:
    @sapp.route("/nested")
    def nested() -> str:
        session.setdefault("items", []).append(1)
        if erlen.request.args.get("mark"):
            session.modified = True
        return str(len(session["items"]))

    c = sapp.test_client()
    assert c.get("/nested").text == "1"  # setdefault on a missing key modifies
    assert c.get("/nested").text == "2"  # in-place append: not saved
    assert c.get("/nested").text == "2"
    assert c.get("/nested?mark=1").text == "2"
    assert c.get("/nested").text == "3"


# -- bad cookies ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    ["garbage", "", "a.b.c", ".eJw", "x" * 4000, "eyJhIjoxfQ.AAAA.BBBB", "\u00e9\u00e9"],
)
def test_bad_cookie_gives_empty_session(sapp: erlen.Erlen, value: str) -> None:
    c = sapp.test_client()
    c.set_cookie("session", value)
    rv = c.get("/get/a")
    assert (rv.status_code, rv.text) == (200, "<missing>")


def test_tampered_cookie(sapp: erlen.Erlen) -> None:
    c = sapp.test_client()
    c.get("/set/user/alice")
    cookie = c.get_cookie("session")
    assert cookie is not None
    payload, _, rest = cookie.value.partition(".")
    c.set_cookie("session", payload[:-2] + "AA." + rest)
    rv = c.get("/get/user")
    assert (rv.status_code, rv.text) == (200, "<missing>")


def test_foreign_cookie_signed_with_other_key(sapp: erlen.Erlen) -> None:
    other = erlen.Erlen("other")
    other.secret_key = "another key"

    @other.route("/")
    def index() -> str:
        session["user"] = "mallory"
        return ""

    oc = other.test_client()
    oc.get("/")
    foreign = oc.get_cookie("session")
    assert foreign is not None
    c = sapp.test_client()
    c.set_cookie("session", foreign.value)
    rv = c.get("/get/user")
    assert (rv.status_code, rv.text) == (200, "<missing>")


def test_secret_key_fallbacks_rotation(sapp: erlen.Erlen) -> None:
    c = sapp.test_client()
    c.get("/set/user/alice")
    old_cookie = c.get_cookie("session")
    assert old_cookie is not None
    sapp.config.update(SECRET_KEY="new key", SECRET_KEY_FALLBACKS=["test key"])
    assert c.get("/get/user").text == "alice"  # old cookie still read
    rv = c.get("/set/user/bob")
    new_cookie = c.get_cookie("session")
    assert new_cookie is not None and new_cookie.value != old_cookie.value
    # the new cookie is signed with the current key only: drop the fallback, still valid
    sapp.config["SECRET_KEY_FALLBACKS"] = []
    assert c.get("/get/user").text == "bob"
    assert rv.status_code == 200
    # and the old cookie no longer is
    c.set_cookie("session", old_cookie.value)
    assert c.get("/get/user").text == "<missing>"


def test_no_secret_key_reading_works_writing_explains(sapp: erlen.Erlen) -> None:
    sapp.config["SECRET_KEY"] = None
    c = sapp.test_client()
    assert c.get("/get/a").text == "<missing>"
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        c.get("/set/a/1")


def test_no_secret_key_is_500_when_not_testing(sapp: erlen.Erlen) -> None:
    sapp.config.update(SECRET_KEY=None, TESTING=False)
    rv = sapp.test_client().get("/set/a/1")
    assert rv.status_code == 500


# -- values -------------------------------------------------------------------------------------
def test_tagged_types_round_trip(app: erlen.Erlen) -> None:
    u = uuid.uuid4()
    now = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
    values = {
        "t": (1, "two", (3,)),
        "b": b"\x00\xffbytes",
        "m": Markup("<b>bold</b>"),
        "u": u,
        "d": now,
        "dict": {" t": "not a tag", "n": [1, 2.5, None, True]},
        "unicode": "h\u00e9llo \u2603",
    }

    @app.route("/store")
    def store() -> str:
        session.update(values)
        return ""

    seen: dict[str, Any] = {}

    @app.route("/load")
    def load() -> str:
        seen.update(session)
        return ""

    c = app.test_client()
    c.get("/store")
    c.get("/load")
    assert seen == values
    assert type(seen["t"]) is tuple and type(seen["t"][2]) is tuple
    assert type(seen["m"]) is Markup
    assert type(seen["u"]) is uuid.UUID
    assert seen["d"].tzinfo is not None


def test_unserialisable_value_is_an_error(app: erlen.Erlen) -> None:
    @app.route("/")
    def index() -> str:
        session["x"] = object()
        return ""

    with pytest.raises(TypeError):
        app.test_client().get("/")


def test_no_pickle_in_session_code() -> None:
    import ast

    import erlen.json.tag
    import erlen.sessions

    assert erlen.sessions.__file__ is not None and erlen.json.tag.__file__ is not None
    files = [*Path(erlen.sessions.__file__).parent.glob("*.py"), Path(erlen.json.tag.__file__)]
    assert len(files) > 2  # the whole sessions package
    for file in files:
        tree = ast.parse(file.read_text(encoding="utf-8"))
        imported: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
        assert not imported & {"pickle", "marshal", "shelve", "dill", "cloudpickle"}


def test_cookie_is_readable_by_flask(app: erlen.Erlen) -> None:
    flask = pytest.importorskip("flask")

    @app.route("/")
    def index() -> str:
        session["t"] = (1, 2)
        session["u"] = "x"
        return ""

    c = app.test_client()
    c.get("/")
    cookie = c.get_cookie("session")
    assert cookie is not None
    fapp = flask.Flask("f")
    fapp.secret_key = "test key"
    with fapp.test_request_context(headers={"Cookie": f"session={cookie.value}"}):
        assert dict(flask.session) == {"t": (1, 2), "u": "x"}


# -- test-client helpers ---------------------------------------------------------------------------
def test_session_transaction(sapp: erlen.Erlen) -> None:
    c = sapp.test_client()
    with c.session_transaction() as sess:
        sess["a"] = "from-test"
    assert c.get("/get/a").text == "from-test"


def test_with_client_keeps_session_accessible(sapp: erlen.Erlen) -> None:
    with sapp.test_client() as c:
        c.get("/set/k/v")
        assert session["k"] == "v"


# -- custom interface ---------------------------------------------------------------------------------
def test_custom_session_interface(app: erlen.Erlen) -> None:
    from erlen.sessions import SecureCookieSession, SessionInterface

    store: dict[str, dict[str, Any]] = {}

    class MemoryInterface(SessionInterface):
        def open_session(self, app: Any, request: Any) -> SecureCookieSession:
            sid = request.cookies.get("sid", "new")
            return SecureCookieSession(store.get(sid, {}))

        def save_session(self, app: Any, sess: Any, response: Any) -> None:
            if sess.modified:
                store["abc"] = dict(sess)
                response.set_cookie("sid", "abc")

    app.session_interface = MemoryInterface()

    @app.route("/w")
    def w() -> str:
        session["x"] = 1
        return ""

    @app.route("/r")
    def r() -> str:
        return str(session.get("x"))

    c = app.test_client()
    c.get("/w")
    assert store == {"abc": {"x": 1}}
    assert c.get("/r").text == "1"
