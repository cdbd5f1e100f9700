"""The HTTP response object (Werkzeug-compatible), independent of any server.

``Response("Hello")`` is the most frequent object a web app builds, so its
constructor has a fast path for ``str``/``bytes`` bodies that builds the header
list directly (trusted values, no validation) and looks up a precomputed
status line. Everything a user sets goes through ``Headers`` validation, so a
CR/LF in a header value is a ``ValueError`` rather than response splitting.
"""

from __future__ import annotations

import json as _json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from ..exceptions import set_response_factory
from .conditional import is_resource_modified
from .datastructures import Headers
from .parsing import (
    generate_etag,
    http_date,
    parse_etags,
    parse_options_header,
    quote_etag,
    unquote_etag,
)
from .response_headers import ResponseHeaderProperties
from .response_values import (
    CT_CACHE,
    LENGTHS,
    STATUS_LINES,
    clean_status,
    get_content_type,
    plain_header_list,
)

__all__ = ["Response", "get_content_type"]

_new_object = object.__new__
# Headers that describe the body and must go on a 304 (RFC 9110 15.4.5).
_ENTITY_HEADERS = frozenset(
    {
        "allow",
        "content-encoding",
        "content-language",
        "content-length",
        "content-location",
        "content-md5",
        "content-range",
        "content-type",
        "expires",
        "last-modified",
    }
)


def _iter_encoded(iterable: Iterable[str | bytes]) -> Iterator[bytes]:
    for item in iterable:
        if isinstance(item, str):
            yield item.encode()
        else:
            yield item


class _ClosingIterator:
    """The WSGI body: iterates the response and runs its close callbacks."""

    __slots__ = ("_iter", "_close")

    def __init__(self, iterable: Iterable[bytes], close: Callable[[], None]) -> None:
        self._iter = iter(iterable)
        self._close = close

    def __iter__(self) -> _ClosingIterator:
        return self

    def __next__(self) -> bytes:
        return next(self._iter)

    def close(self) -> None:
        self._close()



#: Turns an async iterable body into a sync iterator (set by the application layer, which
#: knows how to run coroutines: on the ASGI server's loop, else on the thread's loop).
_async_body: Callable[[Any], Iterable[bytes]] | None = None


def set_async_body_adapter(adapter: Callable[[Any], Iterable[bytes]]) -> None:
    """Let ``Response(async_generator())`` stream: ``adapter`` makes it iterable."""
    global _async_body
    _async_body = adapter


