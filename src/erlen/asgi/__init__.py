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
import sys
import threading
import typing as t
from collections.abc import Callable, Iterable

from ..app.coroutines import run_coroutine, run_in_greenlet, serve_coroutines_on
from ..http.formparser import DEFAULT_MAX_FORM_MEMORY_SIZE
from ..wsgi import PRESERVE_CONTEXT, WSGIAdapter
from .environ import (
    EMPTY_BODY,
    SPOOL_MEMORY,
    Disconnected,
    Message,
    Receive,
    Scope,
    Send,
    build_environ,
    read_body,
    set_body,
    set_streamed_body,
)

if t.TYPE_CHECKING:  # imported when the first ASGI request comes: WSGI apps never load them
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

__all__ = ["ASGIAdapter"]

F = t.TypeVar("F", bound=Callable[..., t.Any])


#: Without greenlet (``pip install 'erlen[asgi]'``) every request takes the worker thread.
_HAVE_GREENLET = importlib.util.find_spec("greenlet") is not None

#: Worker threads for the request path when the app sets no ``ASGI_THREADS`` (anyio's default).
DEFAULT_THREADS = 40

_TOO_LARGE = (
    b"<!doctype html>\n<html lang=en>\n<title>413 Request Entity Too Large</title>\n"
    b"<h1>Request Entity Too Large</h1>\n<p>The data value transmitted exceeds the capacity "
    b"limit.</p>\n"
)


class _DisconnectWatch:
    """Learns that the client left, for streamed responses only (a whole answer needs no
    watching): after the body, a server's ``receive()`` answers only on disconnect."""

    __slots__ = ("_receive", "gone", "loop", "task")

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        #: The server's loop: set by the adapter for the worker-thread path, looked up by
        #: ``begin`` on the loop's own thread otherwise.
        self.loop: t.Any = None
        self.task: t.Any = None
        self.gone = False

    def begin(self) -> None:  # from the worker thread or the loop's greenlet
        if self.task is None:
            self.task = False
            loop = self.loop or _running_loop()
            loop.call_soon_threadsafe(self._start, loop)

    def _start(self, loop: t.Any) -> None:
        if self.task is False:
            self.task = loop.create_task(self._watch())

    async def _watch(self) -> None:
        # a server may send further (empty) http.request messages before the disconnect
        while (await self._receive())["type"] != "http.disconnect":
            pass
        self.gone = True

    def cancel(self) -> None:
        task, self.task = self.task, True  # True: never start one now
        if task:
            task.cancel()


def _running_loop() -> asyncio.AbstractEventLoop:
    import asyncio  # here: WSGI apps never import it

    return asyncio.get_running_loop()


#: Response header name → its ASGI form (lowercase bytes), filled as names are sent (bounded).
_NAMES: dict[str, bytes] = {}


def _name(name: str) -> bytes:
    encoded = name.lower().encode("latin-1")
    if len(_NAMES) < 512:
        _NAMES[name] = encoded
    return encoded


