"""Tests for erlen.testing: EnvironBuilder, Client/ErlenClient, cookies, redirects."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

import pytest
from werkzeug.test import EnvironBuilder as WEnvironBuilder
from werkzeug.wrappers import Request as WRequest

from erlen.http.multidict import MultiDict
from erlen.testing import (
    Client,
    ClientRedirectError,
    EnvironBuilder,
    ErlenClient,
    TestResponse,
)

# -- helper WSGI apps --------------------------------------------------------------------


def echo_app(environ, start_response):
    """Answer with the str environ values and the body, as JSON."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    out = {k: v for k, v in environ.items() if isinstance(v, str)}
    out["body"] = body.decode("latin-1")
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(out).encode()]


def _query(environ):
    return dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))


def cookie_app(environ, start_response):
    """/set?h=<Set-Cookie value> sets a cookie; everything answers with HTTP_COOKIE."""
    headers = [("Content-Type", "text/plain")]
    q = environ.get("QUERY_STRING", "")
    for key, value in parse_qsl(q, keep_blank_values=True):
        if key == "h":
            headers.append(("Set-Cookie", value))
    start_response("200 OK", headers)
    return [environ.get("HTTP_COOKIE", "").encode()]


def redirect_app(environ, start_response):
    """/r/<code>/<target...> redirects; /loop redirects to itself; others echo."""
    path = environ["PATH_INFO"]
    if path.startswith("/r/"):
        _, _, code, target = path.split("/", 3)
        qs = environ.get("QUERY_STRING")
        start_response(f"{code} REDIRECT", [("Location", "/" + target + (f"?{qs}" if qs else ""))])
        return [b""]
    if path == "/loop":
        start_response("302 Found", [("Location", "/loop")])
        return [b""]
    if path.startswith("/count/"):
        n = int(path.rsplit("/", 1)[1])
        start_response("302 Found", [("Location", f"/count/{n + 1}")])
        return [b""]
    if path == "/external":
        start_response("302 Found", [("Location", "http://other.test/x")])
        return [b""]
    if path == "/sub":
        start_response("302 Found", [("Location", "http://api.localhost/x")])
        return [b""]
    if path == "/relative/a":
        start_response("302 Found", [("Location", "b?z=1")])
        return [b""]
    return echo_app(environ, start_response)


def _json(resp):
    return json.loads(resp.get_data())


# -- EnvironBuilder against Werkzeug's ----------------------------------------------------

_COMPARED = (
    "REQUEST_METHOD",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "SERVER_NAME",
    "SERVER_PORT",
    "HTTP_HOST",
    "SERVER_PROTOCOL",
    "CONTENT_TYPE",
    "CONTENT_LENGTH",
    "wsgi.url_scheme",
    "wsgi.version",
    "wsgi.multithread",
    "wsgi.multiprocess",
    "wsgi.run_once",
)

ORACLE_CASES = [
    {"path": "/"},
    {"path": "/a b/ä/€"},
    {"path": "/x%2Fy/%C3%A9"},
    {"path": "/x?a=1&b=2&a=3"},
    {"path": "/q", "query_string": {"a": ["1", "2"], "b": "ä ö&="}},
    {"path": "/q", "query_string": "raw=1&x"},
    {"path": "/f", "method": "POST", "data": {"name": "Ann Lee", "tags": ["a", "b&c"]}},
    {"path": "/raw", "method": "PUT", "data": b"\x00\x01bytes", "content_type": "app/x"},
    {"path": "/txt", "method": "POST", "data": "héllo", "content_type": "text/plain"},
    {"path": "/j", "method": "POST", "json": {"a": [1, 2], "b": None}},
    {"path": "/h", "headers": [("X-A", "1"), ("X-A", "2"), ("X-Other", "y")]},
    {"path": "/h", "headers": {"Accept": "text/html", "X-Foo": "bar"}},
    {"path": "/b", "base_url": "https://example.com:8443/root/"},
    {"path": "/b", "base_url": "http://example.com/app"},
    {"path": "/a", "auth": ("user", "pässword")},
    {"path": "/m", "method": "delete", "multithread": True, "run_once": True},
    {"path": "/e", "environ_base": {"REMOTE_ADDR": "10.0.0.1"}},
    {"path": "/o", "environ_overrides": {"SERVER_PROTOCOL": "HTTP/1.0"}},
]


