"""Testing through ``app.asgi_app`` in-process: ``ASGIClient`` and ``websocket_connect``.

``ASGIClient(app)`` is the test client (same arguments, cookies, redirects, ``TestResponse``)
whose requests go through the ASGI adapter instead of ``wsgi_app``: the environ the builder
makes becomes an ASGI scope plus ``http.request`` messages, the app runs on an event loop in a
background thread (the one a server would give it: async views on the loop, sync views in the
adapter's worker threads), and the response messages become the test response. ``with
ASGIClient(app) as client:`` also runs the lifespan (``before_serving``/``after_serving``).

``client.websocket_connect(path)`` (on ``app.test_client()`` and ``ASGIClient``) opens a
WebSocket session with Starlette's TestClient's shape: ``send_text``/``send_bytes``/
``send_json``, ``receive_text``/``receive_bytes``/``receive_json``, ``close``. When the
server closes (or refuses) the connection, ``receive_*`` and the ``with`` block raise
:class:`WebSocketClosed` with the close ``code`` and ``reason``; a handler that sends nothing
within ``timeout`` seconds raises ``TimeoutError`` instead of hanging the test.
"""

from __future__ import annotations

import asyncio
import json
import queue
import threading
import typing as t
from concurrent.futures import Future
from urllib.parse import quote

from ..asgi.websocket import WebSocketDisconnect
from ..status import HTTP_STATUS_CODES

if t.TYPE_CHECKING:
    from .asgi_client import ASGIClient

__all__ = ["WebSocketClosed", "WebSocketDenied", "WebSocketTestSession"]

Message = dict[str, t.Any]

#: Seconds a test waits for the app before failing (never a hung test run).
DEFAULT_TIMEOUT = 30.0
_CHUNK = 64 * 1024


class WebSocketClosed(WebSocketDisconnect):
    """The server closed the test WebSocket (or refused the handshake): ``code``, ``reason``."""

    def __init__(self, code: int = 1000, reason: str = "") -> None:
        super().__init__(code)
        self.reason = reason
        self.args = (f"websocket closed by the server with code {code} {reason!r}".rstrip(),)


class WebSocketDenied(WebSocketClosed):
    """The app refused the handshake with an HTTP response (``status_code``, ``headers``,
    ``body``): a ``before_websocket`` hook or the handler returned one before accepting."""

    def __init__(self, status_code: int, headers: list[tuple[str, str]], body: bytes) -> None:
        super().__init__(1008, f"HTTP {status_code}")
        self.status_code = status_code
        self.headers = headers
        self.body = body


