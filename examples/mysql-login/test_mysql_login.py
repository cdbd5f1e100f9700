"""The MySQL login example through the test client, on a throwaway MariaDB server."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from app import NO_URL, create_app, db, init_db
from sqlalchemy import text

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def database_url(mariadb_server):
    return mariadb_server.create_database()


@pytest.fixture
def app(database_url):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})
    init_db(app)
    with app.app_context():
        db.session.execute(text("DELETE FROM accounts"))
        db.session.commit()
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def token(client, path: str) -> str:
    return re.search(r'name="csrf_token"[^>]* value="([^"]+)"', client.get(path).text).group(1)


def flashes(rv) -> list[str]:
    return re.findall(r'<p class="flash \w+" role="status">([^<]*)</p>', rv.text)


def register(client, username="ann", password="password1", email="ann@example.com"):
    return client.post("/register", data={
        "username": username, "password": password, "email": email,
        "csrf_token": token(client, "/register"),
    })  # fmt: skip


def login(client, username="ann", password="password1"):
    return client.post("/", data={
        "username": username, "password": password, "csrf_token": token(client, "/"),
    })  # fmt: skip


def test_register_login_profile_logout(client, app):
    rv = register(client)
    assert rv.headers["Location"] == "/"
    assert flashes(client.get("/")) == ["You have registered; log in now."]
    with app.app_context():
        row = db.session.execute(text("SELECT username, password, email FROM accounts")).one()
    assert row.username == "ann" and row.email == "ann@example.com"
    assert row.password.startswith("$argon2id$")
    rv = login(client)
    assert rv.headers["Location"] == "/home"
    assert "Welcome back, ann!" in client.get("/home").text
    rv = client.get("/profile")
    assert "<dd>ann@example.com</dd>" in rv.text
    rv = client.post("/logout", data={"csrf_token": token(client, "/home")})
    assert rv.headers["Location"] == "/"
    assert client.get("/profile").headers["Location"] == "/"


def test_pages_need_a_login(client):
    assert client.get("/home").status_code == 302
    assert client.get("/profile").status_code == 302


@pytest.mark.parametrize(
    "username, password, email, message",
    [
        ("", "password1", "a@example.com", "Choose a username."),
        ("a b'; DROP TABLE accounts;--", "password1", "a@example.com",
         "Use letters, digits, . _ - in the username."),
        ("ab", "password1", "a@example.com", "Use 3 to 50 characters for the username."),
        ("bob", "short", "a@example.com", "Use 8 to 128 characters."),
        ("bob", "password1", "nope", "That is not an e-mail address."),
    ],
)  # fmt: skip
def test_register_bad_input(client, username, password, email, message):
    rv = register(client, username, password, email)
    assert rv.status_code == 400
    assert message in flashes(rv)


def test_duplicate_username(client, app):
    register(client)
    rv = register(client, email="other@example.com")
    assert rv.status_code == 400
    assert flashes(rv) == ["That username is taken."]
    with app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM accounts")).scalar() == 1


@pytest.mark.parametrize("username, password", [("ann", "wrong pass"), ("nobody", "password1"),
                                                ("' OR '1'='1", "' OR '1'='1")])
def test_wrong_login(client, username, password):
    register(client)
    rv = login(client, username, password)
    assert rv.status_code == 400
    assert flashes(rv) == ["Incorrect username or password."]


def test_login_without_csrf_token(client):
    rv = client.post("/", data={"username": "ann", "password": "password1"})
    assert rv.status_code == 400
    assert "The CSRF token is missing. Reload the page and try again." in rv.text


def test_without_database_url_it_says_how_to_get_one(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    done = subprocess.run([sys.executable, "app.py", "--port", "1"], cwd=HERE,
                          env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 2
    assert NO_URL.strip() in done.stderr
