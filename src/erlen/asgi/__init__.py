"""The ASGI adapter: ``asgi_app`` of the application, so one app serves WSGI and ASGI.

An ASGI server (uvicorn, granian, hypercorn) calls ``app.asgi_app(scope, receive, send)`` (or
``app`` itself with three arguments). For an HTTP request the adapter reads the body (spooled
to a temporary file past 1 MiB; over ``MAX_CONTENT_LENGTH`` it answers 413 without reading the
rest), builds the request the core reads, and runs the one request path (the WSGI adapter's
``wsgi_app``) in a worker thread with the server's context variables copied, so a sync view
that blocks never blocks the event loop. ``async def`` views, hooks and error handlers run
natively on the server's loop (``erlen.app.coroutines.serve_coroutines_on``): no loop per
request, and many sleeping async views wait together. A streamed response is sent chunk by
chunk; when the client goes away the response iterable is closed (a generator's ``finally``
runs). Lifespan events run ``before_serving`` / ``after_serving`` functions (Quart's names)
in an app context. WebSocket connections are served by ``erlen.asgi.websocket``.
"""

from __future__ import annotations

import contextvars
import importlib.util
import io
import sys
import tempfile
import threading
import typing as t
from collections.abc import Awaitable, Callable, Iterable, MutableMapping

from ..app.coroutines import run_coroutine, run_in_greenlet, serve_coroutines_on

if t.TYPE_CHECKING:  # imported when the first ASGI request comes: WSGI apps never load them
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

Scope = MutableMapping[str, t.Any]
Message = MutableMapping[str, t.Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

__all__ = ["ASGIAdapter"]

F = t.TypeVar("F", bound=Callable[..., t.Any])


#: Without greenlet (``pip install 'erlen[asgi]'``) every request takes the worker thread.
_HAVE_GREENLET = importlib.util.find_spec("greenlet") is not None

#: Bodies up to this size stay in memory; larger ones go to a temporary file.
SPOOL_MEMORY = 1024 * 1024
#: Worker threads for the request path when the app sets no ``ASGI_THREADS`` (anyio's default).
DEFAULT_THREADS = 40

_TOO_LARGE = (
    b"<!doctype html>\n<html lang=en>\n<title>413 Request Entity Too Large</title>\n"
    b"<h1>Request Entity Too Large</h1>\n<p>The data value transmitted exceeds the capacity "
    b"limit.</p>\n"
)


class _NoBody:
    def read(self, *_args: t.Any) -> bytes:
        return b""

    def readline(self, *_args: t.Any) -> bytes:
        return b""


_EMPTY_BODY: t.Any = _NoBody()


class _Disconnected(Exception):
    """The client went away while the request body was being read."""


def _environ(scope: Scope, body: t.IO[bytes], length: int) -> dict[str, t.Any]:
    """The request as the core reads it (PEP 3333 keys) from an ASGI HTTP scope."""
    root = scope.get("root_path", "")
    # PEP 3333's PATH_INFO is the percent-decoded path (as ASGI's ``path``), as bytes read
    # as latin-1; ``raw_path`` is still percent-encoded
    path = scope["path"].encode("utf-8", "surrogateescape").decode("latin-1")
    if root and path.startswith(root):
        path = path[len(root) :]
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client")
    environ: dict[str, t.Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": root,
        "PATH_INFO": path,
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]) if server[1] is not None else "80",
        "SERVER_PROTOCOL": "HTTP/" + scope.get("http_version", "1.1"),
        "REMOTE_ADDR": client[0] if client else "",
        "REMOTE_PORT": str(client[1]) if client else "",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "asgi.scope": scope,
    }
    if length or scope["method"] in ("POST", "PUT", "PATCH"):
        environ["CONTENT_LENGTH"] = str(length)
    for name, value in scope.get("headers", ()):
        key = name.decode("latin-1").upper().replace("-", "_")
        text = value.decode("latin-1")
        if key == "CONTENT_TYPE":
            environ["CONTENT_TYPE"] = text
            continue
        if key == "CONTENT_LENGTH":
            continue  # the body read decides it
        key = "HTTP_" + key
        if key in environ:
            text = environ[key] + ("; " if key == "HTTP_COOKIE" else ",") + text
        environ[key] = text
    return environ


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _read_body(receive: Receive, limit: int | None) -> tuple[t.IO[bytes], int] | None:
    """The whole request body and its length; None when it is over ``limit``. In memory up
    to ``SPOOL_MEMORY``, then in a temporary file (closed by the caller after the response)."""
    body: t.IO[bytes] = io.BytesIO()
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            body.close()
            raise _Disconnected
        chunk = message.get("body", b"")
        more = message.get("more_body", False)
        if chunk:
            size += len(chunk)
            if limit is not None and size > limit:
                body.close()
                return None
            if size > SPOOL_MEMORY and isinstance(body, io.BytesIO):
                spooled = tempfile.TemporaryFile()  # noqa: SIM115 - the caller closes it
                spooled.write(body.getbuffer())
                body = spooled
            body.write(chunk)
    body.seek(0)
    return body, size