class _LoopThread:
    """An event loop running in a daemon thread: what an ASGI server gives the app."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="erlen-test-loop", daemon=True
        )
        self._thread.start()

    def submit(self, coro: t.Coroutine[t.Any, t.Any, t.Any]) -> Future[t.Any]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: t.Coroutine[t.Any, t.Any, t.Any], timeout: float) -> t.Any:
        future = self.submit(coro)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise TimeoutError(f"the ASGI app did not answer within {timeout} s") from None

    def close(self) -> None:
        if self.loop.is_closed():
            return
        if threading.current_thread() is self._thread:
            self.loop.stop()  # collected on the loop's own thread: it stops, the thread ends
            return
        if self.loop.is_running():
            try:  # what is still running (a cancelled handler) ends in its own context
                asyncio.run_coroutine_threadsafe(_cancel_all(), self.loop).result(5)
            except Exception:
                pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        if not self._thread.is_alive():
            self.loop.close()


async def _cancel_all() -> None:
    me = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not me]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.get_running_loop().shutdown_asyncgens()


def scope_from_environ(environ: dict[str, t.Any], kind: str = "http") -> Message:
    """The ASGI scope a server would make for the request ``environ`` describes."""
    headers: list[tuple[bytes, bytes]] = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            name = key
        else:
            continue
        headers.append((name.replace("_", "-").lower().encode("latin-1"), value.encode("latin-1")))
    root = environ.get("SCRIPT_NAME", "")
    path_bytes = (root + environ.get("PATH_INFO", "")).encode("latin-1")
    query = environ.get("QUERY_STRING", "")
    scheme = environ.get("wsgi.url_scheme", "http")
    scope: Message = {
        "type": kind,
        "asgi": {"version": "3.0"},
        "http_version": environ.get("SERVER_PROTOCOL", "HTTP/1.1").partition("/")[2] or "1.1",
        "scheme": scheme if kind == "http" else ("wss" if scheme == "https" else "ws"),
        "path": path_bytes.decode("utf-8", "replace"),
        # what a server receives: the percent-encoded path
        "raw_path": quote(path_bytes, safe="/:@!$&'()*+,;=-._~").encode("ascii"),
        "query_string": query.encode("latin-1"),
        "root_path": root.encode("latin-1").decode("utf-8", "replace"),
        "headers": headers,
        "server": (environ.get("SERVER_NAME", "localhost"), int(environ.get("SERVER_PORT", 80))),
        "client": (
            environ.get("REMOTE_ADDR", "127.0.0.1"),
            int(environ.get("REMOTE_PORT", 0) or 0),
        ),
    }
    if kind == "http":
        scope["method"] = environ.get("REQUEST_METHOD", "GET")
    return scope


async def _http_call(app: t.Any, scope: Message, body: bytes) -> tuple[int, list[t.Any], bytes]:
    """One HTTP request through ``app.asgi_app``: status, headers, the whole body."""
    chunks = [body[i : i + _CHUNK] for i in range(0, len(body), _CHUNK)] or [b""]
    done = asyncio.Event()
    start: list[Message] = []
    parts: list[bytes] = []

    async def receive() -> Message:
        if chunks:
            chunk = chunks.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}
        await done.wait()  # the body is all sent: the next message is the client leaving
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.append(message)
        elif message["type"] == "http.response.body":
            parts.append(bytes(message.get("body", b"")))
            if not message.get("more_body"):
                done.set()

    try:
        await app.asgi_app(scope, receive, send)
    finally:
        done.set()
    if not start:
        raise RuntimeError("The ASGI application returned without sending a response.")
    return start[0]["status"], list(start[0].get("headers", ())), b"".join(parts)


class _ASGIAsWSGI:
    """A WSGI callable that runs each request through ``app.asgi_app`` on the client's loop,
    so the test client's machinery (builder, cookies, redirects) stays one."""

    def __init__(self, client: ASGIClient) -> None:
        self.client = client

    def __call__(self, environ: dict[str, t.Any], start_response: t.Any) -> list[bytes]:
        stream = environ.get("wsgi.input")
        length = environ.get("CONTENT_LENGTH")
        body = stream.read(int(length)) if stream is not None and length else b""
        if (
            stream is not None
            and not length
            and "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "")
        ):
            body = stream.read()
        scope = scope_from_environ(environ)
        client = self.client
        status, headers, data = client._loop().run(
            _http_call(client.application, scope, body), client.timeout
        )
        phrase = HTTP_STATUS_CODES.get(status, "UNKNOWN")
        start_response(
            f"{status} {phrase}",
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers],
        )
        return [data]


class _Lifespan:
    """The lifespan protocol run against the app, as a server does at start and stop."""

    def __init__(self, app: t.Any, loop: _LoopThread, timeout: float) -> None:
        self.app = app
        self.loop = loop
        self.timeout = timeout
        self.incoming: asyncio.Queue[Message] | None = None
        self.outgoing: queue.Queue[Message] = queue.Queue()
        self.task: Future[t.Any] | None = None

    def _expect(self, done: str) -> None:
        try:
            message = self.outgoing.get(timeout=self.timeout)
        except queue.Empty:
            raise TimeoutError(f"lifespan {done} did not complete in {self.timeout} s") from None
        if message["type"] != f"lifespan.{done}.complete":
            raise RuntimeError(f"lifespan {done} failed: {message.get('message', '')}")

    def _put(self, message: Message) -> None:
        incoming = self.incoming
        assert incoming is not None
        self.loop.loop.call_soon_threadsafe(incoming.put_nowait, message)

    def start(self) -> None:
        async def run() -> None:
            self.incoming = asyncio.Queue()
            ready.set()

            async def send(message: Message) -> None:
                self.outgoing.put(message)

            await self.app.asgi_app({"type": "lifespan", "asgi": {"version": "3.0"}},
                                    self.incoming.get, send)  # fmt: skip

        ready = threading.Event()
        self.task = self.loop.submit(run())
        ready.wait(self.timeout)
        self._put({"type": "lifespan.startup"})
        self._expect("startup")

    def stop(self) -> None:
        self._put({"type": "lifespan.shutdown"})
        self._expect("shutdown")
        if self.task is not None:
            self.task.result(self.timeout)


