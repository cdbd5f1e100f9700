"""erlen.testing.ASGIClient and websocket_connect: in-process tests through app.asgi_app."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from erlen import Erlen, g, redirect, request, session, websocket
from erlen.testing import ASGIClient, WebSocketClosed, WebSocketDenied


@pytest.fixture
def app() -> Erlen:
    app = Erlen(__name__)
    app.config.update(SECRET_KEY="test key")
    return app


def test_asgi_client_answers_as_the_wsgi_client(app: Erlen) -> None:
    @app.get("/hello/<name>")
    async def hello(name: str) -> Any:
        await asyncio.sleep(0)
        return {"name": name, "q": request.args.get("q"), "thread": threading.current_thread().name}

    @app.post("/form")
    def form() -> str:
        upload = request.files["f"]
        return f"{request.form['a']} {upload.filename} {len(upload.read())}"

    client = ASGIClient(app)
    hello_r = client.get("/hello/ann?q=1")
    assert hello_r.status_code == 200 and hello_r.status == "200 OK"
    assert hello_r.json["name"] == "ann" and hello_r.json["q"] == "1"
    assert hello_r.json["thread"] == "erlen-test-loop"  # an async view: on the server loop
    assert hello_r.headers["Content-Type"] == "application/json"
    import io

    posted = client.post("/form", data={"a": "x", "f": (io.BytesIO(b"\0" * 200_000), "b.bin")})
    assert (posted.status_code, posted.text) == (200, "x b.bin 200000")
    wsgi = app.test_client().get("/hello/ann?q=1")
    assert wsgi.json["name"] == hello_r.json["name"]


def test_asgi_client_keeps_cookies_and_follows_redirects(app: Erlen) -> None:
    @app.get("/login")
    def login() -> Any:
        session["user"] = "ann"
        return redirect("/me")

    @app.get("/me")
    async def me() -> str:
        return f"user={session.get('user')} path={request.path}"

    client = ASGIClient(app)
    response = client.get("/login", follow_redirects=True)
    assert response.text == "user=ann path=/me"
    assert [r.status_code for r in response.history] == [302]
    assert client.get_cookie("session") is not None


def test_asgi_client_errors_are_responses_not_exceptions(app: Erlen) -> None:
    @app.get("/boom")
    async def boom() -> str:
        raise RuntimeError("secret detail")

    client = ASGIClient(app)
    assert client.get("/nope").status_code == 404
    response = client.get("/boom")
    assert response.status_code == 500 and "secret detail" not in response.text


def test_with_asgi_client_runs_the_lifespan(app: Erlen) -> None:
    events: list[str] = []
    app.before_serving(lambda: events.append("start"))
    app.after_serving(lambda: events.append("stop"))
    app.get("/")(lambda: ",".join(events))

    with ASGIClient(app) as client:
        assert client.get("/").text == "start"
    assert events == ["start", "stop"]


def test_failing_startup_fails_the_with_block(app: Erlen) -> None:
    @app.before_serving
    def broken() -> None:
        raise RuntimeError("no database")

    with pytest.raises(RuntimeError, match="lifespan startup failed: no database"):  # noqa: SIM117
        with ASGIClient(app):
            pass


def _echo_app(app: Erlen) -> None:
    @app.websocket("/ws/<room>")
    async def chat(room: str) -> None:
        wanted = websocket.requested_subprotocols
        await websocket.accept(
            headers={"X-Room": room}, subprotocol="chat" if "chat" in wanted else None
        )
        g.who = session.get("user", "anon")
        while True:
            data = await websocket.receive()
            if data == "bye":
                await websocket.close(4001, "see you")
                return
            if isinstance(data, bytes):
                await websocket.send(data[::-1])
            elif data.startswith("{"):
                import json

                await websocket.send_json({"got": json.loads(data), "room": room})
            else:
                await websocket.send(f"{room}/{g.who}/{websocket.headers.get('X-Token')}: {data}")


@pytest.mark.parametrize("kind", ["wsgi client", "asgi client"])
def test_websocket_connect_sends_and_receives(app: Erlen, kind: str) -> None:
    _echo_app(app)

    @app.get("/login")
    def login() -> str:
        session["user"] = "ann"
        return "ok"

    client = app.test_client() if kind == "wsgi client" else ASGIClient(app)
    client.get("/login")  # the session cookie goes with the handshake
    with client.websocket_connect(
        "/ws/blue", subprotocols=["chat"], headers={"X-Token": "t1"}
    ) as ws:
        assert ws.accepted_subprotocol == "chat"
        assert ("x-room", "blue") in ws.extra_headers
        ws.send_text("hi")
        assert ws.receive_text() == "blue/ann/t1: hi"
        ws.send_bytes(b"abc")
        assert ws.receive_bytes() == b"cba"
        ws.send_json({"n": 1})
        assert ws.receive_json() == {"got": {"n": 1}, "room": "blue"}
        ws.send_text("bye")
        with pytest.raises(WebSocketClosed) as closed:
            ws.receive_text()
    assert (closed.value.code, closed.value.reason) == (4001, "see you")
    assert ws.close_code == 4001


def test_websocket_refused_and_unknown_paths_raise_with_the_close_code(
    app: Erlen, caplog: Any
) -> None:
    @app.websocket("/deny")
    async def deny() -> None:
        await websocket.close(4003, "no")

    client = app.test_client()
    with pytest.raises(WebSocketClosed) as refused, client.websocket_connect("/deny"):
        pass
    assert (refused.value.code, refused.value.reason) == (4003, "no")
    with pytest.raises(WebSocketClosed) as unknown, client.websocket_connect("/nope"):
        pass
    assert unknown.value.code == 1008
    assert "websocket '/nope': no websocket route" in caplog.text


def test_websocket_handler_error_closes_1011_and_logs(app: Erlen, caplog: Any) -> None:
    @app.websocket("/broken")
    async def broken() -> None:
        await websocket.send("first")
        await websocket.receive()
        raise RuntimeError("handler bug")

    with app.test_client().websocket_connect("/broken") as ws:
        assert ws.receive_text() == "first"
        ws.send_text("go")
        with pytest.raises(WebSocketClosed) as closed:
            ws.receive_text()
    assert closed.value.code == 1011
    assert "websocket handler 'broken' failed" in caplog.text
    assert "handler bug" in caplog.text


def test_client_close_reaches_the_handler(app: Erlen) -> None:
    seen: list[Any] = []

    @app.websocket("/ws")
    async def ws_view() -> None:
        from erlen.asgi.websocket import WebSocketDisconnect

        try:
            await websocket.receive()
        except WebSocketDisconnect as gone:
            seen.append(gone.code)
            raise

    with app.test_client().websocket_connect("/ws") as ws:
        ws.close(4100)
    assert seen == [4100]


def test_a_silent_handler_times_out_instead_of_hanging(app: Erlen) -> None:
    @app.websocket("/silent")
    async def silent() -> None:
        await websocket.accept()
        await asyncio.sleep(5)

    client = ASGIClient(app, timeout=0.2)
    with pytest.raises(TimeoutError, match="sent nothing within 0.2 s"):  # noqa: SIM117
        with client.websocket_connect("/silent") as ws:
            ws.receive_text()


def test_before_websocket_response_refuses_with_http_status(app: Erlen) -> None:
    @app.before_websocket
    def auth() -> Any:
        if request.args.get("token") != "ok":
            return "go away", 401

    @app.websocket("/ws")
    async def ws_view() -> None:
        await websocket.send("welcome")

    client = app.test_client()
    with pytest.raises(WebSocketDenied) as denied, client.websocket_connect("/ws"):
        pass
    assert (denied.value.status_code, denied.value.body) == (401, b"go away")
    with client.websocket_connect("/ws?token=ok") as ws:
        assert ws.receive_text() == "welcome"


def test_percent_encoded_and_non_ascii_paths_route_as_under_wsgi():
    """PATH_INFO is the decoded path (ASGI's ``path``), not the still-encoded ``raw_path``."""
    app = Erlen(__name__)

    @app.get("/files/<name>")
    def files(name: str) -> str:
        return name

    for url, expected in (("/files/a%20b", "a b"), ("/files/caf%C3%A9", "café")):
        under_asgi = ASGIClient(app).get(url)
        under_wsgi = app.test_client().get(url)
        assert (under_asgi.status_code, under_asgi.text) == (200, expected)
        assert (under_wsgi.status_code, under_wsgi.text) == (200, expected)
