"""How the application answers errors: handler lookup (code, then class hierarchy, blueprint
first), HTTP versus user exceptions, and the logged 500."""

from __future__ import annotations

import logging
import sys
import typing as t
from collections.abc import Callable
from types import TracebackType

from .. import signals as _signals
from ..exceptions import BadRequest, BadRequestKeyError, HTTPException, InternalServerError
from ..globals import _get_request_ctx
from ..routing import RequestRedirect
from ..scaffold import Scaffold
from .dispatch import call_hook

if t.TYPE_CHECKING:
    from ..config import Config
    from ..ctx import RequestContext
    from ..wrappers import Response
    from .plan import RequestPlan

_log = logging.getLogger("erlen")

# 4xx answers to malformed input are logged at WARNING so an operator sees them.
_BAD_INPUT_CODES = frozenset({400, 405, 411, 413, 414, 415, 422, 431})


class ErrorHandling(Scaffold):
    """The error half of ``Erlen`` (a mixin: ``Erlen`` is the only class that uses it)."""

    if t.TYPE_CHECKING:  # provided by App
        request_plan: RequestPlan | None

        def build_request_plan(self) -> RequestPlan: ...

        config: Config
        testing: t.Any
        debug: bool

        @property
        def logger(self) -> logging.Logger: ...

        def ensure_sync(self, func: Callable[..., t.Any]) -> Callable[..., t.Any]: ...


        def finalize_request(self, rv: t.Any, from_error_handler: bool = False) -> Response: ...

        def log_exception(
            self,
            exc_info: tuple[type, BaseException, TracebackType] | tuple[None, None, None],
        ) -> None: ...

    def _find_error_handler(
        self, e: BaseException, blueprints: t.Sequence[str]
    ) -> Callable[[t.Any], t.Any] | None:
        """The handler for ``e``: by code, then by class hierarchy, blueprint first. Resolved
        once per exception class and blueprint chain into the request plan."""
        plan = self.request_plan or self.build_request_plan()
        key = (type(e), tuple(blueprints))
        handlers = plan.error_handlers
        try:
            return handlers[key]
        except KeyError:
            pass
        handler = self._resolve_error_handler(type(e), key[1])
        if len(handlers) < 1024:
            handlers[key] = handler
        return handler

    def _resolve_error_handler(
        self, exc_type: type[BaseException], blueprints: tuple[str, ...]
    ) -> Callable[[t.Any], t.Any] | None:
        exc_class, code = self._get_exc_class_and_code(exc_type)  # type: ignore[arg-type]
        names = (*blueprints, None)
        for c in (code, None) if code is not None else (None,):
            for name in names:
                handler_map = self.error_handler_spec[name][c]
                if not handler_map:
                    continue
                for cls in exc_class.__mro__:
                    handler = handler_map.get(cls)
                    if handler is not None:
                        return handler
        return None

    def trap_http_exception(self, e: Exception) -> bool:
        if self.config["TRAP_HTTP_EXCEPTIONS"]:
            return True
        trap_bad_request = self.config["TRAP_BAD_REQUEST_ERRORS"]
        if trap_bad_request is None and self.debug and isinstance(e, BadRequestKeyError):
            return True
        if trap_bad_request:
            return isinstance(e, BadRequest)
        return False

    def handle_http_exception(self, e: HTTPException) -> t.Any:
        if e.code is None:
            return e
        if isinstance(e, RequestRedirect):
            return e
        ctx = _get_request_ctx(None)
        if e.code in _BAD_INPUT_CODES:
            _log.warning("%d %s: %s", e.code, _request_line(ctx), e.description)
        elif _log.isEnabledFor(logging.DEBUG):
            _log.debug("%d %s", e.code, _request_line(ctx))
        handler = self._find_error_handler(e, ctx.hooks.blueprints if ctx else ())
        if handler is None:
            return e
        return call_hook(handler, e)

    def handle_user_exception(self, e: Exception) -> t.Any:
        if isinstance(e, BadRequestKeyError) and (
            self.debug or self.config["TRAP_BAD_REQUEST_ERRORS"]
        ):
            e.show_exception = True
        if isinstance(e, HTTPException) and not self.trap_http_exception(e):
            return self.handle_http_exception(e)
        ctx = _get_request_ctx(None)
        handler = self._find_error_handler(e, ctx.hooks.blueprints if ctx else ())
        if handler is None:
            raise e
        return call_hook(handler, e)

    def handle_exception(self, e: Exception) -> Response:
        """An exception no handler dealt with: log it and answer 500 (or re-raise when testing)."""
        exc_info = sys.exc_info()
        if _signals.got_request_exception.receivers:
            _signals.got_request_exception.send(self, _async_wrapper=self.ensure_sync, exception=e)
        propagate = self.config["PROPAGATE_EXCEPTIONS"]
        if propagate is None:
            propagate = self.testing or self.debug
        if propagate:
            if exc_info[1] is e:
                raise
            raise e
        self.log_exception(exc_info)
        server_error: t.Any = InternalServerError(original_exception=e)
        ctx = _get_request_ctx(None)
        handler = self._find_error_handler(server_error, ctx.hooks.blueprints if ctx else ())
        if handler is not None:
            server_error = call_hook(handler, server_error)
        return self.finalize_request(server_error, from_error_handler=True)

    def should_ignore_error(self, error: BaseException | None) -> bool:
        return False


def _request_line(ctx: RequestContext | None) -> str:
    if ctx is None:
        return "(no request)"
    env = ctx.request.environ
    return f"{env.get('REQUEST_METHOD', '?')} {env.get('PATH_INFO', '')!r}"
