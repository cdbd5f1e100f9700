"""JSON: the module-level helpers Flask exposes (``flask.json``); the app's provider
(``app.json``) is in :mod:`erlen.json.provider`, the session's tagged format in
:mod:`erlen.json.tag`.
"""

from __future__ import annotations

import json as _json
import typing as t

from ..globals import _get_current_app
from .provider import DefaultJSONProvider as DefaultJSONProvider
from .provider import JSONProvider as JSONProvider
from .provider import _default as _default
from .provider import json_response as json_response

if t.TYPE_CHECKING:
    from ..wrappers import Response


def dumps(obj: t.Any, **kwargs: t.Any) -> str:
    app = _get_current_app(None)
    if app is not None:
        return app.json.dumps(obj, **kwargs)
    kwargs.setdefault("default", _default)
    return _json.dumps(obj, **kwargs)


def dump(obj: t.Any, fp: t.IO[str], **kwargs: t.Any) -> None:
    fp.write(dumps(obj, **kwargs))


def loads(s: str | bytes, **kwargs: t.Any) -> t.Any:
    app = _get_current_app(None)
    if app is not None:
        return app.json.loads(s, **kwargs)
    return _json.loads(s, **kwargs)


def load(fp: t.IO[t.AnyStr], **kwargs: t.Any) -> t.Any:
    return loads(fp.read(), **kwargs)


def jsonify(*args: t.Any, **kwargs: t.Any) -> Response:
    """A JSON response from one value, several values (a list) or keyword arguments (a dict)."""
    app = _get_current_app(None)
    if app is None:
        raise RuntimeError("jsonify() needs an active application context.")
    provider = app.json
    if isinstance(provider, DefaultJSONProvider) and (provider._plan or provider._make_plan())[3]:
        # what response(*args, **kwargs) does, without repacking the arguments
        obj = kwargs if kwargs and not args else provider._prepare_response_obj(args, kwargs)
        return provider._respond(obj, app)
    return provider.response(*args, **kwargs)
