"""Build an OpenAPI 3.1 document from an app's url_map and view functions.

Paths and path parameters come from the rules (converters give the schemas), methods from
the rules (HEAD and OPTIONS left out), summaries from docstrings, tags from blueprints,
security from ``erlen.jwt``'s ``jwt_required`` and ``erlen.login``'s ``login_required``
(they mark their wrappers), query/header/cookie parameters, request bodies and response
models from ``erlen.binding.describe_view`` when the view uses typed binding, and whatever a
view adds with :func:`erlen.openapi.doc`. Built once per app (the extension caches it).
"""

from __future__ import annotations

import inspect
import logging
import re
import types
import typing
from collections.abc import Callable, Iterable
from typing import Any

from ..routing.converters import (
    AnyConverter,
    BaseConverter,
    FloatConverter,
    IntegerConverter,
    NumberConverter,
    PathConverter,
    UnicodeConverter,
    UUIDConverter,
)

DOC_ATTR = "_erlen_openapi"
JWT_ATTR = "_erlen_jwt_required"
LOGIN_ATTR = "_erlen_login_required"
REF_TEMPLATE = "#/components/schemas/{model}"
HTTP_METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH", "TRACE")  # OpenAPI's order, less two

_VARIABLE = re.compile(r"<(?:[a-zA-Z_][a-zA-Z0-9_]*(?:\([^)]*\))?:)?([a-zA-Z_][a-zA-Z0-9_]*)>")
_LENGTH = re.compile(r"^\[\^/\]\{(\d+)(?:(,)(\d*))?\}$")

VALIDATION_ERROR = "ValidationError"
HTTP_VALIDATION_ERROR = "HTTPValidationError"
JWT_ERROR = "JWTError"
_UNIONS = (typing.Union, types.UnionType)
log = logging.getLogger("erlen.openapi")


def converter_schema(conv: BaseConverter) -> dict[str, Any]:
    """The JSON Schema of what a converter matches; a converter may say its own with an
    ``openapi_schema`` attribute (a dict)."""
    custom = getattr(conv, "openapi_schema", None)
    if isinstance(custom, dict):
        return dict(custom)
    if isinstance(conv, NumberConverter):
        schema: dict[str, Any] = {
            "type": "number" if isinstance(conv, FloatConverter) else "integer"
        }
        if not isinstance(conv, IntegerConverter | FloatConverter):
            return schema
        if not conv.signed:
            schema["minimum"] = 0
        if conv.min is not None:
            schema["minimum"] = max(conv.min, schema.get("minimum", conv.min))
        if conv.max is not None:
            schema["maximum"] = conv.max
        return schema
    if isinstance(conv, UUIDConverter):
        return {"type": "string", "format": "uuid"}
    if isinstance(conv, AnyConverter):
        return {"type": "string", "enum": sorted(conv.items)}
    if isinstance(conv, PathConverter):
        return {"type": "string", "pattern": "^[^/].*$"}
    if isinstance(conv, UnicodeConverter):
        schema = {"type": "string", "pattern": "^[^/]+$"}
        m = _LENGTH.match(conv.regex)
        if m:
            low, comma, high = m.groups()
            schema["minLength"] = int(low)
            if not comma:
                schema["maxLength"] = int(low)
            elif high:
                schema["maxLength"] = int(high)
        return schema
    return {"type": "string"}


def openapi_path(rule: Any) -> tuple[str, list[str]]:
    """``/items/<int:id>`` → (``/items/{id}``, ``["id"]``)."""
    names: list[str] = []

    def sub(m: re.Match[str]) -> str:
        names.append(m.group(1))
        return "{" + m.group(1) + "}"

    return _VARIABLE.sub(sub, rule.rule), names


def _cleandoc(func: Any) -> tuple[str | None, str | None]:
    doc = getattr(func, "__doc__", None)  # its own: not one inherited from a base class
    if doc:
        doc = inspect.cleandoc(doc)
    if not doc:
        return None, None
    summary, _, rest = doc.partition("\n")
    return summary.strip() or None, rest.strip() or None


def _marker(attr: str, *objs: Any) -> Any:
    for obj in objs:
        value = getattr(obj, attr, None)
        if value is not None:
            return value
    return None


def _method_decorators(view_class: Any, method: str) -> list[Any]:
    """Flask-RESTful's ``method_decorators`` (a list, or a dict per lower-case method)."""
    decorators = getattr(view_class, "method_decorators", None) or []
    if isinstance(decorators, dict):
        decorators = decorators.get(method.lower(), [])
    return list(decorators)


