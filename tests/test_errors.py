"""Error handling: handlers by code and class, blueprints first, 500s, propagation, logging."""

from __future__ import annotations

import logging

import pytest

import erlen
from erlen import abort
from erlen.exceptions import Forbidden, HTTPException, InternalServerError, NotFound


def test_abort_codes_and_handlers(app, client):
    @app.errorhandler(404)
    def not_found(e):
        return f"custom 404: {e.code}", 404

    @app.errorhandler(Forbidden)
    def forbidden(e):
        return "custom 403", 403

    @app.route("/forbid")
    def forbid():
        abort(403)

    @app.route("/gone")
    def gone():
        abort(410, description="went away")

    rv = client.get("/missing")
    assert (rv.status_code, rv.data) == (404, b"custom 404: 404")
    rv = client.get("/forbid")
    assert (rv.status_code, rv.data) == (403, b"custom 403")
    rv = client.get("/gone")
    assert rv.status_code == 410 and b"went away" in rv.data


def test_abort_with_response(app, client):
    @app.route("/")
    def index():
        abort(erlen.make_response("teapot body", 418))

    rv = client.get("/")
    assert (rv.status_code, rv.data) == (418, b"teapot body")


def test_handler_resolution_by_class_hierarchy(app, client):
    class MyError(Exception):
        pass

    class SubError(MyError):
        pass

    @app.errorhandler(MyError)
    def handle(e):
        return f"handled {type(e).__name__}", 500

    @app.errorhandler(HTTPException)
    def any_http(e):
        return f"http {e.code}", e.code

    @app.route("/sub")
    def sub():
        raise SubError()

    @app.route("/conflict")
    def conflict():
        abort(409)

    assert client.get("/sub").data == b"handled SubError"
    assert client.get("/conflict").data == b"http 409"
    assert client.get("/nothing").data == b"http 404"


def test_code_handler_beats_class_handler(app, client):
    @app.errorhandler(HTTPException)
    def any_http(e):
        return "generic", e.code

    @app.errorhandler(404)
    def nf(e):
        return "specific", 404

    assert client.get("/x").data == b"specific"


def test_register_error_handler_validation(app):
    with pytest.raises(ValueError, match="not a recognized HTTP error code"):
        app.register_error_handler(999, lambda e: "x")
    with pytest.raises(TypeError, match="instance"):
        app.register_error_handler(ValueError(), lambda e: "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a subclass of Exception"):
        app.register_error_handler(int, lambda e: "x")  # type: ignore[arg-type]


def test_unhandled_exception_is_500_and_logged(app, client, caplog):
    app.testing = False

    @app.route("/boom")
    def boom():
        raise ValueError("secret detail")

    with caplog.at_level(logging.ERROR):
        rv = client.get("/boom")
    assert rv.status_code == 500
    assert b"secret detail" not in rv.data
    assert b"Internal Server Error" in rv.data
    records = [r for r in caplog.records if "Exception on /boom [GET]" in r.getMessage()]
    assert records and records[0].exc_info[0] is ValueError


def test_500_handler_gets_original_exception(app, client):
    app.testing = False
    seen = []

    @app.errorhandler(500)
    def ise(e):
        seen.append(e)
        return f"oops: {type(e.original_exception).__name__}", 500

    @app.route("/boom")
    def boom():
        raise KeyError("k")

    rv = client.get("/boom")
    assert rv.data == b"oops: KeyError"
    assert isinstance(seen[0], InternalServerError)


def test_testing_propagates(app, client):
    @app.route("/boom")
    def boom():
        raise ValueError("propagated")

    with pytest.raises(ValueError, match="propagated"):
        client.get("/boom")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.get("/boom").status_code == 500


def test_error_in_error_handler_becomes_500(app, client):
    app.testing = False

    @app.errorhandler(404)
    def broken(e):
        raise RuntimeError("handler broke")

    assert client.get("/missing").status_code == 500


def test_bad_request_key_error(app, client):
    @app.route("/form", methods=["POST"])
    def form():
        return erlen.request.form["missing"]

    rv = client.post("/form", data={"a": "1"})
    assert rv.status_code == 400
    assert b"missing" not in rv.data
    app.debug = True
    app.config["TRAP_BAD_REQUEST_ERRORS"] = False
    rv = client.post("/form", data={"a": "1"})
    assert rv.status_code == 400
    assert b"missing" in rv.data


def test_trap_http_exceptions(app, client):
    app.config["TRAP_HTTP_EXCEPTIONS"] = True

    @app.route("/")
    def index():
        abort(404)

    with pytest.raises(NotFound):
        client.get("/")


def test_http_exception_response_headers(app, client):
    @app.route("/retry")
    def retry():
        from erlen.exceptions import TooManyRequests

        raise TooManyRequests(retry_after=30)

    rv = client.get("/retry")
    assert rv.status_code == 429
    assert rv.headers["Retry-After"] == "30"


def test_bad_input_is_logged(app, client, caplog):
    @app.route("/j", methods=["POST"])
    def j():
        return erlen.request.get_json()

    with caplog.at_level(logging.WARNING, logger="erlen"):
        rv = client.post("/j", data="{bad", content_type="application/json")
    assert rv.status_code == 400
    assert any("400 POST '/j'" in r.getMessage() for r in caplog.records)
