"""Malformed and hostile input reaches the app as a clear 4xx, never a 500 or a traceback."""

from __future__ import annotations

import io
import json
import logging
import time

import pytest

import erlen
from erlen import request


def _environ(**kw):
    env = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "localhost",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    env.update(kw)
    return env


def call(app, **kw):
    """Run the app on a hand-made environ, as a server would; returns (status, headers, body)."""
    captured = {}

    def start_response(status, headers, exc_info=None):
        captured["status"] = status
        captured["headers"] = headers

    body_iter = app(_environ(**kw), start_response)
    try:
        body = b"".join(body_iter)
    finally:
        if hasattr(body_iter, "close"):
            body_iter.close()
    return int(captured["status"][:3]), captured["headers"], body


@pytest.fixture
def echo_app():
    app = erlen.Erlen("bad_input")  # not TESTING: errors must become responses

    @app.route("/", methods=["GET", "POST", "PUT"])
    def index():
        return {"args": request.args.to_dict(flat=False)}

    @app.route("/json", methods=["POST"])
    def js():
        return {"got": request.get_json()}

    @app.route("/body", methods=["POST"])
    def body():
        return str(len(request.get_data()))

    @app.route("/form", methods=["POST"])
    def form():
        return {"form": request.form.to_dict(flat=False)}

    @app.route("/cookies")
    def cookies():
        return {"cookies": request.cookies.to_dict()}

    @app.route("/split")
    def split():
        resp = erlen.make_response("x")
        resp.headers["X-Evil"] = "a\r\nSet-Cookie: evil=1"
        return resp

    @app.route("/p/<name>")
    def p(name):
        return name

    return app


def test_malformed_percent_encoding_in_query(echo_app):
    status, _, body = call(echo_app, QUERY_STRING="a=%zz")
    assert status == 400
    assert b"Traceback" not in body


def test_invalid_utf8_in_query(echo_app):
    status, _, _ = call(echo_app, QUERY_STRING="a=%ff%fe")
    assert status == 400


def test_invalid_utf8_in_path(echo_app):
    status, _, body = call(echo_app, PATH_INFO="/p/\xff\xfe")
    assert status == 400
    assert b"Traceback" not in body


def test_valid_utf8_path(echo_app):
    status, _, body = call(echo_app, PATH_INFO="/p/" + "ü".encode().decode("latin-1"))
    assert (status, body) == (200, "ü".encode())


def test_semicolon_does_not_separate_query(echo_app):
    status, _, body = call(echo_app, QUERY_STRING="a=1;b=2&c=3")
    assert status == 200
    assert json.loads(body)["args"] == {"a": ["1;b=2"], "c": ["3"]}


@pytest.mark.parametrize("qs", ["&" * 1_000_000, ";" * 1_000_000, "a=&" * 250_000])
def test_huge_query_strings_parse(echo_app, qs):
    t0 = time.perf_counter()
    status, _, body = call(echo_app, QUERY_STRING=qs)
    assert status == 200
    assert time.perf_counter() - t0 < 10  # generous bound: quadratic parsing takes hours
    args = json.loads(body)["args"]
    if qs.startswith("a"):
        assert len(args["a"]) == 250_000


def test_invalid_json_is_400(echo_app):
    status, headers, body = call(
        echo_app,
        REQUEST_METHOD="POST",
        PATH_INFO="/json",
        CONTENT_TYPE="application/json",
        CONTENT_LENGTH="5",
        **{"wsgi.input": io.BytesIO(b"{bad}")},
    )
    assert status == 400
    assert b"Traceback" not in body


def test_json_wrong_content_type_is_415(echo_app):
    status, _, _ = call(
        echo_app,
        REQUEST_METHOD="POST",
        PATH_INFO="/json",
        CONTENT_TYPE="text/plain",
        CONTENT_LENGTH="2",
        **{"wsgi.input": io.BytesIO(b"{}")},
    )
    assert status == 415


def test_unknown_method_is_405(echo_app):
    status, headers, _ = call(echo_app, REQUEST_METHOD="BREW")
    assert status == 405
    assert dict(headers)["Allow"] == "GET, HEAD, OPTIONS, POST, PUT"  # sorted (decision 008)
    status, _, _ = call(echo_app, REQUEST_METHOD="BREW", PATH_INFO="/nowhere")
    assert status == 404


