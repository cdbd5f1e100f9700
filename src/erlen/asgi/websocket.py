"""WebSocket connections with Quart's API: ``@app.websocket(rule)`` and ``websocket``.

Inside a websocket handler (an ``async def`` registered with ``app.websocket``) the
``websocket`` proxy is the connection: ``await websocket.receive()`` (``str`` or ``bytes``),
``await websocket.send(data)``, ``receive_json``/``send_json``, ``await websocket.accept()``
(implicit on the first send or receive), ``await websocket.close(code)``, and the request's
``args``, ``headers``, ``path``, ``scheme`` and ``requested_subprotocols``. The app context and
a request context (``request``, ``g``, ``session``, ``url_for``) are pushed around the handler.

``@app.websocket`` and ``@bp.websocket`` register handlers (blueprint prefixes and names
apply; ``url_for("bp.ws", _external=True)`` gives the ``ws://`` URL). ``before_websocket``
hooks (app, blueprint, ``bp.before_app_websocket``) run before the handler, after the URL value
preprocessors; one that returns a value refuses the handshake with that response.
``after_websocket(response)`` hooks run when the handler has returned. A handler that raises
is logged and the connection closed with 1011.

Served under ASGI only; under WSGI the route answers 426 Upgrade Required.
"""

from __future__ import annotations

import inspect
import json
import typing as t
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar

from ..globals import LocalProxy

if t.TYPE_CHECKING:
    from ..http.headers import Headers
    from ..http.multidict import MultiDict

Message = MutableMapping[str, t.Any]

__all__ = ["WebSocket", "WebSocketDisconnect", "has_websocket_context", "websocket"]


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


def has_websocket_context() -> bool:
    """True inside a websocket handler (and its hooks): ``websocket`` is bound."""
    return _cv_websocket.get(None) is not None


async def _call(func: Callable[..., t.Any], *args: t.Any) -> t.Any:
    rv = func(*args)
    if inspect.isawaitable(rv):
        rv = await rv
    return rv


async def _refuse(app: t.Any, ws: WebSocket, rv: t.Any) -> None:
    """Refuse the handshake with the response ``rv`` when the server can send one (the ASGI
    ``websocket.http.response`` extension), else with a close (the client sees HTTP 403)."""
    if "websocket.http.response" not in (ws.scope.get("extensions") or {}):
        await ws.close(1008)
        return
    await ws._await_connect()
    response = app.make_response(rv)
    ws.closed = True
    await ws._send(
        {
            "type": "websocket.http.response.start",
            "status": response.status_code,
            "headers": [
                (k.lower().encode("latin-1"), v.encode("latin-1"))
                for k, v in response.headers.items()
            ],
        }
    )
    await ws._send({"type": "websocket.http.response.body", "body": response.get_data()})


async def serve(
    app: t.Any,
    scope: MutableMapping[str, t.Any],
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    """One ASGI websocket connection: match the handshake to a websocket rule, run the hooks
    and the handler on the loop inside a request context (``request``, ``g``, ``session``)."""
    from .environ import EMPTY_BODY, build_environ, set_body

    headers = list(scope.get("headers", ()))
    names = {name.lower() for name, _value in headers}
    if b"upgrade" not in names:
        headers.append((b"upgrade", b"websocket"))
    if b"connection" not in names:
        headers.append((b"connection", b"upgrade"))
    http_scope = {**scope, "method": "GET", "headers": headers}
    http_scope["scheme"] = "https" if scope.get("scheme", "ws") == "wss" else "http"
    environ = build_environ(http_scope)[0]
    set_body(environ, EMPTY_BODY, 0)
    ctx = app.request_context(environ)
    ctx.push()
    token = None
    try:
        request = ctx.request
        view = None
        if request.routing_exception is None and request.url_rule is not None:
            view = app.view_functions.get(request.url_rule.endpoint)
        handler = getattr(view, "websocket_handler", None)
        if handler is None:
            app.logger.warning("websocket %r: no websocket route", scope.get("path", ""))
            await send({"type": "websocket.close", "code": 1008})
            return
        endpoint = request.url_rule.endpoint
        ws = WebSocket(scope, receive, send, request.args, request.headers)
        token = set_current(ws)
        names_in = (None, *reversed(request.blueprints))
        try:
            for name in names_in:
                for func in app.url_value_preprocessors.get(name, ()):
                    func(endpoint, request.view_args)
            for name in names_in:
                for func in app.before_websocket_funcs.get(name, ()):
                    refused = await _call(func)
                    if refused is not None:
                        await _refuse(app, ws, refused)
                        return
            rv = await handler(**(request.view_args or {}))
        except WebSocketDisconnect:
            rv = None
        except Exception:
            app.logger.exception("websocket handler %r failed", endpoint)
            if not ws.closed:
                await ws.close(1011)
            return
        if rv is not None and not ws.accepted and not ws.closed:
            await _refuse(app, ws, rv)  # Quart: a handler's response before accept refuses
            rv = None
        try:
            response = app.make_response(rv) if rv is not None else None
            for name in (*request.blueprints, None):
                for func in reversed(app.after_websocket_funcs.get(name, ())):
                    response = await _call(func, response)
        except Exception:
            app.logger.exception("after_websocket of %r failed", endpoint)
            if not ws.closed:
                await ws.close(1011)
            return
        if not ws.closed:
            await ws.close(1000)
    finally:
        if token is not None:
            reset_current(token)
        ctx.pop()
