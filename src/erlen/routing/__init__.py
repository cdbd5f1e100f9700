"""URL routing: rules, converters, matching and URL building (Werkzeug-compatible API)."""

from __future__ import annotations

from .converters import (
    DEFAULT_CONVERTERS,
    AnyConverter,
    BaseConverter,
    FloatConverter,
    IntegerConverter,
    NumberConverter,
    PathConverter,
    UnicodeConverter,
    UUIDConverter,
    ValidationError,
)
from .exceptions import BuildError, RequestRedirect, RoutingException, WebsocketMismatch
from .factories import EndpointPrefix, Subdomain, Submount
from .map import Map, MapAdapter
from .rules import Rule, RuleFactory, parse_converter_args

__all__ = [
    "DEFAULT_CONVERTERS",
    "EndpointPrefix",
    "AnyConverter",
    "BaseConverter",
    "BuildError",
    "FloatConverter",
    "IntegerConverter",
    "Map",
    "MapAdapter",
    "NumberConverter",
    "PathConverter",
    "RequestRedirect",
    "RoutingException",
    "Rule",
    "RuleFactory",
    "Subdomain",
    "Submount",
    "UUIDConverter",
    "UnicodeConverter",
    "ValidationError",
    "WebsocketMismatch",
    "parse_converter_args",
]