@pytest.mark.parametrize(
    "length", ["-1", "abc", "1e3", "+5", "1_0", "\u0663", "3, 3", "99999999999999999999999"]
)
def test_bad_content_length_is_400(echo_app, length):
    status, _, _ = call(
        echo_app,
        REQUEST_METHOD="POST",
        PATH_INFO="/body",
        CONTENT_LENGTH=length,
        **{"wsgi.input": io.BytesIO(b"abc")},
    )
    assert status in (400, 413)
    if length != "99999999999999999999999":
        assert status == 400


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("/body", "text/plain", b"short"),
        ("/json", "application/json", b"{}"),
        ("/form", "application/x-www-form-urlencoded", b"a=1"),
        ("/form", "multipart/form-data; boundary=xyz", b"--xyz\r\n"),
    ],
    ids=["data", "json", "urlencoded", "multipart"],
)
def test_content_length_larger_than_body_is_400(echo_app, path, content_type, body):
    status, _, _ = call(
        echo_app,
        REQUEST_METHOD="POST",
        PATH_INFO=path,
        CONTENT_TYPE=content_type,
        CONTENT_LENGTH="100",
        **{"wsgi.input": io.BytesIO(body)},
    )
    assert status == 400


def test_content_length_over_max_is_413_without_reading(echo_app):
    echo_app.config["MAX_CONTENT_LENGTH"] = 10

    class Exploding(io.RawIOBase):
        def read(self, n=-1):
            raise AssertionError("body must not be read")

        readinto = None

    status, _, _ = call(
        echo_app,
        REQUEST_METHOD="POST",
        PATH_INFO="/body",
        CONTENT_LENGTH="1000",
        **{"wsgi.input": Exploding()},
    )
    assert status == 413


class _CountingStream:
    """An endless chunked body that counts what the app read."""

    def __init__(self):
        self.read_bytes = 0

    def read(self, n=-1):
        n = 65536 if n is None or n < 0 else min(n, 65536)
        self.read_bytes += n
        return b"x" * n

    def readline(self, n=-1):
        return self.read(n)


def test_chunked_body_over_max_is_413_early(echo_app):
    echo_app.config["MAX_CONTENT_LENGTH"] = 100_000
    stream = _CountingStream()
    status, _, _ = call(
        echo_app,
        REQUEST_METHOD="POST",
        PATH_INFO="/body",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": stream, "wsgi.input_terminated": True},
    )
    assert status == 413
    assert stream.read_bytes < 1_000_000  # stopped near the limit, not at "the end"


def test_nameless_cookie_cannot_pose_as_host_cookie(echo_app):
    status, _, body = call(echo_app, PATH_INFO="/cookies", HTTP_COOKIE="=__Host-x=bad; a=1")
    assert status == 200
    cookies = json.loads(body)["cookies"]
    assert cookies == {"a": "1"}
    _, _, body = call(echo_app, PATH_INFO="/cookies", HTTP_COOKIE="=__Secure-x=bad; b=2")
    assert json.loads(body)["cookies"] == {"b": "2"}
    # a quoted name keeps its quotes, so it is not the ``__Host-x`` cookie either
    _, _, body = call(echo_app, PATH_INFO="/cookies", HTTP_COOKIE='"__Host-x"=1')
    assert "__Host-x" not in json.loads(body)["cookies"]


def test_quoted_cookie_values(echo_app):
    status, _, body = call(
        echo_app, PATH_INFO="/cookies", HTTP_COOKIE='a="b c"; d="e\\"f"; g="\\054"'
    )
    cookies = json.loads(body)["cookies"]
    assert cookies["a"] == "b c"
    assert cookies["d"] == 'e"f'
    assert cookies["g"] == ","


def test_huge_cookie_header_parses(echo_app):
    t0 = time.perf_counter()
    status, _, _ = call(echo_app, PATH_INFO="/cookies", HTTP_COOKIE=";" * 1_000_000)
    assert status == 200
    assert time.perf_counter() - t0 < 10


@pytest.mark.parametrize(
    "cookie",
    ["a=1; " * 200_000, 'a="' + "\\\\" * 250_000 + '"', '"' * 1_000_000, "a=" + "=" * 1_000_000],
    ids=["pairs", "escapes", "quotes", "equals"],
)
def test_pathological_cookie_headers_parse_linearly(echo_app, cookie):
    t0 = time.perf_counter()
    status, _, _ = call(echo_app, PATH_INFO="/cookies", HTTP_COOKIE=cookie)
    assert status == 200
    assert time.perf_counter() - t0 < 10  # quadratic parsing of 1 MB takes minutes


def test_header_injection_from_view_does_not_split_response(echo_app, caplog):
    with caplog.at_level(logging.ERROR, logger="bad_input"):
        status, headers, body = call(echo_app, PATH_INFO="/split")
    assert status == 500
    names = [k.lower() for k, _ in headers]
    assert "set-cookie" not in names and "x-evil" not in names
    assert any("CR, LF or NUL" in (r.exc_text or "") for r in caplog.records)


