"""The request and response classes apps see: the http layer's, plus what needs the app.

Limits (``MAX_CONTENT_LENGTH``, ``MAX_FORM_MEMORY_SIZE``, ``MAX_FORM_PARTS``) come from the
current app's config unless a view sets them on the request; routing facts (endpoint,
blueprint) come from the matched rule.
"""

from __future__ import annotations

import typing as t

from . import json as _json_mod
from .app.coroutines import AsyncBody
from .exceptions import BadRequest
from .globals import _get_current_app
from .http.request import Request as _HTTPRequest
from .http.response import Response as _HTTPResponse
from .http.response import set_async_body_adapter

_unset: t.Any = object()


def _config_limit(key: str, fallback: t.Any) -> t.Any:
    app = _get_current_app(None)
    if app is None:
        return fallback
    return app.config[key]


class Request(_HTTPRequest):
    """The request object bound to ``erlen.request``."""

    json_module: t.Any = _json_mod
    _max_content_length: t.Any = _unset
    _max_form_memory_size: t.Any = _unset
    _max_form_parts: t.Any = _unset

    @property  # type: ignore[override]
    def max_content_length(self) -> int | None:
        if self._max_content_length is not _unset:
            return self._max_content_length  # type: ignore[no-any-return]
        return _config_limit("MAX_CONTENT_LENGTH", None)  # type: ignore[no-any-return]

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    @property  # type: ignore[override]
    def max_form_memory_size(self) -> int | None:
        if self._max_form_memory_size is not _unset:
            return self._max_form_memory_size  # type: ignore[no-any-return]
        return _config_limit("MAX_FORM_MEMORY_SIZE", 500_000)  # type: ignore[no-any-return]

    @max_form_memory_size.setter
    def max_form_memory_size(self, value: int | None) -> None:
        self._max_form_memory_size = value

    @property  # type: ignore[override]
    def max_form_parts(self) -> int | None:
        if self._max_form_parts is not _unset:
            return self._max_form_parts  # type: ignore[no-any-return]
        return _config_limit("MAX_FORM_PARTS", 1000)  # type: ignore[no-any-return]

    @max_form_parts.setter
    def max_form_parts(self, value: int | None) -> None:
        self._max_form_parts = value

    @property
    def endpoint(self) -> str | None:
        rule = self.url_rule
        return rule.endpoint if rule is not None else None  # type: ignore[no-any-return]

    @property
    def blueprint(self) -> str | None:
        endpoint = self.endpoint
        if endpoint is not None and "." in endpoint:
            return endpoint.rpartition(".")[0]
        return None

    @property
    def blueprints(self) -> list[str]:
        """The current blueprint and its parents, innermost first."""
        name = self.blueprint
        if name is None:
            return []
        parts = name.split(".")
        return [".".join(parts[:i]) for i in range(len(parts), 0, -1)]

    def on_json_loading_failed(self, e: ValueError | None) -> t.Any:
        try:
            return super().on_json_loading_failed(e)
        except BadRequest as ebr:
            app = _get_current_app(None)
            if app is not None and app.debug:
                raise
            raise BadRequest(
                "The browser (or proxy) sent a request that this server could not understand: the body is not valid JSON."
            ) from ebr


class Response(_HTTPResponse):
    """The response class apps build: HTML by default, as Flask's."""

    default_mimetype: str | None = "text/html"
    json_module: t.Any = _json_mod
    autocorrect_location_header = False

    @property
    def max_cookie_size(self) -> int:  # type: ignore[override]
        app = _get_current_app(None)
        if app is not None:
            return app.config["MAX_COOKIE_SIZE"]  # type: ignore[no-any-return]
        return 4093


set_async_body_adapter(AsyncBody)
