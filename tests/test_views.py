"""Class-based views."""

from __future__ import annotations

from erlen import request
from erlen.views import MethodView, View


def test_view_as_view(app, client):
    class Greeting(View):
        methods = ["GET", "POST"]
        init_every_request = False

        def __init__(self, greeting):
            self.greeting = greeting

        def dispatch_request(self, name):
            return f"{self.greeting}, {name} ({request.method})"

    app.add_url_rule("/hi/<name>", view_func=Greeting.as_view("hi", "Hello"))
    assert client.get("/hi/ann").data == b"Hello, ann (GET)"
    assert client.post("/hi/ann").data == b"Hello, ann (POST)"
    assert client.put("/hi/ann").status_code == 405


def test_init_every_request(app, client):
    created = []

    class Counter(View):
        def __init__(self):
            created.append(self)

        def dispatch_request(self):
            return str(len(created))

    app.add_url_rule("/", view_func=Counter.as_view("counter"))
    client.get("/")
    client.get("/")
    assert len(created) == 2


def test_decorators(app, client):
    def add_header(f):
        def wrapper(**kw):
            rv = app.make_response(f(**kw))
            rv.headers["X-Decorated"] = "yes"
            return rv

        return wrapper

    class V(View):
        decorators = [add_header]

        def dispatch_request(self):
            return "v"

    app.add_url_rule("/", view_func=V.as_view("v"))
    assert client.get("/").headers["X-Decorated"] == "yes"


def test_method_view(app, client):
    class ItemAPI(MethodView):
        def get(self, id):
            return f"get {id}"

        def post(self, id):
            return f"post {id}"

        def delete(self, id):
            return "", 204

    class ChildAPI(ItemAPI):
        def put(self, id):
            return f"put {id}"

    app.add_url_rule("/item/<int:id>", view_func=ItemAPI.as_view("item"))
    app.add_url_rule("/child/<int:id>", view_func=ChildAPI.as_view("child"))
    assert ItemAPI.methods == {"GET", "POST", "DELETE"}
    assert client.get("/item/1").data == b"get 1"
    assert client.post("/item/1").data == b"post 1"
    assert client.delete("/item/1").status_code == 204
    assert client.put("/item/1").status_code == 405
    assert client.head("/item/1").status_code == 200
    assert client.put("/child/2").data == b"put 2"
    assert sorted(client.options("/item/1").headers["Allow"].split(", ")) == [
        "DELETE",
        "GET",
        "HEAD",
        "OPTIONS",
        "POST",
    ]


def test_async_method_view(app, client):
    class A(MethodView):
        async def get(self):
            return "async get"

    app.add_url_rule("/", view_func=A.as_view("a"))
    assert client.get("/").data == b"async get"
