"""The bounded request-body stream.

A WSGI ``wsgi.input`` may block forever if read past the body, and a client may
send less than it announced or (chunked) far more than the app accepts. This
module wraps the raw input so the rest of erlen never has to think about that:
the stream ends at ``Content-Length``, an early EOF is a ``ClientDisconnected``
(400), and a de-chunked body is cut off with ``RequestEntityTooLarge`` (413) as
soon as it crosses ``max_content_length``, without reading the rest.

The server's own read errors become 400s too: gunicorn de-chunks while the app reads and
raises ``InvalidChunkSize``/``ChunkMissingTerminator`` (plain ``Exception`` subclasses) or
``NoMoreData`` (an ``OSError``) for a broken or truncated chunked body; those must be the
client's 400, not the app's 500 (see ``_input_error``).
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Generator, Iterator, Mapping
from typing import IO, Any

from ..exceptions import BadRequest, ClientDisconnected, HTTPException, RequestEntityTooLarge
from .parsing import parse_content_length

__all__ = ["LimitedStream", "get_content_length", "get_input_stream"]

#: Size of the chunks read from the server when the caller asks for "all".
CHUNK_SIZE = 64 * 1024


def _input_error(exc: Exception) -> Exception:
    """What a failed read of the server's input means for the request.

    Caught by base class, without importing any server: an ``OSError`` (a reset or timed-out
    connection, gunicorn's ``NoMoreData``) is a client that went away; anything else the input
    raises (gunicorn's ``ParseException`` subclasses, a ``ValueError`` from a closed input) is
    a malformed body. HTTP errors (a middleware's 413) and ``MemoryError`` pass unchanged.
    """
    if isinstance(exc, (HTTPException, MemoryError)):
        return exc
    if isinstance(exc, OSError):
        return ClientDisconnected(
            f"The request body ended before it was complete ({type(exc).__name__})."
        )
    return BadRequest(f"The request body could not be read ({type(exc).__name__}).")


class LimitedStream(io.RawIOBase):
    """A read-only stream that ends after ``limit`` bytes of ``stream``.

    With ``is_max=False`` (Content-Length known) ``limit`` is the exact body size
    and an early EOF of the source raises ``ClientDisconnected``. With
    ``is_max=True`` (a server-terminated, e.g. de-chunked body) the source is
    read to EOF and crossing ``limit`` raises ``RequestEntityTooLarge``; ``limit``
    may then be ``None`` (no maximum). Closing never drains the source: the
    server owns the connection and decides what to do with unread bytes.
    """

    def __init__(self, stream: IO[bytes] | Any, limit: int | None, is_max: bool = False) -> None:
        self._source = stream
        self.limit = limit
        self.is_max = is_max
        self._pos = 0
        self._eof = limit == 0 and not is_max

    # -- state ---------------------------------------------------------------
    @property
    def exhausted(self) -> bool:
        """True once the whole body has been read (no more data will come)."""
        return self._eof

    def tell(self) -> int:
        """Number of body bytes read so far."""
        return self._pos

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        """Mark closed without draining the source (the server's job)."""
        super().close()

    # -- reading -------------------------------------------------------------
    def _want(self, size: int) -> int:
        """How many bytes to ask the source for, given a caller's ``size``."""
        limit = self.limit
        if limit is None:
            return size
        if self.is_max:
            # one byte beyond the maximum is enough to know it was crossed
            return min(size, limit - self._pos + 1)
        return min(size, limit - self._pos)

    def _account(self, got: int, wanted: int) -> None:
        """Update the position after a source read and enforce the limits."""
        if got == 0:
            if wanted > 0:
                if not self.is_max and self.limit is not None and self._pos < self.limit:
                    self._eof = True
                    raise ClientDisconnected()
                self._eof = True
            return
        self._pos += got
        limit = self.limit
        if limit is not None:
            if self.is_max:
                if self._pos > limit:
                    self._eof = True
                    raise RequestEntityTooLarge()
            elif self._pos >= limit:
                self._eof = True

    def read(self, size: int | None = -1) -> bytes:
        """Read up to ``size`` bytes (all remaining if negative or None)."""
        if self._eof:
            return b""
        if size is None or size < 0:
            return self.readall()
        want = self._want(size)
        if want <= 0:
            return b""
        try:
            data = self._source.read(want)
        except Exception as e:
            self._eof = True
            raise _input_error(e) from e
        self._account(len(data), want)
        return data

    def readall(self) -> bytes:
        """Read the rest of the body, in ``CHUNK_SIZE`` pieces."""
        if self._eof:
            return b""
        parts: list[bytes] = []
        read = self._source.read
        while not self._eof:
            want = self._want(CHUNK_SIZE)
            if want <= 0:
                self._eof = True
                break
            try:
                data = read(want)
            except Exception as e:
                self._eof = True
                raise _input_error(e) from e
            self._account(len(data), want)
            if data:
                parts.append(data)
        return b"".join(parts)

    def readinto(self, buffer: Any) -> int:
        """Fill ``buffer`` (``io.RawIOBase`` protocol, for ``BufferedReader``)."""
        data = self.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n

    def readline(self, size: int | None = -1) -> bytes:
        """Read one line (ending in ``\\n``) of at most ``size`` bytes."""
        if self._eof:
            return b""
        if size is None or size < 0:
            size = CHUNK_SIZE
        want = self._want(size)
        if want <= 0:
            return b""
        source_readline = getattr(self._source, "readline", None)
        if source_readline is None:
            raise io.UnsupportedOperation("source stream has no readline")
        try:
            line = source_readline(want)
        except Exception as e:
            self._eof = True
            raise _input_error(e) from e
        self._account(len(line), want)
        return bytes(line)

    def readlines(self, hint: int | None = -1) -> list[bytes]:
        """Read all remaining lines (stop after ``hint`` bytes if positive)."""
        lines: list[bytes] = []
        total = 0
        while True:
            line = self.readline()
            if not line:
                break
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                break
        return lines

    def __iter__(self) -> Iterator[bytes]:
        while True:
            line = self.readline()
            if not line:
                return
            yield line

    # -- async reading (an ASGI server's body, read as it arrives) -----------
    async def read_async(self, size: int = -1) -> bytes:
        """``read`` for async code: awaits the next part of the body under ASGI (without
        blocking the loop); a plain ``read`` of the input otherwise."""
        read_async = getattr(self._source, "read_async", None)
        if read_async is None:  # a WSGI input: nothing to await
            return self.read(size)
        if self._eof:
            return b""
        if size < 0:
            return b"".join([chunk async for chunk in self])
        want = self._want(size)
        if want <= 0:
            return b""
        try:
            data = await read_async(want)
        except Exception as e:
            self._eof = True
            raise _input_error(e) from e
        self._account(len(data), want)
        return data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        """``async for chunk in request.stream``: the body in the pieces it arrives in."""
        while True:
            chunk = await self.read_async(CHUNK_SIZE)
            if not chunk:
                return
            yield chunk

    def __await__(self) -> Generator[Any, None, bytes]:
        """``await request.stream``: the rest of the body."""
        return self.read_async().__await__()


def get_content_length(environ: Mapping[str, Any]) -> int | None:
    """The body size a WSGI environ announces, or None.

    ``Transfer-Encoding: chunked`` wins over ``Content-Length`` (RFC 9112 6.3).
    An invalid or negative value raises ``BadRequest``.
    """
    te = environ.get("HTTP_TRANSFER_ENCODING")
    if te is not None and "chunked" in te.lower():
        return None
    value = environ.get("CONTENT_LENGTH")
    if not value:
        return None
    return parse_content_length(value)


def get_input_stream(
    environ: Mapping[str, Any],
    max_content_length: int | None = None,
    content_length: int | None = -1,
) -> LimitedStream:
    """Wrap ``environ["wsgi.input"]`` so reads stop at the body's end.

    Raises ``RequestEntityTooLarge`` before reading anything when the announced
    length exceeds ``max_content_length``. ``content_length=-1`` means "compute
    it from the environ" (callers that already parsed it pass it in).
    """
    if content_length == -1:
        content_length = get_content_length(environ)
    source = environ.get("wsgi.input")
    if content_length is not None:
        if max_content_length is not None and content_length > max_content_length:
            raise RequestEntityTooLarge()
        if source is None and content_length:
            raise BadRequest("The request has a body but no input stream.")
        return LimitedStream(source, content_length)
    if environ.get("wsgi.input_terminated") and source is not None:
        return LimitedStream(source, max_content_length, is_max=True)
    # no length and not terminated: reading would block or read garbage
    return LimitedStream(source, 0)
