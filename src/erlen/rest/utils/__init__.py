"""Small helpers Flask-RESTful apps import from ``flask_restful.utils``."""

from __future__ import annotations

import typing as t
from collections import OrderedDict

from ...status import HTTP_STATUS_CODES

__all__ = ["OrderedDict", "cors", "http_status_message", "unpack"]


def http_status_message(code: int) -> str:
    """The reason phrase of ``code`` (``"Not Found"``), empty for an unknown code."""
    return HTTP_STATUS_CODES.get(code, "")


def unpack(value: t.Any) -> tuple[t.Any, int, t.Any]:
    """``(data, status, headers)`` from what a resource method returned: ``data``,
    ``(data, status)`` or ``(data, status, headers)``; any other tuple is data."""
    if not isinstance(value, tuple):
        return value, 200, {}
    if len(value) == 3:
        return value  # type: ignore[return-value]
    if len(value) == 2:
        return value[0], value[1], {}
    return value, 200, {}


from . import cors  # noqa: E402 - the submodule, as `flask_restful.utils.cors`
