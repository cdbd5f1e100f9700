"""The HTTP exception tree and :func:`abort`.

Views raise these (``abort(404)``) and the app turns them into responses; each one is also a
small WSGI app.  Names, codes and default descriptions follow Werkzeug's, so Flask apps that
register handlers for ``NotFound`` or check ``e.code`` keep working.  This module sits below
``erlen.http``: the few things it needs from there (``Response``, ``http_date``) are imported
lazily inside the methods that use them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any, NoReturn

from erlen.status import HTTP_STATUS_CODES

if TYPE_CHECKING:
    from erlen.http.response import Response

__all__ = [
    "HTTPException",
    "BadRequest",
    "BadRequestKeyError",
    "ClientDisconnected",
    "SecurityError",
    "BadHost",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "MethodNotAllowed",
    "NotAcceptable",
    "RequestTimeout",
    "Conflict",
    "Gone",
    "LengthRequired",
    "PreconditionFailed",
    "RequestEntityTooLarge",
    "RequestURITooLarge",
    "UnsupportedMediaType",
    "RequestedRangeNotSatisfiable",
    "ExpectationFailed",
    "ImATeapot",
    "MisdirectedRequest",
    "UnprocessableEntity",
    "Locked",
    "FailedDependency",
    "PreconditionRequired",
    "TooManyRequests",
    "RequestHeaderFieldsTooLarge",
    "UnavailableForLegalReasons",
    "InternalServerError",
    "NotImplemented",
    "BadGateway",
    "ServiceUnavailable",
    "GatewayTimeout",
    "HTTPVersionNotSupported",
    "default_exceptions",
    "Aborter",
    "abort",
]

_NEEDS_ESCAPE_RE = re.compile(r"[&<>\"'\n]")
_HTML_HEADERS: tuple[tuple[str, str], ...] = (("Content-Type", "text/html; charset=utf-8"),)


def _escape(text: str) -> str:
    """HTML-escape like MarkupSafe does (same entities), turning newlines into ``<br>``."""
    if _NEEDS_ESCAPE_RE.search(text) is None:
        return text
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
        .replace("'", "&#39;")
        .replace("\n", "<br>")
    )


def _default_page(cls: type[HTTPException]) -> bytes | None:
    """The HTML page of ``cls`` with its class description, when nothing that shapes the page
    is overridden (so it is the same for every instance); None otherwise."""
    from inspect import getattr_static

    base = HTTPException
    if (
        cls.get_body is not base.get_body
        or cls.get_description is not base.get_description
        or cls.get_headers is not base.get_headers
        or getattr_static(cls, "name") is not base.__dict__["name"]
        or not isinstance(getattr_static(cls, "description"), str | None)
    ):
        return None
    try:
        return cls().get_body().encode()
    except Exception:  # a subclass whose constructor needs arguments
        return None


#: HTTPException class → its default page (None: rendered per instance), see _default_page.
_default_pages: dict[type[HTTPException], bytes | None] = {}


#: How an HTTP error becomes a response: ``(body, status code, header list) -> Response``.
#: The response class lives a layer above (``erlen.http.response``), which sets this when it
#: is imported (``set_response_factory``); the headers passed are the exception's own, from
#: its class, not from a client, so the factory need not validate them.
_response_factory: Callable[[str | bytes, int | None, list[tuple[str, str]]], Response] | None = (
    None
)


def set_response_factory(
    factory: Callable[[str | bytes, int | None, list[tuple[str, str]]], Response],
) -> None:
    """Set what ``HTTPException.get_response`` builds its response with (see above)."""
    global _response_factory
    _response_factory = factory


class HTTPException(Exception):
    """Base of all HTTP errors: carries a status code, a description and optionally a ready
    response, and renders itself as a small HTML page."""

    code: int | None = None
    description: str | None = None

    def __init__(self, description: str | None = None, response: Response | None = None) -> None:
        super().__init__()
        if description is not None:
            self.description = description
        self.response = response

    @property
    def name(self) -> str:
        """The reason phrase for :attr:`code`, e.g. ``"Not Found"``."""
        return HTTP_STATUS_CODES.get(self.code, "Unknown Error")  # type: ignore[arg-type]

    def get_description(self, environ: Any = None, scope: Any = None) -> str:
        """The escaped description wrapped in ``<p>``."""
        desc = self.description
        return f"<p>{_escape(desc) if desc else ''}</p>"

    def get_body(self, environ: Any = None, scope: Any = None) -> str:
        """The HTML error page."""
        name = _escape(self.name)
        return (
            "<!doctype html>\n<html lang=en>\n"
            f"<title>{self.code} {name}</title>\n"
            f"<h1>{name}</h1>\n"
            f"{self.get_description(environ, scope)}\n"
        )

    def get_headers(self, environ: Any = None, scope: Any = None) -> list[tuple[str, str]]:
        """Headers of the error response; subclasses add ``Allow``, ``Retry-After``..."""
        return list(_HTML_HEADERS)

    def get_response(self, environ: Any = None, scope: Any = None) -> Response:
        """The response to send: the one given to the constructor, or the HTML page."""
        if self.response is not None:
            return self.response
        make = _response_factory
        if make is None:
            raise RuntimeError("erlen.http.response is not imported: no response class")
        cls = type(self)
        if "description" not in self.__dict__:
            page = _default_pages.get(cls)
            if page is None and cls not in _default_pages:
                page = _default_pages[cls] = _default_page(cls)
            if page is not None:
                # the class's own page, rendered once (text/html, as get_headers says)
                return make(page, self.code, list(_HTML_HEADERS))
        return make(self.get_body(environ, scope), self.code, self.get_headers(environ, scope))

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """Serve the error as a WSGI application."""
        response = self.get_response(environ)
        return response(environ, start_response)  # type: ignore[no-any-return]

    def __str__(self) -> str:
        code = self.code if self.code is not None else "???"
        return f"{code} {self.name}: {self.description}"

    def __repr__(self) -> str:
        code = self.code if self.code is not None else "???"
        return f"<{type(self).__name__} '{code}: {self.name}'>"


class BadRequest(HTTPException):
    """400: the request could not be understood (malformed data, missing form key...)."""

    code = 400
    description = "The browser (or proxy) sent a request that this server could not understand."


class BadRequestKeyError(BadRequest, KeyError):
    """A missing key in request data; a ``KeyError`` too so ``except KeyError`` still works.

    The key is only shown in the description when :attr:`show_exception` is true (Flask sets
    it in debug mode), so production error pages do not leak field names.
    """

    show_exception = False

    def __init__(self, arg: object = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if arg is None:
            KeyError.__init__(self)
        else:
            KeyError.__init__(self, arg)

    @property  # type: ignore[override]
    def description(self) -> str:
        base = self._description
        if self.show_exception:
            return f"{base}\nKeyError: {KeyError.__str__(self)}"
        return base

    @description.setter
    def description(self, value: str) -> None:
        self._description = value

    _description: str = BadRequest.description  # type: ignore[assignment]


class ClientDisconnected(BadRequest):
    """The client went away while the request body was being read."""


class SecurityError(BadRequest):
    """Something looked like an attack (e.g. a path escaping its root)."""


class BadHost(BadRequest):
    """The Host header is malformed (no valid ``host[:port]``), so no URL may be built from it."""


class Unauthorized(HTTPException):
    """401: authentication is needed; ``www_authenticate`` gives the challenge header(s)."""

    code = 401
    description = (
        "The server could not verify that you are authorized to access the URL requested."
        " You either supplied the wrong credentials (e.g. a bad password), or your browser"
        " doesn't understand how to supply the credentials required."
    )

    def __init__(
        self,
        description: str | None = None,
        response: Response | None = None,
        www_authenticate: Any = None,
    ) -> None:
        super().__init__(description, response)
        if www_authenticate is None:
            self.www_authenticate: list[Any] = []
        elif isinstance(www_authenticate, str) or not isinstance(www_authenticate, Iterable):
            self.www_authenticate = [www_authenticate]
        else:
            self.www_authenticate = list(www_authenticate)

    def get_headers(self, environ: Any = None, scope: Any = None) -> list[tuple[str, str]]:
        headers = super().get_headers(environ, scope)
        for value in self.www_authenticate:
            text = value.to_header() if hasattr(value, "to_header") else str(value)
            headers.append(("WWW-Authenticate", text))
        return headers


class Forbidden(HTTPException):
    """403."""

    code = 403
    description = (
        "You don't have the permission to access the requested resource. It is either"
        " read-protected or not readable by the server."
    )


class NotFound(HTTPException):
    """404."""

    code = 404
    description = (
        "The requested URL was not found on the server. If you entered the URL manually"
        " please check your spelling and try again."
    )


class MethodNotAllowed(HTTPException):
    """405: ``valid_methods`` becomes the ``Allow`` header."""

    code = 405
    description = "The method is not allowed for the requested URL."

    def __init__(
        self,
        valid_methods: Iterable[str] | None = None,
        description: str | None = None,
        response: Response | None = None,
    ) -> None:
        super().__init__(description, response)
        self.valid_methods = valid_methods

    def get_headers(self, environ: Any = None, scope: Any = None) -> list[tuple[str, str]]:
        headers = super().get_headers(environ, scope)
        if self.valid_methods:
            headers.append(("Allow", ", ".join(self.valid_methods)))
        return headers


class NotAcceptable(HTTPException):
    """406."""

    code = 406
    description = (
        "The resource identified by the request is only capable of generating response"
        " entities which have content characteristics not acceptable according to the accept"
        " headers sent in the request."
    )


class RequestTimeout(HTTPException):
    """408."""

    code = 408
    description = (
        "The server closed the network connection because the browser didn't finish the"
        " request within the specified time."
    )


class Conflict(HTTPException):
    """409."""

    code = 409
    description = (
        "A conflict happened while processing the request. The resource might have been"
        " modified while the request was being processed."
    )


class Gone(HTTPException):
    """410."""

    code = 410
    description = (
        "The requested URL is no longer available on this server and there is no forwarding"
        " address. If you followed a link from a foreign page, please contact the author of"
        " this page."
    )


class LengthRequired(HTTPException):
    """411."""

    code = 411
    description = "A request with this method requires a valid <code>Content-Length</code> header."


class PreconditionFailed(HTTPException):
    """412."""

    code = 412
    description = "The precondition on the request for the URL failed positive evaluation."


class RequestEntityTooLarge(HTTPException):
    """413: the body exceeds ``MAX_CONTENT_LENGTH`` or a form limit."""

    code = 413
    description = "The data value transmitted exceeds the capacity limit."


class RequestURITooLarge(HTTPException):
    """414."""

    code = 414
    description = (
        "The length of the requested URL exceeds the capacity limit for this server. The"
        " request cannot be processed."
    )


class UnsupportedMediaType(HTTPException):
    """415."""

    code = 415
    description = "The server does not support the media type transmitted in the request."


class RequestedRangeNotSatisfiable(HTTPException):
    """416: with ``length`` set, adds ``Content-Range: bytes */length``."""

    code = 416
    description = "The server cannot provide the requested range."

    def __init__(
        self,
        length: int | None = None,
        units: str = "bytes",
        description: str | None = None,
        response: Response | None = None,
    ) -> None:
        super().__init__(description, response)
        self.length = length
        self.units = units

    def get_headers(self, environ: Any = None, scope: Any = None) -> list[tuple[str, str]]:
        headers = super().get_headers(environ, scope)
        if self.length is not None:
            headers.append(("Content-Range", f"{self.units} */{self.length}"))
        return headers


class ExpectationFailed(HTTPException):
    """417."""

    code = 417
    description = "The server could not meet the requirements of the Expect header"


class ImATeapot(HTTPException):
    """418."""

    code = 418
    description = "This server is a teapot, not a coffee machine"


class MisdirectedRequest(HTTPException):
    """421."""

    code = 421
    description = "The server is not able to produce a response."


class UnprocessableEntity(HTTPException):
    """422."""

    code = 422
    description = (
        "The request was well-formed but was unable to be followed due to semantic errors."
    )


class Locked(HTTPException):
    """423."""

    code = 423
    description = "The resource that is being accessed is locked."


class FailedDependency(HTTPException):
    """424."""

    code = 424
    description = (
        "The method could not be performed on the resource because the requested action"
        " depended on another action and that action failed."
    )


class PreconditionRequired(HTTPException):
    """428."""

    code = 428
    description = (
        'This request is required to be conditional; try using "If-Match" or "If-Unmodified-Since".'
    )


class _RetryAfter(HTTPException):
    """Adds ``Retry-After`` (seconds or an HTTP date) when ``retry_after`` is given."""

    def __init__(
        self,
        description: str | None = None,
        response: Response | None = None,
        retry_after: datetime | int | None = None,
    ) -> None:
        super().__init__(description, response)
        self.retry_after = retry_after

    def get_headers(self, environ: Any = None, scope: Any = None) -> list[tuple[str, str]]:
        headers = super().get_headers(environ, scope)
        value = self.retry_after
        if value is not None:
            if isinstance(value, datetime):
                if value.tzinfo is None:  # naive: UTC, as erlen.http.dates reads it
                    value = value.replace(tzinfo=UTC)
                headers.append(("Retry-After", format_datetime(value.astimezone(UTC), usegmt=True)))
            else:
                headers.append(("Retry-After", str(int(value))))
        return headers


class TooManyRequests(_RetryAfter):
    """429."""

    code = 429
    description = "This user has exceeded an allotted request count. Try again later."


class RequestHeaderFieldsTooLarge(HTTPException):
    """431."""

    code = 431
    description = "One or more header fields exceeds the maximum size."


class UnavailableForLegalReasons(HTTPException):
    """451."""

    code = 451
    description = "Unavailable for legal reasons."


class InternalServerError(HTTPException):
    """500: ``original_exception`` keeps the unhandled error that caused it."""

    code = 500
    description = (
        "The server encountered an internal error and was unable to complete your request."
        " Either the server is overloaded or there is an error in the application."
    )

    def __init__(
        self,
        description: str | None = None,
        response: Response | None = None,
        original_exception: BaseException | None = None,
    ) -> None:
        super().__init__(description, response)
        self.original_exception = original_exception


class NotImplemented(HTTPException):  # noqa: A001 - Werkzeug's public name
    """501."""

    code = 501
    description = "The server does not support the action requested by the browser."


class BadGateway(HTTPException):
    """502."""

    code = 502
    description = "The proxy server received an invalid response from an upstream server."


class ServiceUnavailable(_RetryAfter):
    """503."""

    code = 503
    description = (
        "The server is temporarily unable to service your request due to maintenance downtime"
        " or capacity problems. Please try again later."
    )


class GatewayTimeout(HTTPException):
    """504."""

    code = 504
    description = "The connection to an upstream server timed out."


class HTTPVersionNotSupported(HTTPException):
    """505."""

    code = 505
    description = "The server does not support the HTTP protocol version used in the request."


def _collect(base: type[HTTPException]) -> Iterator[type[HTTPException]]:
    for sub in base.__subclasses__():
        yield sub
        yield from _collect(sub)


default_exceptions: dict[int, type[HTTPException]] = {}
for _cls in _collect(HTTPException):
    if _cls.code is not None and _cls.code not in default_exceptions:
        default_exceptions[_cls.code] = _cls
del _cls


class Aborter:
    """Raises the exception registered for a status code; ``extra`` adds or overrides codes.

    Passing a response object (anything not an int) raises a bare :class:`HTTPException`
    carrying it, so the app sends that response unchanged.
    """

    def __init__(
        self,
        mapping: dict[int, type[HTTPException]] | None = None,
        extra: dict[int, type[HTTPException]] | None = None,
    ) -> None:
        self.mapping = dict(default_exceptions if mapping is None else mapping)
        if extra:
            self.mapping.update(extra)

    def __call__(self, code: int | Response, *args: Any, **kwargs: Any) -> NoReturn:
        if not isinstance(code, int):
            raise HTTPException(response=code)
        try:
            cls = self.mapping[code]
        except KeyError:
            raise LookupError(f"no exception for {code!r}") from None
        raise cls(*args, **kwargs)


_aborter = Aborter()


def abort(status: int | Response, *args: Any, **kwargs: Any) -> NoReturn:
    """Raise the HTTP exception for ``status`` (``abort(404)``), or wrap a response."""
    _aborter(status, *args, **kwargs)
