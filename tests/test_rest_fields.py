"""erlen.rest's ``fields``/``marshal`` and ``reqparse``, on erlen and on Flask-RESTful (the
oracle): the same calls give the same output, the same requests the same answers."""

from __future__ import annotations

import importlib
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

FRAMEWORKS = [("erlen", "erlen.rest"), ("flask", "flask_restful")]


@pytest.fixture(params=FRAMEWORKS, ids=[f for f, _ in FRAMEWORKS])
def fr(request: pytest.FixtureRequest) -> Any:
    """The REST module (``fr.fw`` is its framework)."""
    name = request.param[1]
    return SimpleNamespace(
        rest=importlib.import_module(name),
        fields=importlib.import_module(name + ".fields"),
        reqparse=importlib.import_module(name + ".reqparse"),
        inputs=importlib.import_module(name + ".inputs"),
        fw=importlib.import_module(request.param[0]),
    )


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value))


# -- marshal ------------------------------------------------------------------------------
def test_marshal_keeps_only_the_fields_in_their_order(fr: Any) -> None:
    f = fr.fields
    spec = {"name": f.String, "age": f.Integer(default=0), "admin": f.Boolean}
    out = fr.rest.marshal({"name": "Ada", "age": "36", "admin": 1, "password": "x"}, spec)
    assert list(out.items()) == [("name", "Ada"), ("age", 36), ("admin", True)]
    assert fr.rest.marshal({"name": None}, spec) == {"name": None, "age": 0, "admin": None}


def test_marshal_a_list_and_an_envelope_and_objects(fr: Any) -> None:
    f = fr.fields
    rows = [SimpleNamespace(id=1, title="a"), SimpleNamespace(id=2, title="b")]
    assert _plain(fr.rest.marshal(rows, {"id": f.Integer}, envelope="items")) == {
        "items": [{"id": 1}, {"id": 2}]
    }
    assert fr.rest.marshal(rows[0], {"title": f.String(attribute="title"), "x": f.Raw}) == {
        "title": "a",
        "x": None,
    }


def test_nested_list_and_dotted_attributes(fr: Any) -> None:
    f = fr.fields
    spec = {
        "author": f.Nested({"name": f.String}),
        "editor": f.Nested({"name": f.String}, allow_null=True),
        "tags": f.List(f.String),
        "city": f.String(attribute="address.city"),
        "comments": f.List(f.Nested({"text": f.String})),
        "inline": {"first_tag": f.String(attribute=lambda o: o["tags"][0])},
    }
    data = {
        "author": {"name": "Ada", "secret": 1},
        "editor": None,
        "tags": ["x", 2],
        "address": {"city": "Zürich"},
        "comments": [{"text": "hi", "ip": "10.0.0.1"}],
    }
    assert _plain(fr.rest.marshal(data, spec)) == {
        "author": {"name": "Ada"},
        "editor": None,
        "tags": ["x", "2"],
        "city": "Zürich",
        "comments": [{"text": "hi"}],
        "inline": {"first_tag": "x"},
    }


