"""Tests for erlen.http.request.Request (werkzeug.wrappers.Request as the oracle)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest

from erlen.exceptions import (
    BadRequest,
    ClientDisconnected,
    RequestEntityTooLarge,
    SecurityError,
    UnsupportedMediaType,
)
from erlen.http.request import Request


def _environ(
    path: str = "/",
    method: str = "GET",
    query: str = "",
    body: bytes = b"",
    content_type: str | None = None,
    content_length: Any = "auto",
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A PEP 3333 environ: PATH_INFO is the latin-1 decoding of the raw bytes."""
    env: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if content_type is not None:
        env["CONTENT_TYPE"] = content_type
    if body and content_length == "auto":
        env["CONTENT_LENGTH"] = str(len(body))
    elif content_length not in ("auto", None):
        env["CONTENT_LENGTH"] = content_length
    for k, v in (headers or {}).items():
        env["HTTP_" + k.upper().replace("-", "_")] = v
    env.update(extra)
    return env


def _werkzeug(env: dict[str, Any]) -> Any:
    from werkzeug.wrappers import Request as WRequest

    env = dict(env)
    if isinstance(env.get("wsgi.input"), io.BytesIO):
        env["wsgi.input"] = io.BytesIO(env["wsgi.input"].getvalue())
    return WRequest(env)


class CountingStream:
    def __init__(self, size: int) -> None:
        self.size = size
        self.read_bytes = 0

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = self.size - self.read_bytes
        n = min(n, self.size - self.read_bytes)
        self.read_bytes += n
        return b"x" * n


# -- basics -------------------------------------------------------------------------


def test_init_is_lazy() -> None:
    env = _environ()
    req = Request(env)
    assert req.method == "GET"
    assert "args" not in req.__dict__ and "path" not in req.__dict__
    assert Request(_environ(), shallow=True).environ is not None


def test_the_request_does_not_link_itself_into_its_environ() -> None:
    """Werkzeug's populate_request is accepted and ignored: a request in its own environ
    would be a reference cycle (decision 008)."""
    env = _environ()
    before = set(env)
    Request(env, populate_request=True)
    assert set(env) == before


def test_method_uppercased_and_defaults() -> None:
    assert Request({"REQUEST_METHOD": "post"}).method == "POST"
    req = Request({})
    assert req.method == "GET"
    assert req.path == "/"
    assert req.url_rule is None and req.view_args is None and req.routing_exception is None


@pytest.mark.parametrize(
    "path,query",
    [
        ("/", ""),
        ("/hello/world", "a=1&b=2"),
        ("/caf\u00e9/\u20ac", "q=%E2%82%AC&x=a+b"),
        ("/with space/and%percent", "k=v w"),
        ("//double", ""),
        ("/semi;colon:@!$", "a=/?b"),
    ],
)
def test_url_parts_match_werkzeug(path: str, query: str) -> None:
    env = _environ(path, query=query, headers={"Host": "example.com:8080"})
    env["SCRIPT_NAME"] = "/app"
    ours, theirs = Request(env), _werkzeug(env)
    for attr in (
        "path",
        "full_path",
        "query_string",
        "url",
        "base_url",
        "url_root",
        "host_url",
        "host",
        "root_path",
        "script_root",
        "root_url",
        "scheme",
        "is_secure",
    ):
        assert getattr(ours, attr) == getattr(theirs, attr), attr


def test_path_invalid_utf8_is_400() -> None:
    env = _environ()
    env["PATH_INFO"] = b"/bad\xff".decode("latin-1")
    req = Request(env)
    with pytest.raises(BadRequest, match="Invalid UTF-8 in the request path"):
        req.path  # noqa: B018


def test_full_path_always_has_question_mark() -> None:
    assert Request(_environ("/x")).full_path == "/x?"
    assert Request(_environ("/x", query="a=1")).full_path == "/x?a=1"


