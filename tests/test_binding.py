"""Typed request binding (erlen.binding): every source, the 422 bodies, response models,
sync and async views under WSGI and ASGI, MethodView, and views that ask for nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import functools
import logging
import subprocess
import sys
from typing import Annotated, Any, Literal

import msgspec
import pydantic
import pytest

from erlen import Blueprint, Erlen, Response
from erlen.binding import (
    Body,
    Cookie,
    Form,
    Header,
    Query,
    RequestValidationError,
    bind,
    describe_view,
    json_schema,
)
from erlen.views import MethodView

httpx = pytest.importorskip("httpx")


class Item(pydantic.BaseModel):
    name: str
    price: float
    tags: list[str] = []


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0


class Tag(msgspec.Struct):
    label: str
    weight: int = 1


class Color(enum.Enum):
    red = "red"
    blue = "blue"


def detail(rv: Any) -> list[dict[str, Any]]:
    assert rv.status_code == 422, rv.get_data(as_text=True)
    assert rv.headers["Content-Type"] == "application/json"
    return rv.get_json()["detail"]  # type: ignore[no-any-return]


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 20))


def asgi_client(app: Erlen) -> Any:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


# -- the JSON body ---------------------------------------------------------------------
def test_pydantic_body_and_response_model(app: Erlen, client: Any) -> None:
    @app.post("/items")
    def create(item: Item) -> Item:
        assert isinstance(item, Item)
        return item.model_copy(update={"name": item.name.upper()})

    rv = client.post("/items", json={"name": "mug", "price": "2.5"})
    assert rv.status_code == 200
    assert rv.headers["Content-Type"] == "application/json"
    assert rv.get_json() == {"name": "MUG", "price": 2.5, "tags": []}


def test_invalid_body_is_422_with_fastapi_detail_and_one_log_line(
    app: Erlen, client: Any, caplog: Any
) -> None:
    @app.post("/items")
    def create(item: Item) -> dict[str, str]:
        raise AssertionError("not called")

    with caplog.at_level(logging.INFO):
        rv = client.post("/items", json={"price": "cheap", "tags": "secret-value"})
    assert detail(rv) == [
        {"type": "missing", "loc": ["body", "name"], "msg": "Field required"},
        {
            "type": "float_parsing",
            "loc": ["body", "price"],
            "msg": "Input should be a valid number, unable to parse string as a number",
        },
        {"type": "list_type", "loc": ["body", "tags"], "msg": "Input should be a valid array"},
    ]
    lines = [r.getMessage() for r in caplog.records if "422" in r.getMessage()]
    assert lines == [
        "422 POST '/items': Invalid request input"
        " (body.name: missing; body.price: float_parsing; body.tags: list_type)."
    ]
    assert "secret-value" not in caplog.text and "secret-value" not in rv.get_data(as_text=True)


def test_body_that_is_not_json(app: Erlen, client: Any) -> None:
    @app.post("/items")
    def create(item: Item) -> Item:
        return item

    rv = client.post("/items", data="{name: 1", content_type="application/json")
    [err] = detail(rv)
    assert (err["type"], err["loc"], err["msg"]) == ("json_invalid", ["body"], "JSON decode error")
    assert err["ctx"]["error"]
    assert detail(client.post("/items")) == [
        {"type": "missing", "loc": ["body"], "msg": "Field required"}
    ]
    rv = client.post("/items", data="name=1", content_type="text/plain")
    assert rv.status_code == 415
    assert "must be JSON" in rv.get_data(as_text=True)


def test_optional_body_defaults(app: Erlen, client: Any) -> None:
    @app.post("/maybe")
    def maybe(item: Item | None = None) -> dict[str, Any]:
        return {"item": None if item is None else item.name}

    assert client.post("/maybe").get_json() == {"item": None}
    assert client.post("/maybe", json={"name": "a", "price": 1}).get_json() == {"item": "a"}


def test_dataclass_body_is_validated_by_msgspec(app: Erlen, client: Any) -> None:
    @app.post("/points")
    def create(p: Point) -> Point:
        assert type(p) is Point
        return Point(p.x * 2, p.y)

    assert client.post("/points", json={"x": 2}).get_json() == {"x": 4, "y": 0}
    assert detail(client.post("/points", json={"x": "2"})) == [
        {"type": "value_error", "loc": ["body", "x"], "msg": "Expected `int`, got `str`"}
    ]
    assert detail(client.post("/points", json={"y": 1})) == [
        {"type": "missing", "loc": ["body", "x"], "msg": "Field required"}
    ]


def test_struct_body_and_nested_error_location(app: Erlen, client: Any) -> None:
    @app.post("/tags")
    def create(tags: list[Tag]) -> list[Tag]:
        return [Tag(tag.label.upper(), tag.weight) for tag in tags]

    rv = client.post("/tags", json=[{"label": "a"}, {"label": "b", "weight": 3}])
    assert rv.get_json() == [{"label": "A", "weight": 1}, {"label": "B", "weight": 3}]
    assert detail(client.post("/tags", json=[{"label": "a"}, {"label": "b", "weight": "x"}])) == [
        {"type": "value_error", "loc": ["body", 1, "weight"], "msg": "Expected `int`, got `str`"}
    ]


def test_several_body_parameters_are_embedded_by_name(app: Erlen, client: Any) -> None:
    @app.post("/pair")
    def pair(item: Item, point: Point, note: Annotated[str, Body()] = "") -> dict[str, Any]:
        return {"item": item.name, "x": point.x, "note": note}

    rv = client.post("/pair", json={"item": {"name": "a", "price": 1}, "point": {"x": 3}})
    assert rv.get_json() == {"item": "a", "x": 3, "note": ""}
    assert detail(client.post("/pair", json={"item": {"name": "a", "price": 1}})) == [
        {"type": "missing", "loc": ["body", "point"], "msg": "Field required"}
    ]
    assert detail(client.post("/pair", json=[1])) == [
        {"type": "dict_type", "loc": ["body"], "msg": "Input should be an object"}
    ]


def test_body_embed_and_sync_view_under_asgi(app: Erlen, client: Any) -> None:
    @app.post("/wrapped")
    def wrapped(item: Annotated[Item, Body(embed=True)]) -> Item:
        return item

    good = {"name": "a", "price": 1}
    assert client.post("/wrapped", json={"item": good}).get_json()["name"] == "a"
    assert detail(client.post("/wrapped", json=good)) == [
        {"type": "missing", "loc": ["body", "item"], "msg": "Field required"}
    ]

    async def go() -> Any:
        async with asgi_client(app) as c:
            return await c.post("/wrapped", json={"item": good}), await c.post("/wrapped")

    ok, missing = run(go())
    assert (ok.status_code, ok.json()) == (200, {"name": "a", "price": 1.0, "tags": []})
    assert missing.status_code == 422
    assert missing.json() == {
        "detail": [{"type": "missing", "loc": ["body", "item"], "msg": "Field required"}]
    }


# -- forms -----------------------------------------------------------------------------
def test_form_post_binds_a_model_and_form_fields(app: Erlen, client: Any) -> None:
    @app.post("/items")
    def create(item: Item) -> Item:
        return item

    @app.post("/signup")
    def signup(
        name: Annotated[str, Form()],
        age: Annotated[int, Form()] = 18,
        roles: Annotated[list[str], Form()] = [],  # noqa: B006 - copied per request
    ) -> dict[str, Any]:
        return {"name": name, "age": age, "roles": roles}

    rv = client.post("/items", data={"name": "mug", "price": "3", "tags": ["a", "b"]})
    assert rv.get_json() == {"name": "mug", "price": 3.0, "tags": ["a", "b"]}
    rv = client.post("/signup", data={"name": "ann", "age": "30", "roles": ["x", "y"]})
    assert rv.get_json() == {"name": "ann", "age": 30, "roles": ["x", "y"]}
    assert client.post("/signup", data={"name": "bo"}).get_json() == {
        "name": "bo",
        "age": 18,
        "roles": [],
    }
    assert detail(client.post("/signup", data={"age": "old"})) == [
        {"type": "missing", "loc": ["body", "name"], "msg": "Field required"},
        {
            "type": "int_parsing",
            "loc": ["body", "age"],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
        },
    ]
    rv = client.post("/signup", json={"name": "ann"})
    assert rv.status_code == 415 and "must be a form" in rv.get_data(as_text=True)


# -- query, headers, cookies -------------------------------------------------------------
def test_query_scalars_lists_optional_enum_literal(app: Erlen, client: Any) -> None:
    @app.get("/search")
    def search(
        q: str,
        page: int = 1,
        tags: list[str] = [],  # noqa: B006 - copied per request
        ids: list[int] = [],  # noqa: B006
        limit: int | None = None,
        color: Color = Color.red,
        order: Literal["asc", "desc"] = "asc",
        exact: bool = False,
    ) -> dict[str, Any]:
        tags.append("seen")  # a shared default would grow from request to request
        return {
            "q": q,
            "page": page,
            "tags": tags,
            "ids": ids,
            "limit": limit,
            "color": color.value,
            "order": order,
            "exact": exact,
        }

    rv = client.get(
        "/search?q=mug&page=2&tags=a&tags=b&ids=1&ids=2&limit=5&color=blue&order=desc&exact=true"
    )
    assert rv.get_json() == {
        "q": "mug",
        "page": 2,
        "tags": ["a", "b", "seen"],
        "ids": [1, 2],
        "limit": 5,
        "color": "blue",
        "order": "desc",
        "exact": True,
    }
    for _ in range(2):
        assert client.get("/search?q=x").get_json()["tags"] == ["seen"]
    assert detail(client.get("/search?page=two&ids=1&ids=x&order=up")) == [
        {"type": "missing", "loc": ["query", "q"], "msg": "Field required"},
        {
            "type": "int_parsing",
            "loc": ["query", "page"],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
        },
        {
            "type": "int_parsing",
            "loc": ["query", "ids", 1],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
        },
        {
            "type": "literal_error",
            "loc": ["query", "order"],
            "msg": "Input should be 'asc' or 'desc'",
            "ctx": {"expected": "'asc' or 'desc'"},
        },
    ]


def test_query_alias_and_marker_as_default(app: Erlen, client: Any) -> None:
    @app.get("/list")
    def listing(
        size: Annotated[int, Query(alias="page-size")] = 10,
        offset: int = Query(0, alias="from"),
        bounded: Annotated[int, pydantic.Field(gt=0)] = 1,
    ) -> dict[str, int]:
        return {"size": size, "offset": offset, "bounded": bounded}

    assert client.get("/list?page-size=3&from=7").get_json() == {
        "size": 3,
        "offset": 7,
        "bounded": 1,
    }
    assert client.get("/list?size=3").get_json()["size"] == 10
    assert detail(client.get("/list?bounded=0")) == [
        {
            "type": "greater_than",
            "loc": ["query", "bounded"],
            "msg": "Input should be greater than 0",
            "ctx": {"gt": 0},
        }
    ]


def test_headers_and_cookies(app: Erlen, client: Any) -> None:
    @app.get("/who")
    def who(
        user_agent: Annotated[str, Header()],
        token: Annotated[str | None, Header(alias="X-Token")] = None,
        accept_list: Annotated[list[str], Header(alias="X-Items")] = [],  # noqa: B006
        retries: Annotated[int, Header()] = 0,
        sid: Annotated[str | None, Cookie()] = None,
        theme: Annotated[str, Cookie(alias="ui-theme")] = "light",
    ) -> dict[str, Any]:
        return {
            "ua": user_agent,
            "token": token,
            "items": accept_list,
            "retries": retries,
            "sid": sid,
            "theme": theme,
        }

    client.set_cookie("sid", "abc")
    client.set_cookie("ui-theme", "dark")
    rv = client.get(
        "/who",
        headers={"User-Agent": "probe/1", "X-Token": "t", "X-Items": "a, b", "Retries": "2"},
    )
    assert rv.get_json() == {
        "ua": "probe/1",
        "token": "t",
        "items": ["a", "b"],
        "retries": 2,
        "sid": "abc",
        "theme": "dark",
    }
    assert detail(client.get("/who", headers={"User-Agent": "p", "Retries": "many"})) == [
        {
            "type": "int_parsing",
            "loc": ["header", "Retries"],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
        }
    ]


# -- URL variables and Flask's semantics ---------------------------------------------------
def test_url_variables_are_passed_as_flask_passes_them(app: Erlen, client: Any) -> None:
    @app.get("/users/<int:id>")
    def user(id: int, full: bool = False) -> dict[str, Any]:
        return {"id": id, "full": full}

    @app.get("/hello/")
    @app.get("/hello/<name>")
    def hello(name: str | None = None) -> str:
        return f"hello {name}"

    assert client.get("/users/7?full=1").get_json() == {"id": 7, "full": True}
    assert client.get("/users/x").status_code == 404
    assert client.get("/hello/ann").text == "hello ann"
    # a URL variable of another rule of the view is never taken from the query string
    assert client.get("/hello/?name=mallory").text == "hello None"


def test_views_without_binding_are_registered_unchanged(app: Erlen, client: Any) -> None:
    @app.get("/plain")
    def plain() -> str:
        return "plain"

    @app.get("/typed")
    def typed(q: int = 0) -> dict[str, int]:
        return {"q": q}

    assert app.view_functions["plain"] is plain
    assert describe_view(plain) is None
    registered = app.view_functions["typed"]
    assert registered is not typed and registered.__wrapped__ is typed
    assert registered.__name__ == "typed"
    app.add_url_rule("/typed2", "typed", typed)  # same function again: no overwrite error
    app.add_url_rule("/typed3", "typed", registered)
    assert app.view_functions["typed"] is registered

    def other(q: int = 0) -> str:
        return ""

    with pytest.raises(AssertionError, match="overwriting an existing endpoint"):
        app.add_url_rule("/other", "typed", other)
    assert client.get("/typed3?q=4").get_json() == {"q": 4}


def login_required(f: Any) -> Any:
    @functools.wraps(f)
    def decorated(*args: Any, **kwargs: Any) -> Any:
        from erlen import request

        if request.headers.get("Authorization") != "yes":
            return "login first", 401
        return f(*args, **kwargs)

    return decorated


def test_decorators_stacked_above_a_typed_view(app: Erlen, client: Any) -> None:
    @app.post("/outer/<int:id>")
    @login_required
    def outer(id: int, item: Item) -> Item:
        return item.model_copy(update={"name": f"{item.name}{id}"})

    @app.post("/inner")
    @login_required
    @bind
    def inner(item: Item) -> Item:
        return item

    good = {"name": "a", "price": 1}
    auth = {"Authorization": "yes"}
    assert client.post("/outer/3", json=good, headers=auth).get_json()["name"] == "a3"
    assert client.post("/outer/3", json=good).status_code == 401
    # bound outside the decorator: validation first ...
    assert client.post("/outer/3", json={}).status_code == 422
    # ... unless @bind puts the binding under it
    assert client.post("/inner", json={}).status_code == 401
    assert client.post("/inner", json={}, headers=auth).status_code == 422
    assert client.post("/inner", json=good, headers=auth).get_json()["name"] == "a"


def test_blueprint_views_bind(app: Erlen, client: Any) -> None:
    bp = Blueprint("api", __name__, url_prefix="/api")

    @bp.post("/items/<int:id>")
    def put(id: int, item: Item, dry: bool = False) -> dict[str, Any]:
        return {"id": id, "name": item.name, "dry": dry}

    app.register_blueprint(bp)
    rv = client.post("/api/items/2?dry=yes", json={"name": "n", "price": 0})
    assert rv.get_json() == {"id": 2, "name": "n", "dry": True}


# -- responses -------------------------------------------------------------------------
def test_response_models_lists_status_and_passthrough(app: Erlen, client: Any) -> None:
    @app.get("/many")
    def many() -> list[Item]:
        return [Item(name="a", price=1), {"name": "b", "price": "2"}]  # type: ignore[list-item]

    @app.post("/created")
    def created() -> Item:
        return Item(name="c", price=3), 201, {"X-Id": "9"}  # type: ignore[return-value]

    @app.get("/raw")
    def raw() -> Item:
        return Response("as is", 203)  # type: ignore[return-value]

    assert client.get("/many").get_json() == [
        {"name": "a", "price": 1.0, "tags": []},
        {"name": "b", "price": 2.0, "tags": []},
    ]
    rv = client.post("/created")
    assert (rv.status_code, rv.headers["X-Id"], rv.headers["Content-Type"]) == (
        201,
        "9",
        "application/json",
    )
    assert rv.get_json()["name"] == "c"
    rv = client.get("/raw")
    assert (rv.status_code, rv.text) == (203, "as is")


def test_invalid_response_is_500_logged_without_values(
    app: Erlen, client: Any, caplog: Any
) -> None:
    @app.get("/bad")
    def bad() -> Item:
        return {"name": "hunter2-secret"}  # type: ignore[return-value]

    @app.get("/bad-point")
    def bad_point() -> Point:
        return {"x": "not a number"}  # type: ignore[return-value]

    with caplog.at_level(logging.ERROR):
        rv = client.get("/bad")
        rv2 = client.get("/bad-point")
    assert rv.status_code == 500 and rv2.status_code == 500
    assert "price" not in rv.get_data(as_text=True)
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == [
        "Response of view test_invalid_response_is_500_logged_without_values.<locals>.bad"
        " is not a valid Item: price: Field required",
        "Response of view test_invalid_response_is_500_logged_without_values.<locals>.bad_point"
        " is not a valid Point: x: Expected `int`, got `str`",
    ]
    assert "hunter2" not in caplog.text


def test_422_can_be_answered_by_an_error_handler(app: Erlen, client: Any) -> None:
    @app.errorhandler(RequestValidationError)
    def invalid(e: RequestValidationError) -> tuple[dict[str, Any], int]:
        return {"problems": [".".join(map(str, err["loc"])) for err in e.errors]}, 400

    @app.get("/n")
    def n(n: int) -> str:
        return str(n)

    rv = client.get("/n?n=x")
    assert (rv.status_code, rv.get_json()) == (400, {"problems": ["query.n"]})


# -- async, ASGI, MethodView -------------------------------------------------------------
def test_async_views_under_wsgi_and_asgi(app: Erlen, client: Any) -> None:
    @app.post("/a")
    async def create(item: Item, times: int = 1) -> list[Item]:
        await asyncio.sleep(0)
        return [item] * times

    good = {"name": "a", "price": 1}
    assert (
        client.post("/a?times=2", json=good).get_json()
        == [{"name": "a", "price": 1.0, "tags": []}] * 2
    )
    assert detail(client.post("/a", json={"name": "a"}))[0]["loc"] == ["body", "price"]

    async def go() -> Any:
        async with asgi_client(app) as c:
            return (
                await c.post("/a?times=2", json=good),
                await c.post("/a?times=x", json={"price": 1}),
                await c.post("/a", content=b"{", headers={"Content-Type": "application/json"}),
            )

    ok, bad, broken = run(go())
    assert (ok.status_code, ok.json()) == (200, [{"name": "a", "price": 1.0, "tags": []}] * 2)
    assert bad.status_code == 422
    assert bad.json()["detail"] == [
        {
            "type": "int_parsing",
            "loc": ["query", "times"],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
        },
        {"type": "missing", "loc": ["body", "name"], "msg": "Field required"},
    ]
    assert broken.status_code == 422 and broken.json()["detail"][0]["type"] == "json_invalid"


class Items(MethodView):
    def get(self, id: int, verbose: bool = False) -> dict[str, Any]:
        return {"id": id, "verbose": verbose}

    async def put(self, id: int, item: Item) -> Item:
        await asyncio.sleep(0)
        return item.model_copy(update={"name": f"{item.name}-{id}"})

    def delete(self, id: int) -> str:
        return f"deleted {id}"


def test_method_view_methods_bind_under_wsgi_and_asgi(app: Erlen, client: Any) -> None:
    app.add_url_rule("/items/<int:id>", view_func=Items.as_view("items"))
    assert client.get("/items/3?verbose=on").get_json() == {"id": 3, "verbose": True}
    assert client.put("/items/3", json={"name": "n", "price": 1}).get_json()["name"] == "n-3"
    assert detail(client.put("/items/3", json={}))[0]["loc"] == ["body", "name"]
    assert client.delete("/items/3").text == "deleted 3"
    spec = describe_view(app.view_functions["items"], "PUT")
    assert spec is not None and spec.body is not None and spec.body.annotation is Item
    assert describe_view(Items.put) == spec
    assert describe_view(Items.delete) is None

    async def go() -> Any:
        async with asgi_client(app) as c:
            return await c.get("/items/4?verbose=0"), await c.put("/items/4", json={"price": 1})

    got, bad = run(go())
    assert got.json() == {"id": 4, "verbose": False}
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "name"]


# -- introspection (the OpenAPI generator's input) -------------------------------------------
def test_describe_view_and_json_schema() -> None:
    def view(
        item: Item,
        q: int = 0,
        ua: Annotated[str, Header(alias="User-Agent")] = "",
        id: int = 0,
    ) -> list[Item]:
        raise AssertionError

    spec = describe_view(view, path_names={"id"})
    assert spec is not None
    assert [
        (p.name, p.alias, p.location, p.annotation, p.default, p.required) for p in spec.params
    ] == [
        ("id", "id", "path", int, None, True),
        ("q", "q", "query", int, 0, False),
        ("ua", "User-Agent", "header", str, "", False),
    ]
    assert (spec.body.annotation, spec.body.media_type) == (Item, "application/json")  # type: ignore[union-attr]
    assert spec.response == list[Item]
    schema, components = json_schema(list[Item])
    assert schema == {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}
    assert components["Item"]["required"] == ["name", "price"]
    schema, components = json_schema(Tag, ref_template="#/defs/{model}")
    assert schema == {"$ref": "#/defs/Tag"} and components["Tag"]["required"] == ["label"]
    assert json_schema(int | None) == ({"anyOf": [{"type": "integer"}, {"type": "null"}]}, {})
    form = describe_view(lambda name: None)
    assert form is None

    def signup(name: Annotated[str, Form()]) -> None: ...

    spec = describe_view(signup)
    assert spec is not None and spec.body is not None
    assert spec.body.media_type == "application/x-www-form-urlencoded"
    schema, components = json_schema(spec.body.annotation)
    assert components["Body_signup"]["required"] == ["name"]


def test_importing_erlen_imports_no_validation_library() -> None:
    code = "import sys, erlen; print('pydantic' in sys.modules, 'msgspec' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_unresolvable_annotation_is_reported_at_registration(caplog):
    """A model class defined inside a function is not visible to a string annotation (this
    module uses ``from __future__ import annotations``): registration says so in one log line
    instead of the view failing with a TypeError at each request."""
    app = Erlen(__name__)

    class LocalItem:  # noqa: B903 - only its name matters
        pass

    def create(item: LocalItem) -> str:
        return "never"

    with caplog.at_level("WARNING", logger="erlen.binding"):
        app.add_url_rule("/items", view_func=create, methods=["POST"])
    messages = [r.getMessage() for r in caplog.records if r.name == "erlen.binding"]
    assert len(messages) == 1 and "'LocalItem'" in messages[0] and "'item'" in messages[0]