class _DisconnectWatch:
    """Learns that the client left, for streamed responses only (a whole answer needs no
    watching): after the body, a server's ``receive()`` answers only on disconnect."""

    __slots__ = ("_loop", "_receive", "_task", "gone")

    def __init__(self, loop: t.Any, receive: Receive) -> None:
        self._loop = loop
        self._receive = receive
        self._task: t.Any = None
        self.gone = False

    def begin(self) -> None:  # from the worker thread or the loop's greenlet
        if self._task is None:
            self._task = False
            self._loop.call_soon_threadsafe(self._start)

    def _start(self) -> None:
        if self._task is False:
            self._task = self._loop.create_task(self._watch())

    async def _watch(self) -> None:
        if (await self._receive())["type"] == "http.disconnect":
            self.gone = True

    def cancel(self) -> None:
        task, self._task = self._task, True  # True: never start one now
        if task:
            task.cancel()


def _headers(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]


async def _send_whole(send: Send, answer: tuple[int, list[tuple[bytes, bytes]], bytes]) -> None:
    status, headers, data = answer
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


async def _sent(send: Send, message: Message) -> None:
    await send(message)


class ASGIAdapter:
    """The ASGI side of the application (a mixin of ``erlen.Erlen``)."""

    if t.TYPE_CHECKING:  # provided by erlen.app.App / erlen.wsgi.WSGIAdapter
        config: t.Any
        logger: t.Any

        def wsgi_app(self, environ: dict[str, t.Any], start_response: t.Any) -> Iterable[bytes]: ...
        def app_context(self) -> t.Any: ...
        def ensure_sync(self, func: Callable[..., t.Any]) -> Callable[..., t.Any]: ...
        def request_context(self, environ: dict[str, t.Any]) -> t.Any: ...
        def add_url_rule(
            self,
            rule: str,
            endpoint: str | None = None,
            view_func: Callable[..., t.Any] | None = None,
            provide_automatic_options: bool | None = None,
            **options: t.Any,
        ) -> None: ...

    _asgi_executor: ThreadPoolExecutor | None = None
    _asgi_lock = threading.Lock()
    before_serving_funcs: list[Callable[[], t.Any]]
    after_serving_funcs: list[Callable[[], t.Any]]

    def before_serving(self, func: Callable[[], t.Any]) -> Callable[[], t.Any]:
        """Run ``func`` (sync or async) once when an ASGI server starts, in an app context."""
        self.__dict__.setdefault("before_serving_funcs", []).append(func)
        return func

    def after_serving(self, func: Callable[[], t.Any]) -> Callable[[], t.Any]:
        """Run ``func`` (sync or async) once when an ASGI server stops, in an app context."""
        self.__dict__.setdefault("after_serving_funcs", []).append(func)
        return func

    async def asgi_app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI 3 application; wrap this (not ``__call__``) with ASGI middleware."""
        kind = scope["type"]
        if kind == "http":
            await self._asgi_http(scope, receive, send)
        elif kind == "lifespan":
            await self._asgi_lifespan(receive, send)
        elif kind == "websocket":
            await self._asgi_websocket(scope, receive, send)
        else:
            raise ValueError(f"erlen cannot serve ASGI scope type {kind!r}")

    def _executor(self) -> ThreadPoolExecutor:
        executor = self._asgi_executor
        if executor is None:
            with self._asgi_lock:
                executor = self._asgi_executor
                if executor is None:
                    from concurrent.futures import ThreadPoolExecutor

                    threads = self.config.get("ASGI_THREADS") or DEFAULT_THREADS
                    executor = ThreadPoolExecutor(int(threads), thread_name_prefix="erlen-asgi")
                    self._asgi_executor = executor
        return executor

    async def _asgi_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.config.get("MAX_CONTENT_LENGTH")
        declared = _declared_length(scope)
        if limit is not None and declared is not None and declared > limit:
            read = None
        else:
            try:
                read = await _read_body(receive, limit)
            except _Disconnected:
                return
        if read is None:
            self.logger.warning(
                "413 %s %r: body over MAX_CONTENT_LENGTH (%s bytes)",
                scope["method"],
                scope.get("path", ""),
                limit,
            )
            await send(
                {
                    "type": "http.response.start",
                    "status": 413,
                    "headers": [
                        (b"content-type", b"text/html; charset=utf-8"),
                        (b"content-length", str(len(_TOO_LARGE)).encode()),
                        (b"connection", b"close"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": _TOO_LARGE})
            return
        import asyncio

        body, length = read
        environ = _environ(scope, body, length)
        loop = asyncio.get_running_loop()
        watch = _DisconnectWatch(loop, receive)
        try:
            if self._asgi_view_is_async(environ):
                # an async view: the request path on the loop, no thread hop
                answer = await run_in_greenlet(self._asgi_respond, environ, None, send, watch)
                if answer is not None:
                    await _send_whole(send, answer)
            else:
                context = contextvars.copy_context()
                await loop.run_in_executor(
                    self._executor(), context.run, self._asgi_respond, environ, loop, send, watch
                )
        finally:
            watch.cancel()
            body.close()

    def _asgi_view_is_async(self, environ: dict[str, t.Any]) -> bool:
        """Whether the request goes to an ``async def`` view (default domain, clean match):
        then its request path runs on the loop; anything else runs in a worker thread."""
        plan = self.request_plan or self.build_request_plan()  # type: ignore[attr-defined]
        if not plan.unbound_matching or "HTTP_UPGRADE" in environ or not _HAVE_GREENLET:
            return False
        path = environ["PATH_INFO"]
        if not path.isascii():
            return False
        found = plan.url_map.find(plan.domain_part, path, environ["REQUEST_METHOD"])
        if type(found) is not tuple:
            return False
        endpoint = found[0].endpoint
        known: dict[str, bool] = self.__dict__.setdefault("_asgi_async_views", {})
        answer = known.get(endpoint)
        if answer is None:
            import inspect

            view = self.view_functions.get(endpoint)  # type: ignore[attr-defined]
            answer = known[endpoint] = inspect.iscoroutinefunction(
                getattr(view, "view_class", None)
                and getattr(view.view_class, "dispatch_request", None)
                or view
            )
        return answer

    def _asgi_respond(
        self,
        environ: dict[str, t.Any],
        loop: asyncio.AbstractEventLoop | None,
        send: Send,
        watch: _DisconnectWatch,
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes] | None:
        """Run the request path and send the response: in a worker thread (``loop`` is the
        server's), or in a greenlet on the loop (``loop`` None)."""
        if loop is not None:
            serve_coroutines_on(loop)
        started: list[t.Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
        ) -> Callable[[bytes], None]:
            if exc_info is not None and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [status, headers]
            return write

        def emit(message: Message) -> None:
            run_coroutine(_sent(send, message))

        def write(data: bytes) -> None:  # the legacy WSGI write() callable
            start()
            emit({"type": "http.response.body", "body": bytes(data), "more_body": True})

        sent_start: list[bool] = []

        def start() -> None:
            if not sent_start:
                sent_start.append(True)
                status, headers = started
                emit(
                    {
                        "type": "http.response.start",
                        "status": int(status.split(" ", 1)[0]),
                        "headers": _headers(headers),
                    }
                )

        iterable = self.wsgi_app(environ, start_response)
        try:
            if isinstance(iterable, (list, tuple)) and not sent_start:
                # a whole answer: both messages in one go, by whoever drives this call
                status, headers = started
                answer = (int(status.split(" ", 1)[0]), _headers(headers), b"".join(iterable))
                if loop is None:
                    return answer  # the loop's driver sends it: no switch back and forth
                run_coroutine(_send_whole(send, answer))
                return None
            watch.begin()
            for chunk in iterable:
                if watch.gone:
                    return None  # closing the iterable below runs the generator's finally
                if chunk:
                    start()
                    emit({"type": "http.response.body", "body": bytes(chunk), "more_body": True})
            start()
            emit({"type": "http.response.body", "body": b""})
            return None
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()

    async def _asgi_websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Match the handshake to a websocket rule and run its handler on the loop."""
        from .websocket import serve

        await serve(self, scope, receive, send)

    async def _asgi_lifespan(self, receive: Receive, send: Send) -> None:
        import asyncio

        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                funcs, done = self.__dict__.get("before_serving_funcs", []), "startup"
            elif message["type"] == "lifespan.shutdown":
                funcs, done = self.__dict__.get("after_serving_funcs", []), "shutdown"
                pending = list(self.__dict__.get("_background_tasks", ()))
                if pending:  # background tasks started outside requests finish first
                    await asyncio.gather(*pending, return_exceptions=True)
            else:
                continue
            try:
                with self.app_context():
                    for func in funcs:
                        rv = func()
                        if asyncio.iscoroutine(rv):
                            await rv
            except Exception as exc:
                self.logger.exception("ASGI lifespan %s failed", done)
                await send({"type": f"lifespan.{done}.failed", "message": str(exc)})
                return
            await send({"type": f"lifespan.{done}.complete"})
            if done == "shutdown":
                if self._asgi_executor is not None:
                    self._asgi_executor.shutdown(wait=False)
                return