@pytest.mark.parametrize(
    "env_extra,expected",
    [
        ({"HTTP_HOST": "example.com"}, "example.com"),
        ({"HTTP_HOST": "example.com:80"}, "example.com"),
        ({"HTTP_HOST": "example.com:443", "wsgi.url_scheme": "https"}, "example.com"),
        ({"HTTP_HOST": "example.com:8443", "wsgi.url_scheme": "https"}, "example.com:8443"),
        ({"SERVER_NAME": "srv", "SERVER_PORT": "8000"}, "srv:8000"),
        ({"SERVER_NAME": "srv", "SERVER_PORT": "80"}, "srv"),
        ({"HTTP_HOST": "bad host/x"}, ""),
        ({"HTTP_HOST": "[::1]:5000"}, "[::1]:5000"),
    ],
)
def test_host(env_extra: dict[str, str], expected: str) -> None:
    env = _environ(**env_extra)
    assert Request(env).host == expected
    assert _werkzeug(env).host == expected


def test_trusted_hosts() -> None:
    class R(Request):
        trusted_hosts = [".example.com", "localhost"]

    assert R(_environ(headers={"Host": "api.example.com"})).host == "api.example.com"
    assert R(_environ(headers={"Host": "localhost:5000"})).host == "localhost:5000"
    with pytest.raises(SecurityError) as ei:
        R(_environ(headers={"Host": "evil.com"})).host  # noqa: B018
    assert ei.value.code == 400


def test_args_cookies_values() -> None:
    env = _environ(
        method="POST",
        query="a=1&a=2&b=%20x",
        body=b"b=form&c=3",
        content_type="application/x-www-form-urlencoded",
        headers={"Cookie": 'sid=abc; theme="dark"'},
    )
    req = Request(env)
    assert req.args.getlist("a") == ["1", "2"]
    assert req.args["b"] == " x"
    assert req.cookies["sid"] == "abc"
    assert req.cookies["theme"] == "dark"
    assert req.values.getlist("b") == [" x", "form"]
    assert req.values["c"] == "3"
    with pytest.raises(TypeError):
        req.args["new"] = "x"  # immutable


def test_values_for_get_excludes_form() -> None:
    env = _environ(query="a=1", body=b"b=2", content_type="application/x-www-form-urlencoded")
    req = Request(env)
    assert "a" in req.values
    assert "b" not in req.values
    assert req.form["b"] == "2"


def test_missing_arg_is_bad_request_key_error() -> None:
    with pytest.raises(KeyError) as ei:
        Request(_environ()).args["nope"]
    assert isinstance(ei.value, BadRequest)


def test_headers_and_simple_properties() -> None:
    env = _environ(
        headers={
            "User-Agent": "Mozilla/5.0 test",
            "Referer": "http://ref/",
            "Origin": "http://origin",
            "X-Forwarded-For": "1.1.1.1, 2.2.2.2",
            "Content-Encoding": "gzip",
            "Accept": "text/html;q=0.9,application/json",
            "Accept-Language": "de,en;q=0.5",
            "Accept-Encoding": "gzip, br;q=0.1",
            "Accept-Charset": "utf-8",
            "Authorization": "Basic dXNlcjpwYXNz",
            "If-None-Match": '"abc", W/"def"',
            "If-Match": '"xyz"',
            "If-Modified-Since": "Sun, 06 Nov 1994 08:49:37 GMT",
            "If-Unmodified-Since": "Sun, 06 Nov 1994 08:49:37 GMT",
            "Date": "Sun, 06 Nov 1994 08:49:37 GMT",
        }
    )
    req = Request(env)
    assert req.headers["user-agent"] == "Mozilla/5.0 test"
    assert req.user_agent.string == "Mozilla/5.0 test"
    assert req.referrer == "http://ref/"
    assert req.origin == "http://origin"
    assert req.remote_addr == "127.0.0.1"
    assert req.access_route == ["1.1.1.1", "2.2.2.2"]
    assert req.content_encoding == "gzip"
    assert req.accept_mimetypes.best == "application/json"
    assert req.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"
    assert req.accept_languages.best == "de"
    assert "gzip" in req.accept_encodings
    assert "utf-8" in req.accept_charsets
    assert req.authorization is not None
    assert req.authorization.username == "user"
    assert req.authorization.password == "pass"
    assert "abc" in req.if_none_match and req.if_none_match.contains_weak("def")
    assert "xyz" in req.if_match
    dt = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
    assert req.if_modified_since == dt
    assert req.if_unmodified_since == dt
    assert req.date == dt
    assert Request(_environ()).authorization is None
    assert Request(_environ()).access_route == ["127.0.0.1"]