def _headers(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    names = _NAMES
    return [(names.get(k) or _name(k), v.encode("latin-1")) for k, v in headers]


async def _send_whole(send: Send, answer: tuple[int, list[tuple[bytes, bytes]], bytes]) -> None:
    status, headers, data = answer
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


async def _sent(send: Send, message: Message) -> None:
    await send(message)


#: Methods whose requests carry no body unless they declare one (RFC 9110 9.3.1, 9.3.2).
_BODILESS = frozenset(("GET", "HEAD"))
_NO_BODY_MESSAGE: Message = {"type": "http.request", "body": b"", "more_body": False}

#: A response as ASGI sends it: status, header list, the body or an iterable to stream.
_Answer = tuple[int, list[tuple[bytes, bytes]], t.Any]


def _no_write(data: bytes) -> None:
    raise RuntimeError("erlen's own responses do not use the WSGI write() callable")


class _Emitter:
    """Sends a response's ASGI messages from the request path's side (a worker thread or
    greenlet): ``http.response.start`` once, before the first body message."""

    __slots__ = ("_send", "headers", "started", "status")

    def __init__(
        self, send: Send, status: int = 0, headers: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        self._send = send
        self.status = status
        self.headers = headers
        self.started = False

    def __call__(self, message: Message) -> None:
        run_coroutine(_sent(self._send, message))

    def start(self) -> None:
        if not self.started:
            self.started = True
            self({"type": "http.response.start", "status": self.status, "headers": self.headers})

    def body(self, chunk: bytes) -> None:
        self.start()
        self({"type": "http.response.body", "body": bytes(chunk), "more_body": True})

    def end(self) -> None:
        self.start()
        self({"type": "http.response.body", "body": b""})


def _stream(body: Iterable[bytes], watch: _DisconnectWatch, emit: _Emitter) -> None:
    """Send a streamed body chunk by chunk until it ends or the client leaves; then close it
    (a generator's ``finally`` runs)."""
    try:
        watch.begin()
        for chunk in body:
            if watch.gone:
                return
            if chunk:
                emit.body(chunk)
        emit.end()
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()


class ASGIAdapter:
    """The ASGI side of the application (a mixin of ``erlen.Erlen``)."""

    if t.TYPE_CHECKING:  # provided by erlen.app.App / erlen.wsgi.WSGIAdapter
        config: t.Any
        logger: t.Any

        def wsgi_app(self, environ: dict[str, t.Any], start_response: t.Any) -> Iterable[bytes]: ...
        def handle_request(self, ctx: t.Any, plain: bool = True) -> t.Any: ...
        def handle_exception(self, e: Exception) -> t.Any: ...
        def should_ignore_error(self, error: BaseException | None) -> bool: ...
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
        if scope["type"] != "http":
            await self._asgi_other(scope, receive, send)
            return
        # an HTTP request, served in this frame (no coroutine per step of the hot path)
        environ, declared = build_environ(scope)
        if declared == 0 and environ["REQUEST_METHOD"] in _BODILESS:
            # RFC 9112 6.3: an HTTP/1 request with neither Content-Length nor
            # Transfer-Encoding has no body; not awaiting the server's empty http.request
            # saves a loop wake-up per request under granian (decision 027)
            message = _NO_BODY_MESSAGE
        else:
            message = await receive()
        body: t.Any
        is_async, found = self._asgi_route(environ)
        if message.get("more_body") or message.get("body"):
            limit = self.config.get("MAX_CONTENT_LENGTH")
            read = None
            if limit is None or declared is None or declared <= limit:
                # an async view reads a long body as it arrives (decision 027)
                stream_past = self._stream_past() if is_async else None
                try:
                    read = await read_body(message, receive, limit, stream_past)
                except Disconnected:
                    return
            if read is None:
                await self._asgi_too_large(scope, send, limit)
                return
            body, length = read
            if length is None:
                set_streamed_body(environ, body, declared)
            else:
                set_body(environ, body, length)
        elif message["type"] == "http.disconnect":
            return
        else:
            body = EMPTY_BODY  # the usual GET: one empty http.request message
            set_body(environ, body, 0)
        watch = _DisconnectWatch(receive)
        try:
            if is_async:
                # an async view: the request path on the loop, no thread hop
                answer = await run_in_greenlet(
                    self._asgi_respond, environ, found, None, send, watch
                )
                if answer is not None:  # a whole answer: sent from here, no extra frame
                    status, headers, data = answer
                    await send(
                        {"type": "http.response.start", "status": status, "headers": headers}
                    )
                    await send({"type": "http.response.body", "body": data})
            else:
                loop = watch.loop = _running_loop()
                context = contextvars.copy_context()
                await loop.run_in_executor(
                    self._executor(),
                    context.run,
                    self._asgi_respond,
                    environ,
                    found,
                    loop,
                    send,
                    watch,
                )
        finally:
            if watch.task is not None:
                watch.cancel()
            if body is not EMPTY_BODY:
                body.close()

    async def _asgi_other(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
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

    def _stream_past(self) -> int:
        """The body size past which an async view's body is streamed, not read first: the
        form memory limit (Flask's MAX_FORM_MEMORY_SIZE), at most ``SPOOL_MEMORY``."""
        memory = self.config.get("MAX_FORM_MEMORY_SIZE", DEFAULT_MAX_FORM_MEMORY_SIZE)
        return min(memory, SPOOL_MEMORY) if memory is not None else SPOOL_MEMORY

    async def _asgi_too_large(self, scope: Scope, send: Send, limit: int | None) -> None:
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

    def _asgi_route(self, environ: dict[str, t.Any]) -> tuple[bool, t.Any]:
        """Whether the request goes to an ``async def`` view (then its request path runs on
        the loop; anything else runs in a worker thread), and the clean match (rule, view
        args) found in the default domain, else None (the request path then matches)."""
        plan = self.request_plan or self.build_request_plan()  # type: ignore[attr-defined]
        if not plan.unbound_matching or "HTTP_UPGRADE" in environ:
            return False, None
        path = environ["PATH_INFO"]
        if not path.isascii():
            return False, None
        found = plan.url_map.find(plan.domain_part, path, environ["REQUEST_METHOD"])
        if type(found) is not tuple:
            return False, None
        endpoint = found[0].endpoint
        config = plan.config
        if (
            config["SERVER_NAME"] is not None
            or config["TRUSTED_HOSTS"] is not None
            or not environ.get("HTTP_HOST", "").isascii()
        ):
            found = None  # the request path's own matching decides (host checks)
        if not _HAVE_GREENLET:
            return False, found
        known: dict[str, bool] | None = self.__dict__.get("_asgi_async_views")
        if known is None:
            known = self.__dict__["_asgi_async_views"] = {}
        answer = known.get(endpoint)
        if answer is None:
            import inspect

            view = self.view_functions.get(endpoint)  # type: ignore[attr-defined]
            answer = known[endpoint] = inspect.iscoroutinefunction(
                getattr(view, "view_class", None)
                and getattr(view.view_class, "dispatch_request", None)
                or view
            )
        return answer, found

    def _asgi_answer(self, environ: dict[str, t.Any], found: t.Any) -> _Answer:
        """``wsgi_app``'s shell for ASGI: the same request path (``handle_request`` in a
        pushed context, ``handle_exception``, the pop that tears down), answered as ASGI
        wants it (int status, byte headers, the body or the iterable to stream) instead of
        through ``start_response``; the route ``_asgi_route`` found is not matched again."""
        ctx = self.request_context(environ)
        if found is not None:
            request = ctx.request
            request.url_rule, request.view_args = found
        error: BaseException | None = None
        try:
            try:
                ctx.push()
                response = self.handle_request(ctx)
            except Exception as e:
                error = e
                response = self.handle_exception(e)
            except BaseException:
                error = sys.exc_info()[1]
                raise
            if type(response) is tuple:  # a plain answer: what its Response would send
                status, headers, body = response
                if environ["REQUEST_METHOD"] == "HEAD":
                    body = b""
                return int(status[:3]), _headers(headers), body
            started: list[t.Any] = []

            def start_response(
                status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
            ) -> Callable[[bytes], None]:
                started[:] = [status, headers]
                return _no_write

            iterable = response(environ, start_response)
            status, headers = started
            if isinstance(iterable, (list, tuple)):
                return int(status[:3]), _headers(headers), b"".join(iterable)
            return int(status[:3]), _headers(headers), iterable
        finally:
            preserve = environ.get(PRESERVE_CONTEXT)
            if preserve is not None:
                preserve(ctx)
            else:
                if error is not None and self.should_ignore_error(error):
                    error = None
                ctx.pop(error)
            error = None  # its traceback holds this frame: no cycle left behind

    def _asgi_respond(
        self,
        environ: dict[str, t.Any],
        found: t.Any,
        loop: asyncio.AbstractEventLoop | None,
        send: Send,
        watch: _DisconnectWatch,
    ) -> _Answer | None:
        """Run the request path and send the response: in a worker thread (``loop`` is the
        server's), or in a greenlet on the loop (``loop`` None: a whole answer is returned
        for the loop's side to send, no switch back and forth)."""
        if loop is not None:
            serve_coroutines_on(loop)
        if "wsgi_app" in self.__dict__ or type(self).wsgi_app is not WSGIAdapter.wsgi_app:
            return self._asgi_respond_wsgi(environ, loop, send, watch)  # a replaced wsgi_app
        answer = self._asgi_answer(environ, found)
        status, headers, body = answer
        if type(body) is bytes:
            if loop is None:
                return answer
            run_coroutine(_send_whole(send, answer))
            return None
        _stream(body, watch, _Emitter(send, status, headers))
        return None

    def _asgi_respond_wsgi(
        self,
        environ: dict[str, t.Any],
        loop: asyncio.AbstractEventLoop | None,
        send: Send,
        watch: _DisconnectWatch,
    ) -> _Answer | None:
        """``_asgi_respond`` through a replaced or wrapped ``wsgi_app`` (WSGI middleware
        the app installed), with the WSGI calling convention in full (``write`` too)."""
        emit = _Emitter(send)

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
        ) -> Callable[[bytes], None]:
            if exc_info is not None and emit.headers is not None:
                raise exc_info[1].with_traceback(exc_info[2])
            emit.status, emit.headers = int(status[:3]), _headers(headers)
            return emit.body  # the legacy WSGI write() callable

        iterable = self.wsgi_app(environ, start_response)
        if isinstance(iterable, (list, tuple)) and not emit.started:
            answer = (emit.status, emit.headers or [], b"".join(iterable))
            if loop is None:
                return answer
            run_coroutine(_send_whole(send, answer))
            return None
        _stream(iterable, watch, emit)
        return None

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
