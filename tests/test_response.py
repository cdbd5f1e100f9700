"""Tests for erlen.http.response.Response (werkzeug.wrappers.Response as the oracle)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from erlen.http.datastructures import Headers
from erlen.http.response import Response, get_content_type


def _environ(method: str = "GET", **extra: Any) -> dict[str, Any]:
    env: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
    }
    env.update(extra)
    return env


def _run(
    resp: Any, environ: dict[str, Any] | None = None
) -> tuple[str, list[tuple[str, str]], bytes]:
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        captured["status"] = status
        captured["headers"] = list(headers)

    body_iter = resp(environ or _environ(), start_response)
    try:
        body = b"".join(body_iter)
    finally:
        close = getattr(body_iter, "close", None)
        if close is not None:
            close()
    return captured["status"], captured["headers"], body


def _werkzeug(*args: Any, **kwargs: Any) -> Any:
    from werkzeug.wrappers import Response as WResponse

    return WResponse(*args, **kwargs)


# -- construction -----------------------------------------------------------------------


def test_str_fast_path() -> None:
    r = Response("Hello \u20ac")
    assert r.status == "200 OK"
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert r.headers["Content-Length"] == "9"
    assert r.data == "Hello \u20ac".encode()
    assert r.get_data(as_text=True) == "Hello \u20ac"
    assert r.is_sequence and not r.is_streamed
    assert repr(r) == "<Response 9 bytes [200 OK]>"


def test_bytes_and_matches_werkzeug() -> None:
    for body in (b"bytes body", "text body", b""):
        ours, theirs = Response(body), _werkzeug(body, mimetype="text/plain")
        assert ours.data == theirs.data
        assert list(ours.headers.items()) == list(theirs.headers.items())


def test_empty_response() -> None:
    r = Response()
    assert r.response == []
    assert r.data == b""
    status, headers, body = _run(r)
    assert status == "200 OK"
    assert ("Content-Length", "0") in headers
    assert body == b""


def test_default_mimetype_subclass() -> None:
    class HTMLResponse(Response):
        default_mimetype = "text/html"

    assert HTMLResponse("x").headers["Content-Type"] == "text/html; charset=utf-8"
    assert HTMLResponse("x", status=201).headers["Content-Type"] == "text/html; charset=utf-8"


@pytest.mark.parametrize(
    "mimetype,expected",
    [
        ("text/html", "text/html; charset=utf-8"),
        ("application/json", "application/json"),
        ("application/xml", "application/xml; charset=utf-8"),
        ("image/svg+xml", "image/svg+xml; charset=utf-8"),
        ("application/javascript", "application/javascript; charset=utf-8"),
        ("image/png", "image/png"),
    ],
)
def test_mimetype_charset(mimetype: str, expected: str) -> None:
    assert get_content_type(mimetype) == expected
    r = Response("x", mimetype=mimetype)
    assert r.content_type == expected == _werkzeug("x", mimetype=mimetype).content_type
    assert r.mimetype == mimetype


def test_content_type_given_verbatim() -> None:
    r = Response("x", content_type="text/csv; charset=latin-1")
    assert r.content_type == "text/csv; charset=latin-1"
    assert r.mimetype == "text/csv"
    assert r.mimetype_params == {"charset": "latin-1"}
    r.mimetype = "text/html"
    assert r.content_type == "text/html; charset=utf-8"


@pytest.mark.parametrize(
    "headers",
    [
        {"X-A": "1", "Content-Type": "application/json"},
        [("X-A", "1"), ("Content-Type", "application/json")],
    ],
)
def test_headers_argument_forms(headers: Any) -> None:
    r = Response("{}", headers=headers)
    assert r.headers["X-A"] == "1"
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers.getlist("Content-Type") == ["application/json"]


def test_headers_object_is_used_as_is() -> None:
    h = Headers([("X-A", "1")])
    r = Response("x", headers=h)
    assert r.headers is h
    assert h["Content-Type"] == "text/plain; charset=utf-8"


def test_header_injection_rejected() -> None:
    r = Response("x")
    with pytest.raises(ValueError):
        r.headers["X-Evil"] = "a\r\nSet-Cookie: pwned=1"
    with pytest.raises(ValueError):
        r.headers.add("X-Evil", "a\nb")
    with pytest.raises(ValueError):
        Response("x", headers={"X-Evil": "a\r\nb"})
    with pytest.raises(ValueError):
        r.location = "/x\r\nSet-Cookie: a=b"


# -- status ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given,status,code",
    [
        (404, "404 NOT FOUND", 404),
        ("404", "404 NOT FOUND", 404),
        ("200 OK", "200 OK", 200),
        ("200 ok custom", "200 ok custom", 200),
        ("I am custom", "0 I am custom", 0),
        (299, "299 UNKNOWN", 299),
        (" 201 ", "201 CREATED", 201),
    ],
)
def test_status_forms(given: Any, status: str, code: int) -> None:
    r = Response("x", status=given)
    assert (r.status, r.status_code) == (status, code)
    w = _werkzeug("x", status=given)
    assert (w.status, w.status_code) == (status, code)


def test_status_setters_and_errors() -> None:
    r = Response("x")
    r.status_code = 418
    assert r.status == "418 I'M A TEAPOT"
    r.status = "500"
    assert r.status_code == 500
    with pytest.raises(ValueError):
        r.status = ""
    with pytest.raises(TypeError):
        Response("x", status=1.5)  # type: ignore[arg-type]


# -- body -------------------------------------------------------------------------------------


def test_set_data_updates_content_length() -> None:
    r = Response("abc")
    r.data = "\u20ac\u20ac"
    assert r.headers["Content-Length"] == "6"
    assert r.content_length == 6
    r.set_data(b"xy")
    assert r.get_data() == b"xy"
    assert r.headers["Content-Length"] == "2"


def test_streamed_generator() -> None:
    def gen() -> Any:
        yield "a"
        yield b"b"
        yield "\u20ac"

    r = Response(gen())
    assert r.is_streamed and not r.is_sequence
    assert "Content-Length" not in r.headers
    assert repr(r) == "<Response streamed [200 OK]>"
    status, headers, body = _run(r)
    assert body == "ab\u20ac".encode()
    assert not any(k.lower() == "content-length" for k, _ in headers)


def test_list_of_str_gets_content_length_in_wsgi() -> None:
    r = Response(["a", "\u20ac"])
    status, headers, body = _run(r)
    assert body == "a\u20ac".encode()
    assert ("Content-Length", "4") in headers
    w_status, w_headers, w_body = _run(_werkzeug(["a", "\u20ac"], mimetype="text/plain"))
    assert sorted(headers) == sorted(w_headers)


def test_get_data_buffers_stream_and_closes_later() -> None:
    closed = []

    class Gen:
        def __init__(self) -> None:
            self.it = iter([b"x", b"y"])

        def __iter__(self) -> Any:
            return self

        def __next__(self) -> bytes:
            return next(self.it)

        def close(self) -> None:
            closed.append(True)

    r = Response(Gen())
    assert r.get_data() == b"xy"
    assert r.is_sequence
    assert not closed
    r.close()
    assert closed == [True]


def test_direct_passthrough_refuses_buffering() -> None:
    r = Response(iter([b"x"]), direct_passthrough=True)
    with pytest.raises(RuntimeError):
        r.get_data()


def test_freeze() -> None:
    r = Response(iter(["a", "bc"]))
    r.freeze()
    assert r.response == [b"a", b"bc"]
    assert r.headers["Content-Length"] == "3"


def test_json_helpers() -> None:
    r = Response('{"a": 1}', mimetype="application/json")
    assert r.is_json
    assert r.json == {"a": 1}
    assert Response("{}").get_json() is None
    assert Response('{"b": 2}').get_json(force=True) == {"b": 2}
    assert Response("{bad", mimetype="application/json").get_json(silent=True) is None
    with pytest.raises(ValueError):
        Response("{bad", mimetype="application/json").get_json()


# -- WSGI -------------------------------------------------------------------------------------


def test_wsgi_call() -> None:
    r = Response("hello", status=201, headers={"X-A": "1"})
    status, headers, body = _run(r)
    assert status == "201 CREATED"
    assert ("X-A", "1") in headers
    assert ("Content-Length", "5") in headers
    assert body == b"hello"


def test_wsgi_head_keeps_headers_drops_body() -> None:
    status, headers, body = _run(Response("hello"), _environ("HEAD"))
    assert body == b""
    assert ("Content-Length", "5") in headers


@pytest.mark.parametrize("code", [204, 304, 101])
def test_wsgi_no_body_statuses(code: int) -> None:
    r = Response("hello", status=code)
    status, headers, body = _run(r)
    assert body == b""
    assert not any(k.lower() == "content-length" for k, _ in headers)
    w_headers = _run(_werkzeug("hello", status=code, mimetype="text/plain"))[1]
    assert headers == w_headers


def test_call_on_close_runs_when_server_closes() -> None:
    calls: list[str] = []
    r = Response("x")
    r.call_on_close(lambda: calls.append("closed"))
    _run(r)
    assert calls == ["closed"]


def test_context_manager_closes() -> None:
    calls: list[int] = []
    with Response("x") as r:
        r.call_on_close(lambda: calls.append(1))
    assert calls == [1]


# -- cookies ------------------------------------------------------------------------------------


def test_set_and_delete_cookie_match_werkzeug() -> None:
    ours, theirs = Response("x"), _werkzeug("x")
    for r in (ours, theirs):
        r.set_cookie("sid", "abc def", max_age=3600, httponly=True, samesite="Lax")
        r.set_cookie("plain", "v", path="/p", domain="example.com", secure=True)
        r.delete_cookie("old")
    assert ours.headers.getlist("Set-Cookie")[1:] == theirs.headers.getlist("Set-Cookie")[1:]
    first = ours.headers.getlist("Set-Cookie")[0]
    assert first.startswith("sid=")
    assert "Max-Age=3600" in first and "HttpOnly" in first and "SameSite=Lax" in first
    assert "Expires=Thu, 01 Jan 1970 00:00:00 GMT" in ours.headers.getlist("Set-Cookie")[2]


def test_cookie_bad_samesite() -> None:
    with pytest.raises(ValueError):
        Response("x").set_cookie("a", "b", samesite="Sometimes")


# -- header properties ---------------------------------------------------------------------------


def test_date_properties() -> None:
    r = Response("x")
    dt = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    r.last_modified = dt
    r.expires = dt
    r.date = dt
    assert r.headers["Last-Modified"] == "Tue, 02 Jan 2024 03:04:05 GMT"
    assert r.last_modified == dt and r.expires == dt and r.date == dt
    r.last_modified = None
    assert "Last-Modified" not in r.headers
    r.age = timedelta(seconds=90)
    assert r.headers["Age"] == "90"
    assert r.age == timedelta(seconds=90)
    r.retry_after = 120
    assert r.headers["Retry-After"] == "120"
    assert r.retry_after is not None


def test_location_and_content_length() -> None:
    r = Response("x", status=302)
    r.location = "/next"
    assert r.headers["Location"] == "/next"
    assert r.location == "/next"
    r.content_length = None
    assert r.content_length is None


def test_vary() -> None:
    r = Response("x")
    r.vary.add("Cookie")
    assert r.headers["Vary"] == "Cookie"
    r.vary.add("Accept-Encoding")
    assert r.headers["Vary"] == "Cookie, Accept-Encoding"
    assert "cookie" in r.vary
    r.vary = ["Origin"]
    assert r.headers["Vary"] == "Origin"


# -- etags & conditional --------------------------------------------------------------------------


def test_etags() -> None:
    r = Response("hello")
    r.add_etag()
    etag, weak = r.get_etag()
    assert etag and weak is False
    assert r.headers["ETag"] == f'"{etag}"'
    r.add_etag()  # no overwrite
    assert r.get_etag()[0] == etag
    r.set_etag("v1", weak=True)
    assert r.headers["ETag"] == 'W/"v1"'
    assert r.get_etag() == ("v1", True)
    assert _werkzeug("hello").add_etag() is None
    w = _werkzeug("hello")
    w.add_etag()
    assert w.get_etag()[0] == etag


def test_make_conditional_if_none_match_304() -> None:
    r = Response("hello")
    r.set_etag("abc")
    env = _environ(HTTP_IF_NONE_MATCH='"abc"')
    r.make_conditional(env)
    assert r.status_code == 304
    status, headers, body = _run(r, env)
    assert status == "304 NOT MODIFIED"
    assert body == b""
    assert not any(k.lower() in ("content-length", "content-type") for k, _ in headers)
    assert ("ETag", '"abc"') in headers


def test_make_conditional_weak_match_and_miss() -> None:
    r = Response("hello")
    r.set_etag("abc", weak=True)
    r.make_conditional(_environ(HTTP_IF_NONE_MATCH='"abc"'))
    assert r.status_code == 304
    r2 = Response("hello")
    r2.set_etag("abc")
    r2.make_conditional(_environ(HTTP_IF_NONE_MATCH='"other"'))
    assert r2.status_code == 200
    assert "Date" in r2.headers


def test_make_conditional_if_modified_since() -> None:
    r = Response("hello")
    r.last_modified = datetime(2024, 1, 1, tzinfo=UTC)
    r.make_conditional(_environ(HTTP_IF_MODIFIED_SINCE="Mon, 01 Jan 2024 00:00:00 GMT"))
    assert r.status_code == 304
    r2 = Response("hello")
    r2.last_modified = datetime(2024, 6, 1, tzinfo=UTC)
    r2.make_conditional(_environ(HTTP_IF_MODIFIED_SINCE="Mon, 01 Jan 2024 00:00:00 GMT"))
    assert r2.status_code == 200


def test_make_conditional_if_match_412_and_post_untouched() -> None:
    r = Response("hello")
    r.set_etag("abc")
    r.make_conditional(_environ(HTTP_IF_MATCH='"zzz"'))
    assert r.status_code == 412
    r2 = Response("hello")
    r2.set_etag("abc")
    r2.make_conditional(_environ("POST", HTTP_IF_NONE_MATCH='"abc"'))
    assert r2.status_code == 200


def test_make_conditional_accepts_request_object() -> None:
    from erlen.http.request import Request

    r = Response("hello")
    r.set_etag("abc")
    r.make_conditional(Request(_environ(HTTP_IF_NONE_MATCH='W/"abc"')))
    assert r.status_code == 304


def test_allow_header_as_set():
    r = Response("x")
    assert len(r.allow) == 0
    r.allow.add("GET")
    r.allow.add("POST")
    assert r.headers["Allow"] == "GET, POST"
    assert "post" in r.allow
    r.allow = ["PUT"]
    assert r.headers["Allow"] == "PUT"
    r.allow = None
    assert "Allow" not in r.headers


def test_cache_control_properties_write_back():
    r = Response("x")
    cc = r.cache_control
    assert cc.max_age is None and cc.public is False and not cc
    cc.max_age = 60
    cc.public = True
    assert r.headers["Cache-Control"] == "max-age=60, public"
    cc.no_cache = True
    assert r.cache_control.no_cache is True
    assert r.headers["Cache-Control"] == "max-age=60, public, no-cache"
    cc = r.cache_control  # each access parses the current header, as with Werkzeug
    cc.public = False
    assert r.headers["Cache-Control"] == "max-age=60, no-cache"
    del cc.max_age
    cc.pop("no-cache")
    assert "Cache-Control" not in r.headers


@pytest.mark.parametrize(
    "value",
    ["max-age=300, public", "no-cache, no-store, must-revalidate", 'private="x", s-maxage=5', ""],
)
def test_parse_cache_control_header_matches_werkzeug(value):
    from werkzeug.datastructures import ResponseCacheControl as WResponseCC
    from werkzeug.http import parse_cache_control_header as wparse

    from erlen.http.datastructures import ResponseCacheControl
    from erlen.http.parsing import parse_cache_control_header

    ours = parse_cache_control_header(value, None, ResponseCacheControl)
    theirs = wparse(value, None, WResponseCC)
    assert dict(ours) == dict(theirs)
    for attr in ("max_age", "s_maxage", "public", "no_store", "must_revalidate", "private"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    assert parse_cache_control_header(value).max_age == wparse(value).max_age


def test_subclass_overriding_get_wsgi_headers_is_used_by_the_wsgi_call() -> None:
    class Tagged(Response):
        def get_wsgi_headers(self, environ: Any = None) -> list[tuple[str, str]]:
            return [*super().get_wsgi_headers(environ), ("X-Tagged", "1")]

    got: list[Any] = []
    body = b"".join(Tagged("hi")({"REQUEST_METHOD": "GET"}, lambda s, h: got.append((s, h))))
    assert body == b"hi"
    status, headers = got[0]
    assert status == "200 OK"
    assert ("X-Tagged", "1") in headers and ("Content-Length", "2") in headers


def test_call_on_close_runs_for_a_buffered_200() -> None:
    calls: list[str] = []
    response = Response("hi")
    response.call_on_close(lambda: calls.append("closed"))
    it = response({"REQUEST_METHOD": "GET"}, lambda s, h: None)
    assert b"".join(it) == b"hi" and calls == []
    it.close()  # type: ignore[attr-defined]
    assert calls == ["closed"]


def test_head_of_a_buffered_200_sends_headers_without_body() -> None:
    got: list[Any] = []
    it = Response("hello")({"REQUEST_METHOD": "HEAD"}, lambda s, h: got.append(h))
    assert b"".join(it) == b""
    assert ("Content-Length", "5") in got[0]


@pytest.mark.parametrize(
    ("code", "headers"),
    [
        (404, [("Content-Type", "text/html; charset=utf-8")]),
        (405, [("Content-Type", "text/html; charset=utf-8"), ("Allow", "GET, HEAD")]),
        (503, [("Content-Type", "text/html; charset=utf-8"), ("Retry-After", "5")]),
        (200, [("Content-Type", "text/plain")]),
        (204, [("Content-Type", "text/html; charset=utf-8")]),
        (304, [("Content-Type", "text/html; charset=utf-8")]),
        (199, [("Content-Type", "text/html; charset=utf-8")]),
        (599, [("Content-Type", "text/html; charset=utf-8")]),
        (None, [("Content-Type", "text/html; charset=utf-8")]),
        (404, [("Content-Type", "text/html"), ("Content-Length", "3")]),
    ],
)
def test_error_responses_are_built_as_the_constructor_builds_them(
    code: Any, headers: list[tuple[str, str]]
) -> None:
    """HTTPException's response factory (erlen.http.response._error_response) takes a short
    way for ordinary statuses: the same status, headers and body as Response(...)."""
    from erlen.http.datastructures import Headers
    from erlen.http.response import _error_response

    def sent(response: Response) -> tuple[Any, ...]:
        got: list[Any] = []
        body = b"".join(response({"REQUEST_METHOD": "GET"}, lambda s, h: got.extend([s, h])))
        return (*got, body)

    for body in ("<p>page</p>", b"<p>bytes</p>"):
        shared = list(headers)
        try:
            want = sent(Response(body, status=code, headers=Headers(list(headers))))
        except (ValueError, TypeError) as exc:
            with pytest.raises(type(exc)):
                _error_response(body, code, shared)
            continue
        assert sent(_error_response(body, code, shared)) == want
        assert shared == headers  # the exception's list is not changed


def test_headers_are_made_on_first_use_and_what_is_sent_follows_them() -> None:
    def sent(response: Response) -> list[tuple[str, str]]:
        got: list[Any] = []
        b"".join(response({"REQUEST_METHOD": "GET"}, lambda s, h: got.extend([s, h])))
        return got[1]  # type: ignore[no-any-return]

    untouched = Response("hello", 200, {"X-A": "1"})
    assert sent(untouched) == [
        ("X-A", "1"),
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", "5"),
    ]
    changed = Response("hello", 200, {"X-A": "1"})
    changed.headers["X-B"] = "2"
    del changed.headers["X-A"]
    assert sent(changed) == [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", "5"),
        ("X-B", "2"),
    ]
    replaced = Response("hello")
    from erlen.http.datastructures import Headers

    replaced.headers = Headers([("Content-Type", "text/csv"), ("Content-Length", "5")])
    assert sent(replaced) == [("Content-Type", "text/csv"), ("Content-Length", "5")]
    assert changed.headers is changed.headers  # one object once made