def test_numbers_and_dates(fr: Any) -> None:
    f = fr.fields
    when = datetime(2011, 1, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    spec = {
        "price": f.Fixed(decimals=2),
        "big": f.Arbitrary,
        "ratio": f.Float,
        "rfc": f.DateTime,
        "iso": f.DateTime(dt_format="iso8601"),
    }
    data = {"price": "3.14159", "big": Decimal("1.10"), "ratio": "0.5", "rfc": when, "iso": when}
    assert dict(fr.rest.marshal(data, spec)) == {
        "price": "3.14",
        "big": "1.10",
        "ratio": 0.5,
        "rfc": "Sat, 01 Jan 2011 10:30:00 -0000",
        "iso": "2011-01-01T12:30:00+02:00",
    }
    with pytest.raises(f.MarshallingException):
        f.Integer().format("not a number")
    with pytest.raises(f.MarshallingException):
        f.DateTime(dt_format="nope").format(when)


def test_formatted_string_and_url(fr: Any) -> None:
    f = fr.fields
    app = fr.fw.Flask(__name__)
    api = fr.rest.Api(app)

    class Todo(fr.rest.Resource):
        def get(self, id: int) -> Any:
            return {}

    api.add_resource(Todo, "/todos/<int:id>")
    spec = {
        "label": f.FormattedString("#{id}: {title}"),
        "uri": f.Url("todo"),
        "abs": f.Url("todo", absolute=True, scheme="https"),
    }
    with app.test_request_context("/", base_url="http://api.test"):
        assert dict(fr.rest.marshal({"id": 4, "title": "milk"}, spec)) == {
            "label": "#4: milk",
            "uri": "/todos/4",
            "abs": "https://api.test/todos/4",
        }


def test_marshal_with_and_marshal_with_field_in_a_resource(fr: Any) -> None:
    f = fr.fields
    app = fr.fw.Flask(__name__)
    api = fr.rest.Api(app)

    class User(fr.rest.Resource):
        @fr.rest.marshal_with({"name": f.String}, envelope="user")
        def get(self) -> Any:
            return {"name": "Ada", "password": "x"}, 200, {"X-Who": "ada"}

    class Ids(fr.rest.Resource):
        @fr.rest.marshal_with_field(f.List(f.Integer))
        def get(self) -> Any:
            return ["1", 2, 3.0]

    api.add_resource(User, "/user")
    api.add_resource(Ids, "/ids")
    client = app.test_client()
    resp = client.get("/user")
    assert (resp.status_code, resp.headers["X-Who"]) == (200, "ada")
    assert resp.data == b'{"user": {"name": "Ada"}}\n'
    assert client.get("/ids").data == b"[1, 2, 3]\n"


# -- reqparse -----------------------------------------------------------------------------
def _parser_app(fr: Any, **parser_kwargs: Any) -> Any:
    app = fr.fw.Flask(__name__)
    api = fr.rest.Api(app)
    parser = fr.reqparse.RequestParser(**parser_kwargs)
    parser.add_argument("name", required=True, help="Name cannot be blank")
    parser.add_argument("age", type=int, location="json", help="Bad age: {error_msg}")
    parser.add_argument("color", choices=("red", "blue"), default="red")
    parser.add_argument("tag", action="append", dest="tags")

    class People(fr.rest.Resource):
        def post(self) -> Any:
            return dict(parser.parse_args()), 201

    api.add_resource(People, "/people")
    return app


def test_parse_args_from_json(fr: Any) -> None:
    resp = (
        _parser_app(fr)
        .test_client()
        .post("/people", json={"name": "Ada", "age": "36", "color": "blue", "tag": ["a", "b"]})
    )
    assert resp.status_code == 201
    assert json.loads(resp.data) == {"name": "Ada", "age": 36, "color": "blue", "tags": ["a", "b"]}


def test_parse_args_defaults(fr: Any) -> None:
    resp = _parser_app(fr).test_client().post("/people", json={"name": "Ada"})
    assert json.loads(resp.data) == {"name": "Ada", "age": None, "color": "red", "tags": None}


def test_a_missing_required_argument_is_a_400_with_its_help(fr: Any) -> None:
    resp = _parser_app(fr).test_client().post("/people", json={"age": 3})
    assert resp.status_code == 400
    assert json.loads(resp.data) == {"message": {"name": "Name cannot be blank"}}


def test_a_bad_type_and_a_bad_choice(fr: Any) -> None:
    client = _parser_app(fr).test_client()
    resp = client.post("/people", json={"name": "Ada", "age": "old"})
    assert resp.status_code == 400
    assert json.loads(resp.data) == {
        "message": {"age": "Bad age: invalid literal for int() with base 10: 'old'"}
    }
    resp = client.post("/people", json={"name": "Ada", "color": "green"})
    assert json.loads(resp.data) == {"message": {"color": "green is not a valid choice"}}


def test_bundle_errors_reports_every_bad_argument(fr: Any) -> None:
    resp = (
        _parser_app(fr, bundle_errors=True)
        .test_client()
        .post("/people", json={"age": "x", "color": "green"})
    )
    assert resp.status_code == 400
    assert json.loads(resp.data) == {
        "message": {
            "name": "Name cannot be blank",
            "age": "Bad age: invalid literal for int() with base 10: 'x'",
            "color": "green is not a valid choice",
        }
    }


def test_explicit_locations_and_strict(fr: Any) -> None:
    app = fr.fw.Flask(__name__)
    parser = fr.reqparse.RequestParser()
    parser.add_argument("page", type=fr.inputs.positive, location="args", default=1)
    parser.add_argument("X-Token", location="headers", dest="token")
    parser.add_argument("flag", type=fr.inputs.boolean, location="form")
    with app.test_request_context(
        "/?page=3", method="POST", data={"flag": "true"}, headers={"X-Token": "t"}
    ):
        assert dict(parser.parse_args()) == {"page": 3, "token": "t", "flag": True}
    with app.test_request_context("/?page=0"):
        with pytest.raises(Exception) as raised:
            parser.parse_args()
        assert raised.value.code == 400  # type: ignore[attr-defined]
        assert raised.value.data == {  # type: ignore[attr-defined]
            "message": {"page": "Invalid page: 0. page must be a positive integer"}
        }
    strict = fr.reqparse.RequestParser()
    strict.add_argument("a", location="args")
    with (
        app.test_request_context("/?a=1&b=2", method="POST", json={"c": 3}),
        pytest.raises(Exception, match="Unknown arguments: (b, c|c, b)"),
    ):
        strict.parse_args(strict=True)


def test_query_string_arguments_with_the_default_locations() -> None:
    # Flask-RESTful 0.3.10 on Flask 3 answers 415 here (it reads ``request.json`` of a
    # request that is not JSON); erlen skips the JSON location for such requests
    from erlen import Erlen
    from erlen.rest import reqparse

    app = Erlen(__name__)
    parser = reqparse.RequestParser()
    parser.add_argument("q", required=True)
    with app.test_request_context("/?q=erlen"):
        assert parser.parse_args() == {"q": "erlen"}
    with app.test_request_context("/", method="POST", data={"q": "form"}):
        assert parser.parse_args() == {"q": "form"}
