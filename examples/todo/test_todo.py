"""The to-do app through the test client, on a database made by its migrations."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from app import Todo, create_app, db

from erlen.db import check, upgrade

HERE = Path(__file__).resolve().parent


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("TODO_INSTANCE_PATH", str(tmp_path))
    app = create_app({"TESTING": True})
    with app.app_context():
        upgrade()  # the schema comes from migrations/, as in production
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def token(client, path: str = "/") -> str:
    match = re.search(r'name="csrf_token"[^>]* value="([^"]+)"', client.get(path).text)
    assert match, "the page has no CSRF token"
    return match.group(1)


def titles(app) -> list[tuple[str, bool]]:
    with app.app_context():
        return [(t.title, t.done) for t in db.session.scalars(db.select(Todo).order_by(Todo.id))]


def test_migrations_make_the_schema_of_the_models(app, tmp_path):
    with sqlite3.connect(tmp_path / "todo.sqlite3") as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        (revision,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    assert {"todo", "alembic_version"} <= tables
    assert revision == next((HERE / "migrations" / "versions").glob("*.py")).name.split("_")[0]
    with app.app_context():
        check()  # raises if the models have changes no migration has


def test_empty_list(client):
    rv = client.get("/")
    assert rv.status_code == 200
    assert "Nothing to do. Add something above." in rv.text
    assert 'href="/static/style.css"' in rv.text


def test_add_flashes_once_and_lists(client, app):
    rv = client.post(
        "/todos", data={"title": "  Buy <milk>  ", "csrf_token": token(client)},
        follow_redirects=True,
    )  # fmt: skip
    assert rv.status_code == 200
    assert "Added “Buy &lt;milk&gt;”." in rv.text
    assert '<span class="title">Buy &lt;milk&gt;</span>' in rv.text
    assert "1 of 1 left to do." in rv.text
    assert "Added" not in client.get("/").text  # flashed once
    assert titles(app) == [("Buy <milk>", False)]


def test_complete_then_reopen_then_delete(client, app):
    client.post("/todos", data={"title": "Write tests", "csrf_token": token(client)})
    with app.app_context():
        todo_id = db.session.scalars(db.select(Todo.id)).one()
    rv = client.post(
        f"/todos/{todo_id}/toggle", data={"csrf_token": token(client)}, follow_redirects=True
    )
    assert "“Write tests” is done." in rv.text
    assert f'<li class="done" id="todo-{todo_id}">' in rv.text
    assert "0 of 1 left to do." in rv.text
    assert titles(app) == [("Write tests", True)]
    rv = client.post(
        f"/todos/{todo_id}/toggle", data={"csrf_token": token(client)}, follow_redirects=True
    )
    assert "“Write tests” is to do again." in rv.text
    rv = client.post(
        f"/todos/{todo_id}/delete", data={"csrf_token": token(client)}, follow_redirects=True
    )
    assert "Deleted “Write tests”." in rv.text
    assert "Nothing to do." in rv.text
    assert titles(app) == []


def test_open_todos_are_listed_first(client):
    for title in ("first", "second"):
        client.post("/todos", data={"title": title, "csrf_token": token(client)})
    client.post("/todos/1/toggle", data={"csrf_token": token(client)})
    page = client.get("/").text
    assert page.index(">second<") < page.index(">first<")


@pytest.mark.parametrize(
    "title, message",
    [("", "Write what needs doing."), ("   ", "Write what needs doing."),
     ("x" * 201, "Keep it under 200 characters.")],
)  # fmt: skip
def test_bad_title_is_refused_with_a_message(client, app, title, message):
    rv = client.post(
        "/todos", data={"title": title, "csrf_token": token(client)}, follow_redirects=True
    )
    assert rv.status_code == 200
    assert f'<p class="flash error" role="status">{message}</p>' in rv.text
    assert titles(app) == []


def test_missing_title_field(client, app):
    rv = client.post("/todos", data={"csrf_token": token(client)}, follow_redirects=True)
    assert "Write what needs doing." in rv.text
    assert titles(app) == []


@pytest.mark.parametrize("path", ["/todos", "/todos/1/toggle", "/todos/1/delete"])
def test_form_without_csrf_token_is_refused(client, app, path):
    client.post("/todos", data={"title": "keep me", "csrf_token": token(client)})
    rv = client.post(path, data={"title": "sneaky"})
    assert rv.status_code == 400
    assert "The CSRF token is missing. Reload the page and send the form again." in rv.text
    rv = client.post(path, data={"title": "sneaky", "csrf_token": "forged"})
    assert rv.status_code == 400
    assert "The CSRF token is invalid." in rv.text
    assert titles(app) == [("keep me", False)]


@pytest.mark.parametrize("action", ["toggle", "delete"])
def test_unknown_todo_is_a_404_page(client, action):
    rv = client.post(f"/todos/99/{action}", data={"csrf_token": token(client)})
    assert rv.status_code == 404
    assert "That to-do does not exist (any more)." in rv.text
    assert client.post(f"/todos/abc/{action}").status_code == 404


def test_get_on_a_form_address_is_a_405_page(client):
    rv = client.get("/todos/1/delete")
    assert rv.status_code == 405
    assert "That address only takes the form." in rv.text


def test_readme_commands(tmp_path):
    """`erlen --app app db upgrade` (the README) makes the database the app runs on."""
    erlen = Path(sys.executable).with_name("erlen")
    env = dict(os.environ, TODO_INSTANCE_PATH=str(tmp_path))
    done = subprocess.run(
        [str(erlen), "--app", "app", "db", "upgrade"], cwd=HERE, env=env,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Running upgrade  -> " in done.stderr
    with sqlite3.connect(tmp_path / "todo.sqlite3") as conn:
        assert conn.execute("SELECT count(*) FROM todo").fetchone() == (0,)
    readme = (HERE / "README.md").read_text()
    assert "make example NAME=todo" in readme and "erlen --app app db upgrade" in readme
