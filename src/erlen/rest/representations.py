"""How resource data becomes a response body: ``output_json``, Flask-RESTful's default
representation (``flask_restful.representations.json.output_json``)."""

from __future__ import annotations

import typing as t
from json import dumps

from ..globals import current_app

if t.TYPE_CHECKING:
    from ..wrappers import Response

__all__ = ["output_json"]


def output_json(data: t.Any, code: int, headers: t.Any = None) -> Response:
    """``data`` as JSON (``json.dumps`` with the app's ``RESTFUL_JSON`` settings, indented in
    debug mode), ending with a newline, as Flask-RESTful writes it."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    settings = app.config.get("RESTFUL_JSON") or {}
    if app.debug and "indent" not in settings:
        settings = {**settings, "indent": 4}
    resp = app.response_class(dumps(data, **settings) + "\n", code, mimetype="application/json")
    if headers:
        resp.headers.extend(headers)
    return resp