class Response(ResponseHeaderProperties):
    """An HTTP response: status, headers, and a body (bytes or an iterable).

    Also a WSGI application (``response(environ, start_response)``), so any
    WSGI server or middleware can run it directly.
    """

    #: The mimetype when none is given (``text/html`` in the core subclass).
    default_mimetype: str | None = "text/plain"
    #: Whether ``set_data`` and the WSGI call fill in ``Content-Length``.
    automatically_set_content_length: bool = True
    #: Whether ``get_data`` may buffer a streamed body into a list.
    implicit_sequence_conversion: bool = True
    #: Warn limit for cookies, passed to ``dump_cookie``.
    max_cookie_size: int = 4093
    #: Used by ``get_json``; a subclass may swap in another JSON library.
    json_module: Any = _json

    #: Pass the body iterable to the server untouched (e.g. a file wrapper).
    direct_passthrough: bool = False
    _on_close: list[Callable[[], Any]] | None = None
    _status: str = "200 OK"
    _status_code: int = 200

    response: Any
    # The headers: a ``Headers`` once asked for (``headers``), else the plain list a plain
    # answer was built with (most responses are sent without anyone reading their headers).
    _headers: Headers | None = None
    _header_list: list[tuple[str, str]] | None = None

    #: False when a subclass overrides ``__init__``: ``_buffered`` then calls it.
    default_init: bool = True

    @property
    def headers(self) -> Headers:
        """The response headers (a ``Headers``, made from the plain list on first use)."""
        headers = self._headers
        if headers is None:
            headers = self._headers = _new_object(Headers)  # Headers._from_list, inlined
            headers._list = self._header_list if self._header_list is not None else []
            self._header_list = None
        return headers

    @headers.setter
    def headers(self, value: Headers) -> None:
        self._headers = value
        self._header_list = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.default_init = cls.__init__ is Response.__init__
        if cls.get_wsgi_headers is not Response.get_wsgi_headers and cls.__call__ is (
            Response.__call__
        ):
            # __call__'s shortcut would skip the override
            cls.__call__ = Response._call_general  # type: ignore[method-assign]

    @classmethod
    def _buffered(cls, body: str, mimetype: str) -> Response:
        """``cls(body, mimetype=mimetype)`` for a framework-made body and mimetype (JSON
        answers): the same response, without the checks ``__init__`` makes for a caller's."""
        if not cls.default_init:
            return cls(body, mimetype=mimetype)
        data = body.encode()
        self = _new_object(cls)
        self._status = "200 OK"
        self._status_code = 200
        self._headers = None
        self._header_list = [
            ("Content-Type", CT_CACHE.get(mimetype) or get_content_type(mimetype)),
            ("Content-Length", LENGTHS[n] if (n := len(data)) < 2048 else str(n)),
        ]
        self.response = [data]
        self._on_close = None
        return self

    def __init__(
        self,
        response: Iterable[bytes] | Iterable[str] | bytes | str | None = None,
        status: int | str | None = None,
        headers: Headers | Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
        mimetype: str | None = None,
        content_type: str | None = None,
        direct_passthrough: bool = False,
    ) -> None:
        # Every path stores ``_status``, ``_status_code``, ``_headers``, ``_header_list``,
        # ``response`` in this order: CPython then shares one key table for all responses (a
        # differing order turns the instance dict into a plain dict, which costs more).
        if status is None:
            self._status = "200 OK"
            self._status_code = 200
        elif type(status) is int and status in STATUS_LINES:
            self._status = STATUS_LINES[status]
            self._status_code = status
        else:
            self._status, self._status_code = clean_status(status)

        rtype = type(response)
        if content_type is None and (rtype is str or rtype is bytes):
            data: bytes = response.encode() if rtype is str else response  # type: ignore[union-attr,assignment]
            lst = plain_header_list(
                headers, self.default_mimetype if mimetype is None else mimetype, mimetype, len(data)
            )
            if lst is not None:
                self._headers = None
                self._header_list = lst
                self.response = [data]
                self._on_close = None
                if direct_passthrough:
                    self.direct_passthrough = True
                return

        if headers is None:
            hdrs = Headers()
        elif isinstance(headers, Headers):
            hdrs = headers
        else:
            hdrs = Headers(headers)  # type: ignore[arg-type]
        self._headers = hdrs
        self._header_list = None
        if content_type is None:
            if mimetype is None and "content-type" not in hdrs:
                mimetype = self.default_mimetype
            if mimetype is not None:
                content_type = get_content_type(mimetype)
        if content_type is not None:
            hdrs["Content-Type"] = content_type

        if response is None:
            self.response = []
        elif isinstance(response, (str, bytes, bytearray)):
            self.set_data(response)
        elif _async_body is not None and hasattr(response, "__aiter__"):
            self.response = _async_body(response)
        else:
            self.response = response
        self._on_close = None
        if direct_passthrough:
            self.direct_passthrough = True

    def __repr__(self) -> str:
        if self.is_sequence:
            body_info = f"{sum(map(len, self.iter_encoded()))} bytes"
        else:
            body_info = "streamed" if self.is_streamed else "likely-streamed"
        return f"<{type(self).__name__} {body_info} [{self._status}]>"

    # -- status --------------------------------------------------------------
    @property
    def status_code(self) -> int:
        """The numeric status code (200, 404, ...)."""
        return self._status_code

    @status_code.setter
    def status_code(self, code: int) -> None:
        self._status, self._status_code = clean_status(code)

    @property
    def status(self) -> str:
        """The status line, e.g. ``"404 NOT FOUND"``."""
        return self._status

    @status.setter
    def status(self, value: str | int) -> None:
        self._status, self._status_code = clean_status(value)

    # -- content type ----------------------------------------------------------
    @property
    def content_type(self) -> str | None:
        """The raw ``Content-Type`` header."""
        return self.headers.get("Content-Type")

    @content_type.setter
    def content_type(self, value: str | None) -> None:
        if value is None:
            self.headers.remove("Content-Type")
        else:
            self.headers["Content-Type"] = value

    @property
    def mimetype(self) -> str | None:
        """The mimetype (content type without parameters, lower case)."""
        ct = self.headers.get("Content-Type")
        if ct is None:
            return None
        return ct.split(";", 1)[0].strip().lower()

    @mimetype.setter
    def mimetype(self, value: str) -> None:
        self.headers["Content-Type"] = get_content_type(value)

    @property
    def mimetype_params(self) -> dict[str, str]:
        """The Content-Type parameters (a copy: assign ``content_type`` to change)."""
        ct = self.headers.get("Content-Type")
        if not ct:
            return {}
        return dict(parse_options_header(ct)[1])

    @property
    def is_json(self) -> bool:
        """True for ``application/json`` and ``application/*+json`` bodies."""
        mt = self.mimetype
        return mt is not None and (
            mt == "application/json" or (mt.startswith("application/") and mt.endswith("+json"))
        )

    # -- body --------------------------------------------------------------------
    @property
    def is_sequence(self) -> bool:
        """True when the body is a buffered list/tuple (not a stream)."""
        return isinstance(self.response, (tuple, list))

    @property
    def is_streamed(self) -> bool:
        """True when the body has no known length (generator, iterator)."""
        try:
            len(self.response)
        except (TypeError, AttributeError):
            return True
        return False

    def iter_encoded(self) -> Iterator[bytes]:
        """Iterate the body as bytes (str items are UTF-8 encoded)."""
        return _iter_encoded(self.response)

    def make_sequence(self) -> None:
        """Buffer a streamed body into a list (its ``close`` still runs later)."""
        if not self.is_sequence:
            close = getattr(self.response, "close", None)
            self.response = list(self.iter_encoded())
            if close is not None:
                self.call_on_close(close)

    def _ensure_sequence(self) -> None:
        if self.is_sequence:
            return
        if self.direct_passthrough:
            raise RuntimeError(
                "Attempted implicit sequence conversion but the response object is in"
                " direct passthrough mode."
            )
        if not self.implicit_sequence_conversion:
            raise RuntimeError(
                "The response object required the iterable to be a sequence, but the"
                " implicit conversion was disabled. Call make_sequence() yourself."
            )
        self.make_sequence()

    def get_data(self, as_text: bool = False) -> bytes | str:
        """The whole body (buffering a stream first); ``as_text`` decodes UTF-8."""
        self._ensure_sequence()
        resp = self.response
        if len(resp) == 1 and type(resp[0]) is bytes:
            rv: bytes = resp[0]
        else:
            rv = b"".join(self.iter_encoded())
        if as_text:
            return rv.decode()
        return rv

    def set_data(self, value: bytes | bytearray | str) -> None:
        """Replace the body and set ``Content-Length`` to match."""
        data = value.encode() if isinstance(value, str) else bytes(value)
        self.response = [data]
        if self.automatically_set_content_length:
            headers = self.headers
            if type(headers) is Headers:
                headers._set_trusted("Content-Length", str(len(data)))  # a computed value
            else:
                headers["Content-Length"] = str(len(data))

    @property
    def data(self) -> bytes:
        """The body as bytes (settable)."""
        return self.get_data()  # type: ignore[return-value]

    @data.setter
    def data(self, value: bytes | str) -> None:
        self.set_data(value)

    @property
    def json(self) -> Any:
        """The parsed JSON body, or None when the mimetype is not JSON."""
        return self.get_json()

    def get_json(self, force: bool = False, silent: bool = False) -> Any:
        """Parse the body as JSON (mostly for tests)."""
        if not (force or self.is_json):
            return None
        data = self.get_data()
        try:
            return self.json_module.loads(data)
        except ValueError:
            if not silent:
                raise
            return None

    def freeze(self) -> None:
        """Buffer the body and fix ``Content-Length`` (e.g. before caching)."""
        self.response = list(self.iter_encoded())
        self.headers["Content-Length"] = str(sum(map(len, self.response)))

    # -- etags & conditional -----------------------------------------------------
    def get_etag(self) -> tuple[str | None, bool | None]:
        """``(etag, is_weak)`` from the ``ETag`` header, or ``(None, None)``."""
        return unquote_etag(self.headers.get("ETag"))

    def set_etag(self, etag: str, weak: bool = False) -> None:
        """Set the ``ETag`` header (quoted here)."""
        self.headers["ETag"] = quote_etag(etag, weak)

    def add_etag(self, overwrite: bool = False, weak: bool = False) -> None:
        """Set an ETag computed from the body unless one is already present."""
        if overwrite or "etag" not in self.headers:
            self.set_etag(generate_etag(self.get_data()), weak)  # type: ignore[arg-type]

    def make_conditional(
        self,
        request_or_environ: Any,
        accept_ranges: bool | str = False,
        complete_length: int | None = None,
    ) -> Response:
        """Turn this into a 304 (or 412) when the request's validators match.

        Honours If-None-Match (weak comparison), If-Modified-Since and If-Match
        against this response's ``ETag``/``Last-Modified``. Only GET and HEAD
        are affected. Range requests are not handled yet (``accept_ranges``
        only sets the ``Accept-Ranges`` header).
        """
        environ = getattr(request_or_environ, "environ", request_or_environ)
        if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
            return self
        headers = self.headers
        if "date" not in headers:
            headers["Date"] = http_date()
        if accept_ranges:
            headers["Accept-Ranges"] = "bytes" if accept_ranges is True else accept_ranges
        if (
            self.automatically_set_content_length
            and self.is_sequence
            and "content-length" not in headers
        ):
            try:
                length = sum(len(x) for x in self.iter_encoded())
            except UnicodeError:
                pass
            else:
                headers["Content-Length"] = str(length)
        if not is_resource_modified(environ, headers.get("ETag"), headers.get("Last-Modified")):
            if parse_etags(environ.get("HTTP_IF_MATCH")):
                self.status_code = 412
            else:
                self.status_code = 304
        return self

    # -- closing & WSGI ------------------------------------------------------------
    def call_on_close(self, func: Callable[[], Any]) -> Callable[[], Any]:
        """Register ``func`` to run when the server closes the response."""
        if self._on_close is None:
            self._on_close = []
        self._on_close.append(func)
        return func

    def close(self) -> None:
        """Close the body iterable and run the ``call_on_close`` callbacks."""
        close = getattr(self.response, "close", None)
        if close is not None:
            close()
        callbacks = self._on_close
        if callbacks:
            self._on_close = None
            for func in callbacks:
                func()

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def iter_body(self) -> Iterable[bytes]:
        """The body as the server should send it (passthrough or encoded)."""
        resp = self.response
        if self.direct_passthrough:
            return resp  # type: ignore[no-any-return]
        if type(resp) is list:
            for item in resp:
                if type(item) is not bytes:
                    return self.iter_encoded()
            return resp
        return self.iter_encoded()

    def get_wsgi_headers(self, environ: Mapping[str, Any] | None = None) -> list[tuple[str, str]]:
        """The header list to send: fixed up for the status, with a computed
        ``Content-Length`` for buffered bodies. Never mutates ``self.headers``."""
        headers = self._headers
        if headers is None:
            hl = self._header_list if self._header_list is not None else []
        else:
            hl = headers._list if type(headers) is Headers else headers.to_wsgi_list()
        code = self._status_code
        has_cl = False
        for key, _ in hl:
            if len(key) == 14 and key.lower() == "content-length":
                has_cl = True
                break
        if code < 200 or code == 204:
            if has_cl:
                hl = [h for h in hl if h[0].lower() != "content-length"]
            return hl
        if code == 304:
            return [h for h in hl if h[0].lower() not in _ENTITY_HEADERS]
        if not has_cl and self.automatically_set_content_length and self.is_sequence:
            try:
                length = sum(len(x) for x in self.iter_encoded())
            except UnicodeError:  # pragma: no cover - the body will fail later anyway
                return hl
            hl = [*hl, ("Content-Length", str(length))]
        return hl

    def __call__(
        self, environ: Mapping[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """Run as a WSGI application."""
        resp = self.response
        if self._status_code == 200 and type(resp) is list and self._on_close is None:
            # The commonest case: a buffered 200 whose Content-Length is set (setting a str
            # or bytes body appends it last). What _call_general does for it, without the
            # calls. (A subclass overriding get_wsgi_headers gets _call_general as __call__.)
            hdrs = self._headers
            if hdrs is None:
                headers = self._header_list
            else:
                headers = hdrs._list if type(hdrs) is Headers else None
            if (
                headers
                and headers[-1][0] == "Content-Length"
                and len(resp) == 1
                and type(resp[0]) is bytes
            ):
                start_response(self._status, headers)
                return () if environ.get("REQUEST_METHOD") == "HEAD" else resp
        return self._call_general(environ, start_response)

    def _call_general(
        self, environ: Mapping[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        code = self._status_code
        headers = self.get_wsgi_headers(environ)
        start_response(self._status, headers)
        resp = self.response
        if environ.get("REQUEST_METHOD") == "HEAD" or code < 200 or code in (204, 304):
            body: Iterable[bytes] = ()
        elif type(resp) is list and len(resp) == 1 and type(resp[0]) is bytes:
            body = resp  # iter_body's answer for a buffered body, without the call
        else:
            body = self.iter_body()
        if self._on_close is None:
            if type(resp) is list or getattr(resp, "close", None) is None:
                return body
            if self.direct_passthrough and body is resp:
                # Hand the server its own object (e.g. wsgi.file_wrapper → zero-copy sendfile);
                # it calls close() on it.
                return resp  # type: ignore[no-any-return]
        return _ClosingIterator(body, self.close)


def _error_response(
    body: str | bytes, code: int | None, header_list: list[tuple[str, str]]
) -> Response:
    """An HTTP error's response (``HTTPException.get_response``); its headers come from the
    exception class, not from a client, so they are used as they are (``Content-Length``
    added), as ``Response(body, status=code, headers=Headers(header_list))`` would."""
    status = STATUS_LINES.get(code) if type(code) is int else None  # type: ignore[arg-type]
    if (
        status is None
        or not 200 <= code < 600  # type: ignore[operator]
        or code in (204, 304)
        or any(key.lower() == "content-length" for key, _ in header_list)
    ):
        return Response(body, status=code, headers=Headers._from_list([*header_list]))
    data = body.encode() if type(body) is str else body
    n = len(data)
    header_list = [*header_list, ("Content-Length", LENGTHS[n] if n < 2048 else str(n))]
    self = _new_object(Response)
    self._status = status
    self._status_code = code  # type: ignore[assignment]
    self._headers = None
    self._header_list = header_list
    self.response = [data]  # type: ignore[list-item]
    self._on_close = None
    return self


set_response_factory(_error_response)
