"""File downloads: :func:`send_file` and :func:`send_from_directory` (Flask's behaviour).

Why this shape:
- One ``os.stat`` per request; the file is opened only when a body will really be sent (not
  for 304, 412, HEAD, or ``X-Sendfile``).
- The body streams in blocks, or through the server's ``wsgi.file_wrapper`` (zero-copy
  ``sendfile``) when no range slicing is needed. The file is closed when the response closes.
- Validators are RFC 9110: ``If-None-Match``/``If-Modified-Since`` (via
  ``Response.make_conditional``) are evaluated before ``Range``; ``If-Range`` must match the
  strong ETag or the exact ``Last-Modified``, else the whole file is sent. A single satisfiable
  byte range gives 206, an unsatisfiable one 416 (``Content-Range: bytes */size``); multiple
  ranges, other units or a malformed ``Range`` are ignored (200, whole file), as RFC 9110
  14.2 allows.
- Per-name work (MIME type guess, ``Content-Disposition``) is cached: static files repeat.
"""

from __future__ import annotations

import io
import mimetypes
import os
import stat as _stat
import typing as t
import unicodedata
from datetime import datetime
from functools import lru_cache
from time import time
from urllib.parse import quote
from zlib import adler32

from .exceptions import NotFound, RequestedRangeNotSatisfiable
from .globals import _get_request_ctx, request
from .http.conditional import parse_range_header
from .http.datastructures import Headers
from .http.parsing import http_date, parse_date, quote_etag, unquote_etag
from .http.response import get_content_type
from .utils import safe_join

if t.TYPE_CHECKING:
    from .wrappers import Response

__all__ = ["send_file", "send_from_directory"]

