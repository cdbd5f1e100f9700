"""The 422 of invalid input: FastAPI's ``{"detail": [{"type", "loc", "msg"}]}`` body."""

from __future__ import annotations

import json
import typing as t

from ..exceptions import UnprocessableEntity

_JSON_HEADERS = [("Content-Type", "application/json")]


class RequestValidationError(UnprocessableEntity):
    """Invalid request input: a 422 whose JSON body lists each error (``type``, ``loc``,
    ``msg``, and ``ctx`` when the library gives one). An ``errorhandler(422)`` or
    ``errorhandler(RequestValidationError)`` can answer it otherwise; ``errors`` holds the
    list. The submitted values are not echoed (they may be secrets; decision 024)."""

    def __init__(
        self, errors: list[dict[str, t.Any]], description: str = "Invalid request input."
    ) -> None:
        super().__init__(description)
        self.errors = errors

    def get_body(self, environ: t.Any = None, scope: t.Any = None) -> str:
        return json.dumps({"detail": self.errors}, default=str, separators=(",", ":"))

    def get_headers(self, environ: t.Any = None, scope: t.Any = None) -> list[tuple[str, str]]:
        return list(_JSON_HEADERS)
