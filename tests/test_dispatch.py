"""The request path (``erlen.app.dispatch``): ``wsgi_app``'s direct path gives exactly what
its general path gives, takes over only when nothing could tell, and leaves no garbage.

The oracle is the same app with one no-op ``before_request`` hook, which sends every request
down the general path (``full_dispatch_request``, ``Response`` objects, ``ctx.pop``).
"""

from __future__ import annotations

import gc
import io
import sys
from collections.abc import Callable
from typing import Any

import pytest

import erlen
from erlen import Erlen, Response, abort, after_this_request, g, jsonify, request, session
from erlen import signals as erlen_signals
from erlen.testing import run_wsgi_app


@pytest.fixture(autouse=True)
def _no_leftover_signal_receivers() -> None:
    """Receivers other tests connected weakly may wait for the garbage collector; whether a
    request takes the direct path depends on there being none."""
    gc.collect()
    receivers = [s.receivers for s in erlen_signals._REQUEST_PATH_SIGNALS if s.receivers]
    assert not erlen_signals.request_path_has_receivers(), f"receivers left: {receivers}"


def _environ(method: str, path: str, query: str = "", body: bytes = b"", **extra: Any) -> dict:
    env: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "localhost",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if body:
        env["CONTENT_LENGTH"] = str(len(body))
    env.update(extra)
    return env


