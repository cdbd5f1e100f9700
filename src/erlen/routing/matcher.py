"""The compiled matcher: one dict lookup for static paths, a static-prefix trie for the rest.

Rules are grouped by domain part (subdomain, or host with host matching).  Per domain:
``static`` maps a full path to the rules with exactly that path (plus the slash variants),
and a trie keyed by whole static segments holds the dynamic rules under their longest
static prefix.  A request walks the trie along its own segments (dict lookups, independent of
the number of rules) and tries the few rules found, deepest prefix first, each with one
precompiled regex.  Deepest first means "a static segment beats a converter at the same
position", and within a node rules are ordered by their per-segment key and then by order of
addition, which reproduces Werkzeug's matching order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from .converters import ValidationError

if TYPE_CHECKING:
    from .rules import Rule

# Converters used directly as to_python (NumberConverter._builtin_to_python).
_PLAIN_CONVERT = (int, float)
# Kinds of a successful match.
EXACT = 0
SLASH_MISSING = 1  # path lacks the trailing '/' of a branch rule


class NoMatch(Exception):
    """Internal: nothing matched; carries what is needed for a 405 or a websocket 400."""

    __slots__ = ("have_match_for", "websocket_mismatch")

    def __init__(self, have_match_for: set[str], websocket_mismatch: bool) -> None:
        self.have_match_for = have_match_for
        self.websocket_mismatch = websocket_mismatch


class StaticEntry(NamedTuple):
    """A rule answering one static path (``kind``: EXACT, or SLASH_MISSING for the path
    without the branch rule's trailing slash)."""

    rule: Rule
    kind: int
    methods: set[str] | None
    websocket: bool
    defaults: dict[str, Any] | None


class DynamicEntry(NamedTuple):
    """A rule in a trie node, with what matching it needs, precompiled."""

    regex: Any  # the rule's compiled fullmatch, called as regex(path, offset)
    slash: int  # Rule._slash: 1 for a branch rule ('/a/' also answers '/a')
    slash_group: int
    variables: list[tuple[str, int, Any]]  # (name, regex group, to_python or None)
    methods: set[str] | None
    websocket: bool
    defaults: dict[str, Any] | None
    rule: Rule
    tail: tuple[str, bool] | None  # Rule._tail: (name, numeric) for a plain last segment


class TailEntry(NamedTuple):
    """``_Domain.tails``' value: a node's first rule, ending in one plain segment."""

    rule: Rule
    name: str
    numeric: bool
    methods: set[str] | None
    websocket: bool
    defaults: dict[str, Any] | None


class _Node:
    __slots__ = ("children", "rules")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.rules: list[DynamicEntry] = []


class _Domain:
    """All rules sharing one domain pattern."""

    __slots__ = ("static", "clean", "root", "tails", "regex", "variables", "has_dynamic")

    def __init__(self, regex: Any = None, variables: Any = None) -> None:
        # path -> [StaticEntry], exact entries first
        self.static: dict[str, list[StaticEntry]] = {}
        # path -> ((methods, rule), ...) for the static paths whose every rule matches them
        # exactly, for plain requests, with nothing to do after matching (Map.find's table)
        self.clean: dict[str, tuple[tuple[set[str] | None, Rule], ...]] = {}
        self.root = _Node()
        # "/prefix/" -> TailEntry for the trie nodes whose first rule ends in one plain
        # <int>/<string> segment: when that rule accepts the request, it is what the walk
        # would find first (the deepest node, its first rule); otherwise the walk decides
        self.tails: dict[str, TailEntry] = {}
        self.regex = regex
        self.variables = variables
        self.has_dynamic = False


def _convert(variables: list[tuple[str, int, Any]], m: Any, into: dict[str, Any]) -> bool:
    """Put ``m``'s converted groups into ``into``; False when a converter rejects its value."""
    for name, group, to_python in variables:
        value = m.group(group)
        if to_python is not None:
            try:
                value = to_python(value)
            except ValueError as exc:
                # ValidationError means "no match"; so does int/float's own ValueError when
                # they are used directly (see _builtin_to_python)
                if isinstance(exc, ValidationError) or to_python in _PLAIN_CONVERT:
                    return False
                raise
        into[name] = value
    return True


class Matcher:
    """Built once from the map's rules (and rebuilt when rules are added)."""

    __slots__ = ("static_domains", "dynamic_domains")

    def __init__(self, rules: list[Rule]) -> None:
        self.static_domains: dict[str, _Domain] = {}
        dynamic: list[tuple[tuple[Any, ...], int, _Domain]] = []
        by_pattern: dict[str, _Domain] = {}
        for index, rule in enumerate(rules):
            if rule.build_only:
                continue
            if rule._domain_static is not None:
                domain = self.static_domains.get(rule._domain_static)
                if domain is None:
                    domain = self.static_domains[rule._domain_static] = _Domain()
            else:
                pattern = rule._domain_regex.__self__.pattern  # type: ignore[union-attr]
                domain = by_pattern.get(pattern)
                if domain is None:
                    domain = by_pattern[pattern] = _Domain(rule._domain_regex, rule._domain_vars)
                    dynamic.append((rule._domain_key, index, domain))
            self._add(domain, rule)
        dynamic.sort(key=lambda item: item[:2])
        self.dynamic_domains = [d for _, _, d in dynamic]
        order = {id(r): i for i, r in enumerate(rules)}
        for domain in (*self.static_domains.values(), *self.dynamic_domains):
            for entries in domain.static.values():
                entries.sort(key=lambda e: e.kind)  # exact entries before slash variants
            _sort_tree(domain.root, order)
            _collect_tails(domain.root, "/", domain.tails)
            for path, entries in domain.static.items():
                if all(
                    e.kind == EXACT
                    and not e.websocket
                    and not e.defaults
                    and not e.rule._post_match
                    for e in entries
                ):
                    domain.clean[path] = tuple((e.methods, e.rule) for e in entries)

    @staticmethod
    def _add(domain: _Domain, rule: Rule) -> None:
        path = rule._static_path
        if path is not None:
            info = (rule.methods, rule.websocket, rule.defaults or None)
            domain.static.setdefault(path, []).append(StaticEntry(rule, EXACT, *info))
            if rule._slash == 1:  # '/a/' also answers '/a' (redirect or match)
                domain.static.setdefault(path[:-1], []).append(
                    StaticEntry(rule, SLASH_MISSING, *info)
                )
            elif rule._slash == 2:  # non-strict '/a' also answers '/a/'
                domain.static.setdefault(path + "/", []).append(StaticEntry(rule, EXACT, *info))
            return
        node = domain.root
        for segment in rule._prefix:
            child = node.children.get(segment)
            if child is None:
                child = node.children[segment] = _Node()
            node = child
        node.rules.append(
            DynamicEntry(
                rule._regex,
                rule._slash,
                rule._slash_group,
                rule._vars,
                rule.methods,
                rule.websocket,
                rule.defaults or None,
                rule,
                rule._tail,
            )
        )
        domain.has_dynamic = True

    def match(
        self, domain_part: str, path: str, method: str, websocket: bool
    ) -> tuple[Rule, dict[str, Any], int]:
        """``(rule, values, kind)`` for a request; raise ``NoMatch`` when none accepts it.

        The fast part (one dict lookup for a static path or a plain last segment, else the
        trie walk) gives up at the first obstacle and lets ``_match_slow`` redo the search
        while collecting what a 405 / websocket 400 needs."""
        domain = self.static_domains.get(domain_part)
        if domain is not None and not self.dynamic_domains:
            entries = domain.static.get(path)
            if entries is not None:
                for rule, kind, methods, ws, defaults in entries:
                    if (methods is None or method in methods) and ws is websocket:
                        return rule, (dict(defaults) if defaults else {}), kind
            elif domain.has_dynamic:
                cut = path.rfind("/") + 1
                tail = domain.tails.get(path[:cut])
                if tail is not None:
                    rule, name, numeric, methods, ws, defaults = tail
                    if (methods is None or method in methods) and ws is websocket:
                        segment = path[cut:]
                        value: Any = segment or None
                        if numeric:
                            # int() takes 640 digits whatever sys.set_int_max_str_digits
                            # says; longer values go the walk's way (it catches ValueError)
                            ok = segment.isdecimal() and len(segment) <= 640
                            value = int(segment) if ok else None
                        if value is not None:
                            values = {name: value}
                            if defaults:
                                values.update(defaults)
                            return rule, values, EXACT
                found = _match_tree(domain.root, path, method, websocket, None, None)
                if found is not None:
                    return found
        return self._match_slow(domain_part, path, method, websocket)

    def _match_slow(
        self, domain_part: str, path: str, method: str, websocket: bool
    ) -> tuple[Rule, dict[str, Any], int]:
        have_match_for: set[str] = set()
        mismatch = [False]
        domains: list[tuple[_Domain, dict[str, Any]]] = []
        domain = self.static_domains.get(domain_part)
        if domain is not None:
            domains.append((domain, {}))
        if domain_part != "<invalid>":
            for domain in self.dynamic_domains:
                m = domain.regex(domain_part)
                base: dict[str, Any] = {}
                if m is not None and _convert(domain.variables, m, base):
                    domains.append((domain, base))
        for domain, base in domains:
            entries = domain.static.get(path)
            if entries is not None:
                for rule, kind, methods, ws, defaults in entries:
                    if (methods is None or method in methods) and ws is websocket:
                        values = dict(base)
                        if defaults:  # as Werkzeug: a rule's defaults win over parsed values
                            values.update(defaults)
                        return rule, values, kind
                    if kind == EXACT:
                        if ws is not websocket:
                            mismatch[0] = True
                        elif methods is not None:
                            have_match_for.update(methods)
            if domain.has_dynamic:
                found = _match_tree(domain.root, path, method, websocket, base, have_match_for)
                if found is not None:
                    return found
                if have_match_for and "" in have_match_for:  # websocket mismatch marker
                    have_match_for.discard("")
                    mismatch[0] = True
        raise NoMatch(have_match_for, mismatch[0])


def _collect_tails(node: _Node, prefix: str, into: dict[str, TailEntry]) -> None:
    """Fill ``_Domain.tails`` from the (sorted) trie below ``node``."""
    if node.rules:
        entry = node.rules[0]
        if entry.tail is not None:
            name, numeric = entry.tail
            into[prefix] = TailEntry(
                entry.rule, name, numeric, entry.methods, entry.websocket, entry.defaults
            )
    for segment, child in node.children.items():
        _collect_tails(child, f"{prefix}{segment}/", into)


def _sort_tree(node: _Node, order: dict[int, int]) -> None:
    node.rules.sort(key=lambda e: (e.rule._sort_key, order[id(e.rule)]))
    for child in node.children.values():
        _sort_tree(child, order)


def _match_tree(
    root: _Node,
    path: str,
    method: str,
    websocket: bool,
    base: dict[str, Any] | None,
    have_match_for: set[str] | None,
) -> tuple[Rule, dict[str, Any], int] | None:
    """Walk the static-prefix trie along ``path`` and try the rules found, deepest first.

    Returns None when nothing matches; with ``have_match_for`` given, collects the methods
    of rules that matched the path only (and "" for a websocket mismatch)."""
    chain = [(root, 1)]
    children = root.children
    if children:
        start = 1
        # Segment by segment (find + slice: cheaper than splitting the whole path). The
        # last part is never a whole prefix segment: something must follow it.
        while True:
            end = path.find("/", start)
            if end < 0:
                break
            child = children.get(path[start:end])
            if child is None:
                break
            start = end + 1
            chain.append((child, start))
            children = child.children
            if not children:
                break
        chain.reverse()
    for node, offset in chain:
        for regex, slash, slash_group, variables, methods, ws, defaults, rule, tail in node.rules:
            if tail is not None:
                # The rest of the path is the rule's one <int> or <string> segment: the
                # regex's and converter's answer without the regex engine (Rule._tail).
                value: Any = path[offset:]
                name, numeric = tail
                if numeric:
                    if not value.isdecimal():
                        continue
                    try:
                        value = int(value)
                    except ValueError:  # more digits than int() accepts: no match, as below
                        continue
                elif not value or "/" in value:
                    continue
                kind = EXACT
                values = dict(base) if base else {}
                values[name] = value
            else:
                m = regex(path, offset)
                if m is None:
                    continue
                kind = SLASH_MISSING if slash == 1 and not m.group(slash_group) else EXACT
                values = dict(base) if base else {}
                if not _convert(variables, m, values):
                    continue
            if (methods is not None and method not in methods) or ws is not websocket:
                if have_match_for is not None and kind == EXACT:
                    if ws is not websocket:
                        have_match_for.add("")
                    elif methods is not None:
                        have_match_for.update(methods)
                continue
            if defaults:
                values.update(defaults)
            return rule, values, kind
    return None
