"""erlen.rest: one Flask-RESTful app source on erlen + erlen.rest and on Flask + flask_restful.

``make_app`` builds the same API on both; the tests send the same requests and assert the
status, headers and JSON bodies, on both frameworks unless a test says erlen differs on
purpose (decision 023). Marshalling and reqparse are in ``tests/test_rest_fields.py``.
"""

from __future__ import annotations

import importlib
import json
import logging
from typing import Any

import pytest

FRAMEWORKS = [("erlen", "erlen.rest"), ("flask", "flask_restful")]


class _Leaky(Exception):
    """A library exception carrying something that is not a dict (must not be sent)."""

    data = "connection string with a password"


def make_app(framework: str = "erlen", rest: str = "erlen.rest", **config: Any) -> Any:
    """The test API on ``framework`` with ``rest``'s module (``app.api``, ``app.rest``)."""
    fw = importlib.import_module(framework)
    fr = importlib.import_module(rest)
    app = fw.Flask(__name__)
    app.config.update(PROPAGATE_EXCEPTIONS=False, **config)
    api = fr.Api(
        app,
        prefix="/v1",
        errors={"ConflictError": {"message": "that one exists", "status": 409}},
    )
    todos: dict[str, dict[str, Any]] = {"1": {"task": "write tests"}}

    class ConflictError(Exception):
        pass

    def shout(f: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            data = f(*args, **kwargs)
            return {k: v.upper() if isinstance(v, str) else v for k, v in data.items()}

        return wrapper

    class Todo(fr.Resource):
        def get(self, todo_id: str) -> Any:
            if todo_id not in todos:
                fr.abort(404, message=f"Todo {todo_id} doesn't exist")
            return todos[todo_id]

        def put(self, todo_id: str) -> Any:
            body = fw.request.get_json()
            todos[todo_id] = {"task": body["task"]}
            return todos[todo_id], 201, {"X-Todo": todo_id}

        def delete(self, todo_id: str) -> Any:
            todos.pop(todo_id, None)
            return "", 204

    class TodoList(fr.Resource):
        def get(self) -> Any:
            return [{"id": k, **v} for k, v in sorted(todos.items())]

        def post(self) -> Any:
            if fw.request.get_json()["task"] in {t["task"] for t in todos.values()}:
                raise ConflictError()
            todo_id = str(len(todos) + 1)
            todos[todo_id] = {"task": fw.request.get_json()["task"]}
            return todos[todo_id], 201

    class Boom(fr.Resource):
        def get(self) -> Any:
            raise RuntimeError("database password is hunter2")

        def post(self) -> Any:
            raise _Leaky()

    class Raw(fr.Resource):
        def get(self) -> Any:
            return fw.make_response("plain text", 202, {"X-Raw": "1"})

    class Shouting(fr.Resource):
        method_decorators = {"get": [shout]}

        def get(self) -> Any:
            return {"word": "hello"}

        def post(self) -> Any:
            return {"word": "hello"}

    class Greeting(fr.Resource):
        def __init__(self, greeting: str) -> None:
            self.greeting = greeting

        def get(self, name: str) -> Any:
            return {
                "greeting": f"{self.greeting}, {name}",
                "self": api.url_for(Greeting, name=name),
            }

    api.add_resource(Todo, "/todos/<todo_id>")
    api.add_resource(TodoList, "/todos", endpoint="todos")
    api.add_resource(Boom, "/boom")
    api.add_resource(Raw, "/raw")
    api.add_resource(Shouting, "/shout")
    api.add_resource(
        Greeting, "/hello/<name>", "/hi/<name>", resource_class_kwargs={"greeting": "Hello"}
    )

    @api.resource("/strict/", strict_slashes=False)
    class Strict(fr.Resource):
        def get(self) -> Any:
            return {"strict": False}

    @app.route("/page")
    def page() -> Any:
        fw.abort(400)

    app.api = api
    app.rest = fr
    app.fw = fw
    return app


@pytest.fixture(params=FRAMEWORKS, ids=[f for f, _ in FRAMEWORKS])
def both(request: pytest.FixtureRequest) -> Any:
    """The test app on erlen and on Flask (the oracle)."""
    return make_app(*request.param)


@pytest.fixture
def app() -> Any:
    return make_app()


def _json(resp: Any) -> Any:
    assert resp.headers["Content-Type"] == "application/json", resp.headers["Content-Type"]
    return json.loads(resp.data)


# -- resources: what a method returns ------------------------------------------------------
def test_a_dict_is_json_with_flask_restfuls_formatting(both: Any) -> None:
    resp = both.test_client().get("/v1/todos/1")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.data == b'{"task": "write tests"}\n'


def test_a_list_and_a_status(both: Any) -> None:
    client = both.test_client()
    assert _json(client.get("/v1/todos")) == [{"id": "1", "task": "write tests"}]
    resp = client.post("/v1/todos", json={"task": "ship"})
    assert resp.status_code == 201
    assert _json(resp) == {"task": "ship"}


def test_data_status_and_headers(both: Any) -> None:
    resp = both.test_client().put("/v1/todos/7", json={"task": "seven"})
    assert resp.status_code == 201
    assert resp.headers["X-Todo"] == "7"
    assert _json(resp) == {"task": "seven"}


def test_204_has_an_empty_body(both: Any) -> None:
    resp = both.test_client().delete("/v1/todos/1")
    assert resp.status_code == 204
    assert resp.data == b""


def test_a_response_is_passed_through(both: Any) -> None:
    resp = both.test_client().get("/v1/raw")
    assert resp.status_code == 202
    assert resp.headers["X-Raw"] == "1"
    assert resp.headers["Content-Type"].startswith("text/html")
    assert resp.data == b"plain text"


def test_head_answers_like_get_without_a_body(both: Any) -> None:
    resp = both.test_client().head("/v1/todos/1")
    assert resp.status_code == 200
    assert resp.data == b""
    assert resp.headers["Content-Type"] == "application/json"


def test_resource_class_kwargs_several_urls_and_api_url_for(both: Any) -> None:
    client = both.test_client()
    assert _json(client.get("/v1/hi/Ada")) == {"greeting": "Hello, Ada", "self": "/v1/hello/Ada"}
    assert _json(client.get("/v1/hello/Bob"))["greeting"] == "Hello, Bob"


def test_method_decorators_by_verb(both: Any) -> None:
    client = both.test_client()
    assert _json(client.get("/v1/shout")) == {"word": "HELLO"}
    assert _json(client.post("/v1/shout")) == {"word": "hello"}


def test_strict_slashes_is_passed_to_the_rule(both: Any) -> None:
    assert _json(both.test_client().get("/v1/strict")) == {"strict": False}


def test_the_resource_decorator_and_endpoints(both: Any) -> None:
    api = both.api
    assert api.owns_endpoint("todo") and api.owns_endpoint("todos") and api.owns_endpoint("strict")
    assert not api.owns_endpoint("page")
    with both.test_request_context():
        assert both.fw.url_for("todo", todo_id=3) == "/v1/todos/3"


def test_one_endpoint_for_two_classes_is_an_error(both: Any) -> None:
    fr = both.rest

    class Other(fr.Resource):
        def get(self) -> Any:
            return {}

    with pytest.raises(ValueError, match=r"This endpoint \(todo\) is already set to the class"):
        both.api.add_resource(Other, "/other", endpoint="todo")


# -- errors --------------------------------------------------------------------------------
def test_abort_with_a_message_is_its_json_body(both: Any) -> None:
    resp = both.test_client().get("/v1/todos/99")
    assert resp.status_code == 404
    assert _json(resp) == {"message": "Todo 99 doesn't exist"}


def test_405_is_json_with_allow(both: Any) -> None:
    resp = both.test_client().post("/v1/todos/1")
    assert resp.status_code == 405
    assert set(resp.headers["Allow"].split(", ")) == {"DELETE", "GET", "HEAD", "OPTIONS", "PUT"}
    assert _json(resp) == {"message": "The method is not allowed for the requested URL."}


def test_bad_json_body_is_a_json_400(both: Any) -> None:
    resp = both.test_client().put(
        "/v1/todos/1", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert resp.status_code == 400
    assert set(_json(resp)) == {"message"}


def test_an_unknown_exception_is_a_logged_500_without_details(
    both: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        resp = both.test_client().get("/v1/boom")
    assert resp.status_code == 500
    assert _json(resp) == {"message": "Internal Server Error"}
    assert b"hunter2" not in resp.data and b"Traceback" not in resp.data
    records = [r for r in caplog.records if r.getMessage() == "Exception on /v1/boom [GET]"]
    assert len(records) == 1
    assert records[0].exc_info is not None and records[0].exc_info[0] is RuntimeError


def test_the_errors_dict_answers_an_exception_by_class_name(both: Any) -> None:
    resp = both.test_client().post("/v1/todos", json={"task": "write tests"})
    assert resp.status_code == 409
    assert _json(resp) == {"message": "that one exists", "status": 409}


def test_errors_outside_the_api_keep_the_apps_html(both: Any) -> None:
    client = both.test_client()
    for url, code in (("/page", 400), ("/nowhere", 404)):
        resp = client.get(url)
        assert resp.status_code == code
        assert resp.headers["Content-Type"].startswith("text/html")


def test_catch_all_404s_answers_every_404_as_json() -> None:
    for framework, rest in FRAMEWORKS:
        fw = importlib.import_module(framework)
        fr = importlib.import_module(rest)
        app = fw.Flask(__name__)
        fr.Api(app, catch_all_404s=True)
        resp = app.test_client().get("/nowhere")
        assert resp.status_code == 404, framework
        assert set(_json(resp)) == {"message"}


def test_a_4xx_under_the_api_is_one_warning_line(
    app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="erlen"):
        app.test_client().post("/v1/todos/1")
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("erlen")]
    assert lines == ["405 POST '/v1/todos/1': The method is not allowed for the requested URL."]


def test_a_non_dict_data_attribute_of_an_exception_is_not_sent(app: Any) -> None:
    # Flask-RESTful answers any exception's ``.data`` as the body; erlen only a dict's
    resp = app.test_client().post("/v1/boom")
    assert resp.status_code == 500
    assert _json(resp) == {"message": "Internal Server Error"}


def test_propagate_exceptions_raises_as_in_flask(both: Any) -> None:
    both.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(RuntimeError, match="hunter2"):
        both.test_client().get("/v1/boom")


def test_handle_error_can_be_called_directly(both: Any) -> None:
    exceptions = importlib.import_module(
        "erlen.exceptions" if both.fw.__name__ == "erlen" else "werkzeug.exceptions"
    )
    with both.test_request_context("/v1/todos/1"):
        resp = both.api.handle_error(exceptions.BadRequest("x"))
    assert resp.status_code == 400
    assert resp.get_data() == b'{"message": "x"}\n'


# -- representations and content negotiation ----------------------------------------------
def _csv_api(framework: str, rest: str, **kwargs: Any) -> Any:
    fw = importlib.import_module(framework)
    fr = importlib.import_module(rest)
    app = fw.Flask(__name__)
    api = fr.Api(app, **kwargs)

    @api.representation("text/csv")
    def csv(data: Any, code: int, headers: Any) -> Any:
        resp = fw.make_response(",".join(f"{k}={v}" for k, v in data.items()), code)
        resp.headers.extend(headers or {})
        return resp

    class Item(fr.Resource):
        def get(self) -> Any:
            return {"a": 1, "b": 2}

    api.add_resource(Item, "/item")
    return app


@pytest.mark.parametrize(("framework", "rest"), FRAMEWORKS)
def test_the_client_chooses_the_representation(framework: str, rest: str) -> None:
    client = _csv_api(framework, rest).test_client()
    resp = client.get("/item", headers={"Accept": "text/csv"})
    assert (resp.status_code, resp.headers["Content-Type"], resp.data) == (
        200,
        "text/csv",
        b"a=1,b=2",
    )
    resp = client.get("/item", headers={"Accept": "application/json;q=0.9, text/csv;q=0.5"})
    assert resp.headers["Content-Type"] == "application/json"
    resp = client.get("/item", headers={"Accept": "image/png"})
    assert resp.headers["Content-Type"] == "application/json"  # the default mediatype
    for accept in ("*/*", "text/*;q=0.5, */*;q=0.4"):
        resp = client.get("/item", headers={"Accept": accept})
        assert resp.headers["Content-Type"] == (
            "application/json" if accept == "*/*" else "text/csv"
        )


@pytest.mark.parametrize(("framework", "rest"), FRAMEWORKS)
def test_no_default_mediatype_is_a_406_for_an_unknown_accept(framework: str, rest: str) -> None:
    client = _csv_api(framework, rest, default_mediatype=None).test_client()
    resp = client.get("/item", headers={"Accept": "image/png"})
    assert resp.status_code == 406
    assert _json(resp) == {"message": _406}
    assert client.get("/item", headers={"Accept": "text/csv"}).status_code == 200


_406 = (
    "The resource identified by the request is only capable of generating response entities"
    " which have content characteristics not acceptable according to the accept headers sent"
    " in the request."
)


# -- setup variants -----------------------------------------------------------------------
@pytest.mark.parametrize(("framework", "rest"), FRAMEWORKS)
def test_a_blueprint_api_with_prefixes(framework: str, rest: str) -> None:
    fw = importlib.import_module(framework)
    fr = importlib.import_module(rest)
    bp = fw.Blueprint("shop", __name__, url_prefix="/shop")
    api = fr.Api(bp, prefix="/api")

    class Item(fr.Resource):
        def get(self, id: int) -> Any:
            return {"id": id, "url": api.url_for(Item, id=id)}

    api.add_resource(Item, "/items/<int:id>")
    app = fw.Flask(__name__)

    @app.route("/other")
    def other() -> Any:
        fw.abort(404)

    app.register_blueprint(bp)
    with pytest.raises(ValueError, match="blueprints can only be registered once"):
        app.register_blueprint(bp, name="again")
    client = app.test_client()
    assert _json(client.get("/shop/api/items/3")) == {"id": 3, "url": "/shop/api/items/3"}
    assert api.owns_endpoint("shop.item") and not api.owns_endpoint("item")
    assert client.delete("/shop/api/items/3").status_code == 405
    assert _json(client.delete("/shop/api/items/3"))["message"].startswith("The method")
    assert client.get("/other").headers["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(("framework", "rest"), FRAMEWORKS)
def test_api_then_init_app_and_decorators(framework: str, rest: str) -> None:
    fw = importlib.import_module(framework)
    fr = importlib.import_module(rest)
    seen: list[str] = []

    def count(view: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            seen.append(fw.request.path)
            return view(*args, **kwargs)

        return wrapper

    api = fr.Api(decorators=[count])

    class Ping(fr.Resource):
        def get(self) -> Any:
            return {"pong": True}

    api.add_resource(Ping, "/ping")
    app = fw.Flask(__name__)
    api.init_app(app)
    assert _json(app.test_client().get("/ping")) == {"pong": True}
    assert seen == ["/ping"]


def test_a_resource_added_after_init_app_is_served() -> None:
    # Flask-RESTful keeps it in ``api.resources`` and never registers it (a silent 404)
    from erlen import Erlen
    from erlen.rest import Api, Resource

    class Late(Resource):
        def get(self) -> Any:
            return {"late": True}

    api = Api()
    app = Erlen(__name__)
    api.init_app(app)
    api.add_resource(Late, "/late")
    assert _json(app.test_client().get("/late")) == {"late": True}


@pytest.mark.parametrize(("framework", "rest"), FRAMEWORKS)
def test_serve_challenge_on_401(framework: str, rest: str) -> None:
    fw = importlib.import_module(framework)
    fr = importlib.import_module(rest)
    app = fw.Flask(__name__)
    app.config["HTTP_BASIC_AUTH_REALM"] = "shop"
    api = fr.Api(app, serve_challenge_on_401=True)

    class Secret(fr.Resource):
        def get(self) -> Any:
            fr.abort(401, message="who are you")

    api.add_resource(Secret, "/secret")
    resp = app.test_client().get("/secret")
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"] == 'Basic realm="shop"'
    assert _json(resp) == {"message": "who are you"}


def test_restful_json_settings_and_debug_indent() -> None:
    for framework, rest in FRAMEWORKS:
        app = _csv_api(framework, rest)
        app.config["RESTFUL_JSON"] = {"sort_keys": True, "separators": (",", ":")}
        assert app.test_client().get("/item").data == b'{"a":1,"b":2}\n', framework
        app = _csv_api(framework, rest)
        app.debug = True
        assert app.test_client().get("/item").data == b'{\n    "a": 1,\n    "b": 2\n}\n'


def test_an_async_method_is_awaited(app: Any) -> None:
    fr = app.rest

    class Slow(fr.Resource):
        async def get(self) -> Any:
            return {"async": True}, 202

    app.api.add_resource(Slow, "/slow")
    resp = app.test_client().get("/v1/slow")
    assert resp.status_code == 202
    assert _json(resp) == {"async": True}


def test_importing_erlen_does_not_import_erlen_rest() -> None:
    import subprocess
    import sys

    code = "import sys, erlen; print('erlen.rest' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_typed_binding_on_a_resource_method_keeps_its_422_body():
    """Typed request binding (erlen.binding) applies to Resource methods; under an Api its
    422 keeps the {"detail": [...]} body instead of Flask-RESTful's {"message": ...}."""
    import erlen
    import erlen.rest as erlen_rest

    app = erlen.Erlen(__name__)
    api = erlen_rest.Api(app)

    class Items(erlen_rest.Resource):
        def post(self, item: _TypedItem, q: int = 0):
            return {"name": item.name, "q": q}, 201

    api.add_resource(Items, "/items")
    client = app.test_client()
    ok = client.post("/items?q=3", json={"name": "a", "price": 1})
    assert (ok.status_code, ok.get_json()) == (201, {"name": "a", "q": 3})
    bad = client.post("/items", json={"name": "a"})
    assert bad.status_code == 422
    assert [(d["loc"], d["type"]) for d in bad.get_json()["detail"]] == [
        (["body", "price"], "missing")
    ]


try:  # module level: this file's annotations are strings, resolved in its globals
    import pydantic

    class _TypedItem(pydantic.BaseModel):
        name: str
        price: float

except ImportError:  # pragma: no cover - pydantic is a dev dependency
    _TypedItem = None  # type: ignore[assignment,misc]
