"""The request path (``erlen.app.dispatch`` and its plan): one path for every request.

A request skips the steps its app's plan says have nothing to do; the oracle for "skipping
changes nothing" is the same app with a no-op hook of every kind, whose requests run every
step. Replaced request-path methods are called however they were replaced, hooks run in
Flask's order (real Flask is the oracle), and requests leave no garbage.
"""

from __future__ import annotations

import gc
import io
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

import erlen
from erlen import Erlen, Response, abort, after_this_request, g, jsonify, request, session
from erlen import signals as erlen_signals
from erlen.testing import run_wsgi_app


@pytest.fixture(autouse=True)
def _no_leftover_signal_receivers() -> None:
    """Receivers other tests connected weakly may wait for the garbage collector; which
    steps a request skips depends on there being none."""
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
    """The test app; ``general``: with a no-op hook of every kind (no step is skipped)."""
    app = Erlen(__name__)
    app.secret_key = "test secret"
    if general:
        app.before_request(lambda: None)
        app.after_request(lambda response: response)
        app.teardown_request(lambda exc: None)
        app.teardown_appcontext(lambda exc: None)
        app.url_value_preprocessor(lambda endpoint, values: None)

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
def test_skipped_steps_change_no_answer(
    method: str, path: str, query: str, body: bytes, extra: dict[str, str]
) -> None:
    plain, general = _make_app(general=False), _make_app(general=True)
    got = _call(plain, _environ(method, path, query, body, **extra))
    want = _call(general, _environ(method, path, query, body, **extra))
    assert got == want


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
def test_signal_receivers_connected_after_the_first_request_are_sent_to(signal: Any) -> None:
    app = _make_app(general=False)
    _call(app, _environ("GET", "/str"))  # the plan exists: receivers are still found
    seen: list[Any] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        seen.append(sender)

    signal.connect(receiver, app)
    try:
        assert _call(app, _environ("GET", "/str"))[2] == "plain ü".encode()
    finally:
        signal.disconnect(receiver)  # from every sender: blinker then forgets it
    assert seen and all(s is app for s in seen)
    seen.clear()
    _call(app, _environ("GET", "/tuple"))
    assert seen == []


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


def test_request_inside_another_request_shares_its_app_context() -> None:
    app = Erlen(__name__)

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


def test_the_context_is_popped() -> None:
    app = _make_app(general=False)
    _call(app, _environ("GET", "/str"))
    assert not erlen.has_request_context() and not erlen.has_app_context()
    _call(app, _environ("GET", "/boom"))
    assert not erlen.has_request_context()


def test_uploaded_files_are_closed_after_the_request() -> None:
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


def test_a_preserved_context_stays_until_the_block_ends() -> None:
    app = _make_app(general=False)
    client = app.test_client()
    with client:
        assert client.get("/str").data == "plain ü".encode()
        assert request.path == "/str"
    assert not erlen.has_request_context()
    assert sys.exc_info() == (None, None, None)


def test_overridden_request_close_is_called() -> None:
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
def test_404s_answer_alike_with_and_without_hooks(variant: str, path: str) -> None:
    got = _call(_not_found_app(False, variant), _environ("GET", path))
    want = _call(_not_found_app(True, variant), _environ("GET", path))
    assert got == want
    if variant == "inspects":
        assert got[2] == b"True None"  # the handler saw the routing error on the request
    elif variant in ("raising-handler", "trap"):
        assert got[0] == "500 INTERNAL SERVER ERROR"
    else:
        assert got[0] == "404 NOT FOUND"


# -- replaced request-path methods are called, however they were replaced -----------------
_REPLACEABLE = [
    ("preprocess_request", ()),
    ("dispatch_request", ()),
    ("full_dispatch_request", ()),
    ("finalize_request", ("rv",)),
    ("make_response", ("rv",)),
    ("process_response", ("response",)),
    ("do_teardown_request", ("exc",)),
    ("do_teardown_appcontext", ("exc",)),
    ("app_context", ()),
    ("request_context", ("environ",)),
    ("create_url_adapter", ("request",)),
]


