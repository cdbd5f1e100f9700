"""Rule factories (Werkzeug's ``Submount``, ``Subdomain``, ``EndpointPrefix``).

They group rules before ``Map.add``: ``Submount("/api", [Rule("/users", ...)])`` adds
``/api/users``. Each yields fresh copies, so a factory can be added to several maps.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from .rules import Rule, RuleFactory

if TYPE_CHECKING:
    from .map import Map

__all__ = ["EndpointPrefix", "Subdomain", "Submount"]


def _copies(rules: Iterable[RuleFactory], map: Map) -> Iterator[tuple[Rule, dict]]:  # type: ignore[type-arg]
    for factory in rules:
        for rule in factory.get_rules(map):
            yield rule, rule.get_empty_kwargs()


class Submount(RuleFactory):
    """Prefix the path of every rule with ``path``."""

    def __init__(self, path: str, rules: Iterable[RuleFactory]) -> None:
        self.path = path.rstrip("/")
        self.rules = rules

    def get_rules(self, map: Map) -> Iterator[Rule]:
        for rule, kwargs in _copies(self.rules, map):
            yield type(rule)(self.path + rule.rule, **kwargs)


class Subdomain(RuleFactory):
    """Put every rule on ``subdomain``."""

    def __init__(self, subdomain: str, rules: Iterable[RuleFactory]) -> None:
        self.subdomain = subdomain
        self.rules = rules

    def get_rules(self, map: Map) -> Iterator[Rule]:
        for rule, kwargs in _copies(self.rules, map):
            kwargs["subdomain"] = self.subdomain
            yield type(rule)(rule.rule, **kwargs)


class EndpointPrefix(RuleFactory):
    """Prefix the endpoint of every rule with ``prefix``."""

    def __init__(self, prefix: str, rules: Iterable[RuleFactory]) -> None:
        self.prefix = prefix
        self.rules = rules

    def get_rules(self, map: Map) -> Iterator[Rule]:
        for rule, kwargs in _copies(self.rules, map):
            kwargs["endpoint"] = self.prefix + kwargs["endpoint"]
            yield type(rule)(rule.rule, **kwargs)
