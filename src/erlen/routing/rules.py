"""``Rule``: one URL pattern, parsed and compiled once when added to a ``Map``.

Compiling produces everything the hot path needs: the static key (for rules without
variables), the static prefix segments (the matcher's trie path), one precompiled regex for
the rest of the path, the ordering key, and the parts used to build URLs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote as _quote
from urllib.parse import quote_plus

from .converters import _PATH_SAFE, BaseConverter, ValidationError

if TYPE_CHECKING:
    from .map import Map

__all__ = ["Rule", "RuleFactory", "parse_converter_args"]

_VARIABLE_RE = re.compile(
    r"<(?:(?P<conv>[a-zA-Z_][a-zA-Z0-9_]*)(?:\((?P<args>.*?)\))?:)?"
    r"(?P<var>[a-zA-Z_][a-zA-Z0-9_]*)>"
)
_ARG_RE = re.compile(
    r"""\s*(?:(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*)?"""
    r"""(?P<value>"[^"]*"|'[^']*'|[^"',]+?)\s*(?:,|$)"""
)
_MULTI_SLASH_RE = re.compile("/{2,}")
_CONSTANTS: dict[str, Any] = {"None": None, "True": True, "False": False}
_QUERY_SAFE = "!$'()*,/:;?@"

# A token of a parsed rule: a static string, or (converter name, args text, variable name).
_Token = str | tuple[str, str | None, str]


class UnknownConverterError(ValueError, LookupError):
    """A rule names a converter the map does not know (LookupError as in Werkzeug)."""


def _pythonize(value: str) -> Any:
    if value in _CONSTANTS:
        return _CONSTANTS[value]
    for convert in (int, float):
        try:
            return convert(value)
        except ValueError:
            pass
    if value[:1] == value[-1:] and value[:1] in "\"'" and len(value) >= 2:
        return value[1:-1]
    return value