def test_header_injection_through_tuple_headers_is_refused(echo_app):
    @echo_app.route("/tuple-split")
    def tuple_split():
        return "x", {"X-Evil": "a\nSet-Cookie: evil=1"}

    status, headers, _ = call(echo_app, PATH_INFO="/tuple-split")
    assert status == 500
    assert "set-cookie" not in [k.lower() for k, _ in headers]


def test_crlf_in_redirect_and_cookie_values_is_encoded_not_split(echo_app):
    @echo_app.route("/redir")
    def redir():
        return erlen.redirect("/x\r\nSet-Cookie: evil=1")

    @echo_app.route("/cookie-split")
    def cookie_split():
        resp = erlen.make_response("x")
        resp.set_cookie("a", "b\r\nSet-Cookie: evil=1")
        return resp

    status, headers, _ = call(echo_app, PATH_INFO="/redir")
    assert status == 302
    assert [v for k, v in headers if k == "Location"] == ["/x%0D%0ASet-Cookie:%20evil=1"]
    status, headers, _ = call(echo_app, PATH_INFO="/cookie-split")
    assert status == 200
    cookies = [v for k, v in headers if k == "Set-Cookie"]
    assert cookies == ['a="b\\015\\012Set-Cookie: evil=1"; Path=/']
    assert all("\r" not in v and "\n" not in v for _, v in headers)


@pytest.mark.parametrize("depth", [100_000, 50_000])
def test_deeply_nested_json_is_400(echo_app, depth):
    data = b"[" * depth + (b"]" * depth if depth == 50_000 else b"")
    status, _, body = call(
        echo_app,
        REQUEST_METHOD="POST",
        PATH_INFO="/json",
        CONTENT_TYPE="application/json",
        CONTENT_LENGTH=str(len(data)),
        **{"wsgi.input": io.BytesIO(data)},
    )
    assert status == 400
    assert b"not valid JSON" in body


def test_deeply_nested_json_silent_is_none():
    app = erlen.Erlen("deep_json")

    @app.route("/", methods=["POST"])
    def index():
        return {"got": request.get_json(silent=True)}

    rv = app.test_client().post("/", data="[" * 100_000, content_type="application/json")
    assert (rv.status_code, rv.json) == (200, {"got": None})


def _post(path, data, **kw):
    env = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "CONTENT_LENGTH": str(len(data)),
        "wsgi.input": io.BytesIO(data),
    }
    env.update(kw)
    return env


@pytest.mark.parametrize(
    ("environ", "code"),
    [
        ({"QUERY_STRING": "a=%zz"}, 400),
        ({"QUERY_STRING": "a=%ff"}, 400),
        ({"PATH_INFO": "/p/\xff"}, 400),
        (_post("/json", b"{bad", CONTENT_TYPE="application/json"), 400),
        (_post("/json", b"{}", CONTENT_TYPE="text/plain"), 415),
        ({"REQUEST_METHOD": "BREW"}, 405),
        (_post("/body", b"abc", CONTENT_LENGTH="-1"), 400),
        (_post("/body", b"abc", CONTENT_LENGTH="10"), 400),
        (_post("/form", b"a=%zz", CONTENT_TYPE="application/x-www-form-urlencoded"), 400),
    ],
    ids=["pct", "utf8-query", "utf8-path", "json", "json-type", "method", "cl-neg", "cl-short", "form"],
)
def test_bad_input_gets_a_4xx_and_a_log_line(echo_app, caplog, environ, code):
    with caplog.at_level(logging.WARNING, logger="erlen"):
        status, _, body = call(echo_app, **environ)
    assert status == code
    assert b"Traceback" not in body
    lines = [r for r in caplog.records if r.name == "erlen" and r.levelno == logging.WARNING]
    assert len(lines) == 1
    assert lines[0].getMessage().startswith(f"{code} ")


def test_bad_form_encoding_is_400(echo_app):
    data = b"a=%zz"
    status, _, _ = call(
        echo_app,
        REQUEST_METHOD="POST",
        PATH_INFO="/form",
        CONTENT_TYPE="application/x-www-form-urlencoded",
        CONTENT_LENGTH=str(len(data)),
        **{"wsgi.input": io.BytesIO(data)},
    )
    assert status == 400


def test_malformed_multipart_is_400(echo_app):
    data = b"--xyz\r\nContent-Disposition: form-data\r\n\r\nno end"
    status, _, _ = call(
        echo_app,
        REQUEST_METHOD="POST",
        PATH_INFO="/form",
        CONTENT_TYPE="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(len(data)),
        **{"wsgi.input": io.BytesIO(data)},
    )
    assert status == 400


def test_untrusted_host_is_400(echo_app):
    echo_app.config["TRUSTED_HOSTS"] = ["example.test"]
    status, _, _ = call(echo_app, HTTP_HOST="evil.test")
    assert status == 400
    status, _, _ = call(echo_app, HTTP_HOST="example.test")
    assert status == 200
