"""The ASGI adapter: one app served by ASGI servers, async views on the server's loop."""

from __future__ import annotations

import asyncio
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from erlen import Erlen, g, request, session
from test_serving import Server, free_port, get, servers  # noqa: F401 (servers: a fixture)

httpx = pytest.importorskip("httpx")


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 20))


def client(app: Erlen) -> Any:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
def app() -> Erlen:
    app = Erlen(__name__)
    app.config.update(SECRET_KEY="test key")
    return app


def test_sync_and_async_views_answer_as_under_wsgi(app: Erlen) -> None:
    @app.get("/hello/<name>")
    def hello(name: str) -> str:
        return f"hello {name} {request.args.get('x')}"

    @app.post("/json")
    async def echo() -> Any:
        g.seen = request.get_json()
        await asyncio.sleep(0)
        return {"got": g.seen, "form": dict(request.form), "method": request.method}

    async def go() -> Any:
        async with client(app) as c:
            return await c.get("/hello/ann?x=1"), await c.post("/json", json={"a": [1, 2]})

    plain, posted = run(go())
    assert (plain.status_code, plain.text) == (200, "hello ann 1")
    assert plain.headers["content-type"] == "text/html; charset=utf-8"
    assert (posted.status_code, posted.json()) == (
        200,
        {"got": {"a": [1, 2]}, "form": {}, "method": "POST"},
    )
    wsgi = app.test_client().get("/hello/ann?x=1")
    assert (wsgi.status_code, wsgi.text) == (plain.status_code, plain.text)


def test_app_itself_is_an_asgi3_callable(app: Erlen) -> None:
    app.get("/")(lambda: "root")

    async def go() -> Any:
        transport = httpx.ASGITransport(app=app)  # app(scope, receive, send)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await c.get("/")

    assert run(go()).text == "root"


def test_forms_cookies_sessions_and_errors(app: Erlen) -> None:
    @app.post("/form")
    def form() -> str:
        session["n"] = session.get("n", 0) + 1
        return f"{request.form['a']} {request.cookies.get('c')} {session['n']}"

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret detail")

    async def go() -> Any:
        async with client(app) as c:
            c.cookies.set("c", "v")
            first = await c.post("/form", data={"a": "x y"})
            second = await c.post("/form", data={"a": "z"})
            return first, second, await c.get("/boom"), await c.get("/nope")

    first, second, boom_r, missing = run(go())
    assert first.text == "x y v 1"
    assert second.text == "z v 2"  # the session cookie came back through the adapter
    assert boom_r.status_code == 500 and "secret detail" not in boom_r.text
    assert missing.status_code == 404


def test_twenty_async_views_wait_together_on_the_server_loop(app: Erlen) -> None:
    barrier: dict[str, asyncio.Barrier] = {}

    @app.get("/wait")
    async def wait() -> str:
        # each view waits until all 20 are inside: they must be running at once
        await asyncio.wait_for(barrier["b"].wait(), 10)
        return "through"

    async def go() -> Any:
        barrier["b"] = asyncio.Barrier(20)
        async with client(app) as c:
            return await asyncio.gather(*(c.get("/wait") for _ in range(20)))

    assert [r.text for r in run(go())] == ["through"] * 20


def test_a_blocking_sync_view_does_not_block_the_loop(app: Erlen) -> None:
    released = threading.Event()

    @app.get("/block")
    def block() -> str:
        return "released" if released.wait(10) else "timed out"

    @app.get("/release")
    async def release() -> str:
        released.set()
        return "ok"

    async def go() -> Any:
        async with client(app) as c:
            blocked = asyncio.ensure_future(c.get("/block"))
            await asyncio.sleep(0.05)
            return await c.get("/release"), await blocked

    freed, blocked = run(go())
    assert (freed.text, blocked.text) == ("ok", "released")


async def _call(app: Any, scope: dict[str, Any], messages: list[dict[str, Any]]) -> list[Any]:
    sent: list[Any] = []
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for m in messages:
        queue.put_nowait(m)

    async def receive() -> dict[str, Any]:
        return await queue.get()

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and message.get("more_body"):
            queue.put_nowait({"type": "http.disconnect"})  # the client leaves after a chunk

    await app.asgi_app(scope, receive, send)
    return sent