def parse_converter_args(text: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Parse ``1, 'a', signed=True`` into positional and keyword converter arguments."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    text = text.strip()
    pos = 0
    while pos < len(text):
        m = _ARG_RE.match(text, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"cannot parse converter arguments {text!r}")
        value = _pythonize(m.group("value").strip())
        if m.group("name"):
            kwargs[m.group("name")] = value
        else:
            args.append(value)
        pos = m.end()
    return tuple(args), kwargs


def _tokenize(rule: str) -> list[_Token]:
    """Split a rule string into static text and variables; reject malformed syntax."""
    tokens: list[_Token] = []
    pos = 0
    for m in _VARIABLE_RE.finditer(rule):
        if m.start() > pos:
            tokens.append(rule[pos : m.start()])
        tokens.append((m.group("conv") or "default", m.group("args"), m.group("var")))
        pos = m.end()
    if pos < len(rule):
        tokens.append(rule[pos:])
    for token in tokens:
        if isinstance(token, str) and ("<" in token or ">" in token):
            raise ValueError(f"malformed url rule: {rule!r} (near {token!r})")
    return tokens


def _encode_query(values: Iterable[tuple[str, Any]]) -> str:
    """``a=1&b=x+y``: None values skipped, lists give repeated keys."""
    out = []
    for key, value in values:
        if value is None:
            continue
        items = value if isinstance(value, list | tuple) else (value,)
        qkey = quote_plus(str(key), safe=_QUERY_SAFE)
        for item in items:
            if item is not None:
                out.append(f"{qkey}={quote_plus(str(item), safe=_QUERY_SAFE)}")
    return "&".join(out)


class RuleFactory:
    """Anything with ``get_rules(map)`` can be passed to ``Map.add``."""

    def get_rules(self, map: Map) -> Iterable[Rule]:
        raise NotImplementedError


class Rule(RuleFactory):
    """A URL pattern with an endpoint; see Werkzeug's ``Rule`` for the meaning of options."""

    def __init__(
        self,
        string: str,
        defaults: Mapping[str, Any] | None = None,
        subdomain: str | None = None,
        methods: Iterable[str] | None = None,
        build_only: bool = False,
        endpoint: Any = None,
        strict_slashes: bool | None = None,
        merge_slashes: bool | None = None,
        redirect_to: str | Callable[..., str] | None = None,
        alias: bool = False,
        host: str | None = None,
        websocket: bool = False,
    ) -> None:
        if not string.startswith("/"):
            raise ValueError(f"urls must start with a leading slash: {string!r}")
        self.rule = string
        self.is_leaf = not string.endswith("/")
        self.is_branch = string.endswith("/")
        self.map: Map = None  # type: ignore[assignment]
        self.strict_slashes = strict_slashes
        self.merge_slashes = merge_slashes
        self.subdomain = subdomain
        self.host = host
        self.defaults = dict(defaults) if defaults is not None else None
        self.build_only = build_only
        self.alias = alias
        self.websocket = websocket
        if methods is not None:
            if isinstance(methods, str):
                raise TypeError("'methods' should be a list of strings, not a string")
            methods = {m.upper() for m in methods}
            if "GET" in methods:
                methods.add("HEAD")
            if websocket and methods - {"GET", "HEAD", "OPTIONS"}:
                raise ValueError("websocket rules can only use 'GET', 'HEAD' and 'OPTIONS'")
        self.methods: set[str] | None = methods  # type: ignore[assignment]
        self.endpoint: Any = endpoint
        self.redirect_to = redirect_to
        self.arguments: set[str] = set(map(str, self.defaults)) if self.defaults else set()
        self._converters: dict[str, BaseConverter] = {}
        self._default_sources: list[Rule] = []

    # -- factory / copy helpers ---------------------------------------------------------
    def get_rules(self, map: Map) -> Iterator[Rule]:
        yield self

    def get_empty_kwargs(self) -> dict[str, Any]:
        """Constructor arguments of this rule, for ``empty()`` and subclasses."""
        return {
            "defaults": dict(self.defaults) if self.defaults is not None else None,
            "subdomain": self.subdomain,
            "methods": self.methods,
            "build_only": self.build_only,
            "endpoint": self.endpoint,
            "strict_slashes": self.strict_slashes,
            "merge_slashes": self.merge_slashes,
            "redirect_to": self.redirect_to,
            "alias": self.alias,
            "host": self.host,
            "websocket": self.websocket,
        }

    def empty(self) -> Rule:
        """An unbound copy, so the same rule can be added to another map."""
        return type(self)(self.rule, **self.get_empty_kwargs())

    # -- compiling ------------------------------------------------------------------------
    def bind(self, map: Map, rebind: bool = False) -> None:
        """Attach to ``map`` and compile; invalid rule strings raise ``ValueError`` here."""
        if self.map is not None and not rebind:
            raise RuntimeError(f"url rule {self!r} already bound to map {map!r}")
        self.map = map
        if self.strict_slashes is None:
            self.strict_slashes = map.strict_slashes
        if self.merge_slashes is None:
            self.merge_slashes = map.merge_slashes
        if self.subdomain is None:
            self.subdomain = map.default_subdomain
        self.compile()

    def get_converter(
        self, variable_name: str, converter_name: str, args_text: str | None
    ) -> BaseConverter:
        """Instantiate the converter named in the rule with its parsed arguments."""
        cls = self.map.converters.get(converter_name)
        if cls is None:
            raise UnknownConverterError(
                f"the converter {converter_name!r} does not exist (rule {self.rule!r})"
            )
        args, kwargs = parse_converter_args(args_text) if args_text else ((), {})
        try:
            return cls(self.map, *args, **kwargs)
        except TypeError as exc:
            raise ValueError(
                f"bad arguments for converter {converter_name!r} in rule {self.rule!r}: {exc}"
            ) from exc

    def _compile_tokens(self, tokens: list[_Token]) -> list[str | tuple[str, BaseConverter]]:
        out: list[str | tuple[str, BaseConverter]] = []
        for token in tokens:
            if isinstance(token, str):
                out.append(token)
                continue
            conv_name, args_text, var = token
            if var in self._converters:
                raise ValueError(f"variable name {var!r} used twice in rule {self.rule!r}")
            conv = self.get_converter(var, conv_name, args_text)
            self._converters[var] = conv
            self.arguments.add(var)
            out.append((var, conv))
        return out

    def compile(self) -> None:
        """Parse the rule and precompute the matcher and builder data."""
        self._converters = {}
        self.arguments = set(map(str, self.defaults)) if self.defaults else set()
        if self.map.host_matching:
            domain_rule = self.host or ""
        else:
            domain_rule = self.subdomain or ""
        path_rule = self.rule
        if self.merge_slashes:
            path_rule = _MULTI_SLASH_RE.sub("/", path_rule)
        domain_parts = self._compile_tokens(_tokenize(domain_rule))
        path_parts = self._compile_tokens(_tokenize(path_rule))
        self._domain_parts = domain_parts
        self._path_parts = path_parts
        # Building emits URLs: static text is percent-encoded once, here.
        self._url_parts = [
            p if not isinstance(p, str) else _quote(p, _PATH_SAFE) for p in path_parts
        ]
        self._compile_domain(domain_parts)
        self._compile_path(path_parts)
        defaults = self.defaults or {}
        self._required = tuple(a for a in self.arguments if a not in defaults)
        self._defaults_items = tuple(defaults.items())
        self._post_match = self.redirect_to is not None or self.alias or bool(self._default_sources)

    def _compile_domain(self, parts: list[str | tuple[str, BaseConverter]]) -> None:
        if all(isinstance(p, str) for p in parts):
            self._domain_static: str | None = "".join(p for p in parts if isinstance(p, str))
            self._domain_regex = None
            self._domain_vars: list[tuple[str, int, Any]] = []
            self._domain_key: tuple[Any, ...] = ()
            return
        self._domain_static = None
        regex, variables, static_len, weights = _regex_for(parts)
        self._domain_regex = re.compile(regex).fullmatch
        self._domain_vars = variables
        self._domain_key = (-static_len, tuple(weights))

    def _compile_path(self, parts: list[str | tuple[str, BaseConverter]]) -> None:
        # Split into segments (lists of parts) at '/' in static text.
        segments: list[list[str | tuple[str, BaseConverter]]] = [[]]
        for part in parts:
            if isinstance(part, str):
                pieces = part.split("/")
                if pieces[0]:
                    segments[-1].append(pieces[0])
                for piece in pieces[1:]:
                    segments.append([piece] if piece else [])
            else:
                segments[-1].append(part)
        segments.pop(0)  # the empty piece before the leading '/'
        if all(isinstance(p, str) for p in parts):
            self._static_path: str | None = "".join(p for p in parts if isinstance(p, str))
        else:
            self._static_path = None
        self._static_url = (
            None if self._static_path is None else _quote(self._static_path, _PATH_SAFE)
        )
        prefix: list[str] = []
        for seg in segments[:-1]:
            if all(isinstance(p, str) for p in seg):
                prefix.append("".join(p for p in seg if isinstance(p, str)))
            else:
                break
        self._prefix = tuple(prefix)
        rest = segments[len(prefix) :]
        branch = bool(rest) and not rest[-1]
        if branch:
            rest = rest[:-1]
        # slash mode: 1 = branch (a missing '/' is noticed), 2 = leaf that tolerates a '/'.
        self._slash = 1 if branch else (0 if self.strict_slashes else 2)
        self._regex: Any = None
        self._vars: list[tuple[str, int, Any]] = []
        self._tail: tuple[str, bool] | None = None
        key: list[tuple[Any, ...]] = []
        for i, seg in enumerate(rest):
            convs = [p[1] for p in seg if not isinstance(p, str)]
            if not convs:
                key.append((0,))
            elif all(c.part_isolating for c in convs):
                static_len = sum(len(p) for p in seg if isinstance(p, str))
                key.append((1, -static_len, tuple(c.weight for c in convs)))
            else:  # the rest of the path is one piece: weigh it as a whole
                tail = [p for s in rest[i:] for p in s]
                static_len = sum(len(p) for p in tail if isinstance(p, str))
                weights = tuple(p[1].weight for p in tail if not isinstance(p, str))
                key.append((1, -static_len, weights))
                break
        if branch:
            key.append((0,))
        self._sort_key = tuple(key)
        if self._static_path is not None:
            return
        flat: list[str | tuple[str, BaseConverter]] = []
        for i, seg in enumerate(rest):
            if i:
                flat.append("/")
            flat.extend(seg)
        regex, variables, _, _ = _regex_for(flat)
        if self._slash:
            regex += "(/?)"
        compiled = re.compile(regex)
        self._slash_group = compiled.groups
        self._regex = compiled.fullmatch
        self._vars = variables
        if len(flat) == 1 and not self._slash:
            # After its static prefix, the rule is one plain <int> or default <string>
            # segment: the matcher decides with str methods what the regex would
            # (``\d+`` is str.isdecimal, ``[^/]{1,}`` a non-empty piece without '/').
            name, group, to_python = variables[0]
            conv_regex = flat[0][1].regex  # type: ignore[union-attr]
            if conv_regex == r"\d+" and to_python is int:
                self._tail = (name, True)
            elif conv_regex == "[^/]{1,}" and to_python is None:
                self._tail = (name, False)

    # -- building -------------------------------------------------------------------------
    def provides_defaults_for(self, rule: Rule) -> bool:
        """True if this rule's defaults make it the canonical URL of ``rule``."""
        return bool(
            not self.build_only
            and self.defaults
            and self.endpoint == rule.endpoint
            and self is not rule
            and self.arguments == rule.arguments
        )

    def build_compare_key(self) -> tuple[int, int, int]:
        """Order of the rules of one endpoint when building: non-alias rules first, then
        those with more arguments, then more defaults (as Werkzeug)."""
        return (1 if self.alias else 0, -len(self.arguments), -len(self.defaults or ()))

    def suitable_for(self, values: Mapping[str, Any], method: str | None = None) -> bool:
        """Can this rule build a URL from ``values`` (and ``method``)?"""
        if method is not None and self.methods is not None and method not in self.methods:
            return False
        for key in self._required:
            if key not in values:
                return False
        for key, value in self._defaults_items:
            if key in values and value != values[key]:
                return False
        return True

    def build(
        self, values: Mapping[str, Any], append_unknown: bool = True
    ) -> tuple[str, str] | None:
        """``(domain_part, url_path_with_query)``, or None if a converter rejects a value."""
        return self._build(values, append_unknown)

    def _build(self, values: Mapping[str, Any], append_unknown: bool) -> tuple[str, str] | None:
        try:
            domain = self._domain_static
            if domain is None:
                domain = _build_parts(self._domain_parts, values, self.defaults)
            path = self._static_url
            if path is None:
                path = _build_parts(self._url_parts, values, self.defaults)
        except ValidationError:
            return None
        if append_unknown and len(values) > len(self._required):
            arguments = self.arguments
            extra = [(k, v) for k, v in values.items() if k not in arguments]
            if extra:
                if self.map.sort_parameters:
                    extra.sort(key=self.map.sort_key)
                query = _encode_query(extra)
                if query:
                    path = f"{path}?{query}"
        return domain, path

    def __str__(self) -> str:
        return self.rule

    def __repr__(self) -> str:
        if self.map is None:
            return f"<{type(self).__name__} (unbound)>"
        text = "".join(p if isinstance(p, str) else f"<{p[0]}>" for p in self._path_parts)
        domain = "".join(p if isinstance(p, str) else f"<{p[0]}>" for p in self._domain_parts)
        if domain:
            text = f"{domain}|{text}"
        methods = f" ({', '.join(sorted(self.methods))})" if self.methods is not None else ""
        return f"<{type(self).__name__} {text!r}{methods} -> {self.endpoint}>"


def _regex_for(
    parts: list[str | tuple[str, BaseConverter]],
) -> tuple[str, list[tuple[str, int, Any]], int, list[int]]:
    """Regex text with one group per variable, the (name, group, to_python) list, the number
    of static characters and the converter weights."""
    out: list[str] = []
    variables: list[tuple[str, int, Any]] = []
    weights: list[int] = []
    static_len = 0
    group = 1
    for part in parts:
        if isinstance(part, str):
            out.append(re.escape(part))
            static_len += len(part)
            continue
        name, conv = part
        conv_regex = conv.regex
        out.append(f"({conv_regex})")
        # Identity to_python (e.g. the default converter) costs nothing at match time.
        to_python = None if type(conv).to_python is BaseConverter.to_python else conv.to_python
        plain = getattr(conv, "_builtin_to_python", None)
        if plain is not None:
            to_python = plain() or to_python
        variables.append((name, group, to_python))
        weights.append(conv.weight)
        group += 1 + re.compile(conv_regex).groups
    return "".join(out), variables, static_len, weights


def _build_parts(
    parts: list[str | tuple[str, BaseConverter]],
    values: Mapping[str, Any],
    defaults: Mapping[str, Any] | None,
) -> str:
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        else:
            name, conv = part
            value = values[name] if name in values else defaults[name]  # type: ignore[index]
            out.append(conv.to_url(value))
    return "".join(out)