def test_content_type_properties() -> None:
    req = Request(_environ(content_type="Text/HTML; charset=ISO-8859-1"))
    assert req.content_type == "Text/HTML; charset=ISO-8859-1"
    assert req.mimetype == "text/html"
    assert req.mimetype_params == {"charset": "ISO-8859-1"}
    assert Request(_environ()).mimetype == ""


def test_repr() -> None:
    assert repr(Request(_environ("/x", query="a=1"))) == "<Request 'http://localhost/x?a=1' [GET]>"


# -- body -------------------------------------------------------------------------------


def test_get_data_and_caching() -> None:
    req = Request(_environ(method="POST", body=b"raw body", content_type="text/plain"))
    assert req.get_data() == b"raw body"
    assert req.get_data(as_text=True) == "raw body"
    assert req.data == b"raw body"


def test_get_data_without_cache_reads_once() -> None:
    req = Request(_environ(method="POST", body=b"abc"))
    assert req.get_data(cache=False) == b"abc"
    assert req.get_data(cache=False) == b""


def test_stream_limited_to_content_length() -> None:
    env = _environ(method="POST", body=b"0123456789", content_length="4")
    assert Request(env).stream.read() == b"0123"


@pytest.mark.parametrize("value", ["-1", "abc", "1e3", "1.5", "+5"])
def test_bad_content_length_is_400(value: str) -> None:
    req = Request(_environ(method="POST", body=b"x", content_length=value))
    with pytest.raises(BadRequest) as ei:
        req.get_data()
    assert ei.value.code == 400


def test_content_length_larger_than_body_is_client_disconnected() -> None:
    req = Request(_environ(method="POST", body=b"short", content_length="100"))
    with pytest.raises(ClientDisconnected) as ei:
        req.get_data()
    assert ei.value.code == 400


@pytest.mark.parametrize(
    "attr,ctype",
    [
        ("stream", "application/octet-stream"),
        ("data", "application/octet-stream"),
        ("form", "application/x-www-form-urlencoded"),
        ("files", "multipart/form-data; boundary=abc"),
        ("json", "application/json"),
    ],
)
def test_max_content_length_413_before_reading(attr: str, ctype: str) -> None:
    src = CountingStream(1_000_000)
    env = _environ(
        method="POST", content_type=ctype, content_length="1000000", **{"wsgi.input": src}
    )
    req = Request(env)
    req.max_content_length = 1000
    with pytest.raises(RequestEntityTooLarge) as ei:
        getattr(req, attr)
    assert ei.value.code == 413
    assert src.read_bytes == 0


def test_chunked_body_crossing_limit_is_413_early() -> None:
    src = CountingStream(50_000_000)
    env = _environ(
        method="POST",
        content_length=None,
        headers={"Transfer-Encoding": "chunked"},
        **{"wsgi.input": src, "wsgi.input_terminated": True},
    )
    req = Request(env)
    req.max_content_length = 100_000
    with pytest.raises(RequestEntityTooLarge):
        req.get_data()
    assert src.read_bytes <= 100_001
    assert src.read_bytes >= 100_000


