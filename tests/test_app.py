"""The application: routing through the app, return values, methods, JSON."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import uuid

import pytest

import erlen
from erlen import Response, jsonify, request


def test_flask_alias_is_erlen():
    assert erlen.Flask is erlen.Erlen


def test_route_and_methods(app, client):
    @app.route("/", methods=["GET", "POST"])
    def index():
        return f"{request.method} index"

    @app.get("/g")
    def only_get():
        return "get"

    @app.post("/p")
    def only_post():
        return "post"

    @app.put("/u")
    def put():
        return "put"

    @app.patch("/u")
    def patch():
        return "patch"

    @app.delete("/u")
    def delete():
        return "delete"

    assert client.get("/").data == b"GET index"
    assert client.post("/").data == b"POST index"
    assert client.get("/g").data == b"get"
    assert client.post("/p").data == b"post"
    assert client.put("/u").data == b"put"
    assert client.patch("/u").data == b"patch"
    assert client.delete("/u").data == b"delete"
    rv = client.post("/g")
    assert rv.status_code == 405
    assert sorted(rv.headers["Allow"].split(", ")) == ["GET", "HEAD", "OPTIONS"]


def test_method_shortcut_rejects_methods(app):
    with pytest.raises(TypeError, match="route"):
        app.get("/x", methods=["POST"])


def test_methods_as_string_is_an_error(app):
    with pytest.raises(TypeError, match="list of strings"):
        app.add_url_rule("/x", "x", lambda: "x", methods="POST")


def test_add_url_rule_endpoint_and_view_functions(app, client):
    def view():
        return "v"

    app.add_url_rule("/v", "my_endpoint", view)
    assert app.view_functions["my_endpoint"] is view
    rules = {r.endpoint: r for r in app.url_map.iter_rules()}
    assert rules["my_endpoint"].rule == "/v"
    assert {"GET", "HEAD", "OPTIONS"} <= set(rules["my_endpoint"].methods)
    assert client.get("/v").data == b"v"


def test_endpoint_decorator(app, client):
    app.add_url_rule("/e", "ep")

    @app.endpoint("ep")
    def ep():
        return "from endpoint decorator"

    assert client.get("/e").data == b"from endpoint decorator"


def test_overwriting_endpoint_is_an_error(app):
    @app.route("/a")
    def a():
        return "a"

    with pytest.raises(AssertionError, match="overwriting an existing endpoint function: a"):

        @app.route("/b", endpoint="a")
        def b():
            return "b"


def test_automatic_head_and_options(app, client):
    @app.route("/h")
    def h():
        return "body"

    rv = client.head("/h")
    assert rv.status_code == 200
    assert rv.data == b""
    assert rv.headers["Content-Length"] == "4"
    rv = client.options("/h")
    assert rv.status_code == 200
    assert sorted(rv.headers["Allow"].split(", ")) == ["GET", "HEAD", "OPTIONS"]


def test_provide_automatic_options_off(app, client):
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False

    @app.route("/h")
    def h():
        return "body"

    assert client.options("/h").status_code == 405


def test_404_and_405(app, client):
    @app.route("/only-post", methods=["POST"])
    def p():
        return "p"

    rv = client.get("/nope")
    assert rv.status_code == 404
    assert b"Not Found" in rv.data
    assert rv.mimetype == "text/html"
    rv = client.get("/only-post")
    assert rv.status_code == 405
    assert sorted(rv.headers["Allow"].split(", ")) == ["OPTIONS", "POST"]


def test_trailing_slash_redirect(app, client):
    @app.route("/folder/")
    def folder():
        return "folder"

    @app.route("/file")
    def file():
        return "file"

    rv = client.get("/folder?x=1")
    assert rv.status_code == 308
    assert rv.headers["Location"].endswith("/folder/?x=1")
    assert client.get("/folder/").data == b"folder"
    assert client.get("/file/").status_code == 404
    assert client.get("/folder", follow_redirects=True).data == b"folder"


def test_strict_slashes_false(app, client):
    @app.route("/loose/", strict_slashes=False)
    def loose():
        return "loose"

    assert client.get("/loose").data == b"loose"
    assert client.get("/loose/").data == b"loose"


def test_defaults_and_redirect_to(app, client):
    @app.route("/page/", defaults={"n": 1})
    @app.route("/page/<int:n>")
    def page(n):
        return f"page {n}"

    app.add_url_rule("/old/<int:n>", "old", redirect_to="/page/<n>")

    assert client.get("/page/").data == b"page 1"
    assert client.get("/page/3").data == b"page 3"
    rv = client.get("/page/1")
    assert rv.status_code == 308
    assert rv.headers["Location"].endswith("/page/")
    rv = client.get("/old/7")
    assert rv.status_code == 308
    assert rv.headers["Location"].endswith("/page/7")


def test_converters(app, client):
    @app.route("/i/<int:v>")
    def i(v):
        return repr(v)

    @app.route("/s/<int(signed=True):v>")
    def signed(v):
        return repr(v)

    @app.route("/m/<int(min=1, max=5):v>")
    def bounded(v):
        return repr(v)

    @app.route("/f/<float:v>")
    def f(v):
        return repr(v)

    @app.route("/p/<path:v>")
    def p(v):
        return v

    @app.route("/u/<uuid:v>")
    def u(v):
        return type(v).__name__

    @app.route("/a/<any(red, blue):v>")
    def a(v):
        return v

    assert client.get("/i/42").data == b"42"
    assert client.get("/i/-1").status_code == 404
    assert client.get("/s/-7").data == b"-7"
    assert client.get("/m/3").data == b"3"
    assert client.get("/m/9").status_code == 404
    assert client.get("/f/1.5").data == b"1.5"
    assert client.get("/p/a/b/c.txt").data == b"a/b/c.txt"
    assert client.get(f"/u/{uuid.uuid4()}").data == b"UUID"
    assert client.get("/u/not-a-uuid").status_code == 404
    assert client.get("/a/red").data == b"red"
    assert client.get("/a/green").status_code == 404


def test_custom_converter(app, client):
    from erlen.routing import BaseConverter, ValidationError

    class ListConverter(BaseConverter):
        def to_python(self, value):
            if value == "bad":
                raise ValidationError()
            return value.split(",")

        def to_url(self, value):
            return ",".join(BaseConverter.to_url(self, x) for x in value)

    app.url_map.converters["list"] = ListConverter

    @app.route("/l/<list:items>")
    def items(items):
        return "|".join(items)

    assert client.get("/l/a,b,c").data == b"a|b|c"
    assert client.get("/l/bad").status_code == 404
    with app.test_request_context():
        assert erlen.url_for("items", items=["x", "y"]) == "/l/x,y"


def test_return_types(app, client):
    @app.route("/str")
    def s():
        return "text"

    @app.route("/bytes")
    def b():
        return b"raw"

    @app.route("/dict")
    def d():
        return {"a": 1}

    @app.route("/list")
    def lst():
        return [1, 2]

    @app.route("/gen")
    def gen():
        def g():
            yield "a"
            yield b"b"

        return g()

    @app.route("/tuple-status")
    def ts():
        return "created", 201

    @app.route("/tuple-headers")
    def th():
        return "h", {"X-A": "1"}

    @app.route("/tuple-all")
    def ta():
        return "all", 202, [("X-B", "2")]

    @app.route("/status-str")
    def sst():
        return "teapot", "418 I'M A TEAPOT"

    @app.route("/response")
    def resp():
        return Response("r", status=203, mimetype="text/plain")

    @app.route("/dict-status")
    def ds():
        return {"error": "x"}, 400

    rv = client.get("/str")
    assert (rv.data, rv.mimetype, rv.headers["Content-Length"]) == (b"text", "text/html", "4")
    assert rv.headers["Content-Type"] == "text/html; charset=utf-8"
    assert client.get("/bytes").data == b"raw"
    rv = client.get("/dict")
    assert rv.json == {"a": 1} and rv.mimetype == "application/json"
    assert client.get("/list").json == [1, 2]
    rv = client.get("/gen")
    assert rv.data == b"ab"
    assert "Content-Length" not in rv.headers
    assert client.get("/tuple-status").status_code == 201
    rv = client.get("/tuple-headers")
    assert rv.headers["X-A"] == "1" and rv.status_code == 200
    rv = client.get("/tuple-all")
    assert rv.status_code == 202 and rv.headers["X-B"] == "2" and rv.data == b"all"
    assert client.get("/status-str").status == "418 I'M A TEAPOT"
    rv = client.get("/response")
    assert rv.status_code == 203 and rv.mimetype == "text/plain"
    rv = client.get("/dict-status")
    assert rv.status_code == 400 and rv.json == {"error": "x"}


def test_invalid_return_values_name_the_view(app, client):
    @app.route("/none")
    def returns_none():
        pass

    @app.route("/int")
    def returns_int():
        return 42

    @app.route("/bad-tuple")
    def bad_tuple():
        return "a", 200, {}, "extra"

    with pytest.raises(TypeError, match="returns_none.*did not return a valid response"):
        client.get("/none")
    with pytest.raises(TypeError, match="returns_int.*int"):
        client.get("/int")
    with pytest.raises(TypeError, match="bad_tuple.*valid response tuple"):
        client.get("/bad-tuple")


def test_invalid_return_is_500_when_not_testing(app, client):
    app.testing = False

    @app.route("/none")
    def returns_none():
        pass

    rv = client.get("/none")
    assert rv.status_code == 500
    assert b"Internal Server Error" in rv.data
    assert b"Traceback" not in rv.data


def test_wsgi_app_as_return_value(app, client):
    def wsgi(environ, start_response):
        start_response("202 Accepted", [("Content-Type", "text/plain"), ("X-W", "1")])
        return [b"from ", b"wsgi"]

    @app.route("/w")
    def w():
        return wsgi

    rv = client.get("/w")
    assert (rv.status_code, rv.data, rv.headers["X-W"]) == (202, b"from wsgi", "1")


def test_make_response_helper(app, client):
    @app.route("/")
    def index():
        resp = erlen.make_response("body", 201)
        resp.headers["X-Extra"] = "yes"
        return resp

    rv = client.get("/")
    assert (rv.status_code, rv.data, rv.headers["X-Extra"]) == (201, b"body", "yes")
    with app.test_request_context():
        assert erlen.make_response().status_code == 200
        assert erlen.make_response({"a": 1}).json == {"a": 1}


def test_jsonify_and_provider(app, client):
    @dataclasses.dataclass
    class Point:
        x: int
        y: int

    u = uuid.UUID("12345678-1234-5678-1234-567812345678")

    @app.route("/j")
    def j():
        return jsonify(
            when=datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
            day=datetime.date(2020, 1, 2),
            id=u,
            price=decimal.Decimal("1.10"),
            point=Point(1, 2),
            markup=erlen.Markup("<b>x</b>"),
        )

    @app.route("/args")
    def args():
        return jsonify(1, 2, 3)

    rv = client.get("/j")
    assert rv.mimetype == "application/json"
    assert rv.json == {
        "when": "Thu, 02 Jan 2020 03:04:05 GMT",
        "day": "Thu, 02 Jan 2020 00:00:00 GMT",
        "id": str(u),
        "price": "1.10",
        "point": {"x": 1, "y": 2},
        "markup": "<b>x</b>",
    }
    assert list(rv.data.decode()).index("d") < rv.data.decode().index("w")  # sorted keys
    assert client.get("/args").json == [1, 2, 3]
    with app.app_context():
        assert erlen.json.dumps({"b": 1, "a": 2}) == '{"a": 2, "b": 1}'
        assert erlen.json.loads('{"a": [1]}') == {"a": [1]}
    with pytest.raises(TypeError):
        app.json.response(1, a=2)


def test_jsonify_debug_is_indented(app, client):
    app.debug = True

    @app.route("/")
    def index():
        return {"a": 1}

    assert client.get("/").data == b'{\n  "a": 1\n}\n'


def test_async_view(app, client):
    @app.route("/async")
    async def av():
        return f"async {request.path}"

    assert client.get("/async").data == b"async /async"


def test_setup_after_first_request_is_refused(app, client):
    @app.route("/")
    def index():
        return "x"

    client.get("/")
    with pytest.raises(AssertionError, match="can no longer be called"):
        app.add_url_rule("/late", "late", lambda: "late")


def test_app_name_and_repr(app):
    assert app.name == "test_app"
    assert repr(app) == "<Erlen 'test_app'>"


def test_debug_property(app):
    assert app.debug is False
    app.debug = True
    assert app.config["DEBUG"] is True


def test_head_on_streamed_response_has_no_body(app, client):
    @app.route("/s")
    def s():
        return iter([b"a", b"b"])

    rv = client.head("/s")
    assert rv.status_code == 200 and rv.data == b""


def test_permanent_session_refreshed_on_requests_that_do_not_touch_it(app, client):
    @app.route("/login")
    def login():
        erlen.session["uid"] = 1
        erlen.session.permanent = True
        return ""

    @app.route("/plain")
    def plain():
        return ""

    first = client.get("/login")
    assert "session=" in first.headers["Set-Cookie"]
    rv = client.get("/plain")
    # SESSION_REFRESH_EACH_REQUEST: the cookie's expiry is renewed, and the answer varies.
    assert "session=" in rv.headers["Set-Cookie"] and "Expires=" in rv.headers["Set-Cookie"]
    assert rv.headers["Vary"] == "Cookie"
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    rv = client.get("/plain")
    assert "Set-Cookie" not in rv.headers and "Vary" not in rv.headers


def test_untouched_non_permanent_session_is_not_resent(app, client):
    @app.route("/set")
    def set_():
        erlen.session["a"] = 1
        return ""

    @app.route("/plain")
    def plain():
        return ""

    @app.route("/perm")
    def perm():
        erlen.session.permanent = True
        return ""

    opened = []
    interface = app.session_interface
    real_open = interface.open_session
    app.session_interface = type(interface)()
    app.session_interface.open_session = lambda *a: opened.append(1) or real_open(*a)

    client.get("/set")
    opened.clear()
    for _ in range(2):  # the second time the verdict comes from the memo
        rv = client.get("/plain")
        assert "Set-Cookie" not in rv.headers and "Vary" not in rv.headers
    assert opened == [1]  # opened once to learn it is not permanent, then remembered
    # Made permanent: a new cookie value, so refreshes start.
    assert "Expires=" in client.get("/perm").headers["Set-Cookie"]
    assert "Expires=" in client.get("/plain").headers["Set-Cookie"]
    # No cookie at all: nothing to do.
    rv = app.test_client().get("/plain")
    assert "Set-Cookie" not in rv.headers


def test_debug_redirect_that_would_drop_a_form_is_an_error(app, client):
    from erlen.app import FormDataRoutingRedirect
    from erlen.routing import RequestRedirect

    @app.route("/user/", methods=["GET", "POST"])
    def user():
        return request.form["status"]

    rv = client.post("/user", data={"status": "ok"}, follow_redirects=True)
    assert rv.data == b"ok"  # 308 keeps the body
    app.debug = True
    orig = RequestRedirect.code
    RequestRedirect.code = 301
    try:
        with pytest.raises(FormDataRoutingRedirect, match="canonical URL 'http://localhost/user/'"):
            client.post("/user", data={"status": "x"})
        assert client.get("/user").status_code == 301  # GET is safe to redirect
        app.debug = False
        assert client.post("/user", data={"status": "x"}).status_code == 301
    finally:
        RequestRedirect.code = orig


def test_app_is_freed_without_the_garbage_collector():
    import gc
    import weakref

    gc.disable()
    try:
        app = erlen.Erlen(__name__)
        assert app.view_functions["static"]
        ref = weakref.ref(app)
        del app
        assert ref() is None
    finally:
        gc.enable()


def test_invalid_host_header_is_400(app, client):
    @app.route("/")
    def index():
        return "x"

    assert client.get("/", headers={"Host": "\x8a"}).status_code == 400
    assert client.get("/").status_code == 200


def test_view_exception_log_line_as_flask(app, client):
    import io

    @app.route("/boom")
    def boom():
        raise RuntimeError("x")

    import sys

    from erlen.logging import default_handler, wsgi_errors_stream

    app.testing = False
    stream = io.StringIO()
    # pytest's root handler stops create_logger adding the default one: add it here.
    app.logger.addHandler(default_handler)
    try:
        assert client.get("/boom", errors_stream=stream).status_code == 500
    finally:
        app.logger.removeHandler(default_handler)
    assert "ERROR in app: Exception on /boom [GET]" in stream.getvalue()
    assert wsgi_errors_stream._get_current_object() is sys.stderr
    with app.test_request_context(errors_stream=stream):
        assert wsgi_errors_stream._get_current_object() is stream


def test_create_jinja_environment_is_the_override_point(app):
    class MyApp(erlen.Erlen):
        def create_jinja_environment(self):
            env = super().create_jinja_environment()
            env.globals["marker"] = 42
            return env

    my = MyApp(__name__)
    assert my.jinja_env.globals["marker"] == 42
    assert erlen.Erlen.jinja_environment is None


def test_startup_does_not_import_asyncio_until_an_async_view_runs() -> None:
    import subprocess
    import sys

    code = (
        "import sys, erlen\n"
        "app = erlen.Erlen('x')\n"
        "@app.route('/s')\n"
        "def s(): return 'sync'\n"
        "@app.route('/a')\n"
        "async def a(): return 'async'\n"
        "c = app.test_client()\n"
        "assert c.get('/s').data == b'sync'\n"
        "print('asyncio' in sys.modules)\n"
        "assert c.get('/a').data == b'async'\n"
        "print('asyncio' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]
