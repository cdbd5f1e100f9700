"""erlen.openapi: the document (validated by openapi-spec-validator), the served JSON and docs
page (local assets only), the ``erlen openapi`` command."""

from __future__ import annotations

import json
import logging
import re
import uuid
from typing import Annotated

import pydantic
import pytest
from openapi_spec_validator import validate

import erlen
from erlen import Blueprint
from erlen.binding import Cookie, Header, Query
from erlen.jwt import JWTManager, jwt_required
from erlen.login import LoginManager, fresh_login_required, login_required
from erlen.openapi import OpenAPI, doc
from erlen.routing.converters import BaseConverter
from erlen.views import MethodView, View


class ItemIn(pydantic.BaseModel):
    name: str = pydantic.Field(min_length=1, max_length=50)
    price: float = pydantic.Field(ge=0)


class ItemOut(ItemIn):
    id: int


class Conflict(pydantic.BaseModel):
    message: str


class SlugConverter(BaseConverter):
    regex = "[a-z0-9-]+"
    openapi_schema = {"type": "string", "pattern": "^[a-z0-9-]+$"}


def make_app(**options) -> erlen.Erlen:
    app = erlen.Erlen(__name__)
    app.config.update(JWT_SECRET_KEY="k" * 32, SECRET_KEY="s" * 32, TESTING=True)
    app.url_map.converters["slug"] = SlugConverter
    JWTManager(app)
    LoginManager(app)

    @app.get("/")
    def index():
        """The index.

        It says hello.
        """
        return "hello"

    @app.route("/items", methods=["GET", "POST"])
    def items_untyped():
        return {}

    @app.get("/typed")
    def typed_list(
        limit: int = 10,
        q: str | None = None,
        tags: Annotated[list[str], Query(alias="tag")] = [],  # noqa: B006
        trace: Annotated[str | None, Header(alias="X-Trace")] = None,
        theme: Annotated[str, Cookie()] = "light",
    ) -> list[ItemOut]:
        """Typed listing."""
        return []

    @app.post("/typed")
    @jwt_required()
    @doc(status_code=201, responses={409: (Conflict, "Name taken"), 400: "Bad JSON"})
    def typed_create(item: ItemIn) -> ItemOut:
        return ItemOut(id=1, **item.model_dump())

    @app.get("/conv/<int:a>/<int(signed=True):b>/<float:c>/<uuid:d>/<path:e>")
    def converters(a, b, c, d, e):
        return ""

    @app.get("/more/<any(red, blue):colour>/<string(length=4):code>/<slug:s>/<x>")
    def more(colour, code, s, x):
        return ""

    @app.get("/bounded/<int(min=1, max=99):n>/<string(minlength=2, maxlength=8):w>")
    def bounded(n, w):
        return ""

    @app.get("/optional-jwt")
    @jwt_required(optional=True)
    def optional_jwt():
        return ""

    @app.get("/refresh")
    @jwt_required(refresh=True, locations=["cookies", "headers"])
    def refresh():
        return ""

    @app.get("/account")
    @login_required
    def account():
        return ""

    @app.get("/password")
    @fresh_login_required
    def password():
        return ""

    @app.get("/secret")
    @doc(hidden=True)
    def secret():
        return ""

    @app.get("/renamed")
    @doc(operation_id="getRenamed", tags=["misc"], summary="S", description="D", deprecated=True)
    def renamed():
        """Not this."""
        return ""

    @app.get("/excluded")
    def excluded():
        return ""

    def paged(page=1):
        return ""

    app.add_url_rule("/page/", "paged", paged, defaults={"page": 1})
    app.add_url_rule("/page/<int:page>", "paged", paged)

    class Things(MethodView):
        """Things, one by one."""

        def get(self, thing_id: int) -> ItemOut:
            """Read a thing."""
            return ItemOut(id=thing_id, name="x", price=1)

        def put(self, thing_id: int, item: ItemIn) -> ItemOut:
            return ItemOut(id=thing_id, **item.model_dump())

        @jwt_required()
        def delete(self, thing_id: int):
            return "", 204

    class Guarded(MethodView):
        decorators = [login_required]

        def get(self):
            return ""

    class Restful(MethodView):  # Flask-RESTful's Resource shape
        method_decorators = {"post": [jwt_required()]}

        def get(self):
            return {}

        def post(self):
            return {}

    class Plain(View):
        methods = ["GET"]

        def dispatch_request(self):
            """Plain view."""
            return ""

    shop = Blueprint("shop", __name__, url_prefix="/shop")
    shop.add_url_rule("/things/<int:thing_id>", view_func=Things.as_view("thing"))
    shop.add_url_rule("/guarded", view_func=Guarded.as_view("guarded"))
    admin = Blueprint("admin", __name__, url_prefix="/admin")

    @admin.get("/stats")
    def stats():
        return ""

    shop.register_blueprint(admin)
    app.register_blueprint(shop)
    app.add_url_rule("/restful", view_func=Restful.as_view("restful"))
    app.add_url_rule("/plain", view_func=Plain.as_view("plain"))

    options.setdefault("exclude", ["excluded"])
    OpenAPI(app, title="Test API", version="2.0.0", **options)
    return app


