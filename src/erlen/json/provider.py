"""JSON providers (Flask's ``flask.json.provider``): ``app.json`` and what it serialises.

Serialises what Flask's default provider does: dates as HTTP dates, UUIDs and Decimals as
strings, dataclasses as dicts, objects with ``__html__`` as their markup.
"""

from __future__ import annotations

import dataclasses
import decimal
import json as _json
import typing as t
import uuid
from datetime import date

from ..http.parsing import http_date

if t.TYPE_CHECKING:
    from ..app import App
    from ..wrappers import Response

__all__ = ["DefaultJSONProvider", "JSONProvider"]


def _default(o: t.Any) -> t.Any:
    if isinstance(o, date):
        return http_date(o)
    if isinstance(o, decimal.Decimal | uuid.UUID):
        return str(o)
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return dataclasses.asdict(o)
    if hasattr(o, "__html__"):
        return str(o.__html__())
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


def _compact_dumps(
    default: t.Callable[[t.Any], t.Any], ensure_ascii: bool, sort_keys: bool
) -> t.Callable[[t.Any], str]:
    """``json.dumps(obj, default=..., ensure_ascii=..., sort_keys=..., separators=(",", ":"))``
    as a reusable function: same output, without rebuilding a ``JSONEncoder`` and its
    closures per call (see :func:`erlen.http.speedups.compact_json_dumps`)."""
    from erlen.http import speedups  # absolute: right wherever this function moves

    return speedups.compact_json_dumps(default, ensure_ascii, sort_keys)


class JSONProvider:
    """Base provider: subclass and set ``app.json_provider_class`` to change JSON handling."""

    def __init__(self, app: App) -> None:
        import weakref

        self._app: App = t.cast("App", weakref.proxy(app))

    def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        raise NotImplementedError

    def dump(self, obj: t.Any, fp: t.IO[str], **kwargs: t.Any) -> None:
        fp.write(self.dumps(obj, **kwargs))

    def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
        raise NotImplementedError

    def load(self, fp: t.IO[t.AnyStr], **kwargs: t.Any) -> t.Any:
        return self.loads(fp.read(), **kwargs)

    def _prepare_response_obj(self, args: tuple[t.Any, ...], kwargs: dict[str, t.Any]) -> t.Any:
        if args and kwargs:
            raise TypeError("app.json.response() takes either args or kwargs, not both")
        if not args and not kwargs:
            return None
        if len(args) == 1:
            return args[0]
        return args or kwargs

    def response(self, *args: t.Any, **kwargs: t.Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(self.dumps(obj), mimetype="application/json")


class DefaultJSONProvider(JSONProvider):
    """Flask's defaults: sorted keys, ASCII output, compact unless debugging.

    Change a setting on the app's provider (``app.json.sort_keys = False``) or in a subclass.
    ``response`` reads the settings once and again after any attribute of the provider is
    set, not per call (a class attribute changed after the first response is not seen).
    """

    default: t.Callable[[t.Any], t.Any] = staticmethod(_default)
    ensure_ascii = True
    sort_keys = True
    compact: bool | None = None
    mimetype = "application/json"
    #: (compact, reusable compact encoder or None, mimetype, ``response`` is this class's)
    #: for ``response`` and ``jsonify``; None: stale
    _plan: tuple[bool | None, t.Callable[[t.Any], str] | None, str, bool] | None = None

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self._plan = None  # an instance attribute: read per response

    def __setattr__(self, name: str, value: t.Any) -> None:
        object.__setattr__(self, name, value)
        if name != "_plan":
            object.__setattr__(self, "_plan", None)

    def dumps(self, obj: t.Any, **kwargs: t.Any) -> str:
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        return _json.dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: t.Any) -> t.Any:
        return _json.loads(s, **kwargs)

    def _make_plan(self) -> tuple[bool | None, t.Callable[[t.Any], str] | None, str, bool]:
        encode = None
        if type(self).dumps is DefaultJSONProvider.dumps:
            # json.dumps builds a JSONEncoder per call; reuse one for these settings
            # (encoders keep no state between calls, so sharing one is thread-safe).
            encode = _compact_dumps(self.default, self.ensure_ascii, self.sort_keys)
        # jsonify and make_response may call _respond for response only when response is
        # this class's (not overridden by a subclass or on the instance)
        own_response = getattr(self.response, "__func__", None) is DefaultJSONProvider.response
        plan = self.compact, encode, self.mimetype, own_response
        object.__setattr__(self, "_plan", plan)
        return plan

    def response(self, *args: t.Any, **kwargs: t.Any) -> Response:
        obj = kwargs if kwargs and not args else self._prepare_response_obj(args, kwargs)
        return self._respond(obj, self._app)

    def _respond(self, obj: t.Any, app: App) -> Response:
        """``response``'s work for one value; ``app`` is the real app (``self._app`` is a
        weak proxy, slower to read through)."""
        compact, encode, mimetype, _ = self._plan or self._make_plan()
        # app.debug is config["DEBUG"] (Flask documents them as the same); read directly
        if (compact is None and app.config["DEBUG"]) or compact is False:
            body = self.dumps(obj, indent=2)
        elif encode is not None:
            body = encode(obj)
        else:
            body = self.dumps(obj, separators=(",", ":"))
        return app.response_class._buffered(f"{body}\n", mimetype)  # type: ignore[return-value]


def json_response(app: App, obj: t.Any) -> Response:
    """``app.json.response(obj)`` for one value (jsonify, a view's dict or list): the same
    answer, without the argument repacking and proxy reads when the provider's
    ``response`` is the default one."""
    provider = app.json
    if isinstance(provider, DefaultJSONProvider) and (provider._plan or provider._make_plan())[3]:
        return provider._respond(obj, app)
    return provider.response(obj)
