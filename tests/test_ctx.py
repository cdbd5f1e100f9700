"""Contexts: app and request contexts, proxies, threads."""

from __future__ import annotations

import threading

import pytest

import erlen
from erlen import current_app, g, request, session


def test_proxies_outside_context_raise(app):
    with pytest.raises(RuntimeError, match="application context"):
        current_app.name  # noqa: B018
    with pytest.raises(RuntimeError, match="request context"):
        request.path  # noqa: B018
    assert not erlen.has_app_context()
    assert not erlen.has_request_context()


def test_app_context(app):
    with app.app_context():
        assert current_app._get_current_object() is app
        assert erlen.has_app_context()
        assert not erlen.has_request_context()
        g.value = 1
        assert g.pop("value") == 1
        assert "value" not in g
        assert g.setdefault("x", 5) == 5
        assert list(g) == ["x"]


def test_request_context(app):
    with app.test_request_context("/path?q=1", method="POST"):
        assert request.path == "/path"
        assert request.args["q"] == "1"
        assert request.method == "POST"
        assert erlen.has_request_context() and erlen.has_app_context()
        assert isinstance(request, erlen.Request)
        assert repr(request).startswith("<Request")


def test_nested_app_contexts(app):
    other = erlen.Erlen("other")
    with app.app_context():
        with other.app_context():
            assert current_app.name == "other"
        assert current_app.name == "test_app"


def test_g_not_shared_between_app_contexts(app):
    with app.app_context():
        g.a = 1
    with app.app_context():
        assert "a" not in g


def test_copy_current_request_context_in_thread(app, client):
    results = []

    @app.route("/")
    def index():
        @erlen.copy_current_request_context
        def work():
            results.append((request.args["x"], session.get("k")))

        session["k"] = "v"
        t = threading.Thread(target=work)
        t.start()
        t.join()
        return "done"

    client.get("/?x=42")
    assert results == [("42", "v")]


def test_threads_see_their_own_request(app):
    seen = {}
    barrier = threading.Barrier(4)

    def worker(n):
        with app.test_request_context(f"/t/{n}"):
            barrier.wait()
            seen[n] = request.path

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {i: f"/t/{i}" for i in range(4)}


def test_with_client_keeps_context(app, client):
    @app.route("/")
    def index():
        g.value = "kept"
        return "x"

    with client:
        client.get("/?a=1")
        assert request.args["a"] == "1"
        assert g.value == "kept"
    assert not erlen.has_request_context()


def test_session_is_lazy(app, client):
    @app.route("/nosession")
    def nos():
        return "x"

    @app.route("/read")
    def read():
        return str(session.get("a"))

    rv = client.get("/nosession")
    assert "Set-Cookie" not in rv.headers
    assert "Vary" not in rv.headers
    rv = client.get("/read")
    assert rv.data == b"None"
    assert "Cookie" in rv.headers.get("Vary", "")


def test_context_proxies_work_as_context_managers(app, client):
    from erlen.globals import app_ctx, request_ctx

    torn = []
    app.teardown_request(lambda exc: torn.append("request"))
    app.teardown_appcontext(lambda exc: torn.append("app"))

    @app.route("/")
    def index():
        # Re-entering the current contexts through the proxies must not tear them down.
        with app_ctx as a, request_ctx as r:
            assert a is app_ctx._get_current_object()
            assert r.request is request._get_current_object()
        assert torn == []
        return request.path

    assert client.get("/").data == b"/"
    assert torn == ["request", "app"]


# -- the implied app context: a request pushed with no app context active sets one
# -- ContextVar; the app context is created on first use and behaves as if pushed


def test_plain_request_runs_in_an_implied_app_context(app, client):
    from erlen.globals import _cv_app_pushed

    seen = []

    @app.route("/")
    def index():
        seen.append(_cv_app_pushed.get(None))
        assert erlen.has_app_context()
        assert current_app._get_current_object() is app
        g.n = g.get("n", 0) + 1  # a fresh g per request
        return str(g.n)

    assert client.get("/").data == b"1"
    assert client.get("/").data == b"1"
    assert seen == [None, None]
    assert not erlen.has_app_context()