@pytest.fixture(scope="module")
def app():
    return make_app(description="For tests.", servers=[{"url": "http://localhost"}])


@pytest.fixture(scope="module")
def spec(app):
    resp = app.test_client().get("/openapi.json")
    assert resp.status_code == 200
    assert resp.mimetype == "application/json"
    return resp.get_json()


def op(spec, path, method="get"):
    return spec["paths"][path][method]


def params(operation):
    return {(p["in"], p["name"]): p for p in operation.get("parameters", [])}


def test_document_validates(spec):
    validate(spec)
    assert spec["openapi"] == "3.1.0"
    assert spec["info"] == {"title": "Test API", "version": "2.0.0", "description": "For tests."}
    assert spec["servers"] == [{"url": "http://localhost"}]


def test_paths_and_methods(spec):
    assert sorted(spec["paths"]) == [
        "/",
        "/account",
        "/bounded/{n}/{w}",
        "/conv/{a}/{b}/{c}/{d}/{e}",
        "/items",
        "/more/{colour}/{code}/{s}/{x}",
        "/optional-jwt",
        "/page/",
        "/page/{page}",
        "/password",
        "/plain",
        "/refresh",
        "/renamed",
        "/restful",
        "/shop/admin/stats",
        "/shop/guarded",
        "/shop/things/{thing_id}",
        "/typed",
    ]
    assert list(spec["paths"]["/items"]) == ["get", "post"]  # no head, no options
    assert list(spec["paths"]["/shop/things/{thing_id}"]) == ["get", "put", "delete"]
    assert list(spec["paths"]["/"]) == ["get"]


def test_own_routes_static_hidden_and_excluded_are_left_out(spec):
    paths = spec["paths"]
    for path in ("/openapi.json", "/docs", "/secret", "/excluded"):
        assert path not in paths
    assert not any(p.startswith("/static") or p.startswith("/docs") for p in paths)


def test_operation_ids_are_unique_and_from_endpoints(spec):
    ids = [o["operationId"] for item in spec["paths"].values() for o in item.values()]
    assert len(ids) == len(set(ids))
    assert op(spec, "/")["operationId"] == "index"
    assert op(spec, "/items")["operationId"] == "items_untyped_get"
    assert op(spec, "/items", "post")["operationId"] == "items_untyped_post"
    assert op(spec, "/shop/things/{thing_id}", "put")["operationId"] == "shop.thing_put"
    assert op(spec, "/page/")["operationId"] == "paged"
    assert op(spec, "/page/{page}")["operationId"] == "paged_2"
    assert op(spec, "/renamed")["operationId"] == "getRenamed"


