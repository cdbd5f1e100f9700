"""`erlen run` serves WebSockets (ASGI under uvicorn, reloader and debug page kept), tested
through a real subprocess and a real WebSocket client (``websockets``)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from test_serving import Server, edit_until, free_port, get, servers, wait_output  # noqa: F401

pytest.importorskip("uvicorn")
ws_client = pytest.importorskip("websockets.sync.client")

ERLEN = [sys.executable, "-m", "erlen"]

APP = textwrap.dedent(
    """
    from erlen import Blueprint, Erlen, request, websocket

    app = Erlen(__name__)
    bp = Blueprint("live", __name__, url_prefix="/live")

    @bp.before_websocket
    def auth():
        if request.args.get("token") != "ok":
            return "token needed", 401

    @bp.websocket("/echo")
    async def echo():
        while True:
            await websocket.send("{marker} " + await websocket.receive())

    app.register_blueprint(bp)

    @app.get("/")
    def index():
        return "{marker}"

    @app.get("/boom")
    def boom():
        local_value = "visible"
        return 1 / 0
    """
)


def _write(folder: Path, marker: str) -> Path:
    path = folder / "app.py"
    path.write_text(APP.format(marker=marker))
    return path


def _echo(port: int, text: str) -> str:
    url = f"ws://127.0.0.1:{port}/live/echo?token=ok"
    with ws_client.connect(url, open_timeout=10) as conn:
        conn.send(text)
        return str(conn.recv(timeout=10))


def test_erlen_run_serves_websockets_under_asgi(tmp_path: Path, servers: Any) -> None:  # noqa: F811
    _write(tmp_path, "v1")
    port = free_port()
    server: Server = servers([*ERLEN, "--app", "app.py", "run", "--no-debug", "-p", str(port)], tmp_path)  # fmt: skip
    server.wait_port(port, timeout=30)
    assert get(port, "/")[:3:2] == (200, b"v1")
    assert _echo(port, "hi") == "v1 hi"
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus) as refused:  # before_websocket's response, over HTTP
        ws_client.connect(f"ws://127.0.0.1:{port}/live/echo", open_timeout=10)
    assert refused.value.response.status_code == 401
    assert refused.value.response.body == b"token needed"
    status, _headers, body = get(port, "/boom")
    assert status == 500 and b"visible" not in body  # debug off: a plain 500
    out = server.output()
    assert "serving under ASGI (uvicorn)" in out
    assert "ZeroDivisionError" in out  # the traceback is logged


def test_erlen_run_debug_reloads_and_shows_the_debug_page_under_asgi(
    tmp_path: Path,
    servers: Any,  # noqa: F811
) -> None:
    app_file = _write(tmp_path, "v1")
    port = free_port()
    server: Server = servers([*ERLEN, "--app", "app.py", "--debug", "run", "-p", str(port)], tmp_path)  # fmt: skip
    server.wait_port(port, timeout=30)
    wait_output(server, "serving under ASGI", timeout=30)
    assert _echo(port, "a") == "v1 a"
    status, _headers, page = get(port, "/boom")
    assert status == 500 and b"ZeroDivisionError" in page and b"visible" in page
    edit_until(server, port, "/", lambda: _write(tmp_path, "v2"), lambda r: r[2] == b"v2", "v2")
    assert _echo(port, "b") == "v2 b"
    assert app_file.exists() and "Detected change in 'app.py'" in server.output()


def test_erlen_run_wsgi_flag_keeps_waitress_and_upgrades_get_426(
    tmp_path: Path,
    servers: Any,  # noqa: F811
) -> None:
    _write(tmp_path, "v1")
    port = free_port()
    server: Server = servers([*ERLEN, "--app", "app.py", "run", "--wsgi", "--no-debug", "-p", str(port)], tmp_path)  # fmt: skip
    server.wait_port(port, timeout=30)
    status, headers, _body = get(
        port, "/live/echo", headers={"Upgrade": "websocket", "Connection": "Upgrade"}
    )
    assert status == 426, server.output()  # not waitress's 500 for a hop-by-hop header
    assert "serving under ASGI" not in server.output()
