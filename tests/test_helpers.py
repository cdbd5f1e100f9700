"""View helpers: flashing, stream_with_context, make_response, get_template_attribute."""

from __future__ import annotations

from typing import Any

import pytest

import erlen
from erlen import (
    flash,
    get_flashed_messages,
    make_response,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)


# -- flashing --------------------------------------------------------------------------------
@pytest.fixture
def fapp(app: erlen.Erlen) -> erlen.Erlen:
    @app.route("/flash")
    def do_flash() -> Any:
        flash("plain")
        flash("saved <b>", "success")
        flash(erlen.Markup("<i>markup</i>"), "warning")
        flash("broken", "error")
        return redirect(url_for("show"))

    @app.route("/show")
    def show() -> str:
        return render_template("flashes.html")

    @app.route("/raw")
    def raw() -> Any:
        return {
            "all": get_flashed_messages(),
            "again": get_flashed_messages(),
        }

    @app.route("/filtered")
    def filtered() -> Any:
        return {
            "cats": get_flashed_messages(
                with_categories=True, category_filter=["error", "warning"]
            ),
            "plain": get_flashed_messages(category_filter=("success",)),
            "everything": get_flashed_messages(with_categories=True),
        }

    return app


def test_flash_survives_redirect_and_is_consumed_once(fapp: erlen.Erlen) -> None:
    c = fapp.test_client()
    rv = c.get("/flash")
    assert rv.status_code == 302
    assert rv.headers["Location"] == "/show"
    rv = c.get("/show")
    assert rv.text == (
        "[message:plain][success:saved &lt;b&gt;][warning:<i>markup</i>][error:broken]"
    )
    assert c.get("/show").text == ""


def test_flash_follow_redirects(fapp: erlen.Erlen) -> None:
    rv = fapp.test_client().get("/flash", follow_redirects=True)
    assert rv.status_code == 200
    assert "[success:saved &lt;b&gt;]" in rv.text
    assert rv.request.path == "/show"


def test_get_flashed_messages_same_list_within_request(fapp: erlen.Erlen) -> None:
    c = fapp.test_client()
    c.get("/flash")
    data = c.get("/raw").json
    assert data["all"] == ["plain", "saved <b>", "<i>markup</i>", "broken"]
    assert data["again"] == data["all"]
    assert c.get("/raw").json == {"all": [], "again": []}


def test_get_flashed_messages_filters(fapp: erlen.Erlen) -> None:
    c = fapp.test_client()
    c.get("/flash")
    data = c.get("/filtered").json
    assert data["cats"] == [["warning", "<i>markup</i>"], ["error", "broken"]]
    assert data["plain"] == ["saved <b>"]
    assert len(data["everything"]) == 4 and data["everything"][0] == ["message", "plain"]


def test_flashes_are_stored_in_the_session(fapp: erlen.Erlen) -> None:
    c = fapp.test_client()
    c.get("/flash")
    with c.session_transaction() as sess:
        assert sess["_flashes"][0] == ("message", "plain")
        assert len(sess["_flashes"]) == 4


def test_flash_without_reading_keeps_accumulating(app: erlen.Erlen) -> None:
    @app.route("/f/<msg>")
    def f(msg: str) -> str:
        flash(msg)
        return ""

    @app.route("/r")
    def r() -> Any:
        return {"m": get_flashed_messages()}

    c = app.test_client()
    c.get("/f/a")
    c.get("/f/b")
    assert c.get("/r").json == {"m": ["a", "b"]}


def test_flash_and_read_in_same_request(app: erlen.Erlen) -> None:
    with app.test_request_context():
        flash("now", "info")
        assert get_flashed_messages(with_categories=True) == [("info", "now")]
        assert "_flashes" not in session


def test_message_flashed_signal(app: erlen.Erlen) -> None:
    got: list[tuple[object, str, str]] = []

    def rec(sender: object, message: str, category: str) -> None:
        got.append((sender, message, category))

    erlen.message_flashed.connect(rec, app)
    try:
        with app.test_request_context():
            flash("hello", "info")
            flash("bye")
    finally:
        erlen.message_flashed.disconnect(rec, app)
    assert got == [(app, "hello", "info"), (app, "bye", "message")]


def test_flash_without_secret_key_explains(app: erlen.Erlen) -> None:
    app.config["SECRET_KEY"] = None
    with app.test_request_context(), pytest.raises(RuntimeError, match="SECRET_KEY"):
        flash("x")


# -- stream_with_context -----------------------------------------------------------------------
def test_stream_with_context_generator(app: erlen.Erlen) -> None:
    @app.route("/")
    def index() -> erlen.Response:
        def gen() -> Any:
            yield "Hello "
            yield request.args["name"]
            yield "!"

        return app.response_class(stream_with_context(gen()))

    assert app.test_client().get("/?name=Ann").text == "Hello Ann!"


def test_stream_with_context_decorator(app: erlen.Erlen) -> None:
    @app.route("/")
    def index() -> erlen.Response:
        @stream_with_context
        def gen(prefix: str) -> Any:
            yield prefix
            yield request.path
            yield str(session.get("x", "-"))

        return app.response_class(gen("at "))

    assert app.test_client().get("/").text == "at /-"


def test_stream_with_context_closes_generator(app: erlen.Erlen) -> None:
    closed: list[bool] = []

    @app.route("/")
    def index() -> erlen.Response:
        def gen() -> Any:
            try:
                yield "a"
                yield "b"
            finally:
                closed.append(True)

        return app.response_class(stream_with_context(gen()))

    assert app.test_client().get("/").text == "ab"
    assert closed == [True]


