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