def test_path_parameter_schemas_from_converters(spec):
    p = params(op(spec, "/conv/{a}/{b}/{c}/{d}/{e}"))
    assert p["path", "a"] == {
        "name": "a",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }
    assert p["path", "b"]["schema"] == {"type": "integer"}
    assert p["path", "c"]["schema"] == {"type": "number", "minimum": 0}
    assert p["path", "d"]["schema"] == {"type": "string", "format": "uuid"}
    assert p["path", "e"]["schema"] == {"type": "string", "pattern": "^[^/].*$"}
    p = params(op(spec, "/more/{colour}/{code}/{s}/{x}"))
    assert p["path", "colour"]["schema"] == {"type": "string", "enum": ["blue", "red"]}
    assert p["path", "code"]["schema"] == {
        "type": "string",
        "pattern": "^[^/]+$",
        "minLength": 4,
        "maxLength": 4,
    }
    assert p["path", "s"]["schema"] == {"type": "string", "pattern": "^[a-z0-9-]+$"}
    assert p["path", "x"]["schema"] == {"type": "string", "pattern": "^[^/]+$", "minLength": 1}
    p = params(op(spec, "/bounded/{n}/{w}"))
    assert p["path", "n"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 99}
    assert p["path", "w"]["schema"]["minLength"] == 2
    assert p["path", "w"]["schema"]["maxLength"] == 8
    assert "parameters" not in op(spec, "/page/")  # the variable comes from defaults


def test_summary_and_description_from_docstrings(spec):
    assert op(spec, "/")["summary"] == "The index."
    assert op(spec, "/")["description"] == "It says hello."
    assert "summary" not in op(spec, "/items")
    things = spec["paths"]["/shop/things/{thing_id}"]
    assert things["get"]["summary"] == "Read a thing."  # the method's docstring
    assert things["put"]["summary"] == "Things, one by one."  # else the class's
    assert "summary" not in op(spec, "/restful")  # not MethodView's own docstring
    assert op(spec, "/plain")["summary"] == "Plain view."
    renamed = op(spec, "/renamed")
    assert (renamed["summary"], renamed["description"], renamed["deprecated"]) == ("S", "D", True)


def test_tags_per_blueprint(spec):
    assert op(spec, "/shop/things/{thing_id}")["tags"] == ["shop"]
    assert op(spec, "/shop/admin/stats")["tags"] == ["shop.admin"]
    assert "tags" not in op(spec, "/")
    assert op(spec, "/renamed")["tags"] == ["misc"]
    assert spec["tags"] == [{"name": "misc"}, {"name": "shop"}, {"name": "shop.admin"}]


def test_query_header_cookie_parameters_from_binding(spec):
    p = params(op(spec, "/typed"))
    assert p["query", "limit"] == {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "default": 10},
    }
    assert p["query", "q"]["schema"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert p["query", "tag"]["schema"]["type"] == "array"
    assert p["query", "tag"]["schema"]["items"] == {"type": "string"}
    assert p["header", "X-Trace"]["required"] is False
    assert p["cookie", "theme"]["schema"] == {"type": "string", "default": "light"}
    assert set(p) == {
        ("query", "limit"),
        ("query", "q"),
        ("query", "tag"),
        ("header", "X-Trace"),
        ("cookie", "theme"),
    }


def test_request_body_and_responses_from_binding(spec):
    create = op(spec, "/typed", "post")
    assert create["requestBody"] == {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ItemIn"}}},
    }
    responses = create["responses"]
    assert sorted(responses) == ["201", "400", "401", "409", "422"]
    assert responses["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ItemOut"
    }
    assert responses["400"] == {"description": "Bad JSON"}
    assert responses["409"]["description"] == "Name taken"
    assert responses["422"]["content"]["application/json"]["schema"] == {
        "anyOf": [
            {"$ref": "#/components/schemas/HTTPValidationError"},
            {"$ref": "#/components/schemas/JWTError"},
        ]
    }
    assert responses["401"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/JWTError"
    }
    assert spec["components"]["schemas"]["JWTError"]["required"] == ["msg"]
    listing = op(spec, "/typed")["responses"]["200"]["content"]["application/json"]["schema"]
    assert listing == {"type": "array", "items": {"$ref": "#/components/schemas/ItemOut"}}
    schemas = spec["components"]["schemas"]
    assert {"ItemIn", "ItemOut", "Conflict", "HTTPValidationError", "ValidationError"} <= set(
        schemas
    )
    assert schemas["ItemIn"]["properties"]["name"]["maxLength"] == 50
    assert schemas["ItemIn"]["required"] == ["name", "price"]


def test_responses_without_binding(spec):
    assert op(spec, "/")["responses"] == {"200": {"description": "Successful response"}}
    things_get = op(spec, "/shop/things/{thing_id}")["responses"]
    assert sorted(things_get) == ["200", "404"]  # only a path parameter: no 422
    assert sorted(op(spec, "/shop/things/{thing_id}", "put")["responses"]) == ["200", "404", "422"]


def test_security_schemes_and_requirements(spec):
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A JWT access token (erlen.jwt)",
    }
    assert schemes["jwtRefreshCookie"]["in"] == "cookie"
    assert schemes["jwtRefreshCookie"]["name"] == "refresh_token_cookie"
    assert schemes["sessionCookie"] == {
        "type": "apiKey",
        "in": "cookie",
        "name": "session",
        "description": "The session cookie set by logging in (erlen.login)",
    }
    assert op(spec, "/typed", "post")["security"] == [{"bearerAuth": []}]
    assert op(spec, "/optional-jwt")["security"] == [{"bearerAuth": []}, {}]
    assert op(spec, "/refresh")["security"] == [{"jwtRefreshCookie": []}, {"bearerAuth": []}]
    assert op(spec, "/account")["security"] == [{"sessionCookie": []}]
    assert op(spec, "/password")["security"] == [{"sessionCookie": []}]
    assert op(spec, "/shop/guarded")["security"] == [{"sessionCookie": []}]  # decorators
    things = spec["paths"]["/shop/things/{thing_id}"]
    assert things["delete"]["security"] == [{"bearerAuth": []}]  # a method's decorator
    assert "security" not in things["get"]
    assert "security" not in op(spec, "/restful")
    assert op(spec, "/restful", "post")["security"] == [{"bearerAuth": []}]  # method_decorators
    assert op(spec, "/account")["responses"]["401"] == {
        "description": "Missing or invalid credentials"
    }
    assert sorted(op(spec, "/optional-jwt")["responses"]) == ["200", "401", "422"]
    assert "security" not in op(spec, "/")
    assert "security" not in spec  # per operation, not global