class Builder:
    """One document: collects component schemas and security schemes while walking."""

    def __init__(self, app: Any, info: dict[str, Any], **options: Any) -> None:
        self.app = app
        self.info = info
        self.servers: list[dict[str, Any]] | None = options.get("servers")
        self.exclude: Callable[[str], bool] = options.get("exclude") or (lambda e: False)
        self.schemas: dict[str, Any] = {}
        self.security_schemes: dict[str, Any] = {}
        self.tags: dict[str, dict[str, Any]] = {}
        self.operation_ids: set[str] = set()
        self._binding: Any = None

    # -- schemas (through erlen.binding when a view uses typed binding) ---------------------

    def binding(self) -> Any:
        if self._binding is None:
            try:
                from .. import binding  # type: ignore[attr-defined,unused-ignore]
            except ImportError:  # typed binding not installed: docs from rules and docstrings
                binding = False  # type: ignore[assignment]
            self._binding = binding
        return self._binding or None

    def describe(self, view: Any, method: str, path_names: list[str]) -> Any:
        binding = self.binding()
        if binding is None:
            return None
        try:
            return binding.describe_view(view, method=method, path_names=path_names)
        except (TypeError, ValueError, NameError) as e:  # a view binding cannot read
            log.warning("erlen.openapi: cannot describe %r: %s", view, e)
            return None

    def schema(self, tp: Any) -> dict[str, Any]:
        binding = self.binding()
        if binding is None:
            return {}
        schema, components = binding.json_schema(tp, ref_template=REF_TEMPLATE)
        for name, sub in components.items():
            self.schemas.setdefault(name, sub)
        return dict(schema)

    # -- the document ---------------------------------------------------------------------

    def build(self) -> dict[str, Any]:
        paths: dict[str, dict[str, Any]] = {}
        for rule in self.app.url_map.iter_rules():
            self.add_rule(paths, rule)
        doc: dict[str, Any] = {"openapi": "3.1.0", "info": self.info}
        if self.servers:
            doc["servers"] = self.servers
        doc["paths"] = paths
        components: dict[str, Any] = {}
        if self.schemas:
            components["schemas"] = dict(sorted(self.schemas.items()))
        if self.security_schemes:
            components["securitySchemes"] = self.security_schemes
        if components:
            doc["components"] = components
        if self.tags:
            doc["tags"] = [self.tags[name] for name in sorted(self.tags)]
        return doc

    def add_rule(self, paths: dict[str, dict[str, Any]], rule: Any) -> None:
        endpoint = rule.endpoint
        if (
            not isinstance(endpoint, str)
            or rule.build_only
            or getattr(rule, "websocket", False)
            or rule.redirect_to is not None
            or endpoint == "static"
            or endpoint.endswith(".static")
            or self.exclude(endpoint)
        ):
            return
        view = self.app.view_functions.get(endpoint)
        if view is None:
            return
        methods = [m for m in HTTP_METHODS if m in (rule.methods or ())]
        path, names = openapi_path(rule)
        converters = getattr(rule, "_converters", {})
        path_params = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": converter_schema(converters[name])
                if name in converters
                else {"type": "string"},
            }
            for name in names
        ]
        item = paths.setdefault(path, {})
        for method in methods:
            op = self.operation(rule, view, method, path_params, single=len(methods) == 1)
            if op is not None and method.lower() not in item:
                item[method.lower()] = op
        if not item:
            del paths[path]

    def handler(self, view: Any, method: str) -> tuple[Any, list[Any]]:
        """The function that answers ``method`` (a MethodView's ``get``…) and the objects
        that may carry markers (outermost last)."""
        view_class = getattr(view, "view_class", None)
        if view_class is None:
            return view, [view]
        func = getattr(view_class, method.lower(), None)
        if func is None:
            func = getattr(view_class, "dispatch_request", None)
        return func, [func, *_method_decorators(view_class, method), view_class, view]

    def operation(
        self,
        rule: Any,
        view: Any,
        method: str,
        path_params: list[dict[str, Any]],
        single: bool,
    ) -> dict[str, Any] | None:
        func, carriers = self.handler(view, method)
        extra: dict[str, Any] = dict(_marker(DOC_ATTR, *carriers) or {})
        if extra.get("hidden"):
            return None
        endpoint: str = rule.endpoint
        op: dict[str, Any] = {}
        bp = endpoint.rpartition(".")[0]
        tags = extra.get("tags") or ([bp] if bp else [])
        if tags:
            op["tags"] = list(tags)
            for tag in tags:
                self.tags.setdefault(tag, {"name": tag})
        summary, description = _cleandoc(func)
        if func is not getattr(view, "view_class", func) and summary is None:
            summary, description = _cleandoc(getattr(view, "view_class", None))
        summary = extra.get("summary", summary)
        description = extra.get("description", description)
        if summary:
            op["summary"] = summary
        if description:
            op["description"] = description
        op["operationId"] = self.operation_id(extra.get("operation_id"), endpoint, method, single)

        spec = self.describe(view, method, [p["name"] for p in path_params])
        params = list(path_params)
        body = None
        response_type = None
        if spec is not None:
            for p in spec.params:
                if p.location == "path":
                    continue  # the rule's converter says what the path accepts
                params.append(self.parameter(p))
            body = spec.body
            response_type = spec.response
        if params:
            op["parameters"] = params
        if body is not None:
            op["requestBody"] = self.request_body(body)
        if extra.get("deprecated"):
            op["deprecated"] = True

        security = self.security(carriers, rule)
        op["responses"] = self.responses(
            extra,
            response_type,
            bound=body is not None or len(params) > len(path_params),
            path_params=bool(path_params),
            secured=bool(security),
            jwt=_marker(JWT_ATTR, *carriers) is not None,
        )
        if security:
            op["security"] = security
        return op

    def operation_id(self, given: str | None, endpoint: str, method: str, single: bool) -> str:
        base = given or (endpoint if single else f"{endpoint}_{method.lower()}")
        oid, n = base, 2
        while oid in self.operation_ids:  # an endpoint with several rules
            oid, n = f"{base}_{n}", n + 1
        self.operation_ids.add(oid)
        return oid

    def parameter(self, p: Any) -> dict[str, Any]:
        schema = self.schema(p.annotation)
        if not p.required and p.default is not None and _jsonable(p.default):
            schema.setdefault("default", p.default)
        return {
            "name": p.alias or p.name,
            "in": p.location,
            "required": bool(p.required),
            "schema": schema,
        }

    def request_body(self, body: Any) -> dict[str, Any]:
        media = body.media_type or "application/json"
        annotation = body.annotation
        args = typing.get_args(annotation)
        required = not (typing.get_origin(annotation) in _UNIONS and type(None) in args)
        out: dict[str, Any] = {"content": {media: {"schema": self.schema(annotation)}}}
        if required:
            out["required"] = True
        return out

    def responses(
        self,
        extra: dict[str, Any],
        response_type: Any,
        bound: bool,
        path_params: bool,
        secured: bool,
        jwt: bool,
    ) -> dict[str, Any]:
        status = str(extra.get("status_code") or 200)
        responses: dict[str, Any] = {}
        ok: dict[str, Any] = {"description": "Successful response"}
        if response_type is not None:
            ok["content"] = {"application/json": {"schema": self.schema(response_type)}}
        responses[status] = ok
        jwt_ref = self.jwt_error() if jwt else None
        if secured:
            responses["401"] = {"description": "Missing or invalid credentials"}
            if jwt_ref:
                responses["401"]["content"] = {"application/json": {"schema": jwt_ref}}
        if path_params:
            responses["404"] = {"description": "Not found"}
        if bound:
            for name, schema in validation_error_schemas().items():
                self.schemas.setdefault(name, schema)
            ref = {"$ref": REF_TEMPLATE.format(model=HTTP_VALIDATION_ERROR)}
            responses["422"] = {
                "description": "Validation error" + (" or invalid token" if jwt_ref else ""),
                "content": {
                    "application/json": {"schema": {"anyOf": [ref, jwt_ref]} if jwt_ref else ref}
                },
            }
        elif jwt_ref:  # Flask-JWT-Extended answers a malformed token with a 422
            responses["422"] = {
                "description": "Invalid token",
                "content": {"application/json": {"schema": jwt_ref}},
            }
        for code, value in (extra.get("responses") or {}).items():
            responses[str(code)] = self.response_object(value)
        return dict(sorted(responses.items()))

    def response_object(self, value: Any) -> dict[str, Any]:
        if isinstance(value, str):
            return {"description": value}
        if isinstance(value, dict):
            return value
        if isinstance(value, tuple):  # (type, description)
            tp, description = value
            return {
                "description": description,
                "content": {"application/json": {"schema": self.schema(tp)}},
            }
        return {
            "description": "Response",
            "content": {"application/json": {"schema": self.schema(value)}},
        }

    def jwt_error(self) -> dict[str, Any]:
        """erlen.jwt's error body ``{JWT_ERROR_MESSAGE_KEY: message}`` as a component."""
        key = self.app.config.get("JWT_ERROR_MESSAGE_KEY", "msg")
        self.schemas.setdefault(
            JWT_ERROR,
            {
                "title": JWT_ERROR,
                "type": "object",
                "required": [key],
                "properties": {key: {"type": "string"}},
            },
        )
        return {"$ref": REF_TEMPLATE.format(model=JWT_ERROR)}

    # -- security -------------------------------------------------------------------------

    def security(self, carriers: Iterable[Any], rule: Any) -> list[dict[str, list[str]]]:
        carriers = list(carriers)
        requirements: list[dict[str, list[str]]] = []
        jwt = _marker(JWT_ATTR, *carriers)
        if jwt is not None:
            requirements += [{name: []} for name in self.jwt_schemes(jwt)]
        login = _marker(LOGIN_ATTR, *carriers)
        if login is not None:
            name = self.app.config.get("SESSION_COOKIE_NAME", "session")
            self.security_schemes.setdefault(
                "sessionCookie",
                {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": name,
                    "description": "The session cookie set by logging in (erlen.login)",
                },
            )
            requirements.append({"sessionCookie": []})
        if jwt is not None and jwt.get("optional") and requirements:
            requirements.append({})  # anonymous is allowed too
        return requirements

    def jwt_schemes(self, marker: dict[str, Any]) -> list[str]:
        config = self.app.config
        locations = marker.get("locations") or config.get("JWT_TOKEN_LOCATION", ("headers",))
        if isinstance(locations, str):
            locations = (locations,)
        refresh = bool(marker.get("refresh"))
        kind = "refresh" if refresh else "access"
        names = []
        for location in locations:
            if location == "headers":
                header = config.get("JWT_HEADER_NAME", "Authorization")
                header_type = config.get("JWT_HEADER_TYPE", "Bearer")
                if header == "Authorization" and header_type == "Bearer":
                    name, scheme = (
                        "bearerAuth",
                        {
                            "type": "http",
                            "scheme": "bearer",
                            "bearerFormat": "JWT",
                        },
                    )
                else:
                    name, scheme = "jwtHeader", {"type": "apiKey", "in": "header", "name": header}
            elif location == "cookies":
                key = "JWT_REFRESH_COOKIE_NAME" if refresh else "JWT_ACCESS_COOKIE_NAME"
                default = f"{kind}_token_cookie"
                name = "jwtRefreshCookie" if refresh else "jwtCookie"
                scheme = {"type": "apiKey", "in": "cookie", "name": config.get(key, default)}
            elif location == "query_string":
                name = "jwtQuery"
                scheme = {
                    "type": "apiKey",
                    "in": "query",
                    "name": config.get("JWT_QUERY_STRING_NAME", "jwt"),
                }
            else:  # "json": the token is in the body, which OpenAPI cannot say as a scheme
                continue
            scheme.setdefault("description", f"A JWT {kind} token (erlen.jwt)")
            self.security_schemes.setdefault(name, scheme)
            names.append(name)
        return names


def validation_error_schemas() -> dict[str, dict[str, Any]]:
    """The 422 body of typed binding (erlen.binding.RequestValidationError): FastAPI's
    ``{"detail": [{"type", "loc", "msg", "ctx"?}]}``, under FastAPI's component names."""
    loc_item = {"anyOf": [{"type": "string"}, {"type": "integer"}]}
    return {
        VALIDATION_ERROR: {
            "title": VALIDATION_ERROR,
            "type": "object",
            "required": ["type", "loc", "msg"],
            "properties": {
                "type": {"type": "string"},
                "loc": {"type": "array", "items": loc_item},
                "msg": {"type": "string"},
                "ctx": {"type": "object"},
            },
        },
        HTTP_VALIDATION_ERROR: {
            "title": HTTP_VALIDATION_ERROR,
            "type": "object",
            "required": ["detail"],
            "properties": {
                "detail": {
                    "type": "array",
                    "items": {"$ref": REF_TEMPLATE.format(model=VALIDATION_ERROR)},
                }
            },
        },
    }


def _jsonable(value: Any) -> bool:
    return isinstance(value, str | int | float | bool | list | dict)
