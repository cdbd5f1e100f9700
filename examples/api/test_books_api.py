"""The API example through the test client: login, CRUD with validation, the OpenAPI document."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from openapi_spec_validator import validate

HERE = Path(__file__).resolve().parent


def load_example():
    spec = importlib.util.spec_from_file_location("api_example_app", HERE / "app.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["api_example_app"] = module
    spec.loader.exec_module(module)
    return module


example = load_example()


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("API_INSTANCE_PATH", str(tmp_path))
    app = example.create_app({"TESTING": True})
    with app.app_context():
        example.db.session.add(
            example.User(
                username="other", password_hash=example.generate_password_hash("other-password")
            )
        )
        example.db.session.commit()
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def login(client, username="demo", password="demo-password") -> dict[str, str]:
    resp = client.post("/auth/token", json={"username": username, "password": password})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    return {"Authorization": f"Bearer {body['access_token']}"}


def test_login_and_me(client):
    headers = login(client)
    resp = client.get("/auth/me", headers=headers)
    assert resp.status_code == 200
    assert resp.get_json() == {"username": "demo"}


@pytest.mark.parametrize("username, password", [("demo", "wrong"), ("nobody", "demo-password")])
def test_bad_login_is_401_json(client, username, password):
    resp = client.post("/auth/token", json={"username": username, "password": password})
    assert resp.status_code == 401
    assert resp.get_json() == {"detail": "Bad username or password"}


def test_login_body_is_validated(client):
    resp = client.post("/auth/token", json={"username": ""})
    assert resp.status_code == 422
    errors = resp.get_json()["detail"]
    assert {tuple(e["loc"]) for e in errors} == {("body", "username"), ("body", "password")}


def test_me_without_token_is_401(client):
    resp = client.get("/auth/me")
    assert resp.status_code == 401
    assert resp.get_json() == {"msg": "Missing Authorization Header"}


def test_crud(client):
    headers = login(client)
    assert client.get("/books").get_json() == []
    resp = client.post(
        "/books", json={"title": "Dune", "author": "Frank Herbert", "year": 1965}, headers=headers
    )
    assert resp.status_code == 201
    book = resp.get_json()
    assert book == {
        "title": "Dune",
        "author": "Frank Herbert",
        "year": 1965,
        "id": book["id"],
        "owner": "demo",
    }
    assert client.get(f"/books/{book['id']}").get_json() == book
    resp = client.put(
        f"/books/{book['id']}", json={"title": "Dune", "author": "F. Herbert"}, headers=headers
    )
    assert resp.status_code == 200
    assert resp.get_json()["author"] == "F. Herbert"
    assert resp.get_json()["year"] is None
    assert [b["id"] for b in client.get("/books?author=F.+Herbert").get_json()] == [book["id"]]
    assert client.get("/books?author=nobody").get_json() == []
    resp = client.delete(f"/books/{book['id']}", headers=headers)
    assert resp.status_code == 204
    assert resp.data == b""
    resp = client.get(f"/books/{book['id']}")
    assert resp.status_code == 404
    assert resp.get_json() == {"detail": "No such book"}


def test_paging(client):
    headers = login(client)
    for i in range(5):
        client.post("/books", json={"title": f"T{i}", "author": "A"}, headers=headers)
    page = client.get("/books?limit=2&offset=1").get_json()
    assert [b["title"] for b in page] == ["T1", "T2"]
    resp = client.get("/books?limit=0")
    assert resp.status_code == 422
    assert resp.get_json()["detail"][0]["loc"] == ["query", "limit"]
    assert client.get("/books?limit=abc").status_code == 422


@pytest.mark.parametrize(
    "body, loc",
    [
        ({"author": "A"}, ["body", "title"]),
        ({"title": "", "author": "A"}, ["body", "title"]),
        ({"title": "T", "author": "A", "year": 99999}, ["body", "year"]),
        ({"title": "T", "author": "A", "isbn": "x"}, ["body", "isbn"]),
    ],
)
def test_create_is_validated(client, body, loc):
    resp = client.post("/books", json=body, headers=login(client))
    assert resp.status_code == 422
    assert [e["loc"] for e in resp.get_json()["detail"]] == [loc]


def test_writes_need_a_token_and_ownership(client):
    book = client.post("/books", json={"title": "T", "author": "A"}, headers=login(client))
    book_id = book.get_json()["id"]
    assert client.post("/books", json={"title": "T", "author": "A"}).status_code == 401
    assert client.delete(f"/books/{book_id}").status_code == 401
    other = login(client, "other", "other-password")
    resp = client.delete(f"/books/{book_id}", headers=other)
    assert resp.status_code == 403
    assert resp.get_json() == {"detail": "Not your book"}
    resp = client.put(f"/books/{book_id}", json={"title": "X", "author": "Y"}, headers=other)
    assert resp.status_code == 403
    resp = client.get("/auth/me", headers={"Authorization": "Bearer not-a-token"})
    assert resp.status_code == 422  # Flask-JWT-Extended's answer to a malformed token


def test_ids_beyond_the_rule_are_404(client):
    assert client.get(f"/books/{2**31}").status_code == 404
    assert client.get(f"/books/{2**31 - 1}").status_code == 404


def test_openapi_document(client):
    spec = client.get("/openapi.json").get_json()
    validate(spec)
    assert spec["info"]["title"] == "Books API"
    assert sorted(spec["paths"]) == ["/auth/me", "/auth/token", "/books", "/books/{book_id}"]
    assert list(spec["paths"]["/books/{book_id}"]) == ["get", "put", "delete"]
    create = spec["paths"]["/books"]["post"]
    assert create["security"] == [{"bearerAuth": []}]
    assert create["tags"] == ["books"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/BookIn"
    }
    assert sorted(create["responses"]) == ["201", "401", "422"]
    listing = spec["paths"]["/books"]["get"]
    assert "security" not in listing
    limit = next(p for p in listing["parameters"] if p["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}
    book_id = spec["paths"]["/books/{book_id}"]["get"]["parameters"][0]
    assert book_id["schema"] == {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}
    schemas = spec["components"]["schemas"]
    assert schemas["BookIn"]["additionalProperties"] is False
    assert set(schemas["BookOut"]["required"]) == {"title", "author", "id", "owner"}
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_docs_page(client):
    resp = client.get("/docs")
    assert resp.status_code == 200
    assert "/docs/static/swagger-ui/swagger-ui-bundle.js" in resp.get_data(as_text=True)