def _recording(calls: list[str], name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    def replacement(*args: Any, **kwargs: Any) -> Any:
        calls.append(name)
        return original(*args, **kwargs)

    return replacement


@pytest.mark.parametrize(("name", "_args"), _REPLACEABLE)
@pytest.mark.parametrize("how", ["subclass", "class-after-init", "instance", "instance-later"])
def test_a_replaced_request_path_method_is_called(name: str, _args: Any, how: str) -> None:
    """Each of Flask's overridable steps is called when replaced, also where the plan would
    skip its default (no hooks registered), and also when replaced after requests ran."""
    calls: list[str] = []
    cls: type[Erlen] = Erlen
    if how in ("subclass", "class-after-init"):
        cls = type("MyApp", (Erlen,), {})
        if how == "subclass":
            setattr(cls, name, _recording(calls, name, getattr(Erlen, name)))
    app = cls(__name__)
    app.add_url_rule("/", "index", lambda: "ok")
    if how == "class-after-init":
        setattr(cls, name, _recording(calls, name, getattr(Erlen, name)))
    if how == "instance-later":
        assert _call(app, _environ("GET", "/"))[2] == b"ok"  # the plan exists now
    if how.startswith("instance"):
        setattr(app, name, _recording(calls, name, getattr(app, name)))
    assert _call(app, _environ("GET", "/"))[2] == b"ok"
    assert name in calls


def test_an_app_without_hooks_skips_the_hook_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default steps with nothing to do are not called (what the plan is for); with a
    hook registered, they are."""
    from erlen.app.dispatch import RequestDispatch

    calls: list[str] = []
    names = ("preprocess_request", "process_response", "do_teardown_request")
    for name in names:  # spies as the defaults themselves: the plan sees nothing replaced
        monkeypatch.setattr(
            RequestDispatch, name, _recording(calls, name, getattr(RequestDispatch, name))
        )
    plain = Erlen(__name__)
    plain.add_url_rule("/", "index", lambda: "ok")
    assert _call(plain, _environ("GET", "/"))[2] == b"ok"
    assert calls == []
    hooked = Erlen(__name__)
    hooked.add_url_rule("/", "index", lambda: "ok")
    hooked.before_request(lambda: None)
    hooked.after_request(lambda r: r)
    hooked.teardown_request(lambda e: None)
    assert _call(hooked, _environ("GET", "/"))[2] == b"ok"
    assert calls == list(names)


def test_a_hook_registered_after_a_context_was_pushed_runs() -> None:
    """Setup is open until the first request; a context pushed before (test_request_context)
    builds the plan, and a later registration rebuilds it."""
    app = Erlen(__name__)
    app.add_url_rule("/", "index", lambda: "ok")
    with app.test_request_context("/"):
        pass
    seen: list[str] = []
    app.before_request(lambda: seen.append("before"))
    app.after_request(lambda r: seen.append("after") or r)
    assert _call(app, _environ("GET", "/"))[2] == b"ok"
    assert seen == ["before", "after"]
    with pytest.raises(AssertionError, match="can no longer be called"):
        app.before_request(lambda: None)


def _hook_order_app(mod: Any, log: list[str]) -> Any:
    """The same app in Flask and erlen: hooks of every kind on the app and nested blueprints."""
    app = mod.Flask("hook_order")
    outer = mod.Blueprint("outer", __name__)
    inner = mod.Blueprint("inner", __name__)

    def hooks(owner: Any, name: str) -> None:
        for i in (1, 2):
            owner.before_request(lambda i=i: log.append(f"before {name}{i}"))
            owner.after_request(lambda r, i=i: log.append(f"after {name}{i}") or r)
            owner.teardown_request(lambda e, i=i: log.append(f"teardown {name}{i}"))
            owner.url_value_preprocessor(
                lambda endpoint, values, i=i: log.append(f"urlvalue {name}{i} {endpoint}")
            )

    hooks(app, "app")
    hooks(outer, "outer")
    hooks(inner, "inner")
    inner.add_url_rule("/x", "x", lambda: "inner")
    outer.add_url_rule("/y", "y", lambda: "outer")
    outer.register_blueprint(inner, url_prefix="/in")
    app.register_blueprint(outer, url_prefix="/out")
    app.add_url_rule("/z", "z", lambda: "app")
    app.teardown_appcontext(lambda e: log.append("teardown appctx"))
    return app


@pytest.mark.parametrize("path", ["/out/in/x", "/out/y", "/z", "/missing"])
def test_hooks_run_in_flasks_order(path: str) -> None:
    import flask

    logs: dict[str, list[str]] = {}
    for mod in (flask, erlen):
        log: list[str] = logs.setdefault(mod.__name__, [])
        client = _hook_order_app(mod, log).test_client()
        for _ in range(2):  # the second request runs from the plan built by the first
            log.append(f"status {client.get(path).status_code}")
    assert logs["erlen"] == logs["flask"]
    assert len(logs["erlen"]) > 4


def test_async_views_run_inside_a_running_event_loop() -> None:
    """An app called from async code (its thread's loop is running) still runs its async
    views, which ``asyncio.run`` per call cannot do."""
    import asyncio

    app = Erlen(__name__)

    @app.route("/")
    async def index() -> str:
        await asyncio.sleep(0)
        return f"async {request.path}"

    async def main() -> bytes:
        return _call(app, _environ("GET", "/"))[2]

    assert asyncio.run(main()) == b"async /"


def test_async_views_reuse_their_threads_event_loop() -> None:
    import asyncio

    app = Erlen(__name__)
    loops: list[int] = []

    @app.route("/")
    async def index() -> str:
        loops.append(id(asyncio.get_running_loop()))
        return "ok"

    for _ in range(3):
        assert _call(app, _environ("GET", "/"))[2] == b"ok"
    assert len(set(loops)) == 1


def test_async_generator_body_inside_a_running_event_loop_sends_every_chunk() -> None:
    """Under WSGI, an async-generator body iterated by a server whose thread runs another
    loop (Playwright's sync API does) gives all its chunks, and closing it runs its finally;
    each chunk on a loop of its own ended the body after the first."""
    import asyncio

    app = Erlen(__name__)
    closed: list[bool] = []

    @app.route("/stream")
    def stream() -> Response:
        async def chunks() -> AsyncIterator[str]:
            try:
                for i in range(3):
                    await asyncio.sleep(0)
                    yield f"chunk {i}\n"
            finally:
                closed.append(True)

        return Response(chunks(), mimetype="text/plain")

    async def main() -> bytes:
        return _call(app, _environ("GET", "/stream"))[2]

    assert asyncio.run(main()) == b"chunk 0\nchunk 1\nchunk 2\n"
    assert closed == [True]
