"""The request of an ASGI HTTP scope as the core reads it: the PEP 3333 environ the one request
path takes, and the body read from ``http.request`` messages (in memory up to
``SPOOL_MEMORY``, then spooled to a temporary file; over ``MAX_CONTENT_LENGTH`` refused)."""

from __future__ import annotations

import io
import sys
import tempfile
import typing as t
from collections.abc import Awaitable, Callable, MutableMapping

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


async def read_body(
    message: Message, receive: Receive, limit: int | None
) -> tuple[t.IO[bytes], int] | None:
    """The whole request body (its first message already received) and its length; None
    when it is over ``limit``. In memory up to ``SPOOL_MEMORY``, then in a temporary file
    (closed by the caller after the response)."""
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
        message = await receive()
        if message["type"] == "http.disconnect":
            body.close()
            raise Disconnected
        chunk = message.get("body", b"")
        more = message.get("more_body", False)
    body.seek(0)
    return body, size
