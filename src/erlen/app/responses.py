"""How the application turns a view's return value into a response: str, bytes, dict/list
(JSON), tuples with status and headers, generators, HTTP exceptions and WSGI apps."""

from __future__ import annotations

import typing as t
from collections.abc import AsyncIterator, Callable, Iterator
from types import GeneratorType

from ..exceptions import HTTPException
from ..globals import _get_request_ctx
from ..http.datastructures import Headers
from ..http.response import Response as _HTTPResponse
from ..json import json_response
from ..scaffold import Scaffold

if t.TYPE_CHECKING:
    from ..json import JSONProvider
    from ..wrappers import Response


class ResponseMaking(Scaffold):
    """The return-value half of ``Erlen`` (a mixin: ``Erlen`` is the only class that uses it)."""

    if t.TYPE_CHECKING:  # provided by Erlen
        response_class: type[Response]
        json: JSONProvider

    def make_response(self, rv: t.Any) -> Response:
        """Turn a view's return value into a response (str, bytes, dict, list, tuple, …)."""
        rv_type = type(rv)
        if rv_type is str:
            return self.response_class(rv)
        status = headers = None
        if rv_type is tuple:
            len_rv = len(rv)
            if len_rv == 3:
                rv, status, headers = rv
                if type(rv) is str:  # the common (body, status, headers)
                    return self.response_class(rv, status, headers)
            elif len_rv == 2:
                if isinstance(rv[1], Headers | dict | tuple | list):
                    rv, headers = rv
                else:
                    rv, status = rv
            else:
                raise TypeError(
                    f"The view function for {self._current_endpoint()!r} did not"
                    " return a valid response tuple."
                    " The tuple must have the form (body, status, headers),"
                    " (body, status), or (body, headers)."
                )
        if rv is None:
            raise TypeError(
                f"The view function for {self._current_endpoint()!r} did not"
                " return a valid response. The function either returned"
                " None or ended without a return statement."
            )
        if not isinstance(rv, _HTTPResponse):
            rv_type = type(rv)
            if rv_type is dict or rv_type is list:
                rv = json_response(self, rv)  # type: ignore[arg-type]
            elif isinstance(rv, str | bytes | bytearray | GeneratorType):
                rv = self.response_class(rv, status=status, headers=headers)  # type: ignore[arg-type]
                status = headers = None
            elif isinstance(rv, HTTPException):
                rv = rv.get_response()
            elif isinstance(rv, dict | list):
                rv = json_response(self, rv)  # type: ignore[arg-type]
            elif isinstance(rv, Iterator | AsyncIterator):
                rv = self.response_class(rv, status=status, headers=headers)  # type: ignore[arg-type]
                status = headers = None
            elif callable(rv):
                rv = self._response_from_wsgi_app(rv)
            else:
                raise TypeError(
                    f"The view function for {self._current_endpoint()!r} did not return a"
                    " valid response. The return type must be a string,"
                    " dict, list, tuple with headers or status,"
                    " Response instance, or WSGI callable, but it"
                    f" was a {type(rv).__name__}."
                )
        if status is not None:
            if isinstance(status, str | bytes):
                rv.status = status if isinstance(status, str) else status.decode("latin-1")
            else:
                rv.status_code = status
        if headers:
            rv.headers.update(headers)
        return rv

    @staticmethod
    def _current_endpoint() -> str | None:
        ctx = _get_request_ctx(None)
        return ctx.request.endpoint if ctx is not None else None

    def _response_from_wsgi_app(self, wsgi_app: Callable[..., t.Any]) -> Response:
        environ = _get_request_ctx().request.environ
        captured: list[t.Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: t.Any = None
        ) -> Callable[[bytes], None]:
            captured[:] = [status, headers]
            return lambda data: None

        body = wsgi_app(environ, start_response)
        try:
            data = b"".join(body)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        status, headers = captured
        return self.response_class(data, status=status, headers=headers)