@pytest.mark.parametrize("kwargs", ORACLE_CASES)
def test_environ_matches_werkzeug(kwargs):
    ours = EnvironBuilder(**kwargs).get_environ()
    theirs = WEnvironBuilder(**kwargs).get_environ()
    for key in _COMPARED:
        assert ours.get(key) == theirs.get(key), key
    assert {k for k in ours if k.startswith("HTTP_")} == {
        k for k in theirs if k.startswith("HTTP_")
    }
    for key in theirs:
        if key.startswith("HTTP_"):
            assert ours[key] == theirs[key], key
    assert ours["wsgi.input"].read() == theirs["wsgi.input"].read()
    for key in ("REMOTE_ADDR",):
        if key in theirs:
            assert ours[key] == theirs[key]


def test_environ_basics():
    env = EnvironBuilder(path="/über/straße", query_string={"q": "ä"}).get_environ()
    assert env["PATH_INFO"] == "/über/straße".encode().decode("latin-1")
    assert env["QUERY_STRING"] == "q=%C3%A4"
    assert env["REQUEST_METHOD"] == "GET"
    assert env["SERVER_NAME"] == "localhost" and env["SERVER_PORT"] == "80"
    assert env["HTTP_HOST"] == "localhost"
    assert env["REMOTE_ADDR"] == "127.0.0.1"
    assert env["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert env["wsgi.version"] == (1, 0)
    assert "CONTENT_LENGTH" not in env and "CONTENT_TYPE" not in env
    assert env["wsgi.input"].read() == b""


def test_path_query_ignored_when_query_string_given():
    env = EnvironBuilder(path="/p?a=1", query_string="b=2").get_environ()
    assert env["PATH_INFO"] == "/p" and env["QUERY_STRING"] == "b=2"


def test_base_url_rejects_query():
    with pytest.raises(ValueError):
        EnvironBuilder(base_url="http://x/?a=1")


def test_json_and_data_conflict():
    with pytest.raises(TypeError):
        EnvironBuilder(json={"a": 1}, data="x")


def test_auth_header():
    env = EnvironBuilder(auth=("al", "pw")).get_environ()
    assert env["HTTP_AUTHORIZATION"] == "Basic YWw6cHc="


def test_builder_properties():
    b = EnvironBuilder(path="/x", base_url="https://h.test:444/r")
    assert (b.server_name, b.server_port, b.script_root, b.url_scheme) == (
        "h.test",
        444,
        "/r",
        "https",
    )
    assert b.base_url == "https://h.test:444/r/"
    b.args["a"] = "1"
    assert b.query_string == "a=1"
    b.form["f"] = "v"
    assert b.content_type == "application/x-www-form-urlencoded"
    b.files.add_file("up", io.BytesIO(b"x"), "x.txt")
    assert b.mimetype == "multipart/form-data"
    env = b.get_environ()
    assert env["SCRIPT_NAME"] == "/r" and env["PATH_INFO"] == "/x"
    b.close()
    assert b.closed


# -- multipart ------------------------------------------------------------------------


def _werkzeug_parse(env):
    req = WRequest(env)
    return req.form, req.files


def test_multipart_one_file_and_fields():
    b = EnvironBuilder(
        path="/u",
        method="POST",
        data={"title": "héllo", "file": (io.BytesIO(b"content\r\n--x"), "ä b.txt")},
    )
    env = b.get_environ()
    assert env["CONTENT_TYPE"].startswith("multipart/form-data; boundary=")
    assert int(env["CONTENT_LENGTH"]) == len(env["wsgi.input"].getvalue())
    form, files = _werkzeug_parse(env)
    assert form["title"] == "héllo"
    f = files["file"]
    assert f.filename == "ä b.txt"
    assert f.mimetype == "text/plain"
    assert f.read() == b"content\r\n--x"


def test_multipart_several_files_one_field_and_content_type():
    data = MultiDict()
    data.add("docs", (io.BytesIO(b"one"), "a.png"))
    data.add("docs", (io.BytesIO(b"two"), "b.bin", "application/x-custom"))
    data.add("n", 1)
    env = EnvironBuilder(method="POST", data=data).get_environ()
    form, files = _werkzeug_parse(env)
    docs = files.getlist("docs")
    assert [d.filename for d in docs] == ["a.png", "b.bin"]
    assert [d.mimetype for d in docs] == ["image/png", "application/x-custom"]
    assert [d.read() for d in docs] == [b"one", b"two"]
    assert form["n"] == "1"


def test_multipart_file_list_under_one_key_and_filestorage():
    from erlen.http.filestorage import FileStorage

    data = {
        "f": [(io.BytesIO(b"1"), "1.txt"), (io.BytesIO(b"2"), "2.txt")],
        "g": FileStorage(io.BytesIO(b"gg"), filename="g.json", content_type="application/json"),
        "plain": io.BytesIO(b"no name"),
    }
    env = EnvironBuilder(method="POST", data=data).get_environ()
    form, files = _werkzeug_parse(env)
    assert [x.read() for x in files.getlist("f")] == [b"1", b"2"]
    assert files["g"].filename == "g.json" and files["g"].mimetype == "application/json"
    # a file object without a name is sent as a field (as Werkzeug does)
    assert form["plain"] == "no name"


def test_multipart_parsed_by_erlen_request():
    from erlen.http.request import Request

    env = EnvironBuilder(
        method="POST", data={"a": "1", "up": (io.BytesIO(b"xyz"), "x.txt")}
    ).get_environ()
    req = Request(env)
    assert req.form["a"] == "1"
    assert req.files["up"].read() == b"xyz"


# -- client: requests -----------------------------------------------------------------


@pytest.fixture
def client():
    return Client(echo_app)


def test_get_returns_test_response(client):
    resp = client.get("/hello?x=1")
    assert isinstance(resp, TestResponse)
    assert resp.status_code == 200 and resp.status == "200 OK"
    assert resp.mimetype == "application/json"
    env = resp.json
    assert env["PATH_INFO"] == "/hello" and env["QUERY_STRING"] == "x=1"
    assert env["REMOTE_ADDR"] == "127.0.0.1"
    assert env["HTTP_USER_AGENT"].startswith("Erlen/")
    assert resp.text == resp.get_data(as_text=True)
    assert resp.request.path == "/hello"
    assert resp.request.args["x"] == "1"
    assert resp.history == ()


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "options", "trace"])
def test_verbs(client, method):
    resp = getattr(client, method)("/v")
    assert resp.json["REQUEST_METHOD"] == method.upper()