def _call(app: Erlen, env: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    body, status, headers = run_wsgi_app(app, env, buffered=True)
    return status, headers.to_wsgi_list(), b"".join(body)


def _make_app(general: bool) -> Erlen:
    app = Erlen(__name__)
    app.secret_key = "test secret"
    if general:
        app.before_request(lambda: None)  # any hook sends requests down the general path

    @app.route("/str")
    def as_str() -> str:
        return "plain ü"

    @app.route("/tuple")
    def as_tuple() -> Any:
        return "made", 201, {"X-One": "1", "Content-Type": "text/csv"}

    @app.route("/tuple-int-header")
    def tuple_int_header() -> Any:
        return "made", 200, {"X-Count": 3}

    @app.route("/tuple-cl")
    def tuple_content_length() -> Any:
        return "made", 200, {"Content-Length": "4"}

    @app.route("/two")
    def two() -> Any:
        return "two", 202

    @app.route("/no-content")
    def no_content() -> Any:
        return "", 204, {"X-A": "b"}

    @app.route("/not-modified")
    def not_modified() -> Any:
        return "x", 304, {}

    @app.route("/teapot")
    def teapot() -> Any:
        return "tea", 418, {}

    @app.route("/bytes")
    def as_bytes() -> bytes:
        return b"\x00\x01"

    @app.route("/dict")
    def as_dict() -> Any:
        return {"b": 1, "a": [1, 2]}

    @app.route("/json/<int:n>")
    def as_json(n: int) -> Any:
        return jsonify(n=n, args=request.args.get("q"))

    @app.route("/response")
    def as_response() -> Response:
        return Response("resp", status=203, headers={"X-R": "1"})

    @app.route("/stream")
    def stream() -> Any:
        return (part for part in ["a", "b"])

    @app.route("/abort")
    def aborts() -> Any:
        abort(403)

    @app.route("/boom")
    def boom() -> Any:
        raise RuntimeError("boom")

    @app.route("/key")
    def bad_key() -> Any:
        return request.form["missing"]

    @app.route("/session")
    def counter() -> str:
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    @app.route("/g")
    def uses_g() -> str:
        g.x = "gee"
        return g.x

    @app.route("/after")
    def after() -> str:
        @after_this_request
        def add_header(response: Response) -> Response:
            response.headers["X-After"] = "yes"
            return response

        return "after"

    @app.route("/post", methods=["POST"])
    def post() -> str:
        return request.form.get("a", "-")

    @app.route("/upload", methods=["POST"])
    def upload() -> str:
        return str(len(request.files["f"].read()))

    @app.route("/branch/")
    def branch() -> str:
        return "branch"

    @app.route("/defaults", defaults={"page": 1})
    @app.route("/defaults/<int:page>")
    def with_defaults(page: int) -> str:
        return f"page {page}"

    @app.route("/bad-header")
    def bad_header() -> Any:
        return "x", 200, {"X-Bad": "a\r\nSet-Cookie: evil=1"}

    @app.errorhandler(418)
    def teapot_handler(e: Exception) -> Any:
        return "handled", 418

    return app


_MULTIPART = (
    b"--XyZ\r\n"
    b'Content-Disposition: form-data; name="f"; filename="a.txt"\r\n'
    b"Content-Type: text/plain\r\n\r\n"
    b"hello file\r\n"
    b"--XyZ--\r\n"
)

_REQUESTS: list[tuple[str, str, str, bytes, dict[str, str]]] = [
    ("GET", "/str", "", b"", {}),
    ("HEAD", "/str", "", b"", {}),
    ("GET", "/tuple", "", b"", {}),
    ("HEAD", "/tuple", "", b"", {}),
    ("GET", "/tuple-int-header", "", b"", {}),
    ("GET", "/tuple-cl", "", b"", {}),
    ("GET", "/two", "", b"", {}),
    ("GET", "/no-content", "", b"", {}),
    ("GET", "/not-modified", "", b"", {}),
    ("GET", "/teapot", "", b"", {}),
    ("GET", "/bytes", "", b"", {}),
    ("GET", "/dict", "", b"", {}),
    ("GET", "/json/7", "q=1&q=2", b"", {}),
    ("GET", "/json/x", "", b"", {}),
    ("GET", "/response", "", b"", {}),
    ("GET", "/stream", "", b"", {}),
    ("GET", "/abort", "", b"", {}),
    ("GET", "/key", "", b"", {}),
    ("GET", "/session", "", b"", {}),
    ("GET", "/g", "", b"", {}),
    ("GET", "/after", "", b"", {}),
    ("POST", "/post", "", b"a=1", {"CONTENT_TYPE": "application/x-www-form-urlencoded"}),
    ("GET", "/post", "", b"", {}),
    ("OPTIONS", "/str", "", b"", {}),
    ("OPTIONS", "/json/1", "", b"", {}),
    (
        "POST",
        "/upload",
        "",
        _MULTIPART,
        {"CONTENT_TYPE": "multipart/form-data; boundary=XyZ"},
    ),
    ("GET", "/branch", "", b"", {}),
    ("GET", "/branch/", "", b"", {}),
    ("GET", "/defaults", "", b"", {}),
    ("GET", "/defaults/1", "", b"", {}),
    ("GET", "/defaults/2", "", b"", {}),
    ("GET", "/nope", "", b"", {}),
    ("GET", "//str", "", b"", {}),
    ("GET", "/bad-header", "", b"", {}),
    ("get", "/str", "", b"", {}),
    ("GET", "/str", "", b"", {"HTTP_UPGRADE": "websocket"}),
    ("GET", "/str", "", b"", {"HTTP_HOST": "bücher.example"}),
    ("GET", "/caf\u00c3\u00a9", "", b"", {}),
    ("GET", "/str", "", b"", {"HTTP_COOKIE": "session=forged"}),
]


@pytest.mark.parametrize(("method", "path", "query", "body", "extra"), _REQUESTS)
def test_direct_path_answers_as_the_general_path(
    method: str, path: str, query: str, body: bytes, extra: dict[str, str]
) -> None:
    plain, general = _make_app(general=False), _make_app(general=True)
    got = _call(plain, _environ(method, path, query, body, **extra))
    want = _call(general, _environ(method, path, query, body, **extra))
    assert got == want


def _spy_general(app: Erlen) -> list[str]:
    """Record the requests that take the general path (it calls full_dispatch_request)."""
    calls: list[str] = []
    original = app.full_dispatch_request

    def spy() -> Any:
        calls.append(request.environ["PATH_INFO"])
        return original()

    app.full_dispatch_request = spy  # type: ignore[method-assign]
    return calls


def test_plain_requests_take_the_direct_path() -> None:
    app = _make_app(general=False)
    calls = _spy_general(app)
    for path in ("/str", "/tuple", "/json/3", "/response", "/session", "/g", "/boom", "/nope"):
        _call(app, _environ("GET", path))
    assert calls == []
    # these need an adapter or a redirect: the general path answers them
    for path in ("/branch", "/defaults/1", "//str"):
        _call(app, _environ("GET", path))
    assert calls == ["/branch", "/defaults/1", "//str"]


@pytest.mark.parametrize(
    "setup",
    [
        lambda app: app.before_request(lambda: None),
        lambda app: app.after_request(lambda r: r),
        lambda app: app.teardown_request(lambda e: None),
        lambda app: app.teardown_appcontext(lambda e: None),
        lambda app: app.url_value_preprocessor(lambda endpoint, values: None),
        lambda app: app.config.update(SERVER_NAME="localhost"),
        lambda app: app.config.update(TRUSTED_HOSTS=["localhost"]),
    ],
)
def test_hooks_and_host_settings_take_the_general_path(setup: Callable[[Erlen], Any]) -> None:
    app = _make_app(general=False)
    setup(app)
    calls = _spy_general(app)
    status, _, body = _call(app, _environ("GET", "/str"))
    assert (status, body) == ("200 OK", "plain ü".encode())
    assert calls == ["/str"]


@pytest.mark.parametrize(
    "signal",
    [
        erlen_signals.request_started,
        erlen_signals.request_finished,
        erlen_signals.request_tearing_down,
        erlen_signals.appcontext_pushed,
        erlen_signals.appcontext_tearing_down,
        erlen_signals.appcontext_popped,
    ],
)
def test_a_signal_receiver_takes_the_general_path(signal: Any) -> None:
    app = _make_app(general=False)
    calls = _spy_general(app)
    seen: list[Any] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        seen.append(sender)

    signal.connect(receiver, app)
    try:
        _call(app, _environ("GET", "/str"))
    finally:
        signal.disconnect(receiver)  # from every sender: blinker then forgets it
    assert calls == ["/str"]
    assert seen and all(s is app for s in seen)
    # disconnected: the direct path again
    _call(app, _environ("GET", "/tuple"))
    assert calls == ["/str"]


def test_receivers_connected_by_the_view_are_sent_to() -> None:
    app = Erlen(__name__)
    seen: list[str] = []

    def finished(sender: Any, response: Response, **kwargs: Any) -> None:
        seen.append(f"finished {response.status_code}")

    def tearing_down(sender: Any, **kwargs: Any) -> None:
        seen.append("tearing down")

    @app.route("/")
    def index() -> str:
        erlen_signals.request_finished.connect(finished, app)
        erlen_signals.request_tearing_down.connect(tearing_down, app)
        return "ok"

    try:
        assert _call(app, _environ("GET", "/"))[2] == b"ok"
    finally:
        erlen_signals.request_finished.disconnect(finished, app)
        erlen_signals.request_tearing_down.disconnect(tearing_down, app)
    assert seen == ["finished 200", "tearing down"]


def test_teardown_added_by_the_view_runs() -> None:
    app = Erlen(__name__)
    seen: list[Any] = []

    @app.route("/")
    def index() -> str:
        app.teardown_request_funcs.setdefault(None, []).append(lambda e: seen.append(e))
        return "ok"

    assert _call(app, _environ("GET", "/"))[2] == b"ok"
    assert seen == [None]


def test_overridden_request_path_methods_are_called() -> None:
    calls: list[str] = []

    class App(Erlen):
        def full_dispatch_request(self) -> Response:
            calls.append("full_dispatch_request")
            return super().full_dispatch_request()

    app = App(__name__)
    app.add_url_rule("/", "index", lambda: "ok")
    assert _call(app, _environ("GET", "/"))[2] == b"ok"
    assert calls == ["full_dispatch_request"]


def test_custom_response_class_is_built() -> None:
    class MyResponse(Response):
        default_mimetype = "text/plain"

    app = Erlen(__name__)
    app.response_class = MyResponse
    app.add_url_rule("/", "index", lambda: "ok")
    _, headers, _ = _call(app, _environ("GET", "/"))
    assert ("Content-Type", "text/plain; charset=utf-8") in headers


def test_view_errors_are_logged_and_answered_500(caplog: pytest.LogCaptureFixture) -> None:
    app = _make_app(general=False)
    status, _, body = _call(app, _environ("GET", "/boom"))
    assert status == "500 INTERNAL SERVER ERROR"
    assert b"RuntimeError" not in body and b"Traceback" not in body
    assert "Exception on /boom [GET]" in caplog.text


def test_request_inside_another_request_takes_the_general_path() -> None:
    app = Erlen(__name__)
    calls = _spy_general(app)

    @app.route("/inner")
    def inner() -> str:
        g.inner = True
        return "inner"

    @app.route("/outer")
    def outer() -> str:
        g.outer = True
        inner_body = _call(app, _environ("GET", "/inner"))[2].decode()
        # the inner request shared this request's app context (as in Flask)
        return f"{inner_body} {g.get('inner')} {request.path}"

    assert _call(app, _environ("GET", "/outer"))[2] == b"inner True /outer"
    assert calls == ["/inner"]


def test_the_context_is_popped_and_the_environ_unlinked() -> None:
    app = _make_app(general=False)
    env = _environ("GET", "/str")
    _call(app, env)
    assert "erlen.request" not in env
    assert not erlen.has_request_context() and not erlen.has_app_context()
    env = _environ("GET", "/boom")
    _call(app, env)
    assert "erlen.request" not in env
    assert not erlen.has_request_context()


def test_the_request_is_in_its_environ_while_it_is_handled() -> None:
    app = Erlen(__name__)

    @app.route("/")
    def index() -> str:
        return str(request.environ["erlen.request"] is request._get_current_object())

    assert _call(app, _environ("GET", "/"))[2] == b"True"


def test_uploaded_files_are_closed_after_a_direct_request() -> None:
    app = Erlen(__name__)
    seen: list[Any] = []

    @app.route("/upload", methods=["POST"])
    def upload() -> str:
        f = request.files["f"]
        seen.append(f)
        return str(len(f.read()))

    env = _environ("POST", "/upload", body=_MULTIPART, CONTENT_TYPE="multipart/form-data; boundary=XyZ")
    assert _call(app, env)[2] == b"10"
    assert seen[0].stream.closed


@pytest.mark.parametrize("general", [False, True])
@pytest.mark.parametrize(
    ("method", "path", "body", "extra"),
    [
        ("GET", "/str", b"", {}),
        ("GET", "/tuple", b"", {}),
        ("GET", "/json/5", b"", {}),
        ("GET", "/session", b"", {}),
        ("GET", "/g", b"", {}),
        ("GET", "/nope", b"", {}),
        ("POST", "/str", b"", {}),
        ("GET", "/branch", b"", {}),
        ("GET", "/abort", b"", {}),
        ("GET", "/boom", b"", {}),
        ("POST", "/post", b"a=1", {"CONTENT_TYPE": "application/x-www-form-urlencoded"}),
        ("POST", "/upload", _MULTIPART, {"CONTENT_TYPE": "multipart/form-data; boundary=XyZ"}),
    ],
)
def test_requests_leave_no_reference_cycles(
    general: bool, method: str, path: str, body: bytes, extra: dict[str, str]
) -> None:
    """Every request frees its objects by reference counting: a cycle per request would make
    the garbage collector run (and its passes cost more than the request)."""
    app = _make_app(general=general)
    for _ in range(3):
        _call(app, _environ(method, path, body=body, **extra))
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for _ in range(20):
            _call(app, _environ(method, path, body=body, **extra))
        gc.collect()
        garbage = [type(o).__name__ for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()
    assert garbage == []


def test_no_direct_path_when_context_is_preserved() -> None:
    app = _make_app(general=False)
    calls = _spy_general(app)
    client = app.test_client()
    with client:
        assert client.get("/str").data == "plain ü".encode()
        assert request.path == "/str"
    assert calls == ["/str"]
    assert sys.exc_info() == (None, None, None)


def test_overridden_request_close_is_called_on_direct_requests() -> None:
    closed: list[str] = []

    class MyRequest(erlen.Request):
        def close(self) -> None:
            closed.append(self.path)
            super().close()

    app = Erlen(__name__)
    app.request_class = MyRequest
    app.add_url_rule("/", "index", lambda: "ok")
    assert _call(app, _environ("GET", "/"))[2] == b"ok"
    assert closed == ["/"]


def _not_found_app(general: bool, variant: str) -> Erlen:
    app = Erlen(__name__)
    if general:
        app.before_request(lambda: None)
    app.add_url_rule("/", "index", lambda: "ok")
    if variant == "handler":
        app.register_error_handler(404, lambda e: (f"custom {e.code}", 404, {"X-H": "1"}))
    elif variant == "http-handler":
        app.register_error_handler(
            erlen.exceptions.HTTPException, lambda e: (f"any {e.code} {request.path}", e.code)
        )
    elif variant == "raising-handler":

        def handler(e: Exception) -> Any:
            raise RuntimeError("handler failed")

        app.register_error_handler(404, handler)
    elif variant == "trap":
        app.config["TRAP_HTTP_EXCEPTIONS"] = True
    elif variant == "inspects":
        app.register_error_handler(
            404, lambda e: f"{request.routing_exception is e} {request.url_rule}"
        )
    return app


@pytest.mark.parametrize(
    "variant", ["plain", "handler", "http-handler", "raising-handler", "trap", "inspects"]
)
@pytest.mark.parametrize("path", ["/nope", "/a/b/c", "/%C3%A9"])
def test_404s_answer_as_the_general_path(variant: str, path: str) -> None:
    got = _call(_not_found_app(False, variant), _environ("GET", path))
    want = _call(_not_found_app(True, variant), _environ("GET", path))
    assert got == want
    if variant == "inspects":
        assert got[2] == b"True None"  # the handler saw the routing error on the request
    elif variant in ("raising-handler", "trap"):
        assert got[0] == "500 INTERNAL SERVER ERROR"
    else:
        assert got[0] == "404 NOT FOUND"