#: Bytes read per body chunk when streaming without a file wrapper.
BLOCK_SIZE = 64 * 1024
_BAD_HEADER_CHARS = ("\r", "\n", "\x00")
_TOKEN_CHARS = frozenset(
    "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)


class MimetypeError(TypeError, ValueError):
    """No MIME type can be guessed: Werkzeug raises TypeError, the erlen contract ValueError."""


class _FileIter:
    """Stream a binary file from its current position in blocks; at most ``remaining`` bytes
    (None: to end of file). ``close()`` closes the file, so the server closing the response
    body releases the file descriptor."""

    __slots__ = ("file", "remaining", "block_size")

    def __init__(
        self, file: t.IO[bytes], remaining: int | None = None, block_size: int = BLOCK_SIZE
    ) -> None:
        self.file = file
        self.remaining = remaining
        self.block_size = block_size

    def __iter__(self) -> _FileIter:
        return self

    def __next__(self) -> bytes:
        rem = self.remaining
        if rem is None:
            data = self.file.read(self.block_size)
        else:
            if rem <= 0:
                raise StopIteration
            data = self.file.read(min(rem, self.block_size))
            self.remaining = rem - len(data)
        if not data:
            raise StopIteration
        return data

    def close(self) -> None:
        self.file.close()


@lru_cache(maxsize=1024)
def _guess_type(name: str) -> tuple[str, str | None]:
    """``(mimetype, encoding)`` for a file name; octet-stream when unknown."""
    mimetype, encoding = mimetypes.guess_type(name)
    return mimetype or "application/octet-stream", encoding


def _quote_param(value: str) -> str:
    """A header parameter value: bare when it is a token, else a quoted-string."""
    if value and all(c in _TOKEN_CHARS for c in value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@lru_cache(maxsize=1024)
def _content_disposition(download_name: str, as_attachment: bool) -> str:
    """``inline; filename=x`` / ``attachment; ...`` (RFC 6266). Names that are not printable
    ASCII also get an RFC 5987 ``filename*``; the ``filename`` fallback keeps NFKD's ASCII
    letters, so clients without ``filename*`` support still get a sensible name."""
    kind = "attachment" if as_attachment else "inline"
    if download_name.isascii() and download_name.isprintable():
        return f"{kind}; filename={_quote_param(download_name)}"
    simple = unicodedata.normalize("NFKD", download_name).encode("ascii", "ignore").decode()
    simple = "".join(c for c in simple if c.isprintable())
    quoted = quote(download_name, safe="!#$&+-.^_`|~")
    return f"{kind}; filename={_quote_param(simple)}; filename*=UTF-8''{quoted}"


def _check_header(value: str, what: str) -> str:
    for c in _BAD_HEADER_CHARS:
        if c in value:
            raise ValueError(f"{what} must not contain CR, LF or NUL characters.")
    return value


_mtime_date = lru_cache(maxsize=1024)(http_date)  # static files keep their mtime
_now_cache: list[t.Any] = [0, ""]


def _date_now() -> str:
    """``http_date()`` for now, formatted once per second."""
    now = int(time())
    cache = _now_cache
    if cache[0] != now:
        cache[1] = http_date(now)
        cache[0] = now
    return t.cast(str, cache[1])


def _has_validators(environ: t.Mapping[str, t.Any]) -> bool:
    """Whether the request carries headers that ``make_conditional`` evaluates."""
    return (
        "HTTP_IF_NONE_MATCH" in environ
        or "HTTP_IF_MODIFIED_SINCE" in environ
        or "HTTP_IF_MATCH" in environ
    )


def _request_ctx() -> t.Any:
    """The current request context; outside one, the proxy raises the usual RuntimeError."""
    ctx = _get_request_ctx(None)
    if ctx is None:
        request.environ  # noqa: B018 - raises "Working outside of request context"
        raise RuntimeError("send_file needs an active request context.")  # pragma: no cover
    return ctx


def _if_range_matches(value: str, etag: str | None, last_modified: str | None) -> bool:
    """RFC 9110 13.1.5: an entity tag must equal ours by strong comparison; a date must
    equal our ``Last-Modified`` exactly."""
    value = value.strip()
    if value[:2] in ("W/", "w/") or value[:1] == '"':
        if etag is None:
            return False
        theirs, weak = unquote_etag(value)
        ours, our_weak = unquote_etag(etag)
        return not weak and not our_weak and theirs == ours
    if last_modified is None:
        return False
    their_date = parse_date(value)
    return their_date is not None and their_date == parse_date(last_modified)


def send_file(
    path_or_file: os.PathLike[str] | str | t.IO[bytes],
    mimetype: str | None = None,
    as_attachment: bool = False,
    download_name: str | None = None,
    conditional: bool = True,
    etag: bool | str = True,
    last_modified: datetime | int | float | str | None = None,
    max_age: None | int | t.Callable[[str | None], int | None] = None,
) -> Response:
    """Send a file (a path relative to the app's root, or a binary file object) as the
    response, with the caching, conditional and range handling browsers expect.

    ``max_age`` None uses ``app.get_send_file_max_age`` (``SEND_FILE_MAX_AGE_DEFAULT``);
    with the app's ``USE_X_SENDFILE`` a path is handed to the front server instead.
    """
    path: str | None = None
    file: t.IO[bytes] | None = None
    st: os.stat_result | None = None
    if isinstance(path_or_file, (str, os.PathLike)) or hasattr(path_or_file, "__fspath__"):
        root = _request_ctx().app.root_path
        path = os.path.join(root, os.fspath(t.cast("os.PathLike[str] | str", path_or_file)))
        st = os.stat(path)
    else:
        file = t.cast("t.IO[bytes]", path_or_file)
    return _send(
        path,
        st,
        file,
        mimetype,
        as_attachment,
        download_name,
        conditional,
        etag,
        last_modified,
        max_age,
    )


def send_from_directory(
    directory: os.PathLike[str] | str, path: os.PathLike[str] | str, **kwargs: t.Any
) -> Response:
    """Send ``path`` from inside ``directory`` (relative to the app's root), for paths that
    come from the URL. Anything that could leave the directory, or is not an existing regular
    file, is a 404 :class:`~erlen.exceptions.NotFound`. Other arguments as :func:`send_file`.
    """
    ctx = _request_ctx()
    joined = safe_join(os.fspath(directory), os.fspath(path))
    if joined is None:
        raise NotFound()
    full = os.path.join(ctx.app.root_path, joined)
    try:
        st = os.stat(full)
    except (OSError, ValueError):
        raise NotFound() from None
    if not _stat.S_ISREG(st.st_mode):
        raise NotFound()
    return _send(
        full,
        st,
        None,
        kwargs.pop("mimetype", None),
        kwargs.pop("as_attachment", False),
        kwargs.pop("download_name", None),
        kwargs.pop("conditional", True),
        kwargs.pop("etag", True),
        kwargs.pop("last_modified", None),
        kwargs.pop("max_age", None),
        **kwargs,
    )


def _send(
    path: str | None,
    st: os.stat_result | None,
    file: t.IO[bytes] | None,
    mimetype: str | None,
    as_attachment: bool,
    download_name: str | None,
    conditional: bool,
    etag: bool | str,
    last_modified: datetime | int | float | str | None,
    max_age: None | int | t.Callable[[str | None], int | None],
    **unexpected: t.Any,
) -> Response:
    if unexpected:
        raise TypeError(f"send_file() got unexpected keyword arguments: {sorted(unexpected)}")
    ctx = _request_ctx()
    app = ctx.app
    environ = ctx.request.environ
    method = environ.get("REQUEST_METHOD", "GET")

    size: int | None = None
    base = 0  # where a file object's content starts
    if st is not None:
        size = st.st_size
    elif file is not None:
        if isinstance(file, io.TextIOBase):
            raise ValueError("Files must be opened in binary mode or use BytesIO.")
        if isinstance(file, io.BytesIO):
            base = file.tell()
            size = file.getbuffer().nbytes - base

    if download_name is None and path is not None:
        download_name = os.path.basename(path)
    hl: list[tuple[str, str]] = []
    if mimetype is None:
        if download_name is None:
            raise MimetypeError(
                "Unable to detect the MIME type because a file name is not available."
                " Either set 'download_name', pass a path instead of a file, or set"
                " 'mimetype'."
            )
        mimetype, encoding = _guess_type(download_name)
        if encoding is not None and not as_attachment:
            hl.append(("Content-Encoding", encoding))
    else:
        _check_header(mimetype, "mimetype")
    hl.append(("Content-Type", get_content_type(mimetype)))
    if download_name is not None:
        hl.append(("Content-Disposition", _content_disposition(download_name, as_attachment)))
    elif as_attachment:
        raise TypeError(
            "No name provided for attachment. Either set 'download_name' or pass a path"
            " instead of a file."
        )
    if size is not None:
        hl.append(("Content-Length", str(size)))

    last_mod: str | None = None
    if last_modified is not None:
        if isinstance(last_modified, str):
            last_mod = _check_header(last_modified, "last_modified")
        else:
            last_mod = http_date(last_modified)
    elif st is not None:
        last_mod = _mtime_date(st.st_mtime)
    if last_mod is not None:
        hl.append(("Last-Modified", last_mod))

    if max_age is None:
        max_age = app.get_send_file_max_age
    if callable(max_age):
        max_age = max_age(path)
    if max_age is None:
        hl.append(("Cache-Control", "no-cache"))
    else:
        max_age = int(max_age)
        if max_age > 0:
            hl.append(("Cache-Control", f"public, max-age={max_age}"))
        else:
            hl.append(("Cache-Control", f"no-cache, max-age={max_age}"))
        hl.append(("Expires", http_date(time() + max_age)))

    etag_value: str | None = None
    if isinstance(etag, str):
        etag_value = quote_etag(_check_header(etag, "etag"))
    elif etag and st is not None and path is not None:
        check = adler32(path.encode("utf-8", "surrogateescape")) & 0xFFFFFFFF
        etag_value = f'"{st.st_mtime}-{size}-{check}"'
    if etag_value is not None:
        hl.append(("ETag", etag_value))

    use_x_sendfile = path is not None and app.config["USE_X_SENDFILE"]
    if use_x_sendfile:
        hl.append(("X-Sendfile", _check_header(t.cast(str, path), "X-Sendfile path")))

    get_or_head = method == "GET" or method == "HEAD"
    validators = conditional and get_or_head and _has_validators(environ)
    if conditional and get_or_head and not validators:
        # what make_conditional adds, without its header scans: the common case
        hl.append(("Date", _date_now()))
        hl.append(("Accept-Ranges", "bytes"))

    rv: Response = app.response_class(None, headers=Headers._from_list(hl), direct_passthrough=True)
    if file is not None and size is None:
        # unknown length: the body must be in place before make_conditional, which would
        # otherwise count the empty placeholder body as Content-Length: 0
        rv.response = _body(environ, file, None)
        file = None

    start = 0
    if conditional and get_or_head:
        code = 200
        if validators:
            rv.make_conditional(environ, accept_ranges=True, complete_length=size)
            code = rv.status_code
            if code == 304:
                rv.headers.remove("X-Sendfile")
                _close_quietly(file)
                return rv
            if code == 412:
                rv.headers.remove("Content-Length")
                _close_quietly(file)
                return rv
        if code == 200 and size is not None and not use_x_sendfile and "HTTP_RANGE" in environ:
            if_range = environ.get("HTTP_IF_RANGE")
            if if_range is None or _if_range_matches(if_range, etag_value, last_mod):
                rng = parse_range_header(environ["HTTP_RANGE"])
                if rng is not None and rng.units == "bytes" and len(rng.ranges) == 1:
                    span = rng.range_for_length(size)
                    if span is None:
                        _close_quietly(file)
                        raise RequestedRangeNotSatisfiable(length=size)
                    start, stop = span
                    rv.status_code = 206
                    rv.headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
                    rv.headers["Content-Length"] = str(stop - start)
                    size = stop - start

    if use_x_sendfile or (method == "HEAD" and file is None):
        return rv  # no body to send: do not even open the file
    ranged = rv.status_code == 206
    if file is None:
        if path is None:
            return rv  # body already attached (file object of unknown size)
        file = open(path, "rb")  # noqa: SIM115 - closed by the response
        rv.response = _body(environ, file, size if ranged else None, start)
    else:
        rv.response = _body(environ, file, size if ranged else None, base + start if ranged else 0)
    return rv


def _body(
    environ: t.Mapping[str, t.Any], file: t.IO[bytes], length: int | None, start: int = 0
) -> t.Iterable[bytes]:
    """The body iterable: the server's file wrapper when the whole rest of the file is sent,
    else a block iterator limited to ``length`` bytes from ``start``."""
    if start:
        file.seek(start)
    if length is None:
        wrapper = environ.get("wsgi.file_wrapper")
        if wrapper is not None:
            return t.cast("t.Iterable[bytes]", wrapper(file, BLOCK_SIZE))
    return _FileIter(file, length)


def _close_quietly(file: t.IO[bytes] | None) -> None:
    if file is not None:
        file.close()