def test_stream_with_context_teardown_after_body(app: erlen.Erlen) -> None:
    order: list[str] = []

    @app.teardown_request
    def td(exc: BaseException | None) -> None:
        order.append("teardown")

    @app.route("/")
    def index() -> erlen.Response:
        def gen() -> Any:
            order.append("body")
            yield request.method

        return app.response_class(stream_with_context(gen()))

    assert app.test_client().get("/").text == "GET"
    assert order == ["body", "teardown"]


def test_stream_with_context_needs_request_context() -> None:
    with pytest.raises(RuntimeError, match="request context"):
        stream_with_context(iter(["x"]))


# -- make_response -------------------------------------------------------------------------------
def test_make_response_variants(app: erlen.Erlen) -> None:
    with app.test_request_context():
        rv = make_response()
        assert rv.status_code == 200 and rv.data == b""
        rv = make_response("body")
        assert (rv.status_code, rv.data, rv.mimetype) == (200, b"body", "text/html")
        rv = make_response("nope", 404)
        assert rv.status_code == 404
        rv = make_response("h", 201, {"X-A": "1"})
        assert (rv.status_code, rv.headers["X-A"]) == (201, "1")
        rv = make_response(("t", {"X-B": "2"}))
        assert (rv.status_code, rv.headers["X-B"]) == (200, "2")
        rv = make_response({"a": 1})
        assert rv.mimetype == "application/json" and rv.json == {"a": 1}
        rv = make_response([1, 2])
        assert rv.json == [1, 2]
        orig = app.response_class("x")
        assert make_response(orig) is orig


def test_make_response_in_view_adds_header(app: erlen.Erlen) -> None:
    @app.route("/")
    def index() -> erlen.Response:
        resp = make_response(render_template("escape.html", value="<>"))
        resp.headers["X-Extra"] = "yes"
        resp.set_cookie("k", "v")
        return resp

    rv = app.test_client().get("/")
    assert rv.text == "&lt;&gt;"
    assert rv.headers["X-Extra"] == "yes"
    assert rv.headers["Set-Cookie"].startswith("k=v;")


# -- get_template_attribute -----------------------------------------------------------------------
def test_get_template_attribute_macro(app: erlen.Erlen) -> None:
    with app.app_context():
        hello = erlen.get_template_attribute("macros.html", "hello")
        assert str(hello("<x>")) == "Hello &lt;x&gt;!"
        with pytest.raises(AttributeError):
            erlen.get_template_attribute("macros.html", "missing")


def test_stream_with_context_in_async_view(app: erlen.Erlen) -> None:
    @app.route("/")
    async def index() -> Any:
        def gen() -> Any:
            yield "hello "
            yield request.args["name"]

        return stream_with_context(gen())

    assert app.test_client().get("/?name=ann").data == b"hello ann"


def test_debug_flag_helpers(monkeypatch: pytest.MonkeyPatch) -> None:
    from erlen.helpers import get_debug_flag, get_load_dotenv

    monkeypatch.setenv("ERLEN_DEBUG", "1")
    assert get_debug_flag() is True
    monkeypatch.setenv("ERLEN_DEBUG", "0")
    assert get_debug_flag() is False
    monkeypatch.setenv("ERLEN_SKIP_DOTENV", "1")
    assert get_load_dotenv() is False
    monkeypatch.delenv("ERLEN_SKIP_DOTENV")
    assert get_load_dotenv() is True


def _clean_flag_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("ERLEN_DEBUG", "FLASK_DEBUG", "ERLEN_SKIP_DOTENV", "FLASK_SKIP_DOTENV"):
        monkeypatch.delenv(var, raising=False)


@pytest.mark.parametrize("value", ["", "0", "False", "No", "True", "1", "yes"])
def test_flask_debug_matches_flask(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    from flask.helpers import get_debug_flag as flask_get_debug_flag

    from erlen.helpers import get_debug_flag

    _clean_flag_env(monkeypatch)
    monkeypatch.setenv("FLASK_DEBUG", value)
    assert get_debug_flag() is flask_get_debug_flag()


def test_debug_flag_only_explicit_true_values(monkeypatch: pytest.MonkeyPatch) -> None:
    """Flask turns any value but 0/false/no (``off``, ``disabled``) into debug mode; erlen
    only 1/true/yes/on (decision 009)."""
    from erlen.helpers import get_debug_flag

    _clean_flag_env(monkeypatch)
    for value in ("off", "disabled", "2"):
        monkeypatch.setenv("FLASK_DEBUG", value)
        assert get_debug_flag() is False
    monkeypatch.setenv("FLASK_DEBUG", "ON")
    assert get_debug_flag() is True


def test_erlen_spelling_wins_over_flask(monkeypatch: pytest.MonkeyPatch) -> None:
    from erlen.helpers import get_debug_flag, get_load_dotenv, getenv

    _clean_flag_env(monkeypatch)
    assert getenv("DEBUG") is None
    monkeypatch.setenv("FLASK_DEBUG", "1")
    monkeypatch.setenv("ERLEN_DEBUG", "0")
    assert (getenv("DEBUG"), get_debug_flag()) == ("0", False)
    monkeypatch.setenv("ERLEN_DEBUG", "")  # empty counts as unset, as click does
    assert (getenv("DEBUG"), get_debug_flag()) == ("1", True)
    monkeypatch.delenv("FLASK_DEBUG")
    assert getenv("DEBUG") == ""
    monkeypatch.setenv("FLASK_SKIP_DOTENV", "1")
    assert get_load_dotenv() is False
    monkeypatch.setenv("ERLEN_SKIP_DOTENV", "0")
    assert get_load_dotenv() is True
