"""Routing outcomes that are not plain 404/405: redirects, build failures."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from html import escape
from typing import TYPE_CHECKING, Any

from erlen.exceptions import BadRequest, HTTPException

if TYPE_CHECKING:
    from .map import MapAdapter
    from .rules import Rule

__all__ = [
    "BuildError",
    "RequestRedirect",
    "RoutingException",
    "WebsocketMismatch",
]


class RoutingException(Exception):
    """Base of the routing-specific signals (redirects, build errors)."""


class RequestRedirect(HTTPException, RoutingException):
    """Raised by ``match`` when the canonical URL differs (missing slash, merged slashes,
    defaults, ``redirect_to``): the app answers 308 so the method and body are kept."""

    code = 308

    def __init__(self, new_url: str) -> None:
        super().__init__(new_url)
        self.new_url = new_url

    def get_body(self, environ: Any = None, scope: Any = None) -> str:
        url = escape(self.new_url)
        return (
            "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n"
            "<h1>Redirecting...</h1>\n"
            "<p>You should be redirected automatically to the target URL: "
            f'<a href="{url}">{url}</a>. If not, click the link.\n'
        )

    def get_headers(self, environ: Any = None, scope: Any = None) -> list[tuple[str, str]]:
        headers = super().get_headers(environ, scope)
        headers.append(("Location", self.new_url))
        return headers


class WebsocketMismatch(BadRequest):
    """The path matched only rules of the other kind (websocket vs. plain HTTP)."""


class BuildError(RoutingException, LookupError):
    """``build`` found no rule for the endpoint and values; the message says what is wrong
    (unknown endpoint with close names, missing values, wrong method)."""

    def __init__(
        self,
        endpoint: str,
        values: Mapping[str, Any],
        method: str | None,
        adapter: MapAdapter | None = None,
    ) -> None:
        super().__init__(endpoint, values, method)
        self.endpoint = endpoint
        self.values = values
        self.method = method
        self.adapter = adapter

    def _rules(self) -> list[Rule]:
        if self.adapter is None:
            return []
        return list(self.adapter.map._rules_by_endpoint.get(self.endpoint, ()))

    @property
    def suggested(self) -> Rule | None:
        """The rule of this endpoint closest to the given values and method, if any."""
        given = set(self.values or ())
        best: Rule | None = None
        best_score = -1.0
        for rule in self._rules():
            score = 0.0
            if self.method is None or rule.methods is None or self.method in rule.methods:
                score += 1.0
            union = rule.arguments | given
            score += len(rule.arguments & given) / len(union) if union else 1.0
            if score > best_score:
                best, best_score = rule, score
        return best

    def __str__(self) -> str:
        message = [f"Could not build url for endpoint {self.endpoint!r}"]
        if self.method:
            message.append(f" ({self.method!r})")
        if self.values:
            message.append(f" with values {sorted(self.values)!r}")
        message.append(".")
        rule = self.suggested
        if rule is None:
            if self.adapter is not None:
                names = [str(e) for e in self.adapter.map._rules_by_endpoint]
                close = difflib.get_close_matches(str(self.endpoint), names, n=1, cutoff=0.5)
                if close:
                    message.append(f" Did you mean {close[0]!r} instead?")
            return "".join(message)
        if self.method and rule.methods is not None and self.method not in rule.methods:
            message.append(f" Did you mean to use methods {sorted(rule.methods)!r}?")
        given = set(self.values or ())
        missing = rule.arguments - given - set(rule.defaults or ())
        if missing:
            message.append(f" Did you forget to specify values {sorted(missing)!r}?")
        mismatched = sorted(
            k for k, v in (rule.defaults or {}).items() if k in given and self.values[k] != v
        )
        if mismatched:
            message.append(
                f" The values for {mismatched!r} differ from the rule's defaults"
                f" {dict(rule.defaults or {})!r}."
            )
        return "".join(message)