def test_teardown_appcontext_sees_g_and_app_but_no_request(app, client):
    calls = []

    @app.teardown_appcontext
    def close_db(exc):
        calls.append((g.pop("db", None), current_app.name, erlen.has_request_context(), exc))

    @app.route("/db")
    def db():
        g.db = "conn"
        return "ok"

    @app.route("/nodb")
    def nodb():
        return "ok"

    @app.route("/boom")
    def boom():
        raise ValueError("x")

    assert client.get("/db").data == b"ok"
    assert client.get("/nodb").data == b"ok"
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.get("/boom").status_code == 500
    assert calls[0] == ("conn", app.name, False, None)
    assert calls[1] == (None, app.name, False, None)
    assert calls[2][:3] == (None, app.name, False)
    assert isinstance(calls[2][3], ValueError)
    assert len(calls) == 3


def test_app_context_signals_fire_once_per_request(app, client):
    events = []
    pushed = lambda sender, **kw: events.append(("pushed", g.get("mark")))  # noqa: E731
    popped = lambda sender, **kw: events.append(("popped", sender is app))  # noqa: E731

    @app.route("/")
    def index():
        g.mark = "m"
        return "ok"

    erlen.appcontext_popped.connect(popped, app)
    try:
        client.get("/")
        assert events == [("popped", True)]
        events.clear()
        erlen.appcontext_pushed.connect(pushed, app)
        client.get("/")
        assert events == [("pushed", None), ("popped", True)]
    finally:
        erlen.appcontext_popped.disconnect(popped, app)
        erlen.appcontext_pushed.disconnect(pushed, app)


def test_request_inside_app_context_shares_its_g(app):
    @app.route("/")
    def index():
        return g.value

    with app.app_context():
        g.value = "from app ctx"
        with app.test_request_context("/"):
            assert g.value == "from app ctx"
            g.other = 1
        assert g.other == 1
        assert app.test_client().get("/").data == b"from app ctx"


def test_nested_request_contexts(app, client):
    other = erlen.Erlen("other_app")

    @app.route("/")
    def index():
        g.outer = "outer"
        with app.test_request_context("/inner"):
            assert request.path == "/inner"
            assert g.outer == "outer"  # same app: the app context is shared, as in Flask
        with other.test_request_context("/x"):
            assert current_app._get_current_object() is other
            assert "outer" not in g
        with other.app_context():
            assert current_app._get_current_object() is other
            with app.test_request_context("/again"):
                assert current_app._get_current_object() is app
                assert "outer" not in g  # pushed inside another app's context: its own
        assert current_app._get_current_object() is app
        assert g.outer == "outer"
        return request.path

    assert client.get("/").data == b"/"


def test_reentering_the_request_context_keeps_g(app, client):
    from erlen.globals import request_ctx

    @app.route("/")
    def index():
        g.a = 1
        ctx = request_ctx._get_current_object()
        with ctx:
            g.b = 2
            with app.app_context():
                with ctx:
                    g.c = 3  # the inner app context's g
                assert g.c == 3
        assert (g.a, g.b, "c" in g) == (1, 2, False)
        return "ok"

    assert client.get("/").data == b"ok"


def test_popping_an_implied_app_context_by_hand_is_an_error(app):
    from erlen.globals import app_ctx

    with app.test_request_context("/"):
        ctx = app_ctx._get_current_object()
        with pytest.raises(AssertionError, match="not pushed"):
            ctx.pop()
        assert current_app._get_current_object() is app


def test_request_close_runs_when_overridden_or_when_files_were_parsed(app, client):
    import io

    closed = []

    class MyRequest(erlen.Request):
        def close(self):
            closed.append(self.path)
            super().close()

    app.request_class = MyRequest
    seen = {}

    @app.route("/", methods=["GET", "POST"])
    def index():
        if request.method == "POST":
            seen["f"] = request.files["f"]
        return "ok"

    client.get("/")
    assert closed == ["/"]
    client.post("/", data={"f": (io.BytesIO(b"x" * 10), "a.txt")})
    assert closed == ["/", "/"]
    assert seen["f"].stream.closed
