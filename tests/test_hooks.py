"""Request hooks, teardown, after_this_request and signals."""

from __future__ import annotations

import pytest

import erlen
from erlen import g, request


def test_before_request_can_short_circuit(app, client):
    calls = []

    @app.before_request
    def first():
        calls.append("first")
        if request.path == "/blocked":
            return "blocked by hook", 403

    @app.before_request
    def second():
        calls.append("second")

    @app.route("/blocked")
    def blocked():
        calls.append("view")
        return "view"

    @app.route("/ok")
    def ok():
        calls.append("view")
        return "ok"

    rv = client.get("/blocked")
    assert (rv.status_code, rv.data) == (403, b"blocked by hook")
    assert calls == ["first"]
    calls.clear()
    assert client.get("/ok").data == b"ok"
    assert calls == ["first", "second", "view"]


def test_after_request_order_and_replacement(app, client):
    order = []

    @app.after_request
    def a(resp):
        order.append("a")
        resp.headers["X-A"] = "1"
        return resp

    @app.after_request
    def b(resp):
        order.append("b")
        return erlen.Response("replaced", status=299)

    @app.route("/")
    def index():
        return "original"

    rv = client.get("/")
    assert order == ["b", "a"]  # registered last runs first
    assert (rv.status_code, rv.data, rv.headers["X-A"]) == (299, b"replaced", "1")


def test_after_this_request(app, client):
    @app.route("/")
    def index():
        @erlen.after_this_request
        def add_header(resp):
            resp.headers["X-This"] = "yes"
            return resp

        return "x"

    assert client.get("/").headers["X-This"] == "yes"
    with pytest.raises(RuntimeError):
        erlen.after_this_request(lambda r: r)


def test_teardown_request_and_appcontext(app, client):
    seen = []
    app.testing = False

    @app.teardown_request
    def td(exc):
        seen.append(("request", type(exc).__name__ if exc else None))

    @app.teardown_appcontext
    def tda(exc):
        seen.append(("app", type(exc).__name__ if exc else None))

    @app.route("/ok")
    def ok():
        return "ok"

    @app.route("/boom")
    def boom():
        raise ZeroDivisionError

    client.get("/ok")
    assert seen == [("request", None), ("app", None)]
    seen.clear()
    assert client.get("/boom").status_code == 500
    assert seen == [("request", "ZeroDivisionError"), ("app", "ZeroDivisionError")]


def test_g_is_per_request(app, client):
    @app.before_request
    def set_user():
        g.user = request.args.get("u")

    @app.route("/")
    def index():
        return f"{g.user} {'user' in g} {g.get('nope', 'default')}"

    assert client.get("/?u=ann").data == b"ann True default"
    assert client.get("/").data == b"None True default"


def test_async_hooks(app, client):
    @app.before_request
    async def before():
        g.x = "async-before"

    @app.after_request
    async def after(resp):
        resp.headers["X-Async"] = "1"
        return resp

    @app.route("/")
    def index():
        return g.x

    rv = client.get("/")
    assert rv.data == b"async-before" and rv.headers["X-Async"] == "1"


def test_signals(app, client):
    events = []

    def started(sender, **kw):
        events.append("started")

    def finished(sender, response, **kw):
        events.append(("finished", response.status_code))

    def exception(sender, exception, **kw):
        events.append(("exception", type(exception).__name__))

    def pushed(sender, **kw):
        events.append("pushed")

    def popped(sender, **kw):
        events.append("popped")

    app.testing = False

    @app.route("/")
    def index():
        return "x"

    @app.route("/boom")
    def boom():
        raise KeyError

    with (
        erlen.request_started.connected_to(started, app),
        erlen.request_finished.connected_to(finished, app),
        erlen.got_request_exception.connected_to(exception, app),
        erlen.appcontext_pushed.connected_to(pushed, app),
        erlen.appcontext_popped.connected_to(popped, app),
    ):
        client.get("/")
        assert events == ["pushed", "started", ("finished", 200), "popped"]
        events.clear()
        client.get("/boom")
        assert ("exception", "KeyError") in events
        assert ("finished", 500) in events
    events.clear()
    client.get("/")
    assert events == []


def test_url_value_preprocessor_and_url_defaults(app, client):
    @app.url_defaults
    def add_lang(endpoint, values):
        if "lang" in values or not app.url_map.is_endpoint_expecting(endpoint, "lang"):
            return
        values["lang"] = g.lang

    @app.url_value_preprocessor
    def pull_lang(endpoint, values):
        g.lang = values.pop("lang", None)

    @app.route("/<lang>/page")
    def page():
        return erlen.url_for("page")

    assert client.get("/de/page").data == b"/de/page"