def test_form_post(client):
    resp = client.post("/f", data={"a": "1 2", "b": ["x", "y"]})
    env = resp.json
    assert env["CONTENT_TYPE"] == "application/x-www-form-urlencoded"
    assert parse_qsl(env["body"]) == [("a", "1 2"), ("b", "x"), ("b", "y")]


def test_form_multidict(client):
    md = MultiDict([("k", "1"), ("k", "2")])
    resp = client.post("/f", data=md)
    assert resp.json["body"] == "k=1&k=2"


def test_json_post(client):
    resp = client.post("/j", json={"a": [1, "é"]})
    env = resp.json
    assert env["CONTENT_TYPE"] == "application/json"
    assert json.loads(env["body"].encode("latin-1")) == {"a": [1, "é"]}


def test_raw_data_with_content_type(client):
    resp = client.put("/r", data=b"<xml/>", content_type="application/xml")
    env = resp.json
    assert env["CONTENT_TYPE"] == "application/xml"
    assert env["CONTENT_LENGTH"] == "6" and env["body"] == "<xml/>"


def test_query_string_dict(client):
    resp = client.get("/q", query_string={"a": "b c", "n": [1, 2]})
    assert resp.json["QUERY_STRING"] == "a=b+c&n=1&n=2"


def test_headers_dict_list_and_multi(client):
    resp = client.get("/h", headers={"X-One": "1", "X-Many": ["a", "b"]})
    env = resp.json
    assert env["HTTP_X_ONE"] == "1" and env["HTTP_X_MANY"] == "a, b"
    resp = client.get("/h", headers=[("X-L", "1"), ("X-L", "2")])
    assert resp.json["HTTP_X_L"] == "1, 2"
    resp = client.get("/h", headers={"User-Agent": "mine"})
    assert resp.json["HTTP_USER_AGENT"] == "mine"


