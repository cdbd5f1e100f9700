"""OpenAPI 3.1 for erlen apps: the document at ``/openapi.json``, Swagger UI at ``/docs``.

    from erlen.openapi import OpenAPI
    OpenAPI(app, title="Todo API", version="1.0.0")

The document is built from the app's routes (see ``builder``) on first use and cached. The
docs page uses Swagger UI vendored from npm at build time (``scripts/vendor_npm.py``) and
served from this package: no CDN, no inline script (the page sends a strict CSP). Importing
``erlen`` does not import this package; apps that do not use it pay nothing. See
``docs/openapi.md``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import click
from markupsafe import escape

from ..app.commands import with_appcontext
from ..blueprints import Blueprint
from ..globals import current_app
from ..helpers import url_for
from .builder import DOC_ATTR, Builder, converter_schema, openapi_path

__all__ = ["OpenAPI", "converter_schema", "doc", "openapi_path"]

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("erlen.openapi")

STATIC = os.path.join(os.path.dirname(__file__), "static")
SWAGGER_UI = "swagger-ui"
ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css")
BLUEPRINT = "erlen_openapi"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def doc(
    *,
    summary: str | None = None,
    description: str | None = None,
    tags: Iterable[str] | None = None,
    responses: Mapping[int | str, Any] | None = None,
    status_code: int | None = None,
    operation_id: str | None = None,
    deprecated: bool = False,
    hidden: bool = False,
) -> Callable[[F], F]:
    """Say what the routes cannot: ``responses={404: "No such item", 409: Conflict}`` (a
    description, a model, ``(model, description)`` or a raw Response Object), the success
    ``status_code`` (default 200), ``hidden=True`` to leave a route out. Sets an attribute
    only: no wrapper, no cost per request."""
    values: dict[str, Any] = {
        "summary": summary,
        "description": description,
        "tags": list(tags) if tags is not None else None,
        "responses": dict(responses) if responses else None,
        "status_code": status_code,
        "operation_id": operation_id,
        "deprecated": deprecated,
        "hidden": hidden,
    }
    values = {k: v for k, v in values.items() if v not in (None, False)}

    def decorate(func: F) -> F:
        setattr(func, DOC_ATTR, {**getattr(func, DOC_ATTR, {}), **values})
        return func

    return decorate


class OpenAPI:
    """The extension: ``OpenAPI(app, title=..., version=...)`` or ``init_app(app)`` later.

    ``openapi_url`` (``/openapi.json``) and ``docs_url`` (``/docs``; None: no page) say where
    they are served; ``servers`` and ``description`` go into the document as given;
    ``exclude`` (endpoint names or a predicate) leaves routes out. ``erlen openapi`` prints
    the document.
    """

    def __init__(
        self,
        app: Any = None,
        *,
        title: str = "API",
        version: str = "0.1.0",
        description: str | None = None,
        openapi_url: str | None = "/openapi.json",
        docs_url: str | None = "/docs",
        servers: list[dict[str, Any]] | None = None,
        exclude: Iterable[str] | Callable[[str], bool] | None = None,
        info: Mapping[str, Any] | None = None,
    ) -> None:
        self.title = title
        self.version = version
        self.description = description
        self.openapi_url = openapi_url
        self.docs_url = docs_url
        self.servers = servers
        self.info = dict(info or {})
        if exclude is None or callable(exclude):
            self._exclude: Callable[[str], bool] | None = exclude
        else:
            names = frozenset(exclude)
            self._exclude = names.__contains__
        self._lock = threading.Lock()
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Any) -> None:
        """Register the JSON and docs routes (a blueprint) and the ``openapi`` command."""
        state = _State(self)
        app.extensions["openapi"] = state
        bp = Blueprint(
            BLUEPRINT,
            __name__,
            static_folder=STATIC if self.docs_url else None,
            static_url_path=(self.docs_url or "").rstrip("/") + "/static",
        )
        if self.openapi_url:
            bp.add_url_rule(self.openapi_url, "spec", _spec_view, methods=["GET"])
        if self.docs_url:
            bp.add_url_rule(self.docs_url, "docs", _docs_view, methods=["GET"])
        app.register_blueprint(bp)
        app.cli.add_command(openapi_command)

    def exclude(self, endpoint: str) -> bool:
        if endpoint.startswith(BLUEPRINT + "."):
            return True
        return bool(self._exclude and self._exclude(endpoint))

    def document(self, app: Any = None) -> dict[str, Any]:
        """The app's OpenAPI document (built on first call, then cached)."""
        state = _state(app)
        if state.document is None:
            with self._lock:
                if state.document is None:
                    state.document = self.build(app or current_app._get_current_object())  # type: ignore[attr-defined]
        return state.document

    def build(self, app: Any) -> dict[str, Any]:
        """Build the document now, uncached (``document`` caches this)."""
        info: dict[str, Any] = {"title": self.title, "version": self.version}
        if self.description:
            info["description"] = self.description
        info.update(self.info)
        return Builder(app, info, servers=self.servers, exclude=self.exclude).build()

    def invalidate(self, app: Any = None) -> None:
        """Forget the cached document (after adding routes in tests, say)."""
        state = _state(app)
        state.document = None
        state.body = None


