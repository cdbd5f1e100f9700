"""Context-local proxies: ``current_app``, ``g``, ``request``, ``session``.

Contexts live in :mod:`contextvars`, so they are correct across threads and asyncio tasks.
A proxy resolves the current object on every use; the resolution is one ``ContextVar.get``
plus an attribute read, which keeps the proxies cheap on the hot path. A request does not
push an app context of its own when none is active (see ``_CurrentAppContext``).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from .application import Erlen
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

# The context variables' methods, bound once. On CPython 3.11 a method called on a name
# imported from another module compiles to LOAD_ATTR + CALL (a new bound-method object per
# call) instead of LOAD_METHOD; the request path calls these instead.
_get_request_ctx = _cv_request.get
_set_request_ctx = _cv_request.set
_reset_request_ctx = _cv_request.reset
_get_pushed_app_ctx = _cv_app_pushed.get
_set_pushed_app_ctx = _cv_app_pushed.set
_reset_pushed_app_ctx = _cv_app_pushed.reset
_get_app_ctx = _cv_app.get
_get_current_app = _cv_current_app.get


# Names a proxy answers itself; every other attribute is the current object's.
_PROXY_OWN = frozenset({"_get_current_object", "__class__"})


class _ContextProxy:
    """Forward every operation to an attribute of the current context object.

    Each proxy is an instance of its own subclass (see ``_proxy``) whose ``_resolve`` finds
    the current object. Attribute reads go through ``__getattribute__`` rather than
    ``__getattr__``: with ``__getattr__``, every ``request.args`` would first look ``args`` up
    on the proxy, fail, and build an AttributeError message before forwarding, which costs
    more than the forwarding itself.
    """

    __slots__ = ("__weakref__",)

    @staticmethod
    def _resolve() -> Any:  # replaced in each proxy's class
        raise RuntimeError("unbound proxy")

    def _get_current_object(self) -> Any:
        return type(self)._resolve()

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(type(self)._resolve(), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(type(self)._resolve(), name)

    def __repr__(self) -> str:
        try:
            obj = type(self)._resolve()
        except RuntimeError:
            return f"<{_ContextProxy.__name__} unbound>"
        return repr(obj)

    def __str__(self) -> str:
        return str(type(self)._resolve())

    def __bool__(self) -> bool:
        try:
            return bool(type(self)._resolve())
        except RuntimeError:
            return False

    def __dir__(self) -> list[str]:
        return dir(type(self)._resolve())

    def __eq__(self, other: object) -> bool:
        return bool(type(self)._resolve() == other)

    def __ne__(self, other: object) -> bool:
        return bool(type(self)._resolve() != other)

    def __hash__(self) -> int:
        return hash(type(self)._resolve())

    def __getitem__(self, key: Any) -> Any:
        return type(self)._resolve()[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        type(self)._resolve()[key] = value

    def __delitem__(self, key: Any) -> None:
        del type(self)._resolve()[key]

    def __contains__(self, key: Any) -> bool:
        return key in type(self)._resolve()

    def __iter__(self) -> Any:
        return iter(type(self)._resolve())

    def __len__(self) -> int:
        return len(type(self)._resolve())

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return type(self)._resolve()(*args, **kwargs)

    def __enter__(self) -> Any:  # ``with app_ctx:`` re-pushes the current context
        return type(self)._resolve().__enter__()

    def __exit__(self, *exc_info: Any) -> Any:
        return type(self)._resolve().__exit__(*exc_info)

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance(request, Request) works as with Werkzeug
        try:
            return type(type(self)._resolve())
        except RuntimeError:
            return _ContextProxy


def _proxy(cv: ContextVar[Any], attr: str | None, message: str) -> Any:
    """A proxy for ``cv``'s current object (or its attribute ``attr``); ``message`` is the
    RuntimeError's when there is none."""
    get = cv.get
    own = _PROXY_OWN
    object_getattribute = object.__getattribute__

    def resolve() -> Any:
        try:
            ctx = get()
        except LookupError:
            raise RuntimeError(message) from None
        return ctx if attr is None else getattr(ctx, attr)

    def __getattribute__(self: Any, name: str) -> Any:
        if name in own:
            return object_getattribute(self, name)
        try:
            ctx = get()
        except LookupError:
            raise RuntimeError(message) from None
        return getattr(ctx if attr is None else getattr(ctx, attr), name)

    cls = type(
        "_ContextProxy",
        (_ContextProxy,),
        {
            "__slots__": (),
            "__module__": __name__,
            "_resolve": staticmethod(resolve),
            "__getattribute__": __getattribute__,
        },
    )
    return object.__new__(cls)


def LocalProxy(  # noqa: N802 - Werkzeug's name; a factory, each proxy has its own class
    local: ContextVar[Any] | Callable[[], Any],
    name: str | None = None,
    *,
    unbound_message: str | None = None,
) -> Any:
    """A proxy to whatever ``local`` gives now: a ``ContextVar``'s value or a function's
    return (``current_user = LocalProxy(lambda: get_user())``), or that object's attribute
    ``name``. Werkzeug's ``LocalProxy`` API, for extensions; it forwards like ``request``.

    Outside a context (the ``ContextVar`` unset, or the function raising ``LookupError``)
    using the proxy raises ``RuntimeError(unbound_message)``.
    """
    message = unbound_message or "object is not bound"
    if isinstance(local, ContextVar):
        return _proxy(local, name, message)
    if not callable(local):
        raise TypeError(f"LocalProxy needs a ContextVar or a callable, not {type(local).__name__}")
    return _proxy(cast("ContextVar[Any]", _Callable(local)), name, message)


class _Callable:
    """A callable seen as a ContextVar by ``_proxy`` (``get()`` calls it)."""

    __slots__ = ("get",)

    def __init__(self, func: Callable[[], Any]) -> None:
        self.get = func


current_app: Erlen = _proxy(_cv_current_app, None, _no_app_msg)
g: _AppCtxGlobals = _proxy(_cv_app, "g", _no_app_msg)
request: Request = _proxy(_cv_request, "request", _no_req_msg)
session: SessionMixin = _proxy(_cv_request, "session", _no_req_msg)
app_ctx: AppContext = _proxy(_cv_app, None, _no_app_msg)
request_ctx: RequestContext = _proxy(_cv_request, None, _no_req_msg)