def test_open_with_builder_and_environ(client):
    b = EnvironBuilder(path="/built", method="PATCH")
    assert client.open(b).json["PATH_INFO"] == "/built"
    env = EnvironBuilder(path="/env").get_environ()
    resp = client.open(env)
    assert resp.json["PATH_INFO"] == "/env"


def test_head(client):
    resp = client.head("/x")
    assert resp.status_code == 200
    assert resp.request.method == "HEAD"


def test_non_ascii_path_reaches_app_as_latin1(client):
    resp = client.get("/ä")
    assert resp.json["PATH_INFO"] == "/Ã¤"
    assert resp.request.path == "/ä"


def test_streaming_body_consumed_and_closed():
    closed = []

    class Body:
        def __iter__(self):
            yield b"a"
            yield b"b"
            yield b"c"

        def close(self):
            closed.append(True)

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return Body()

    c = Client(app)
    resp = c.get("/", buffered=True)
    assert closed == [True] and resp.data == b"abc"
    assert resp.json is None  # not a JSON mimetype
    closed.clear()
    resp = c.get("/")
    assert closed == []
    assert resp.data == b"abc"
    resp.close()
    assert closed == [True]


def test_lazy_start_response_generator():
    def app(environ, start_response):
        start_response("201 Created", [("X-Gen", "1")])
        yield b"first"
        yield b"second"

    resp = Client(app).get("/")
    assert resp.status_code == 201 and resp.headers["X-Gen"] == "1"
    assert resp.data == b"firstsecond"


def test_write_callable():
    def app(environ, start_response):
        write = start_response("200 OK", [])
        write(b"written-")
        return [b"returned"]

    assert Client(app).get("/", buffered=True).data == b"written-returned"


def test_exc_info_reraised():
    def app(environ, start_response):
        try:
            raise KeyError("boom")
        except KeyError:
            import sys

            start_response("500 X", [], sys.exc_info())
        return [b""]

    with pytest.raises(KeyError):
        Client(app).get("/")


def test_response_wrapper_combined():
    from erlen.wrappers import Response

    class MyResponse(Response):
        def hello(self):
            return "hi"

    c = Client(echo_app, MyResponse)
    resp = c.get("/")
    assert isinstance(resp, TestResponse) and isinstance(resp, MyResponse)
    assert resp.hello() == "hi"
    assert type(Client(echo_app, MyResponse).get("/")) is type(resp)


# -- cookies --------------------------------------------------------------------------


def test_cookie_round_trip():
    c = Client(cookie_app)
    resp = c.get("/set", query_string={"h": "sid=abc; Path=/; HttpOnly"})
    assert resp.headers["Set-Cookie"].startswith("sid=abc")
    assert c.get("/other").data == b"sid=abc"
    cookie = c.get_cookie("sid")
    assert cookie is not None
    assert (cookie.key, cookie.value, cookie.domain, cookie.path) == (
        "sid",
        "abc",
        "localhost",
        "/",
    )
    assert cookie.http_only is True and cookie.secure is False


def test_cookie_overwrite_and_delete_by_max_age():
    c = Client(cookie_app)
    c.get("/set", query_string={"h": "a=1"})
    c.get("/set", query_string={"h": "a=2"})
    assert c.get("/").data == b"a=2"
    c.get("/set", query_string={"h": "a=; Max-Age=0"})
    assert c.get("/").data == b""
    assert c.get_cookie("a") is None


def test_cookie_delete_by_past_expires():
    c = Client(cookie_app)
    c.get("/set", query_string={"h": "a=1"})
    c.get("/set", query_string={"h": "a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT"})
    assert c.get("/").data == b""