def test_jwt_locations_from_config():
    app = erlen.Erlen(__name__)
    app.config.update(
        JWT_SECRET_KEY="k" * 32,
        JWT_TOKEN_LOCATION=["query_string", "cookies", "json"],
        JWT_QUERY_STRING_NAME="token",
    )
    JWTManager(app)

    @app.get("/x")
    @jwt_required()
    def x():
        return ""

    doc_ = OpenAPI(app).document(app)
    assert doc_["paths"]["/x"]["get"]["security"] == [{"jwtQuery": []}, {"jwtCookie": []}]
    schemes = doc_["components"]["securitySchemes"]
    assert schemes["jwtQuery"]["name"] == "token"
    assert schemes["jwtCookie"]["name"] == "access_token_cookie"
    validate(doc_)


def test_document_is_cached_and_built_lazily(monkeypatch):
    app = make_app()
    state = app.extensions["openapi"]
    assert state.document is None  # nothing built at init
    builds = []
    real_build = OpenAPI.build
    monkeypatch.setattr(OpenAPI, "build", lambda self, a: builds.append(a) or real_build(self, a))
    client = app.test_client()
    first = client.get("/openapi.json").get_data()
    assert client.get("/openapi.json").get_data() == first
    with app.app_context():
        assert state.ext.document() is state.document
    assert builds == [app]
    state.ext.invalidate(app)
    assert client.get("/openapi.json").get_data() == first
    assert len(builds) == 2


def test_urls_are_configurable():
    app = make_app(openapi_url="/api/schema.json", docs_url="/api/docs")
    client = app.test_client()
    assert client.get("/openapi.json").status_code == 404
    assert client.get("/api/schema.json").get_json()["openapi"] == "3.1.0"
    page = client.get("/api/docs").get_data(as_text=True)
    assert 'data-spec-url="/api/schema.json"' in page
    assert "/api/docs/static/swagger-ui/swagger-ui-bundle.js" in page
    assert client.get("/api/docs/static/swagger-ui/swagger-ui-bundle.js").status_code == 200
    app = make_app(docs_url=None)
    client = app.test_client()
    assert client.get("/docs").status_code == 404
    assert client.get("/openapi.json").status_code == 200


