"""WebSockets on blueprints, Quart's websocket hooks, url_for and context globals."""

from __future__ import annotations

from typing import Any

import pytest

from erlen import Blueprint, Erlen, g, request, url_for, websocket
from erlen.asgi.websocket import has_websocket_context
from erlen.testing import WebSocketClosed


@pytest.fixture
def app() -> Erlen:
    app = Erlen(__name__)
    app.config.update(SECRET_KEY="test key")
    return app


def test_blueprint_websocket_with_prefix_hooks_and_url_for(app: Erlen) -> None:
    order: list[str] = []
    bp = Blueprint("chat", __name__, url_prefix="/chat")

    @app.before_websocket
    def app_before() -> None:
        order.append("app before")
        g.user = request.args.get("user", "anon")

    @bp.before_websocket
    async def bp_before() -> None:
        order.append(f"bp before {has_websocket_context()}")

    @bp.after_websocket
    def bp_after(response: Any) -> Any:
        order.append(f"bp after {response}")
        return response

    @app.after_websocket
    async def app_after(response: Any) -> Any:
        order.append("app after")
        return response

    @bp.websocket("/room/<name>")
    async def room(name: str) -> None:
        await websocket.send(
            f"{name} {g.user} {request.blueprint} {request.endpoint} "
            f"{url_for('chat.room', name='x')} {url_for('chat.room', name='y', _external=True)}"
        )
        await websocket.receive()

    app.register_blueprint(bp)
    with app.test_client().websocket_connect("/chat/room/blue?user=ann") as ws:
        assert ws.receive_text() == (
            "blue ann chat chat.room ws://localhost/chat/room/x ws://localhost/chat/room/y"
        )
        ws.send_text("done")
    assert order == ["app before", "bp before True", "bp after None", "app after"]
    assert not has_websocket_context()
    with app.test_request_context():
        assert url_for("chat.room", name="z") == "ws://localhost/chat/room/z"
    # the same rule over plain HTTP: 400 (a websocket rule); an upgrade under WSGI: 426
    assert app.test_client().get("/chat/room/blue").status_code == 400
    upgrade = {"Upgrade": "websocket", "Connection": "Upgrade"}
    assert app.test_client().get("/chat/room/blue", headers=upgrade).status_code == 426


def test_blueprint_hooks_apply_only_to_their_blueprint_and_app_hooks_to_all(app: Erlen) -> None:
    seen: list[str] = []
    bp = Blueprint("bp", __name__)
    other = Blueprint("other", __name__, url_prefix="/other")

    @bp.before_websocket
    def only_bp() -> None:
        seen.append("bp hook")

    @bp.before_app_websocket
    def every() -> None:
        seen.append("app-wide hook")

    @bp.websocket("/a")
    async def a() -> None:
        await websocket.send("a")

    @other.websocket("/b", endpoint="bee")
    async def b() -> None:
        await websocket.send("b")

    app.register_blueprint(bp)
    app.register_blueprint(other)
    client = app.test_client()
    with client.websocket_connect("/other/b") as ws:
        assert ws.receive_text() == "b"
    assert seen == ["app-wide hook"]
    with client.websocket_connect("/a") as ws:
        assert ws.receive_text() == "a"
    assert seen == ["app-wide hook", "app-wide hook", "bp hook"]
    with app.test_request_context():
        assert url_for("other.bee") == "ws://localhost/other/b"


def test_nested_blueprint_websocket_and_url_value_preprocessor(app: Erlen) -> None:
    parent = Blueprint("parent", __name__, url_prefix="/<lang>")
    child = Blueprint("child", __name__, url_prefix="/live")

    @parent.url_value_preprocessor
    def pull_lang(endpoint: str | None, values: dict[str, Any] | None) -> None:
        g.lang = values.pop("lang") if values else None

    @child.websocket("/feed")
    async def feed() -> None:  # lang was taken by the preprocessor
        await websocket.send(f"{g.lang} {request.endpoint}")

    parent.register_blueprint(child)
    app.register_blueprint(parent)
    with app.test_client().websocket_connect("/de/live/feed") as ws:
        assert ws.receive_text() == "de parent.child.feed"


def test_errors_in_hooks_and_handlers_close_1011_with_a_log_line(app: Erlen, caplog: Any) -> None:
    bp = Blueprint("bp", __name__)

    @bp.before_websocket
    def broken_hook() -> None:
        if request.args.get("fail") == "hook":
            raise RuntimeError("hook bug")

    @bp.after_websocket
    def broken_after(response: Any) -> Any:
        if request.args.get("fail") == "after":
            raise RuntimeError("after bug")
        return response

    @bp.websocket("/ws")
    async def ws_view() -> None:
        await websocket.accept()
        if request.args.get("fail") == "handler":
            raise KeyError("handler bug")

    app.register_blueprint(bp)
    client = app.test_client()
    for fail in ("hook", "handler", "after"):
        caplog.clear()
        with pytest.raises(WebSocketClosed) as closed:  # noqa: SIM117
            with client.websocket_connect(f"/ws?fail={fail}") as ws:
                ws.receive_text()
        assert closed.value.code == 1011, fail
        assert f"{fail} bug" in caplog.text
        assert "'bp.ws_view' failed" in caplog.text


def test_handler_returning_a_response_before_accept_refuses_with_it(app: Erlen) -> None:
    from erlen.testing import WebSocketDenied

    @app.websocket("/ws")
    async def ws_view() -> Any:
        if request.args.get("ok") != "1":
            return {"error": "bad token"}, 403
        await websocket.send("in")
        return None

    client = app.test_client()
    with pytest.raises(WebSocketDenied) as denied, client.websocket_connect("/ws"):
        pass
    assert denied.value.status_code == 403
    assert denied.value.body == b'{"error":"bad token"}\n'
    with client.websocket_connect("/ws?ok=1") as ws:
        assert ws.receive_text() == "in"
