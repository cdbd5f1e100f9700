"""``Map`` (the rule collection) and ``MapAdapter`` (a map bound to one request's host)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NoReturn
from urllib.parse import quote, urljoin

from erlen.exceptions import BadHost, BadRequest, MethodNotAllowed, NotFound
from erlen.utils import parse_host

from .converters import DEFAULT_CONVERTERS, BaseConverter
from .exceptions import BuildError, RequestRedirect, WebsocketMismatch
from .matcher import SLASH_MISSING, Matcher, NoMatch
from .rules import Rule, RuleFactory, _encode_query

__all__ = ["Map", "MapAdapter"]

_PLACEHOLDER_RE = re.compile(r"<([^>]+)>")
_MULTI_SLASH_RE = re.compile("/{2,}")
_PATH_SAFE = "/:@!$&'()*+,;="
_QUERY_SAFE = "/:@!$&'()*+,;=?%"
_INVALID_HOST = "The request's Host header is invalid."


def _wsgi_decode(value: str) -> str:
    """WSGI strings carry raw bytes as latin-1; routing wants the real (UTF-8) text.

    Invalid UTF-8 is a 400, not silently replaced: two different paths must never route alike.
    """
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        raise BadRequest("The request path is not valid UTF-8.") from None


_UNSET: Any = object()
_new_adapter = object.__new__


def _environ_host(environ: Mapping[str, Any], scheme: str) -> str:
    """The request host, lowercased, without the scheme's default port (as Werkzeug); the
    one place URLs get it from. An invalid ``Host`` (``a@evil.com``...) is a 400, never
    copied into a URL (decision 010)."""
    host = environ.get("HTTP_HOST")
    if host:
        if not host.isascii():
            host = _check_host(host)
        host = _strip_default_port(host.lower(), scheme)
        if parse_host(host) is None:
            raise BadHost(_INVALID_HOST)
        return host
    host = environ.get("SERVER_NAME", "").lower()
    port = environ.get("SERVER_PORT")
    if port:
        host = _strip_default_port(f"{host}:{port}", scheme)
    return host  # type: ignore[no-any-return]


def _check_host(host: str) -> str:
    """The IDNA (ASCII) form of a non-ASCII ``Host``; garbage is a 400, not a 404."""
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        raise BadHost(_INVALID_HOST) from None


def _strip_default_port(host: str, scheme: str) -> str:
    if host.endswith(":80") and scheme in ("http", "ws"):
        return host[:-3]
    if host.endswith(":443") and scheme in ("https", "wss"):
        return host[:-4]
    return host


def _drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


class Map:
    """The set of URL rules of an application, plus matching and building options."""

    default_converters = DEFAULT_CONVERTERS

    def __init__(
        self,
        rules: Iterable[RuleFactory] | None = None,
        default_subdomain: str = "",
        strict_slashes: bool = True,
        merge_slashes: bool = True,
        redirect_defaults: bool = True,
        converters: Mapping[str, type[BaseConverter]] | None = None,
        sort_parameters: bool = False,
        sort_key: Callable[[Any], Any] | None = None,
        host_matching: bool = False,
    ) -> None:
        self._rules: list[Rule] = []
        self._rules_by_endpoint: dict[Any, list[Rule]] = {}
        self._matcher: Matcher | None = None
        self.default_subdomain = default_subdomain
        self.strict_slashes = strict_slashes
        self.merge_slashes = merge_slashes
        self.redirect_defaults = redirect_defaults
        self.host_matching = host_matching
        self.converters: dict[str, type[BaseConverter]] = dict(self.default_converters)
        if converters:
            self.converters.update(converters)
        self.sort_parameters = sort_parameters
        self.sort_key = sort_key
        for rulefactory in rules or ():
            self.add(rulefactory)

    def add(self, rulefactory: RuleFactory) -> None:
        """Add a rule (or every rule of a factory); compiled now, matched from the next match."""
        for rule in rulefactory.get_rules(self):
            rule.bind(self)
            self._rules.append(rule)
            same = self._rules_by_endpoint.setdefault(rule.endpoint, [])
            same.append(rule)
            same.sort(key=Rule.build_compare_key)  # stable: ties keep order of addition
            for i, other in enumerate(same):
                # Rules before it whose defaults make them its canonical URL.
                other._default_sources = [o for o in same[:i] if o.provides_defaults_for(other)]
                other._post_match = bool(
                    other.redirect_to is not None or other.alias or other._default_sources
                )
        self._matcher = None

    def iter_rules(self, endpoint: Any = None) -> Iterator[Rule]:
        """All rules in order of addition, or those of one endpoint (KeyError if unknown)."""
        if endpoint is not None:
            return iter(self._rules_by_endpoint[endpoint])
        return iter(self._rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self._rules)

    def is_endpoint_expecting(self, endpoint: Any, *arguments: str) -> bool:
        """True if some rule of ``endpoint`` takes all of ``arguments``."""
        wanted = set(arguments)
        return any(wanted <= rule.arguments for rule in self._rules_by_endpoint[endpoint])

    def update(self) -> None:
        """Rebuild the matcher now (otherwise done lazily on the first match after a change)."""
        self._matcher = self._build_matcher()

    def _get_matcher(self) -> Matcher:
        matcher = self._matcher
        if matcher is None:
            matcher = self._matcher = self._build_matcher()
        return matcher

    def _build_matcher(self) -> Matcher:
        return Matcher(self._rules)

    def find(
        self, domain_part: str, path: str, method: str
    ) -> tuple[Rule, dict[str, Any]] | NotFound | None:
        """The matching step for a request that needs no adapter: ``(rule, values)`` when a
        rule matches ``path`` exactly with nothing to do after matching, a ``NotFound`` when
        no rule matches it under any method, else None: then ``MapAdapter.match`` gives the
        full answer (a redirect, a 405, a websocket mismatch, ``//`` handling).

        ``path`` is ASCII and the request no websocket upgrade (the caller checks); the
        answer is what ``bind_to_environ(...).match(return_rule=True)`` gives for it."""
        matcher = self._matcher or self._get_matcher()
        if not matcher.dynamic_domains:
            domain = matcher.static_domains.get(domain_part)
            if domain is not None:
                entries = domain.clean.get(path)
                if entries is not None:  # a static path: the first rule taking the method
                    for methods, rule in entries:
                        if methods is None or method in methods:
                            return rule, {}
                    return None  # a 405 (or another method's rule): the adapter's answer
        try:
            rule, values, kind = matcher.match(domain_part, path, method, False)
        except NoMatch as exc:
            if exc.have_match_for or exc.websocket_mismatch or "//" in path:
                return None
            return NotFound()
        if kind or rule._post_match:
            return None
        return rule, values

    def bind(
        self,
        server_name: str,
        script_name: str | None = "/",
        subdomain: str | None = None,
        url_scheme: str = "http",
        default_method: str = "GET",
        path_info: str | None = None,
        query_args: Mapping[str, Any] | str | None = None,
    ) -> MapAdapter:
        """A ``MapAdapter`` for a given host (and subdomain, script root...)."""
        server_name = server_name.lower()
        if self.host_matching:
            if subdomain is not None:
                raise RuntimeError("host matching enabled and a subdomain was provided")
        elif subdomain is None:
            subdomain = self.default_subdomain
        return MapAdapter(
            self,
            server_name,
            script_name or "/",
            subdomain or "",
            url_scheme,
            path_info if path_info is not None else "/",
            default_method,
            query_args,
        )

    def bind_to_environ(
        self,
        environ: Mapping[str, Any],
        server_name: str | None = None,
        subdomain: str | None = None,
    ) -> MapAdapter:
        """A ``MapAdapter`` from a WSGI environ (the per-request entry point; kept cheap)."""
        adapter = _new_adapter(MapAdapter)
        adapter.map = self
        adapter._environ = environ
        scheme = environ.get("wsgi.url_scheme", "http")
        websocket = False
        if "HTTP_UPGRADE" in environ and environ["HTTP_UPGRADE"].lower() == "websocket":
            connection = environ.get("HTTP_CONNECTION", "").lower()
            if any(v.strip() == "upgrade" for v in connection.split(",")):
                scheme = "wss" if scheme == "https" else "ws"
                websocket = True
        adapter.url_scheme = scheme
        adapter.websocket = websocket
        if server_name is None and subdomain is not None and not self.host_matching:
            adapter._server_name = _UNSET  # only URL building needs the host: computed lazily
            host = environ.get("HTTP_HOST")
            if host is not None and not host.isascii():
                _check_host(host)
        else:
            host = _environ_host(environ, scheme)
            if server_name is None:
                server_name = host
            else:
                server_name = _strip_default_port(server_name.lower(), scheme)
            adapter._server_name = server_name
            if subdomain is None and not self.host_matching:
                if host == server_name:
                    subdomain = ""
                elif host.endswith("." + server_name):
                    subdomain = host[: -len(server_name) - 1]
                else:  # not under server_name (e.g. accessed by IP): matches nothing
                    try:
                        warnings.warn(
                            f"Current server name {host!r} doesn't match configured"
                            f" server name {server_name!r}",
                            stacklevel=2,
                        )
                    except Warning:
                        pass  # -W error: the client's Host must not become a 500 (decision 009)
                    subdomain = "<invalid>"
        adapter.subdomain = subdomain or ""
        path = environ.get("PATH_INFO", "")
        adapter.path_info = path if path.isascii() else _wsgi_decode(path)
        adapter.default_method = environ.get("REQUEST_METHOD", "GET")
        adapter._script_name = _UNSET
        adapter._query_args = _UNSET
        return adapter

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self._rules)!r})"


class MapAdapter:
    """A ``Map`` bound to a host, script root and request: matches paths, builds URLs."""

    __slots__ = (
        "map",
        "_server_name",
        "_script_name",
        "subdomain",
        "url_scheme",
        "path_info",
        "default_method",
        "_query_args",
        "websocket",
        "_environ",
    )

    def __init__(
        self,
        map: Map,
        server_name: str,
        script_name: str,
        subdomain: str,
        url_scheme: str,
        path_info: str,
        default_method: str,
        query_args: Mapping[str, Any] | str | None = None,
    ) -> None:
        self.map = map
        self._server_name = server_name
        self._script_name = script_name if script_name.endswith("/") else script_name + "/"
        self.subdomain = subdomain
        self.url_scheme = url_scheme
        self.path_info = path_info
        self.default_method = default_method
        self._query_args = query_args
        self.websocket = url_scheme in ("ws", "wss")
        self._environ: Mapping[str, Any] = {}

    # Read lazily from the environ: most requests never build a URL or redirect.
    @property
    def server_name(self) -> str:
        """The bound host name (port included unless default for the scheme)."""
        name = self._server_name
        if name is _UNSET:
            name = self._server_name = _environ_host(self._environ, self.url_scheme)
        return name  # type: ignore[no-any-return]

    @server_name.setter
    def server_name(self, value: str) -> None:
        self._server_name = value

    @property
    def script_name(self) -> str:
        """The application root, always ending with a slash."""
        name = self._script_name
        if name is _UNSET:
            name = _wsgi_decode(self._environ.get("SCRIPT_NAME", ""))
            if not name.endswith("/"):
                name += "/"
            self._script_name = name
        return name  # type: ignore[no-any-return]

    @script_name.setter
    def script_name(self, value: str) -> None:
        self._script_name = value

    @property
    def query_args(self) -> Mapping[str, Any] | str | None:
        """The query string kept in redirect URLs."""
        args = self._query_args
        if args is _UNSET:
            args = self._query_args = _wsgi_decode(self._environ.get("QUERY_STRING", ""))
        return args  # type: ignore[no-any-return]

    @query_args.setter
    def query_args(self, value: Mapping[str, Any] | str | None) -> None:
        self._query_args = value

    # -- matching ------------------------------------------------------------------------
    def match(
        self,
        path_info: str | None = None,
        method: str | None = None,
        return_rule: bool = False,
        query_args: Mapping[str, Any] | str | None = None,
        websocket: bool | None = None,
    ) -> tuple[Any, dict[str, Any]]:
        """``(endpoint or rule, view_args)``; raises NotFound, MethodNotAllowed or
        RequestRedirect (308) as described in the module docs."""
        map = self.map
        matcher = map._matcher or map._get_matcher()
        path = self.path_info if path_info is None else path_info
        method = (method or self.default_method).upper()
        if websocket is None:
            websocket = self.websocket
        domain_part = self.server_name if map.host_matching else self.subdomain
        try:
            rule, values, kind = matcher.match(domain_part, path, method, bool(websocket))
        except NoMatch as exc:
            if path[:2] == "//":  # leading slashes collapse silently, as in Werkzeug
                return self.match(
                    "/" + path.lstrip("/"), method, return_rule, query_args, websocket
                )
            self._no_match(exc, matcher, domain_part, path, method, bool(websocket), query_args)
        if kind and rule.strict_slashes:
            raise RequestRedirect(self.make_redirect_url(path + "/", query_args, domain_part))
        if rule._post_match and (rule.redirect_to is not None or map.redirect_defaults):
            self._check_redirects(rule, values, method, query_args, domain_part)
        if return_rule:
            return rule, values
        return rule.endpoint, values

    def _no_match(
        self,
        exc: NoMatch,
        matcher: Matcher,
        domain_part: str,
        path: str,
        method: str,
        websocket: bool,
        query_args: Mapping[str, Any] | str | None,
    ) -> NoReturn:
        if self.map.merge_slashes and "//" in path:
            merged = _MULTI_SLASH_RE.sub("/", path)
            try:
                rule, _, kind = matcher.match(domain_part, merged, method, websocket)
            except NoMatch:
                pass
            else:
                if rule.merge_slashes:
                    if kind == SLASH_MISSING and rule.strict_slashes:
                        merged += "/"
                    raise RequestRedirect(self.make_redirect_url(merged, query_args, domain_part))
        if exc.have_match_for:
            raise MethodNotAllowed(valid_methods=sorted(exc.have_match_for))
        if exc.websocket_mismatch:
            raise WebsocketMismatch()
        raise NotFound()

    def _check_redirects(
        self,
        rule: Rule,
        values: dict[str, Any],
        method: str,
        query_args: Mapping[str, Any] | str | None,
        domain_part: str,
    ) -> None:
        if self.map.redirect_defaults:
            if rule.alias:
                url = self.build(
                    rule.endpoint, values, method, append_unknown=False, force_external=True
                )
                raise RequestRedirect(url + self._query_suffix(query_args))
            for other in rule._default_sources:
                if other.suitable_for(values, method):
                    built = other._build({**values, **(other.defaults or {})}, False)
                    if built is not None:
                        raise RequestRedirect(self._redirect_quoted(built[1], query_args, built[0]))
        target = rule.redirect_to
        if target is None:
            return
        if isinstance(target, str):

            def _sub(m: re.Match[str]) -> str:
                name = m.group(1)
                conv = rule._converters.get(name)
                value = values[name]
                return conv.to_url(value) if conv is not None else quote(str(value), _PATH_SAFE)

            url = _PLACEHOLDER_RE.sub(_sub, target)
        else:
            url = target(self, **values)
        base = f"{self.url_scheme or 'http'}://{self.get_host(domain_part)}{self.script_name}"
        raise RequestRedirect(urljoin(base, url))

    def allowed_methods(self, path_info: str | None = None) -> list[str]:
        """Methods the path accepts (empty when any method is accepted or nothing matches)."""
        try:
            self.match(path_info, method="--")
        except MethodNotAllowed as e:
            return list(e.valid_methods or ())
        except Exception:
            pass
        return []

    def test(self, path_info: str | None = None, method: str | None = None) -> bool:
        """True if the path matches (redirects count as a match)."""
        try:
            self.match(path_info, method)
        except RequestRedirect:
            pass
        except (NotFound, MethodNotAllowed, WebsocketMismatch):
            return False
        return True

    # -- URLs ----------------------------------------------------------------------------
    def get_host(self, domain_part: str | None) -> str:
        """The host for a rule's domain part under this adapter's server name."""
        if self.map.host_matching:
            return domain_part if domain_part is not None else self.server_name
        subdomain = domain_part if domain_part is not None else self.subdomain
        return f"{subdomain}.{self.server_name}" if subdomain else self.server_name

    def _query_suffix(self, query_args: Mapping[str, Any] | str | None) -> str:
        if query_args is None:
            query_args = self.query_args
        if not query_args:
            return ""
        if isinstance(query_args, str):
            return "?" + quote(query_args, _QUERY_SAFE)
        if hasattr(query_args, "getlist"):  # MultiDict: every value
            items = query_args.items(multi=True)  # type: ignore[call-arg]
        else:
            items = query_args.items()
        return "?" + _encode_query(items)

    def _redirect_quoted(
        self, path: str, query_args: Mapping[str, Any] | str | None, domain_part: str | None
    ) -> str:
        root = self.script_name.rstrip("/")
        return (
            f"{self.url_scheme or 'http'}://{self.get_host(domain_part)}{root}/"
            f"{path.lstrip('/')}{self._query_suffix(query_args)}"
        )

    def make_redirect_url(
        self,
        path_info: str,
        query_args: Mapping[str, Any] | str | None = None,
        domain_part: str | None = None,
    ) -> str:
        """Absolute URL for a redirect to ``path_info`` (decoded text, quoted here)."""
        return self._redirect_quoted(quote(path_info, _PATH_SAFE), query_args, domain_part)

    def build(
        self,
        endpoint: Any,
        values: Mapping[str, Any] | None = None,
        method: str | None = None,
        force_external: bool = False,
        append_unknown: bool = True,
        url_scheme: str | None = None,
    ) -> str:
        """The URL of ``endpoint`` with ``values``: relative to the host when on the same
        (sub)domain, absolute otherwise or with ``force_external``; raises ``BuildError``."""
        if values is None:
            clean: Mapping[str, Any] = {}
        elif type(values) is dict:
            clean = values if None not in values.values() else _drop_none(values)
        elif hasattr(values, "getlist"):  # MultiDict: single values unwrapped, lists kept
            clean = {}
            for key in values:
                items = values.getlist(key)  # type: ignore[attr-defined]
                if items:
                    clean[key] = items[0] if len(items) == 1 else items
        else:
            clean = _drop_none(values)
        map = self.map
        rules = map._rules_by_endpoint.get(endpoint)
        built = None
        if rules is not None:
            if method is None:
                built = self._partial_build(rules, clean, self.default_method, append_unknown)
            if built is None:
                built = self._partial_build(rules, clean, method, append_unknown)
        if built is None:
            raise BuildError(endpoint, clean, method, self)
        domain_part, path, websocket = built
        if not force_external and not websocket:
            if map.host_matching:
                same = domain_part == self.server_name
            else:
                same = domain_part == self.subdomain
            if same:
                root = self._script_name
                if root is _UNSET:
                    root = self.script_name
                return f"{root[:-1]}{path}" if root != "/" else path  # type: ignore[no-any-return]
        scheme = url_scheme if url_scheme is not None else self.url_scheme
        secure = scheme in ("https", "wss")
        if websocket:
            scheme = "wss" if secure else "ws"
        elif scheme:
            scheme = "https" if secure else "http"
        prefix = f"{scheme}:" if scheme else ""
        return f"{prefix}//{self.get_host(domain_part)}{self.script_name[:-1]}{path}"

    def _partial_build(
        self,
        rules: list[Rule],
        values: Mapping[str, Any],
        method: str | None,
        append_unknown: bool,
    ) -> tuple[str, str, bool] | None:
        first = None
        host_matching = self.map.host_matching
        for rule in rules:
            if rule.suitable_for(values, method):
                built = rule._build(values, append_unknown)
                if built is None:
                    continue
                if not host_matching or built[0] == self.server_name:
                    return built[0], built[1], rule.websocket
                if first is None:
                    first = (built[0], built[1], rule.websocket)
        return first

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.url_scheme}://{self.server_name}"
            f"{self.script_name} subdomain={self.subdomain!r}>"
        )