ASSET = re.compile(r'(?:src|href)="([^"]+)"')


def test_docs_page_references_only_local_assets_which_are_served(app):
    client = app.test_client()
    resp = client.get("/docs")
    assert resp.status_code == 200
    assert resp.mimetype == "text/html"
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp
    assert "default-src 'none'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    html = resp.get_data(as_text=True)
    assert "<title>Test API 2.0.0 - API docs</title>" in html
    assert 'data-spec-url="/openapi.json"' in html
    assert "<script>" not in html  # no inline script: the CSP allows none
    urls = ASSET.findall(html)
    assert len(urls) == 4
    assert all(u.startswith("/docs/static/") for u in urls), urls
    assert "http" not in html.lower().replace("http-equiv", "")
    types = {}
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert asset.data
        types[url.rsplit(".", 1)[-1]] = asset.mimetype
    assert types == {
        "js": types["js"],
        "css": "text/css",
        "png": "image/png",
    }
    assert types["js"] in ("text/javascript", "application/javascript")
    bundle = client.get("/docs/static/swagger-ui/swagger-ui-bundle.js").get_data(as_text=True)
    assert "SwaggerUIBundle" in bundle


def test_docs_page_says_clearly_when_assets_are_missing(app, monkeypatch, tmp_path, caplog):
    import erlen.openapi as mod

    monkeypatch.setattr(mod, "STATIC", str(tmp_path))
    with caplog.at_level(logging.WARNING, logger="erlen.openapi"):
        resp = app.test_client().get("/docs")
    assert resp.status_code == 503
    text = resp.get_data(as_text=True)
    assert "The API docs page is not installed" in text
    assert "make install" in text
    assert '<a href="/openapi.json">' in text
    assert [r.getMessage() for r in caplog.records if r.name == "erlen.openapi"] == [
        f"erlen.openapi: Swagger UI assets missing in {tmp_path}; run make install"
    ]


def test_title_is_escaped_in_the_docs_page():
    app = erlen.Erlen(__name__)
    OpenAPI(app, title="<script>alert(1)</script>", version="1")
    html = app.test_client().get("/docs").get_data(as_text=True)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_cli_prints_the_document(app, spec, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["openapi"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == spec
    out = tmp_path / "openapi.json"
    result = runner.invoke(args=["openapi", "--output", str(out), "--indent", "0"])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text()) == spec


def test_cli_without_the_extension_says_so():
    app = erlen.Erlen(__name__)
    from erlen.openapi import openapi_command

    app.cli.add_command(openapi_command)
    result = app.test_cli_runner().invoke(args=["openapi"])
    assert result.exit_code != 0
    assert "OpenAPI is not initialised" in str(result.exception)


def test_no_binding_views_still_validate():
    app = erlen.Erlen(__name__)

    @app.route("/a/<uuid:u>", methods=["GET", "DELETE"])
    def a(u: uuid.UUID):
        return ""

    doc_ = OpenAPI(app, title="t", version="1").document(app)
    validate(doc_)
    assert "components" not in doc_
    assert list(doc_["paths"]["/a/{u}"]) == ["get", "delete"]


def test_erlen_rest_resources():
    """Flask-RESTful's Api/Resource (erlen.rest, built on MethodView) are documented too."""
    rest = pytest.importorskip("erlen.rest")
    app = erlen.Erlen(__name__)
    app.config["JWT_SECRET_KEY"] = "k" * 32
    JWTManager(app)
    api = rest.Api(app)

    class Todo(rest.Resource):
        method_decorators = [jwt_required()]

        def get(self, todo_id):
            """One todo."""
            return {"id": todo_id}

        def delete(self, todo_id):
            return "", 204

    api.add_resource(Todo, "/todos/<int:todo_id>")
    doc_ = OpenAPI(app).document(app)
    validate(doc_)
    item = doc_["paths"]["/todos/{todo_id}"]
    assert list(item) == ["get", "delete"]
    assert item["get"]["summary"] == "One todo."
    assert item["get"]["operationId"] == "todo_get"
    assert item["delete"]["security"] == [{"bearerAuth": []}]
    assert params(item["get"])["path", "todo_id"]["schema"] == {"type": "integer", "minimum": 0}
