"""Context-local proxies: ``current_app``, ``g``, ``request``, ``session``.

Contexts live in :mod:`contextvars`, so they are correct across threads and asyncio tasks.
A proxy resolves the current object on every use; the resolution is one ``ContextVar.get``
plus an attribute read, which keeps the proxies cheap on the hot path. A request does not
push an app context of its own when none is active (see ``_CurrentAppContext``).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from .app import Erlen
    from .ctx import AppContext, RequestContext, _AppCtxGlobals
    from .sessions import SessionMixin
    from .wrappers import Request

_no_app_msg = """\
Working outside of application context.

This typically means that you attempted to use functionality that needed
the current application. To solve this, set up an application context
with app.app_context(). See the documentation for more information.\
"""
_no_req_msg = """\
Working outside of request context.

This typically means that you attempted to use functionality that needed
an active HTTP request. Consult the documentation on testing for
information about how to avoid this problem.\
"""

#: The app context pushed last (``app.app_context().push()``, or a request that needed a real
#: one). Only ``erlen.ctx`` sets and resets it; everything else reads ``_cv_app``.
_cv_app_pushed: ContextVar[AppContext] = ContextVar("erlen.app_ctx")
_cv_request: ContextVar[RequestContext] = ContextVar("erlen.request_ctx")
_missing: Any = object()


class _CurrentAppContext:
    """Reads the current app context as ``ContextVar.get`` would: the one pushed last, else
    the one the active request implies.

    A request pushed while no app context is active does not push one: it carries its own,
    created on first use (``RequestContext.app_ctx``). A plain request then sets one
    ContextVar instead of two. With ``app_only`` the lookup answers the app itself, which
    never needs the implied context to be created.
    """

    __slots__ = ("_app_only",)

    def __init__(self, app_only: bool = False) -> None:
        self._app_only = app_only

    def get(self, default: Any = _missing) -> Any:
        ctx = _cv_app_pushed.get(None)
        if ctx is None:
            req_ctx = _cv_request.get(None)
            if req_ctx is None:
                if default is _missing:
                    raise LookupError("no application context")
                return default
            return req_ctx.app if self._app_only else req_ctx.app_ctx
        return ctx.app if self._app_only else ctx


#: The current app context (read-only: ``get(default)``), see ``_CurrentAppContext``.
_cv_app: ContextVar[AppContext] = cast("ContextVar[AppContext]", _CurrentAppContext())
#: The current app, without creating an implied app context.
_cv_current_app: ContextVar[Erlen] = cast("ContextVar[Erlen]", _CurrentAppContext(app_only=True))


class _ContextProxy:
    """Forward every operation to an attribute of the current context object."""

    __slots__ = ("_erlen_cv", "_erlen_attr", "_erlen_msg", "__weakref__")

    def __init__(self, cv: ContextVar[Any], attr: str | None, message: str) -> None:
        object.__setattr__(self, "_erlen_cv", cv)
        object.__setattr__(self, "_erlen_attr", attr)
        object.__setattr__(self, "_erlen_msg", message)

    def _get_current_object(self) -> Any:
        try:
            ctx = self._erlen_cv.get()
        except LookupError:
            raise RuntimeError(self._erlen_msg) from None
        attr = self._erlen_attr
        return ctx if attr is None else getattr(ctx, attr)

    def __getattr__(self, name: str) -> Any:
        try:
            ctx = self._erlen_cv.get()
        except LookupError:
            raise RuntimeError(self._erlen_msg) from None
        attr = self._erlen_attr
        return getattr(ctx if attr is None else getattr(ctx, attr), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._get_current_object(), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(self._get_current_object(), name)

    def __repr__(self) -> str:
        try:
            obj = self._get_current_object()
        except RuntimeError:
            return f"<{type(self).__name__} unbound>"
        return repr(obj)

    def __str__(self) -> str:
        return str(self._get_current_object())

    def __bool__(self) -> bool:
        try:
            return bool(self._get_current_object())
        except RuntimeError:
            return False

    def __dir__(self) -> list[str]:
        return dir(self._get_current_object())

    def __eq__(self, other: object) -> bool:
        return bool(self._get_current_object() == other)

    def __ne__(self, other: object) -> bool:
        return bool(self._get_current_object() != other)

    def __hash__(self) -> int:
        return hash(self._get_current_object())

    def __getitem__(self, key: Any) -> Any:
        return self._get_current_object()[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        self._get_current_object()[key] = value

    def __delitem__(self, key: Any) -> None:
        del self._get_current_object()[key]

    def __contains__(self, key: Any) -> bool:
        return key in self._get_current_object()

    def __iter__(self) -> Any:
        return iter(self._get_current_object())

    def __len__(self) -> int:
        return len(self._get_current_object())

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._get_current_object()(*args, **kwargs)

    def __enter__(self) -> Any:  # ``with app_ctx:`` re-pushes the current context
        return self._get_current_object().__enter__()

    def __exit__(self, *exc_info: Any) -> Any:
        return self._get_current_object().__exit__(*exc_info)

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance(request, Request) works as with Werkzeug
        try:
            return type(self._get_current_object())
        except RuntimeError:
            return _ContextProxy


current_app: Erlen = cast("Erlen", _ContextProxy(_cv_current_app, None, _no_app_msg))
g: _AppCtxGlobals = cast("_AppCtxGlobals", _ContextProxy(_cv_app, "g", _no_app_msg))
request: Request = cast("Request", _ContextProxy(_cv_request, "request", _no_req_msg))
session: SessionMixin = cast("SessionMixin", _ContextProxy(_cv_request, "session", _no_req_msg))
app_ctx: AppContext = cast("AppContext", _ContextProxy(_cv_app, None, _no_app_msg))
request_ctx: RequestContext = cast("RequestContext", _ContextProxy(_cv_request, None, _no_req_msg))