def test_chunked_body_under_limit() -> None:
    env = _environ(
        method="POST",
        body=b"chunky",
        content_length="999",  # ignored: chunked wins
        headers={"Transfer-Encoding": "chunked"},
        **{"wsgi.input_terminated": True},
    )
    req = Request(env)
    assert req.content_length is None
    assert req.get_data() == b"chunky"


def test_no_length_not_terminated_is_empty() -> None:
    env = _environ(method="POST", body=b"ignored", content_length=None)
    assert Request(env).get_data() == b""


def test_shallow_request_refuses_body() -> None:
    req = Request(_environ(method="POST", body=b"x"), shallow=True)
    with pytest.raises(RuntimeError):
        req.stream  # noqa: B018


def test_input_stream_is_raw() -> None:
    env = _environ(method="POST", body=b"abc")
    assert Request(env).input_stream is env["wsgi.input"]


# -- JSON ---------------------------------------------------------------------------------


def _json_req(body: bytes, ct: str | None = "application/json") -> Request:
    return Request(_environ(method="POST", body=body, content_type=ct))


def test_json_ok_and_cached() -> None:
    req = _json_req(b'{"a": [1, 2], "b": "\\u20ac"}')
    assert req.is_json
    assert req.json == {"a": [1, 2], "b": "\u20ac"}
    assert req.get_json() is req.get_json()


def test_json_plus_json_mimetype() -> None:
    req = _json_req(b"[1]", "application/vnd.api+json; charset=utf-8")
    assert req.is_json
    assert req.get_json() == [1]


def test_json_invalid_is_400() -> None:
    req = _json_req(b"{not json")
    with pytest.raises(BadRequest) as ei:
        req.get_json()
    assert ei.value.code == 400
    assert "Failed to decode JSON object" in str(ei.value.description)
    assert _json_req(b"{not json").get_json(silent=True) is None


def test_json_invalid_utf8_is_400() -> None:
    with pytest.raises(BadRequest):
        _json_req(b'"\xff\xfe\xfa"').get_json()


def test_json_wrong_content_type_is_415() -> None:
    req = _json_req(b'{"a": 1}', "text/plain")
    assert not req.is_json
    with pytest.raises(UnsupportedMediaType) as ei:
        req.get_json()
    assert ei.value.code == 415
    with pytest.raises(UnsupportedMediaType):
        req.json  # noqa: B018
    assert req.get_json(silent=True) is None
    assert req.get_json(force=True) == {"a": 1}


def test_json_no_content_type_is_415() -> None:
    with pytest.raises(UnsupportedMediaType):
        _json_req(b"{}", None).get_json()


def test_json_silent_then_loud_caching() -> None:
    req = _json_req(b"{bad")
    assert req.get_json(silent=True) is None
    with pytest.raises(BadRequest):
        req.get_json()


def test_json_module_override() -> None:
    class Loader:
        @staticmethod
        def loads(data: bytes) -> str:
            return "custom:" + data.decode()

    class R(Request):
        json_module = Loader

    req = R(_environ(method="POST", body=b"1", content_type="application/json"))
    assert req.get_json() == "custom:1"


def test_on_json_loading_failed_can_return_value() -> None:
    class R(Request):
        def on_json_loading_failed(self, e: ValueError | None) -> Any:
            return {"fallback": True}

    req = R(_environ(method="POST", body=b"{bad", content_type="application/json"))
    assert req.get_json() == {"fallback": True}


def test_json_matches_werkzeug() -> None:
    env = _environ(method="POST", body=b'{"x": 1.5, "y": null}', content_type="application/json")
    assert Request(env).get_json() == _werkzeug(env).get_json()


# -- defaults ---------------------------------------------------------------------------------


def test_limit_defaults_match_werkzeug() -> None:
    from werkzeug.wrappers import Request as WRequest

    w = WRequest({})
    r = Request({})
    assert r.max_content_length == w.max_content_length is None
    assert r.max_form_memory_size == w.max_form_memory_size == 500_000
    assert r.max_form_parts == w.max_form_parts == 1000