class _State:
    def __init__(self, ext: OpenAPI) -> None:
        self.ext = ext
        self.document: dict[str, Any] | None = None
        self.body: bytes | None = None


def _state(app: Any = None) -> _State:
    app = app if app is not None else current_app
    try:
        return app.extensions["openapi"]  # type: ignore[no-any-return]
    except KeyError:
        raise RuntimeError("erlen.openapi.OpenAPI is not initialised on this app") from None


def _spec_view() -> Any:
    state = _state()
    if state.body is None:
        doc = state.ext.document()
        state.body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
    return current_app.response_class(state.body, mimetype="application/json")


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" type="image/png" href="{favicon}">
<link rel="stylesheet" href="{css}">
</head>
<body>
<div id="swagger-ui" data-spec-url="{spec_url}"></div>
<script src="{bundle}"></script>
<script src="{init}"></script>
</body>
</html>
"""

_MISSING = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{title}</title></head>
<body>
<h1>The API docs page is not installed</h1>
<p>Swagger UI's files are missing from <code>erlen/openapi/static/swagger-ui/</code>. They
are vendored from npm at build time: run <code>make install</code> (or
<code>python scripts/vendor_npm.py</code>) in the erlen checkout.</p>
<p>The OpenAPI document itself is served: {spec_link}</p>
</body>
</html>
"""


def _docs_view() -> Any:
    state = _state()
    ext = state.ext
    title = escape(f"{ext.title} {ext.version} - API docs")
    spec_url = url_for(BLUEPRINT + ".spec") if ext.openapi_url else ""
    headers = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"}
    if not all(os.path.isfile(os.path.join(STATIC, SWAGGER_UI, a)) for a in ASSETS):
        log.warning("erlen.openapi: Swagger UI assets missing in %s; run make install", STATIC)
        link = f'<a href="{escape(spec_url)}">{escape(spec_url)}</a>' if spec_url else "(off)"
        page = _MISSING.format(title=title, spec_link=link)
        return current_app.response_class(page, 503, headers, mimetype="text/html")

    def static(name: str) -> str:
        return str(escape(url_for(BLUEPRINT + ".static", filename=name)))

    page = _PAGE.format(
        title=title,
        favicon=static(f"{SWAGGER_UI}/favicon-32x32.png"),
        css=static(f"{SWAGGER_UI}/swagger-ui.css"),
        bundle=static(f"{SWAGGER_UI}/swagger-ui-bundle.js"),
        init=static("swagger-init.js"),
        spec_url=escape(spec_url),
    )
    return current_app.response_class(page, 200, headers, mimetype="text/html")


@click.command("openapi", short_help="Print the app's OpenAPI document.")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write to FILE."
)
@click.option("--indent", default=2, show_default=True, help="JSON indentation.")
@with_appcontext
def openapi_command(output: str | None, indent: int) -> None:
    """Print (or write to FILE) the app's OpenAPI 3.1 document as JSON."""
    text = json.dumps(_state().ext.document(), indent=indent, ensure_ascii=False) + "\n"
    if output:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text)
        click.echo(f"Wrote {output}", err=True)
    else:
        click.echo(text, nl=False)
