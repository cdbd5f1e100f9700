"""How the application builds URLs: the URL adapter for a request or for ``SERVER_NAME``,
``url_for`` with blueprint-relative endpoints, URL defaults and build-error handlers."""

from __future__ import annotations

import sys
import typing as t
from collections.abc import Callable
from itertools import chain

from ..globals import _get_app_ctx, _get_request_ctx
from ..routing import BuildError, Map, MapAdapter
from ..scaffold import Scaffold

if t.TYPE_CHECKING:
    from ..config import Config
    from ..wrappers import Request

_ANCHOR_SAFE = "%!#$&'()*+,/:;=?@"


def _split_blueprint_path(name: str) -> list[str]:
    out = [name]
    while "." in name:
        name = name.rpartition(".")[0]
        out.append(name)
    return out


class URLBuilding(Scaffold):
    """The URL half of ``Erlen`` (a mixin: ``Erlen`` is the only class that uses it)."""

    if t.TYPE_CHECKING:  # provided by Erlen
        config: Config
        url_map: Map
        subdomain_matching: bool
        url_build_error_handlers: list[Callable[[Exception, str, dict[str, t.Any]], str]]

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        if request is not None:
            trusted_hosts = self.config["TRUSTED_HOSTS"]
            if trusted_hosts is not None:
                request.trusted_hosts = trusted_hosts
                request.host  # noqa: B018 (validates the Host header: SecurityError on a bad one)
            subdomain = None
            server_name = self.config["SERVER_NAME"]
            if self.url_map.host_matching:
                server_name = None
            elif not self.subdomain_matching:
                subdomain = self.url_map.default_subdomain or ""
            return self.url_map.bind_to_environ(request.environ, server_name, subdomain)
        if self.config["SERVER_NAME"] is not None:
            return self.url_map.bind(
                self.config["SERVER_NAME"],
                script_name=self.config["APPLICATION_ROOT"],
                url_scheme=self.config["PREFERRED_URL_SCHEME"],
            )
        return None

    def url_for(
        self,
        /,
        endpoint: str,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values: t.Any,
    ) -> str:
        req_ctx = _get_request_ctx(None)
        if req_ctx is not None:
            url_adapter = req_ctx.url_adapter
            blueprint_name = req_ctx.request.blueprint
            if endpoint[:1] == ".":
                if blueprint_name is not None:
                    endpoint = f"{blueprint_name}{endpoint}"
                else:
                    endpoint = endpoint[1:]
            if _external is None:
                _external = _scheme is not None
        else:
            app_ctx = _get_app_ctx(None)
            url_adapter = (
                app_ctx.url_adapter if app_ctx is not None else self.create_url_adapter(None)
            )
            if url_adapter is None:
                raise RuntimeError(
                    "Unable to build URLs outside an active request"
                    " without 'SERVER_NAME' configured. Also configure"
                    " 'APPLICATION_ROOT' and 'PREFERRED_URL_SCHEME' as"
                    " needed."
                )
            if _external is None:
                _external = True
        if _scheme is not None and not _external:
            raise ValueError("When specifying '_scheme', '_external' must be True.")
        if self.url_default_functions:
            self.inject_url_defaults(endpoint, values)
        try:
            rv = url_adapter.build(
                endpoint,
                values,
                method=_method,
                url_scheme=_scheme,
                force_external=_external,
            )
        except BuildError as error:
            # a new dict: the BuildError keeps ``values`` and must name only the caller's ones
            values = {
                **values,
                "_anchor": _anchor,
                "_method": _method,
                "_scheme": _scheme,
                "_external": _external,
            }
            return self.handle_url_build_error(error, endpoint, values)
        if _anchor is not None:
            from urllib.parse import quote

            rv = f"{rv}#{quote(_anchor, safe=_ANCHOR_SAFE)}"
        return rv  # type: ignore[no-any-return]

    def inject_url_defaults(self, endpoint: str, values: dict[str, t.Any]) -> None:
        names: t.Iterable[str | None] = (None,)
        if "." in endpoint:
            names = chain(names, reversed(_split_blueprint_path(endpoint.rpartition(".")[0])))
        for name in names:
            if name in self.url_default_functions:
                for func in self.url_default_functions[name]:
                    func(endpoint, values)

    def handle_url_build_error(
        self, error: BuildError, endpoint: str, values: dict[str, t.Any]
    ) -> str:
        for handler in self.url_build_error_handlers:
            try:
                rv = handler(error, endpoint, values)
            except BuildError as e:
                error = e
            else:
                if rv is not None:
                    return rv
        if error is sys.exc_info()[1]:
            raise
        raise error
