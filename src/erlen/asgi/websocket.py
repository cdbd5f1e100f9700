"""WebSocket connections with Quart's API: ``@app.websocket(rule)`` and ``websocket``.

Inside a websocket handler (an ``async def`` registered with ``app.websocket``) the
``websocket`` proxy is the connection: ``await websocket.receive()`` (``str`` or ``bytes``),
``await websocket.send(data)``, ``receive_json``/``send_json``, ``await websocket.accept()``
(implicit on the first send or receive), ``await websocket.close(code)``, and the request's
``args``, ``headers``, ``path``, ``scheme`` and ``requested_subprotocols``. The app context and
a request context (``request``, ``g``, ``session``, ``url_for``) are pushed around the handler.

Served under ASGI only; under WSGI the route answers 426 Upgrade Required.
"""

from __future__ import annotations

import json
import typing as t
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar

from ..globals import LocalProxy

if t.TYPE_CHECKING:
    from ..http.headers import Headers
    from ..http.multidict import MultiDict

Message = MutableMapping[str, t.Any]

__all__ = ["WebSocket", "WebSocketDisconnect", "websocket"]


class WebSocketDisconnect(Exception):
    """The client closed the connection (``code`` is its close code)."""

    def __init__(self, code: int = 1000) -> None:
        super().__init__(f"websocket closed by the client with code {code}")
        self.code = code


class WebSocket:
    """One WebSocket connection, over an ASGI ``websocket`` scope."""

    def __init__(
        self,
        scope: MutableMapping[str, t.Any],
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
        args: MultiDict,
        headers: Headers,
    ) -> None:
        self.scope = scope
        self._receive = receive
        self._send = send
        self.args = args
        self.headers = headers
        self.path: str = scope.get("path", "/")
        self.scheme: str = scope.get("scheme", "ws")
        self.requested_subprotocols: list[str] = list(scope.get("subprotocols", ()))
        self.accepted = False
        self.closed = False
        self._connected = False

    async def _await_connect(self) -> None:
        if not self._connected:
            message = await self._receive()
            if message["type"] == "websocket.disconnect":
                self.closed = True
                raise WebSocketDisconnect(message.get("code", 1000))
            self._connected = True

    async def accept(
        self, headers: t.Mapping[str, str] | None = None, subprotocol: str | None = None
    ) -> None:
        """Complete the handshake (done by the first ``send`` or ``receive`` otherwise)."""
        if self.accepted:
            return
        await self._await_connect()
        message: Message = {"type": "websocket.accept", "subprotocol": subprotocol}
        if headers:
            message["headers"] = [
                (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()
            ]
        await self._send(message)
        self.accepted = True

    async def receive(self) -> str | bytes:
        """The next message; raises :class:`WebSocketDisconnect` when the client has gone."""
        await self.accept()
        message = await self._receive()
        if message["type"] == "websocket.disconnect":
            self.closed = True
            raise WebSocketDisconnect(message.get("code", 1000))
        text = message.get("text")
        return text if text is not None else message.get("bytes", b"")

    async def send(self, data: str | bytes) -> None:
        """Send a text (``str``) or binary (``bytes``) message."""
        await self.accept()
        if isinstance(data, str):
            await self._send({"type": "websocket.send", "text": data})
        else:
            await self._send({"type": "websocket.send", "bytes": bytes(data)})

    async def receive_json(self) -> t.Any:
        data = await self.receive()
        return json.loads(data)

    async def send_json(self, data: t.Any) -> None:
        await self.send(json.dumps(data))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection (before ``accept`` this refuses the handshake: HTTP 403)."""
        if self.closed:
            return
        if not self.accepted:
            await self._await_connect()
        self.closed = True
        await self._send({"type": "websocket.close", "code": code, "reason": reason})


_cv_websocket: ContextVar[WebSocket] = ContextVar("erlen.websocket")

#: The current WebSocket connection (inside a handler registered with ``app.websocket``).
websocket: WebSocket = LocalProxy(  # type: ignore[assignment]
    _cv_websocket, unbound_message="Working outside of a websocket handler."
)


def set_current(ws: WebSocket) -> t.Any:
    """Make ``ws`` the ``websocket`` of this context; returns the token to reset it."""
    return _cv_websocket.set(ws)


def reset_current(token: t.Any) -> None:
    _cv_websocket.reset(token)