def _scope(path: str, method: str = "GET", headers: list[Any] | None = None) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": headers or [(b"host", b"t")], "server": ("t", 80),
        "client": ("127.0.0.1", 5000),
    }  # fmt: skip


def test_a_stream_is_closed_when_the_client_goes_away(app: Erlen) -> None:
    finished: list[str] = []

    @app.get("/events")
    def events() -> Any:
        def gen() -> Any:
            try:
                for i in range(1000):
                    yield f"data: {i}\n\n"
            finally:
                finished.append("closed")

        return app.response_class(gen(), mimetype="text/event-stream")

    async def go() -> list[Any]:
        return await _call(app, _scope("/events"), [{"type": "http.request", "body": b""}])

    sent = run(go())
    bodies = [m for m in sent if m["type"] == "http.response.body"]
    assert sent[0]["status"] == 200
    assert (b"content-type", b"text/event-stream; charset=utf-8") in sent[0]["headers"]
    assert bodies[0]["body"] == b"data: 0\n\n"
    assert len(bodies) < 10  # stopped after the disconnect, not all 1000 events
    assert finished == ["closed"]


def test_body_over_max_content_length_is_413_without_reading_it(app: Erlen, caplog: Any) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 10
    calls: list[str] = []
    app.post("/up")(lambda: calls.append("view") or "ok")

    async def go(headers: list[Any], chunks: list[bytes]) -> list[Any]:
        messages = [
            {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
            for i, c in enumerate(chunks)
        ]
        return await _call(app, _scope("/up", "POST", headers), messages)

    declared = run(go([(b"host", b"t"), (b"content-length", b"1000")], [b"x" * 1000]))
    streamed = run(go([(b"host", b"t")], [b"x" * 6, b"x" * 6]))
    assert declared[0]["status"] == streamed[0]["status"] == 413
    assert calls == []
    assert "413 POST" in caplog.text


def test_lifespan_runs_before_and_after_serving_in_an_app_context(app: Erlen) -> None:
    seen: list[str] = []

    @app.before_serving
    async def open_pool() -> None:
        from erlen import current_app

        seen.append("start " + current_app.name)

    @app.after_serving
    def close_pool() -> None:
        seen.append("stop")

    async def go() -> list[Any]:
        sent: list[Any] = []
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        queue.put_nowait({"type": "lifespan.startup"})
        queue.put_nowait({"type": "lifespan.shutdown"})

        async def send(m: dict[str, Any]) -> None:
            sent.append(m["type"])

        await app.asgi_app({"type": "lifespan", "asgi": {"version": "3.0"}}, queue.get, send)
        return sent

    assert run(go()) == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert seen == ["start " + __name__, "stop"]


def test_failing_startup_is_reported_to_the_server(app: Erlen) -> None:
    @app.before_serving
    def broken() -> None:
        raise RuntimeError("no database")

    async def go() -> list[Any]:
        sent: list[Any] = []
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        queue.put_nowait({"type": "lifespan.startup"})

        async def send(m: dict[str, Any]) -> None:
            sent.append(m)

        await app.asgi_app({"type": "lifespan"}, queue.get, send)
        return sent

    assert run(go()) == [{"type": "lifespan.startup.failed", "message": "no database"}]


async def _ws(app: Any, path: str, incoming: list[dict[str, Any]], query: bytes = b"") -> list[Any]:
    """Run one websocket connection through ``app.asgi_app``: what the app sent."""
    sent: list[Any] = []
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for m in [{"type": "websocket.connect"}, *incoming]:
        queue.put_nowait(m)

    async def send(m: dict[str, Any]) -> None:
        sent.append(m)

    scope = {
        "type": "websocket", "asgi": {"version": "3.0"}, "scheme": "ws", "path": path,
        "raw_path": path.encode(), "query_string": query, "root_path": "",
        "headers": [(b"host", b"t"), (b"x-token", b"abc")], "server": ("t", 80),
        "client": ("127.0.0.1", 5000), "subprotocols": [],
    }  # fmt: skip
    await app.asgi_app(scope, queue.get, send)
    return sent


def test_websocket_echo_with_quarts_api(app: Erlen) -> None:
    from erlen import websocket

    @app.websocket("/ws/<room>")
    async def chat(room: str) -> None:
        await websocket.accept()
        g.user = websocket.headers["X-Token"]
        while True:
            data = await websocket.receive()
            await websocket.send(f"{room}/{g.user}/{websocket.args.get('v')}: {data}")

    sent = run(
        _ws(app, "/ws/blue", [
            {"type": "websocket.receive", "text": "hi"},
            {"type": "websocket.receive", "bytes": b"raw"},
            {"type": "websocket.disconnect", "code": 1001},
        ], query=b"v=2")
    )  # fmt: skip
    assert sent[0]["type"] == "websocket.accept"
    assert [m.get("text") for m in sent[1:3]] == ["blue/abc/2: hi", "blue/abc/2: b'raw'"]
    assert len(sent) == 3  # the client left: nothing more sent, no error logged


def test_websocket_close_codes_and_unknown_paths(app: Erlen, caplog: Any) -> None:
    from erlen import websocket

    @app.websocket("/deny")
    async def deny() -> None:
        await websocket.close(4003, "no")

    @app.websocket("/broken")
    async def broken() -> None:
        await websocket.send("first")
        raise RuntimeError("handler bug")

    assert run(_ws(app, "/deny", [])) == [{"type": "websocket.close", "code": 4003, "reason": "no"}]
    assert run(_ws(app, "/nope", [])) == [{"type": "websocket.close", "code": 1008}]
    broke = run(_ws(app, "/broken", []))
    assert [m["type"] for m in broke] == ["websocket.accept", "websocket.send", "websocket.close"]
    assert broke[-1]["code"] == 1011
    assert "handler bug" in caplog.text


def test_websocket_route_under_wsgi_is_426_never_a_hang(app: Erlen) -> None:
    @app.websocket("/ws")
    async def ws() -> None:
        raise AssertionError("not run under WSGI")

    plain = app.test_client().get("/ws")
    upgrade = app.test_client().get(
        "/ws", headers={"Upgrade": "websocket", "Connection": "Upgrade"}
    )
    assert plain.status_code == 400  # no upgrade asked: the rule is a websocket rule
    assert upgrade.status_code == 426
    assert "Upgrade" not in upgrade.headers  # hop-by-hop: a WSGI server would 500 on it


_SERVED = textwrap.dedent(
    """
    import asyncio
    from erlen import Erlen, request, websocket

    app = Erlen(__name__)
    state = []

    @app.before_serving
    def started():
        state.append("started")

    @app.get("/")
    async def index():
        await asyncio.sleep(0.01)
        return {"state": state, "q": request.args.get("q")}

    @app.post("/upload")
    def upload():
        return str(len(request.files["f"].read()))

    @app.post("/count")
    async def count():
        sizes = [len(chunk) async for chunk in request.stream]
        return {"bytes": sum(sizes), "chunks": len(sizes) > 1}

    @app.websocket("/ws")
    async def ws():
        while True:
            await websocket.send((await websocket.receive()).upper())
    """
)


@pytest.mark.parametrize(
    "server",
    [
        ["-m", "uvicorn", "--interface", "asgi3", "--port", "{port}", "served:app"],
        # hypercorn takes an app with a sync __call__ for WSGI: name the ASGI callable
        ["-m", "hypercorn", "--bind", "127.0.0.1:{port}", "served:app.asgi_app"],
        ["-m", "granian", "--interface", "asgi", "--port", "{port}", "served:app"],
    ],
    ids=["uvicorn", "hypercorn", "granian"],
)
def test_real_asgi_servers_serve_the_app(
    tmp_path: Path,
    servers: Any,  # noqa: F811 (the fixture)
    server: list[str],
) -> None:
    pytest.importorskip(server[1])
    (tmp_path / "served.py").write_text(_SERVED)
    port = free_port()
    proc: Server = servers([sys.executable, *(a.format(port=port) for a in server)], tmp_path)
    proc.wait_port(port, timeout=30)
    status, _headers, body = get(port, "/?q=x")
    assert (status, body) == (200, b'{"q":"x","state":["started"]}\n'), proc.output()
    files = {"f": ("a.bin", b"\0" * 300_000)}
    posted = httpx.post(f"http://127.0.0.1:{port}/upload", files=files, timeout=10)
    assert (posted.status_code, posted.text) == (200, "300000")
    # a long body streamed to an async view as it arrives (chunked: no Content-Length)
    parts = (b"x" * 65536 for _ in range(48))
    counted = httpx.post(f"http://127.0.0.1:{port}/count", content=parts, timeout=10)
    assert counted.json() == {"bytes": 48 * 65536, "chunks": True}, proc.output()
    from websockets.sync.client import connect  # a real WebSocket client, the real server

    with connect(f"ws://127.0.0.1:{port}/ws", open_timeout=10) as conn:
        conn.send("hello")
        assert conn.recv(timeout=10) == "HELLO"


def _async_events(app: Erlen, finished: list[str], count: int = 1000) -> None:
    @app.get("/aevents")
    def events() -> Any:
        async def gen() -> Any:
            try:
                for i in range(count):
                    await asyncio.sleep(0)
                    yield f"data: {i}\n\n"
            finally:
                finished.append("closed")

        return app.response_class(gen(), mimetype="text/event-stream")

    @app.get("/returned")
    async def returned() -> Any:
        async def gen() -> Any:
            yield "a"
            yield b"b"

        return gen()


def test_async_generator_bodies_stream_under_wsgi(app: Erlen) -> None:
    finished: list[str] = []
    _async_events(app, finished, count=3)
    client = app.test_client()
    assert client.get("/aevents").text == "data: 0\n\ndata: 1\n\ndata: 2\n\n"
    assert finished == ["closed"]
    assert client.get("/returned").text == "ab"


def test_async_generator_body_is_closed_when_the_asgi_client_leaves(app: Erlen) -> None:
    finished: list[str] = []
    _async_events(app, finished)

    sent = run(_call(app, _scope("/aevents"), [{"type": "http.request", "body": b""}]))
    bodies = [m for m in sent if m["type"] == "http.response.body"]
    assert bodies[0]["body"] == b"data: 0\n\n"
    assert len(bodies) < 10
    assert finished == ["closed"]


def test_background_task_runs_after_the_response_under_wsgi(app: Erlen) -> None:
    log: list[str] = []

    async def notify(who: str) -> None:
        await asyncio.sleep(0)
        log.append(f"task {who} {request.path}")

    @app.get("/signup")
    def signup() -> Any:
        app.add_background_task(notify, "ann")
        app.add_background_task(lambda: log.append("sync task"))
        log.append("view")
        return "ok"

    response = app.test_client().get("/signup")
    assert response.text == "ok" and log == ["view"]
    response.close()  # the server closes the body once it is sent: then the tasks run
    assert log == ["view", "task ann /signup", "sync task"]


def test_background_task_runs_after_the_asgi_response_is_sent(app: Erlen) -> None:
    order: list[str] = []

    @app.get("/later")
    def later() -> Any:
        app.add_background_task(lambda: order.append("task"))
        return "ok"

    async def go() -> None:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        queue.put_nowait({"type": "http.request", "body": b""})

        async def send(m: dict[str, Any]) -> None:
            order.append(m["type"])

        await app.asgi_app(_scope("/later"), queue.get, send)

    run(go())
    assert order[0] == "http.response.start" and order[-1] == "task"
    assert set(order[1:-1]) == {"http.response.body"}


def test_background_task_from_lifespan_is_awaited_at_shutdown(app: Erlen, caplog: Any) -> None:
    done: list[str] = []

    async def warm() -> None:
        await asyncio.sleep(0.01)
        done.append("warmed")

    async def broken() -> None:
        raise RuntimeError("task bug")

    @app.before_serving
    async def start() -> None:
        app.add_background_task(warm)
        app.add_background_task(broken)

    async def go() -> list[str]:
        sent: list[str] = []
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        queue.put_nowait({"type": "lifespan.startup"})
        queue.put_nowait({"type": "lifespan.shutdown"})

        async def send(m: dict[str, Any]) -> None:
            sent.append(m["type"])

        await app.asgi_app({"type": "lifespan"}, queue.get, send)
        return sent

    assert run(go()) == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert done == ["warmed"]
    assert "task bug" in caplog.text


@pytest.mark.parametrize("server", ["auto", "granian"])
def test_erlen_serve_asgi_serves_http_and_websockets(
    tmp_path: Path,
    servers: Any,  # noqa: F811 (the fixture)
    server: str,
) -> None:
    pytest.importorskip("uvicorn" if server == "auto" else server)
    (tmp_path / "served.py").write_text(_SERVED)
    port = free_port()
    args = [sys.executable, "-m", "erlen", "--app", "served:app", "serve", "--asgi", server]
    proc: Server = servers([*args, "--port", str(port)], tmp_path)
    proc.wait_port(port, timeout=30)
    status, _headers, body = get(port, "/?q=y")
    assert (status, body) == (200, b'{"q":"y","state":["started"]}\n'), proc.output()
    from websockets.sync.client import connect

    with connect(f"ws://127.0.0.1:{port}/ws", open_timeout=10) as conn:
        conn.send("abc")
        assert conn.recv(timeout=10) == "ABC"


def test_async_views_run_on_the_loop_thread_and_sync_views_in_workers(app: Erlen) -> None:
    seen: dict[str, str] = {}

    @app.before_request
    def note_hook() -> None:
        seen[request.path + " hook"] = threading.current_thread().name

    @app.get("/a")
    async def a() -> str:
        seen["/a"] = threading.current_thread().name
        g.x = "async"
        await asyncio.sleep(0)
        return g.x + " " + request.path

    @app.get("/s")
    def s() -> str:
        seen["/s"] = threading.current_thread().name
        return "sync"

    async def go() -> Any:
        async with client(app) as c:
            return (await c.get("/a")).text, (await c.get("/s")).text

    assert run(go()) == ("async /a", "sync")
    assert seen["/a"] == seen["/a hook"] == "MainThread"
    assert seen["/s"].startswith("erlen-asgi") and seen["/s hook"] == seen["/s"]


def test_wsgi_middleware_wrapping_wsgi_app_also_applies_under_asgi(app: Erlen) -> None:
    """``app.wsgi_app = Middleware(app.wsgi_app)``: the ASGI adapter calls the wrapped one,
    for whole answers, streamed ones and the legacy ``write()`` callable."""

    @app.get("/whole")
    async def whole() -> str:
        return "whole"

    @app.get("/streamed")
    def streamed() -> Any:
        return app.response_class(iter(["a", "b"]), mimetype="text/plain")

    inner = app.wsgi_app

    def middleware(environ: dict[str, Any], start_response: Any) -> Any:
        def tagged(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, [*headers, ("X-Middleware", "yes")], exc_info)

        if environ["PATH_INFO"] == "/legacy":
            write = start_response("200 OK", [("Content-Type", "text/plain")])
            write(b"written ")
            return [b"then returned"]
        return inner(environ, tagged)

    app.wsgi_app = middleware  # type: ignore[method-assign]

    async def go() -> Any:
        async with client(app) as c:
            return [await c.get(p) for p in ("/whole", "/streamed", "/legacy")]

    whole_rv, streamed_rv, legacy = run(go())
    assert (whole_rv.text, whole_rv.headers["x-middleware"]) == ("whole", "yes")
    assert (streamed_rv.text, streamed_rv.headers["x-middleware"]) == ("ab", "yes")
    assert (legacy.status_code, legacy.text) == (200, "written then returned")