def test_cookie_expires_in_future_kept_and_expires_later(monkeypatch):
    import erlen.testing.cookies as cookies_mod

    future = (datetime.now(UTC) + timedelta(hours=1)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    c = Client(cookie_app)
    c.get("/set", query_string={"h": f"a=1; Expires={future}"})
    c.get("/set", query_string={"h": "b=2; Max-Age=60"})
    assert c.get("/").data == b"a=1; b=2"
    assert c.get_cookie("b").max_age == 60
    now = cookies_mod.time.time()
    monkeypatch.setattr(cookies_mod.time, "time", lambda: now + 120)
    assert c.get("/").data == b"a=1"
    monkeypatch.setattr(cookies_mod.time, "time", lambda: now + 7200)
    assert c.get("/").data == b""


def test_cookie_path_scoping():
    c = Client(cookie_app)
    c.get("/set", query_string={"h": "p=1; Path=/admin"})
    assert c.get("/admin").data == b"p=1"
    assert c.get("/admin/users").data == b"p=1"
    assert c.get("/administrator").data == b""
    assert c.get("/").data == b""
    # default path: the directory of the request path
    c.get("/shop/set", query_string={"h": "d=1"})
    assert c.get_cookie("d", path="/shop") is not None
    assert c.get("/shop/cart").data == b"d=1"
    assert c.get("/shopping").data == b""
    assert c.get("/other").data == b""


def test_cookie_domain_scoping():
    c = Client(cookie_app)
    c.get("/set", base_url="http://example.com/", query_string={"h": "host=1"})
    c.get("/set", base_url="http://example.com/", query_string={"h": "dom=1; Domain=.example.com"})
    assert c.get("/", base_url="http://example.com/").data == b"host=1; dom=1"
    assert c.get("/", base_url="http://www.example.com/").data == b"dom=1"
    assert c.get("/", base_url="http://badexample.com/").data == b""
    assert c.get("/").data == b""
    assert c.get_cookie("dom", domain="example.com").origin_only is False


def test_secure_cookie_sent_over_http_as_werkzeug_does():
    # Flask apps' tests with SESSION_COOKIE_SECURE=True run on http://localhost.
    c = Client(cookie_app)
    c.get("/set", base_url="https://localhost/", query_string={"h": "s=1; Secure"})
    assert c.get_cookie("s").secure is True
    assert c.get("/").data == b"s=1"
    assert c.get("/", base_url="https://localhost/").data == b"s=1"


def test_quoted_cookie_value_decoded():
    c = Client(cookie_app)
    c.get("/set", query_string={"h": 'q="a b\\"c"'})
    cookie = c.get_cookie("q")
    assert cookie.value == '"a b\\"c"' and cookie.decoded_value == 'a b"c'
    assert c.get("/").data == b'q="a b\\"c"'


def test_user_cookie_header_is_kept_alongside_jar():
    c = Client(cookie_app)
    c.get("/set", query_string={"h": "jar=1"})
    assert c.get("/", headers={"Cookie": "mine=2"}).data == b"mine=2; jar=1"


def test_client_set_get_delete_cookie():
    c = Client(cookie_app)
    c.set_cookie("k", "v")
    assert c.get("/").data == b"k=v"
    c.set_cookie("k2", "v2", path="/sub")
    assert c.get("/sub/x").data == b"k=v; k2=v2"
    c.delete_cookie("k")
    assert c.get("/").data == b""
    c.set_cookie("gone", "x", max_age=0)
    assert c.get_cookie("gone") is None


def test_cookies_disabled():
    c = Client(cookie_app, use_cookies=False)
    c.get("/set", query_string={"h": "a=1"})
    assert c.get("/").data == b""
    with pytest.raises(TypeError):
        c.get_cookie("a")


# -- redirects ------------------------------------------------------------------------


def test_redirect_not_followed_by_default():
    resp = Client(redirect_app).get("/r/302/end")
    assert resp.status_code == 302 and resp.location == "/end"


def test_redirect_chain_history():
    c = Client(redirect_app)
    resp = c.get("/r/301/r/302/end?x=1", follow_redirects=True)
    assert resp.status_code == 200
    assert resp.request.path == "/end" and resp.json["QUERY_STRING"] == "x=1"
    assert [r.status_code for r in resp.history] == [301, 302]
    assert resp.history[0].request.path == "/r/301/r/302/end"
    assert resp.history[1].history == (resp.history[0],)


@pytest.mark.parametrize("code", [301, 302, 303])
def test_redirect_post_becomes_get_without_body(code):
    resp = Client(redirect_app).post(f"/r/{code}/end", data={"a": "1"}, follow_redirects=True)
    env = resp.json
    assert env["REQUEST_METHOD"] == "GET"
    assert env["body"] == "" and "CONTENT_TYPE" not in env and "CONTENT_LENGTH" not in env


@pytest.mark.parametrize("code", [307, 308])
def test_redirect_307_308_keep_method_and_body(code):
    resp = Client(redirect_app).post(
        f"/r/{code}/end", data={"a": "1"}, headers={"X-Keep": "y"}, follow_redirects=True
    )
    env = resp.json
    assert env["REQUEST_METHOD"] == "POST"
    assert env["body"] == "a=1" and env["CONTENT_TYPE"] == "application/x-www-form-urlencoded"
    assert env["HTTP_X_KEEP"] == "y"


def test_redirect_head_stays_head():
    resp = Client(redirect_app).head("/r/302/end", follow_redirects=True)
    assert resp.request.method == "HEAD"


def test_redirect_loop_detected():
    with pytest.raises(ClientRedirectError, match="Loop detected"):
        Client(redirect_app).get("/loop", follow_redirects=True)


def test_redirect_max_hops():
    with pytest.raises(ClientRedirectError, match="Too many redirects"):
        Client(redirect_app).get("/count/0", follow_redirects=True)


def test_redirect_external_refused():
    with pytest.raises(RuntimeError, match="external"):
        Client(redirect_app).get("/external", follow_redirects=True)


def test_redirect_subdomain():
    with pytest.raises(RuntimeError, match="subdomain"):
        Client(redirect_app).get("/sub", follow_redirects=True)
    resp = Client(redirect_app, allow_subdomain_redirects=True).get("/sub", follow_redirects=True)
    assert resp.json["HTTP_HOST"] == "api.localhost" and resp.json["PATH_INFO"] == "/x"


def test_redirect_relative_location():
    resp = Client(redirect_app).get("/relative/a", follow_redirects=True)
    assert resp.json["PATH_INFO"] == "/relative/b" and resp.json["QUERY_STRING"] == "z=1"


def test_redirect_carries_cookies():
    def app(environ, start_response):
        if environ["PATH_INFO"] == "/login":
            start_response("302 Found", [("Location", "/home"), ("Set-Cookie", "u=1; Path=/")])
            return [b""]
        start_response("200 OK", [])
        return [environ.get("HTTP_COOKIE", "").encode()]

    resp = Client(app).post("/login", follow_redirects=True)
    assert resp.data == b"u=1"


# -- with an erlen app ----------------------------------------------------------------

erlen = pytest.importorskip("erlen")


@pytest.fixture
def app():
    from erlen import Erlen, jsonify, redirect, request, session

    app = Erlen(__name__)
    app.config.update(SECRET_KEY="test-secret", TESTING=True)

    @app.route("/")
    def index():
        return "index"

    @app.route("/echo", methods=["GET", "POST", "PUT"])
    def echo():
        return jsonify(
            method=request.method,
            args=request.args.to_dict(flat=False),
            form=request.form.to_dict(flat=False),
            files={k: [f.filename, f.read().decode()] for k, f in request.files.items()},
            json=request.get_json(silent=True),
            host=request.host,
            agent=request.headers.get("User-Agent"),
        )

    @app.route("/login", methods=["POST"])
    def login():
        session["user"] = request.form["name"]
        return redirect("/me")

    @app.route("/me")
    def me():
        return session.get("user", "anonymous")

    @app.route("/logout")
    def logout():
        session.clear()
        return "bye"

    return app


def test_app_client_basics(app):
    client = app.test_client()
    assert isinstance(client, ErlenClient)
    resp = client.get("/")
    assert resp.status_code == 200 and resp.data == b"index"
    assert resp.mimetype == "text/html"
    assert client.get("/nope").status_code == 404


def test_app_client_forms_files_json(app):
    client = app.test_client()
    resp = client.post(
        "/echo?q=1",
        data={"a": ["1", "2"], "up": [(io.BytesIO(b"A"), "a.txt"), (io.BytesIO(b"B"), "b.txt")]},
    )
    body = resp.json
    assert body["method"] == "POST" and body["args"] == {"q": ["1"]}
    assert body["form"] == {"a": ["1", "2"]}
    assert body["files"]["up"] == ["a.txt", "A"]
    assert client.put("/echo", json={"x": [1, 2]}).json["json"] == {"x": [1, 2]}
    assert body["agent"].startswith("Erlen/")


def test_app_server_name_and_subdomain(app):
    app.config["SERVER_NAME"] = "example.test"
    client = app.test_client()
    assert client.get("/echo").json["host"] == "example.test"
    env = EnvironBuilder(app, "/x", subdomain="api", url_scheme="https").get_environ()
    assert env["HTTP_HOST"] == "api.example.test" and env["wsgi.url_scheme"] == "https"
    with pytest.raises(ValueError):
        EnvironBuilder(app, "/x", base_url="http://a/", subdomain="api")


def test_app_session_login_flow(app):
    client = app.test_client()
    resp = client.post("/login", data={"name": "ann"}, follow_redirects=True)
    assert resp.data == b"ann"
    assert resp.request.path == "/me"
    assert [r.status_code for r in resp.history] == [302]
    assert client.get_cookie("session") is not None
    assert client.get("/me").data == b"ann"
    client.get("/logout")
    assert client.get("/me").data == b"anonymous"


def test_session_transaction(app):
    client = app.test_client()
    with client.session_transaction() as sess:
        assert "user" not in sess
        sess["user"] = "bob"
    assert client.get("/me").data == b"bob"
    with client.session_transaction() as sess:
        assert sess["user"] == "bob"


def test_session_transaction_requires_cookies(app):
    client = app.test_client(use_cookies=False)
    with pytest.raises(TypeError), client.session_transaction():
        pass


def test_session_transaction_backend_failure(app):
    class NoSession(type(app.session_interface)):
        def open_session(self, app, request):
            return None

    app.session_interface = NoSession()
    with (
        pytest.raises(RuntimeError, match="did not open a session"),
        app.test_client().session_transaction(),
    ):
        pass


def test_with_client_preserves_context(app):
    from erlen import has_request_context, request, session

    client = app.test_client()
    with client:
        client.get("/echo?first=1")
        assert request.args["first"] == "1"
        client.post("/login", data={"name": "zoe"})
        assert request.path == "/login"
        assert session["user"] == "zoe"
    assert not has_request_context()
    client.get("/")
    assert not has_request_context()


def test_with_client_cannot_nest(app):
    client = app.test_client()
    with client, pytest.raises(RuntimeError, match="nest"), client:
        pass


def test_app_teardown_runs_after_with_block(app):
    calls = []

    @app.teardown_request
    def teardown(exc):
        calls.append(exc)

    client = app.test_client()
    with client:
        client.get("/")
        assert calls == []
        client.get("/")
        assert calls == [None]
    assert calls == [None, None]


def test_custom_response_class(app):
    from erlen import Response

    class MyResponse(Response):
        marker = "mine"

    app.response_class = MyResponse
    resp = app.test_client().get("/")
    assert isinstance(resp, MyResponse) and isinstance(resp, TestResponse)
    assert resp.marker == "mine" and resp.data == b"index"


def test_cli_runner(app):
    import click

    @app.cli.command("hello")
    @click.argument("name")
    def hello(name):
        click.echo(f"hello {name}")

    runner = app.test_cli_runner()
    result = runner.invoke(args=["hello", "erlen"])
    assert result.exit_code == 0 and result.output == "hello erlen\n"


def test_flask_names_of_the_testing_classes():
    import erlen
    from erlen.testing import ErlenClient, ErlenCliRunner, FlaskClient, FlaskCliRunner

    assert FlaskClient is ErlenClient and FlaskCliRunner is ErlenCliRunner

    class MyClient(FlaskClient):
        pass

    app = erlen.Erlen(__name__)
    app.test_client_class = MyClient
    assert isinstance(app.test_client(), MyClient)
