"""The demo app, tested through the test client as its users would use it."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from app import create_app

from erlen.http.parsing import parse_date


@pytest.fixture
def app(tmp_path):
    return create_app(
        {
            "TESTING": True,
            "DATABASE": str(tmp_path / "t.sqlite3"),
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        }
    )


@pytest.fixture
def client(app):
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


def test_static_js_used_by_pages(client):
    for path in ("/", "/files/", "/session/"):
        rv = client.get(path)
        assert b'<script src="/static/app.js" defer></script>' in rv.data, path
    rv = client.get("/static/app.js")
    assert rv.status_code == 200
    assert rv.mimetype == "text/javascript"
    assert b"function enhanceUploadForm" in rv.data


def test_pages_share_the_layout(client):
    for path in ("/", "/files/", "/session/", "/nowhere"):
        rv = client.get(path)
        assert b"<nav>" in rv.data and b"erlen demo</title>" in rv.data, path


# -- session page -----------------------------------------------------------------------
def test_visit_counter(client):
    for n in (1, 2, 3):
        rv = client.get("/session/")
        assert rv.status_code == 200
        assert f"viewed this page {n} time".encode() in rv.data
        assert rv.headers["Vary"] == "Cookie"
    assert b"kept until the browser closes" in rv.data
    cookie = rv.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires" not in cookie


def test_theme_preference(client):
    assert b'<body class="theme-light">' in client.get("/").data
    rv = client.post("/session/theme", data={"theme": "dark"})
    assert rv.status_code == 302 and rv.headers["Location"] == "/session/"
    rv = client.get("/session/")
    assert b"Theme set to dark." in rv.data
    assert b'<body class="theme-dark">' in rv.data
    assert b'value="dark" checked' in rv.data
    # the preference is used on every page, through the context processor
    assert b'<body class="theme-dark">' in client.get("/").data


def test_bad_theme_is_refused(client):
    rv = client.post("/session/theme", data={"theme": "<pink>"}, follow_redirects=True)
    assert b"Unknown theme." in rv.data
    assert b'<body class="theme-light">' in rv.data


def test_remember_me_makes_a_permanent_cookie(client):
    rv = client.post("/session/theme", data={"theme": "dark", "remember": "on"})
    cookie = rv.headers["Set-Cookie"]
    expires = parse_date(cookie.split("Expires=")[1].split(";")[0])
    days = (expires - datetime.now(UTC)).days
    assert days in (29, 30)
    assert b"remembered for 30 days" in client.get("/session/").data


def test_reset_session(client):
    client.get("/session/")
    client.post("/session/theme", data={"theme": "dark"})
    rv = client.post("/session/reset", follow_redirects=True)
    assert b"Session cleared." in rv.data
    assert b"viewed this page 1 time." in rv.data
    assert b'<body class="theme-light">' in rv.data


# -- upload page ------------------------------------------------------------------------
def test_files_empty(client, tmp_path):
    rv = client.get("/files/")
    assert rv.status_code == 200
    assert b"No files yet." in rv.data
    assert b'enctype="multipart/form-data"' in rv.data
    assert b'data-max-size="1048576"' in rv.data


def test_upload_list_download(client, tmp_path):
    data = {"file": (io.BytesIO(b"hello, file"), "My Report (final).txt")}
    rv = client.post("/files/", data=data, follow_redirects=True)
    assert rv.status_code == 200
    assert b"Uploaded My_Report_final.txt." in rv.data
    assert b'href="/files/My_Report_final.txt"' in rv.data
    assert b"11 Bytes" in rv.data
    stored = tmp_path / "uploads" / "My_Report_final.txt"
    assert stored.read_bytes() == b"hello, file"

    rv = client.get("/files/My_Report_final.txt")
    assert rv.status_code == 200
    assert rv.data == b"hello, file"
    assert rv.headers["Content-Disposition"] == "attachment; filename=My_Report_final.txt"
    assert rv.mimetype == "text/plain"


def test_upload_path_traversal_name_is_kept_inside(client, tmp_path):
    # the upload is accepted (as in Flask) and secure_filename makes its name harmless
    rv = client.post(
        "/files/", data={"file": (io.BytesIO(b"x"), "../../etc/passwd")}, follow_redirects=True
    )
    assert b"Uploaded etc_passwd." in rv.data
    assert [p.name for p in (tmp_path / "uploads").iterdir()] == ["etc_passwd"]
    assert not (tmp_path / "passwd").exists() and not (tmp_path.parent / "etc").exists()


def test_upload_odd_name_is_made_safe(client, tmp_path):
    data = {"file": (io.BytesIO(b"x"), "my report (final).txt")}
    rv = client.post("/files/", data=data, follow_redirects=True)
    assert b"Uploaded my_report_final.txt." in rv.data
    assert [p.name for p in (tmp_path / "uploads").iterdir()] == ["my_report_final.txt"]


def test_upload_without_file(client):
    rv = client.post("/files/", data={}, follow_redirects=True)
    assert b"Choose a file to upload." in rv.data
    rv = client.post("/files/", data={"file": (io.BytesIO(b"x"), "")}, follow_redirects=True)
    assert b"Choose a file to upload." in rv.data


def test_upload_unstorable_name(client):
    rv = client.post("/files/", data={"file": (io.BytesIO(b"x"), "...")}, follow_redirects=True)
    assert b"That file name cannot be stored." in rv.data


def test_upload_too_large(client, tmp_path):
    big = io.BytesIO(b"x" * (1024 * 1024 + 1))
    rv = client.post("/files/", data={"file": (big, "big.bin")})
    assert rv.status_code == 413
    assert b"Uploads are limited to 1024 KiB." in rv.data
    assert not (tmp_path / "uploads").exists() or not any((tmp_path / "uploads").iterdir())


@pytest.mark.parametrize("name", ["../t.sqlite3", "%2e%2e/t.sqlite3", "missing.txt"])
def test_download_outside_or_missing_is_404(client, name):
    client.get("/files/")  # create the folder
    assert client.get(f"/files/{name}").status_code == 404


def test_make_demo_runs_this_app():
    """The README's `make demo` starts this app.py, the same command the browser tests run
    against a real server (test_browser.py)."""
    import shutil
    import subprocess
    from pathlib import Path

    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    root = Path(__file__).resolve().parents[2]
    assert "make demo" in (root / "README.md").read_text()
    out = subprocess.run(
        [make, "--no-print-directory", "-n", "demo", "PORT=5123"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip().splitlines()
    # (under a parent make, e.g. `make test`, make may still print "make[1]: ..." lines)
    commands = [line for line in out if not line.startswith("make")]
    assert commands[-1] == "cd examples/demo && ../../.venv/bin/python app.py --port 5123"
