"""The request of an ASGI HTTP scope as the core reads it: the PEP 3333 environ the one request
path takes, and the body read from ``http.request`` messages (in memory up to
``SPOOL_MEMORY``, then spooled to a temporary file; over ``MAX_CONTENT_LENGTH`` refused)."""

from __future__ import annotations

import io
import sys
import tempfile
import typing as t
from collections.abc import Awaitable, Callable, MutableMapping

from ..app.coroutines import run_coroutine
from ..exceptions import ClientDisconnected

Scope = MutableMapping[str, t.Any]
Message = MutableMapping[str, t.Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: Bodies up to this size stay in memory; larger ones go to a temporary file.
SPOOL_MEMORY = 1024 * 1024


class _NoBody:
    def read(self, *_args: t.Any) -> bytes:
        return b""

    def readline(self, *_args: t.Any) -> bytes:
        return b""

    def readlines(self, *_args: t.Any) -> list[bytes]:
        return []

    def __iter__(self) -> t.Iterator[bytes]:
        return iter(())

    def close(self) -> None:
        pass


EMPTY_BODY: t.Any = _NoBody()


class Disconnected(Exception):
    """The client went away while the request body was being read."""


class ReceiveStream:
    """``wsgi.input`` for a body still arriving when an ``async def`` view starts: read past
    the form memory limit, the rest is received as the view reads it (``async for chunk in
    request.stream``, ``await request.stream``), never spooled. A sync read (``request.form``,
    ``get_json()`` in the async view) suspends the view's greenlet while the loop waits for
    the next ``http.request`` message: the loop serves other requests meanwhile."""

    __slots__ = ("_buffer", "_more", "_receive")

    def __init__(self, receive: Receive, head: bytes, more: bool) -> None:
        self._receive = receive
        self._buffer = head
        self._more = more

    async def _pull(self, size: int) -> None:
        """Receive until ``size`` bytes are buffered (all of the body when negative)."""
        while self._more and (size < 0 or len(self._buffer) < size):
            message = await self._receive()
            if message["type"] == "http.disconnect":
                self._more = False
                raise ClientDisconnected("The client went away while sending the body.")
            self._buffer += message.get("body", b"")
            self._more = message.get("more_body", False)
            if size > 0 and self._buffer:
                return  # a short read is allowed: hand over what came

    def _take(self, size: int) -> bytes:
        buffer = self._buffer
        if size < 0 or size >= len(buffer):
            self._buffer = b""
            return buffer
        self._buffer = buffer[size:]
        return buffer[:size]

    async def read_async(self, size: int = -1) -> bytes:
        if self._more and (size < 0 or not self._buffer):
            await self._pull(size)
        return self._take(size)

    def read(self, size: int | None = -1) -> bytes:
        size = -1 if size is None else size
        if self._more and (size < 0 or not self._buffer):
            run_coroutine(self._pull(size))
        return self._take(size)

    def readline(self, size: int | None = -1) -> bytes:
        size = -1 if size is None else size
        while True:
            end = self._buffer.find(b"\n") + 1
            if end or not self._more or 0 <= size <= len(self._buffer):
                break
            run_coroutine(self._pull(len(self._buffer) + 1))
        if end and (size < 0 or end <= size):
            size = end
        return self._take(size)

    def close(self) -> None:
        self._buffer = b""


#: The environ keys every ASGI request shares (copied, then the request's own are set).
_CONSTANT_ENVIRON: dict[str, t.Any] = {
    "wsgi.version": (1, 0),
    "wsgi.errors": sys.stderr,
    "wsgi.multithread": True,
    "wsgi.multiprocess": True,
    "wsgi.run_once": False,
}
#: ASGI header name (bytes) → environ key; None for Content-Length (the body read sets
#: CONTENT_LENGTH). Filled as names are seen, bounded (a client may send any names).
_HEADER_KEYS: dict[bytes, str | None] = {b"content-type": "CONTENT_TYPE", b"content-length": None}


def _header_key(name: bytes) -> str | None:
    if name in _HEADER_KEYS:
        return _HEADER_KEYS[name]
    lower = name.lower()  # ASGI says lowercase; a middleware may not
    key = (
        _HEADER_KEYS[lower]
        if lower in _HEADER_KEYS
        else "HTTP_" + lower.decode("latin-1").upper().replace("-", "_")
    )
    if len(_HEADER_KEYS) < 512:
        _HEADER_KEYS[name] = key
    return key


def build_environ(scope: Scope) -> tuple[dict[str, t.Any], int | None]:
    """The request as the core reads it (PEP 3333 keys) from an ASGI HTTP scope, without
    ``wsgi.input`` and ``CONTENT_LENGTH`` (see :func:`set_body`); and the body length the
    request declares: its Content-Length, 0 when an HTTP/1 request has neither Content-Length
    nor Transfer-Encoding (RFC 9112 6.3: it has no body, so nothing needs reading), None when
    unknown (chunked, HTTP/2, a bad value)."""
    root = scope.get("root_path", "")
    # PEP 3333's PATH_INFO is the percent-decoded path (as ASGI's ``path``), as bytes read
    # as latin-1; ``raw_path`` is still percent-encoded
    path = scope["path"]
    if not path.isascii():
        path = path.encode("utf-8", "surrogateescape").decode("latin-1")
    if root and path.startswith(root):
        path = path[len(root) :]
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client")
    version = scope.get("http_version", "1.1")
    environ = _CONSTANT_ENVIRON.copy()
    environ["REQUEST_METHOD"] = scope["method"]
    environ["SCRIPT_NAME"] = root
    environ["PATH_INFO"] = path
    environ["QUERY_STRING"] = scope.get("query_string", b"").decode("latin-1")
    environ["SERVER_NAME"] = str(server[0])
    environ["SERVER_PORT"] = str(server[1]) if server[1] is not None else "80"
    environ["SERVER_PROTOCOL"] = "HTTP/" + version
    environ["REMOTE_ADDR"] = client[0] if client else ""
    environ["REMOTE_PORT"] = str(client[1]) if client else ""
    environ["wsgi.url_scheme"] = scope.get("scheme", "http")
    environ["asgi.scope"] = scope
    declared: int | None = 0 if version in ("1.1", "1.0") else None
    for name, value in scope.get("headers", ()):
        key = _HEADER_KEYS.get(name) or _header_key(name)
        if key is None:  # Content-Length
            try:
                declared = int(value)
            except ValueError:
                declared = None
            if declared is not None and declared < 0:
                declared = None
            continue
        text = value.decode("latin-1")
        if key in environ:
            text = environ[key] + ("; " if key == "HTTP_COOKIE" else ",") + text
        environ[key] = text
    if declared == 0 and "HTTP_TRANSFER_ENCODING" in environ:
        declared = None
    return environ, declared


def set_body(environ: dict[str, t.Any], body: t.IO[bytes], length: int) -> None:
    environ["wsgi.input"] = body
    if length or environ["REQUEST_METHOD"] in ("POST", "PUT", "PATCH"):
        environ["CONTENT_LENGTH"] = str(length)


def set_streamed_body(environ: dict[str, t.Any], body: ReceiveStream, declared: int | None) -> None:
    """A body the view reads as it arrives: its Content-Length when declared, else ended by
    the server's last message (``wsgi.input_terminated``; MAX_CONTENT_LENGTH still applies
    as it is read)."""
    environ["wsgi.input"] = body
    environ["wsgi.input_terminated"] = True
    if declared:  # 0: no framing header, yet a body came (an in-process caller): unknown
        environ["CONTENT_LENGTH"] = str(declared)


async def read_body(
    message: Message, receive: Receive, limit: int | None, stream_past: int | None = None
) -> tuple[t.Any, int | None] | None:
    """The whole request body (its first message already received) and its length; None
    when it is over ``limit``. In memory up to ``SPOOL_MEMORY``, then in a temporary file
    (closed by the caller after the response). With ``stream_past`` (an async view's form
    memory limit), a body longer than that is not read on: a :class:`ReceiveStream` holding
    what came so far is returned, with the length None."""
    if message["type"] == "http.disconnect":
        raise Disconnected
    chunk = message.get("body", b"")
    if not message.get("more_body", False):  # the usual case: the body in one message
        if limit is not None and len(chunk) > limit:
            return None
        return io.BytesIO(chunk), len(chunk)
    body: t.IO[bytes] = io.BytesIO()
    size = 0
    more = True
    while True:
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
        if not more:
            break
        if stream_past is not None and size > stream_past and isinstance(body, io.BytesIO):
            return ReceiveStream(receive, body.getvalue(), True), None
        message = await receive()
        if message["type"] == "http.disconnect":
            body.close()
            raise Disconnected
        chunk = message.get("body", b"")
        more = message.get("more_body", False)
    body.seek(0)
    return body, size
