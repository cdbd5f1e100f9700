"""``Resource``: a ``MethodView`` whose methods return data, not responses.

The methods are plain ``MethodView`` methods (``get(self, id)``), called with the URL's
values, so anything that applies to a ``MethodView`` method (decorators, typed binding)
applies to them. The :class:`~erlen.rest.Api` the resource is added to turns the data into
a response (:meth:`Api.make_response`).
"""

from __future__ import annotations

import typing as t
from collections.abc import Callable, Mapping
from types import CoroutineType

from ..app.coroutines import run_coroutine
from ..globals import request
from ..http.response import Response
from ..views import MethodView
from .utils import unpack

__all__ = ["Resource"]


class Resource(MethodView):
    """A REST resource: one method per HTTP verb; an unknown verb is a 405 (with ``Allow``).

    ``method_decorators`` wrap the bound method on each request: a list for every verb,
    or a dict of lists by verb (``{"post": [auth]}``). ``representations`` (mediatype →
    function) overrides the Api's for this resource.
    """

    representations: t.ClassVar[Mapping[str, Callable[..., Response]] | None] = None
    method_decorators: t.ClassVar[
        list[Callable[..., t.Any]] | Mapping[str, list[Callable[..., t.Any]]]
    ] = []
    #: Set by ``Api.add_resource``: the endpoint name (``Api.url_for`` reads it).
    endpoint: t.ClassVar[str]

    def dispatch_request(self, *args: t.Any, **kwargs: t.Any) -> t.Any:
        method = request.method.lower()
        meth = getattr(self, method, None)
        if meth is None and method == "head":
            meth = getattr(self, "get", None)
        assert meth is not None, f"Unimplemented method {request.method!r}"
        decorators: t.Any = self.method_decorators
        if decorators:
            if isinstance(decorators, Mapping):
                decorators = decorators.get(method, ())
            for decorator in decorators:
                meth = decorator(meth)
        resp = meth(*args, **kwargs)
        if type(resp) is CoroutineType:
            resp = run_coroutine(resp)
        if isinstance(resp, Response):
            return resp
        representations = self.representations
        if representations:
            mediatype = request.accept_mimetypes.best_match(representations, default=None)
            if mediatype is not None and mediatype in representations:
                data, code, headers = unpack(resp)
                resp = representations[mediatype](data, code, headers)
                resp.headers["Content-Type"] = mediatype
        return resp