class WebSocketTestSession:
    """One WebSocket connection to the app, driven from the test's thread."""

    __test__ = False

    def __init__(
        self,
        app: t.Any,
        scope: Message,
        loop: _LoopThread | None,
        timeout: float,
    ) -> None:
        self.app = app
        self.scope = scope
        self.timeout = timeout
        self._own_loop = loop is None  # the WSGI test client's: one loop per session
        self._loop = loop
        self._incoming: asyncio.Queue[Message] | None = None
        self._outgoing: queue.Queue[Message] = queue.Queue()
        self._task: Future[t.Any] | None = None
        #: The subprotocol the server accepted (None if none).
        self.accepted_subprotocol: str | None = None
        #: Headers the server sent with its accept, lower-cased names.
        self.extra_headers: list[tuple[str, str]] = []
        #: Set once the connection is closed (by either side).
        self.close_code: int | None = None
        self.close_reason: str = ""

    # -- the connection -----------------------------------------------------------------
    def __enter__(self) -> WebSocketTestSession:
        if self._loop is None:
            self._loop = _LoopThread()
        ready = threading.Event()

        async def run() -> None:
            self._incoming = asyncio.Queue()
            ready.set()

            async def send(message: Message) -> None:
                self._outgoing.put(message)

            try:
                await self.app.asgi_app(self.scope, self._incoming.get, send)
            finally:
                self._outgoing.put({"type": "erlen.test.app_returned"})

        self._task = self._loop.submit(run())
        ready.wait(self.timeout)
        self._put({"type": "websocket.connect"})
        try:
            message = self._next()
            if message["type"] == "websocket.close":
                raise self._closed(message)
            if message["type"] == "websocket.http.response.start":
                raise self._denied(message)
            if message["type"] != "websocket.accept":
                raise RuntimeError(f"expected websocket.accept, the app sent {message['type']!r}")
        except BaseException:
            self._finish()
            raise
        self.accepted_subprotocol = message.get("subprotocol")
        self.extra_headers = [
            (k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", ())
        ]
        return self

    def __exit__(self, exc_type: t.Any, exc_value: t.Any, tb: t.Any) -> None:
        try:
            if self.close_code is None:
                self.close(1000)
        finally:
            self._finish(quiet=exc_type is not None)

    def _finish(self, quiet: bool = False) -> None:
        """Wait for the handler to end (cancel it after ``timeout``); ``quiet``: an error is
        already on its way out of the ``with`` block, so don't replace it."""
        task = self._task
        try:
            if task is not None:
                try:
                    task.result(0.5 if quiet else self.timeout)
                except BaseException as exc:
                    task.cancel()
                    if quiet:
                        return
                    if not isinstance(exc, TimeoutError):
                        raise
                    raise TimeoutError(
                        f"the websocket handler did not end within {self.timeout} s of the close"
                    ) from None
        finally:
            if self._own_loop and self._loop is not None:
                self._loop.close()

    def _put(self, message: Message) -> None:
        incoming = self._incoming
        if incoming is None:
            raise RuntimeError("The websocket session is not open: use it in a 'with' block.")
        assert self._loop is not None
        self._loop.loop.call_soon_threadsafe(incoming.put_nowait, message)

    def _closed(self, message: Message) -> WebSocketClosed:
        self.close_code = message.get("code", 1000)
        self.close_reason = message.get("reason") or ""
        return WebSocketClosed(self.close_code, self.close_reason)

    def _denied(self, start: Message) -> WebSocketDenied:
        body = b""
        while True:
            message = self._next()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.close_code = 1008
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in start["headers"]]
        return WebSocketDenied(start["status"], headers, body)

    def _next(self) -> Message:
        try:
            message = self._outgoing.get(timeout=self.timeout)
        except queue.Empty:
            raise TimeoutError(
                f"the websocket handler sent nothing within {self.timeout} s"
            ) from None
        if message["type"] == "erlen.test.app_returned":
            self._outgoing.put(message)  # every later call sees it too
            task = self._task
            if task is not None and task.done() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
            raise RuntimeError("The websocket handler returned without closing the connection.")
        return message

    # -- sending ------------------------------------------------------------------------
    def send(self, message: Message) -> None:
        """Send a raw ASGI message to the app."""
        self._put(message)

    def send_text(self, data: str) -> None:
        self._put({"type": "websocket.receive", "text": data})

    def send_bytes(self, data: bytes) -> None:
        self._put({"type": "websocket.receive", "bytes": bytes(data)})

    def send_json(self, data: t.Any, mode: str = "text") -> None:
        text = json.dumps(data, separators=(",", ":"))
        if mode == "binary":
            self.send_bytes(text.encode())
        else:
            self.send_text(text)

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close from the client's side (the handler's ``receive`` raises its disconnect)."""
        if self.close_code is None:
            self.close_code, self.close_reason = code, reason
            self._put({"type": "websocket.disconnect", "code": code, "reason": reason})

    # -- receiving ----------------------------------------------------------------------
    def receive(self) -> Message:
        """The next raw ASGI message from the app; raises :class:`WebSocketClosed` on close."""
        message = self._next()
        if message["type"] == "websocket.close":
            raise self._closed(message)
        return message

    def receive_text(self) -> str:
        message = self.receive()
        if message.get("text") is None:
            raise TypeError(f"expected a text message, got bytes {message.get('bytes')!r}")
        return t.cast(str, message["text"])

    def receive_bytes(self) -> bytes:
        message = self.receive()
        if message.get("bytes") is None:
            raise TypeError(f"expected a binary message, got text {message.get('text')!r}")
        return t.cast(bytes, message["bytes"])

    def receive_json(self, mode: str = "text") -> t.Any:
        message = self.receive()
        data = message.get("text") if mode == "text" else message.get("bytes")
        if data is None:
            data = message.get("bytes") or message.get("text") or ""
        return json.loads(data)


def websocket_connect(
    client: t.Any,
    path: str,
    subprotocols: t.Sequence[str] | None = None,
    headers: t.Any = None,
    **kwargs: t.Any,
) -> WebSocketTestSession:
    """Build the handshake for ``path`` (the client's cookies and builder arguments apply)
    and return the session to enter with ``with``."""
    environ = client._build_environ((path,), {"headers": headers, **kwargs})
    client._add_cookies_to_wsgi(environ)
    scope = scope_from_environ(environ, "websocket")
    names = {name for name, _value in scope["headers"]}
    if b"upgrade" not in names:
        scope["headers"].append((b"upgrade", b"websocket"))
    if b"connection" not in names:
        scope["headers"].append((b"connection", b"upgrade"))
    scope["subprotocols"] = list(subprotocols or ())
    scope["extensions"] = {"websocket.http.response": {}}
    scope["headers"].append((b"sec-websocket-version", b"13"))
    if subprotocols:
        scope["headers"].append((b"sec-websocket-protocol", ", ".join(subprotocols).encode()))
    timeout = getattr(client, "timeout", DEFAULT_TIMEOUT)
    own_loop = getattr(client, "_loop", None)  # an ASGIClient's loop thread
    loop = own_loop() if own_loop is not None else None
    return WebSocketTestSession(client.application, scope, loop, timeout)
