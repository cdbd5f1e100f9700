"""The demo app, tested through the test client as its users would use it."""

from __future__ import annotations

import pytest
from app import create_app


@pytest.fixture
def client(tmp_path):
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "t.sqlite3")})
    return app.test_client()


def test_index_empty(client):
    rv = client.get("/")
    assert rv.status_code == 200
    assert b"No notes yet." in rv.data
    assert b'href="/static/style.css"' in rv.data


def test_add_note_flashes_and_lists(client):
    rv = client.post("/notes", data={"title": "<Hello>", "body": "world"}, follow_redirects=True)
    assert rv.status_code == 200
    assert "Saved “&lt;Hello&gt;”.".encode() in rv.data
    assert b"&lt;Hello&gt;" in rv.data and b"<Hello>" not in rv.data
    rv = client.get("/")
    assert b"Saved" not in rv.data  # flashed once


def test_add_note_without_title(client):
    rv = client.post("/notes", data={"title": " "}, follow_redirects=True)
    assert b"A note needs a title." in rv.data


def test_json_api_roundtrip(client):
    rv = client.post("/api/notes", json={"title": "api note", "body": "b"})
    assert rv.status_code == 201
    note_id = rv.json["id"]
    assert rv.headers["Location"] == f"/api/notes/{note_id}"
    assert client.get(f"/api/notes/{note_id}").json == {
        "id": note_id,
        "title": "api note",
        "body": "b",
    }
    assert [n["title"] for n in client.get("/api/notes").json] == ["api note"]
    assert client.get(f"/notes/{note_id}").status_code == 200
    assert client.delete(f"/api/notes/{note_id}").status_code == 204
    rv = client.get(f"/api/notes/{note_id}")
    assert (rv.status_code, rv.json) == (404, {"error": "not found"})


def test_api_bad_input(client):
    assert client.post("/api/notes", json={"body": "no title"}).status_code == 400
    assert (
        client.post("/api/notes", data="{oops", content_type="application/json").status_code == 400
    )
    assert client.post("/api/notes", data="x", content_type="text/plain").status_code == 415


def test_html_404(client):
    rv = client.get("/nowhere")
    assert rv.status_code == 404
    assert b"There is nothing at /nowhere." in rv.data


def test_static_css(client):
    rv = client.get("/static/style.css")
    assert rv.status_code == 200
    assert rv.mimetype == "text/css"
