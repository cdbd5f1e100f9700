"""send_file / send_from_directory / the static route, through a real app and its test client.

Flask is the oracle for header values where erlen promises the same output.
"""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime
from urllib.parse import quote

import flask
import pytest

import erlen
from erlen.http.parsing import http_date
from erlen.sendfile import BLOCK_SIZE, send_file, send_from_directory

SECRET = b"TOP SECRET - must never be served"
HELLO = b"0123456789"

# Names refused by safe_join; on POSIX most of them can exist as real files, and they do
# (see the ``root`` fixture), so a 404 proves the refusal rather than a missing file.
TRAVERSAL = [
    "../secret.txt",
    "../../secret.txt",
    "sub/../../secret.txt",
    "/etc/passwd",
    "..%2fsecret.txt",  # a still-encoded name is just a missing file
    "a\\..\\b",
    "..\\secret.txt",
    "C:secret",
    "c:foo",
    "CON",
    "NUL",
    "COM1",
    "nul.txt",
    "sub/NUL",
    "..",
    "sub/..",
    "x\x00.txt",
    "",
    "sub",
]


@pytest.fixture
def root(tmp_path):
    (tmp_path / "secret.txt").write_bytes(SECRET)
    for folder in ("static", "files"):
        d = tmp_path / folder
        (d / "sub").mkdir(parents=True)
        (d / "hello.txt").write_bytes(HELLO)
        (d / "sub" / "deep.css").write_bytes(b"body{}")
        (d / "\u20ac rates.txt").write_bytes(b"euro")
        (d / "big.bin").write_bytes(bytes(range(256)) * (BLOCK_SIZE // 64))
        (d / "notes.txt.gz").write_bytes(b"\x1f\x8bfake")
        # names that exist on POSIX but must be refused as if they were dangerous
        for name in ("a\\..\\b", "C:secret", "c:foo", "CON", "NUL", "COM1", "nul.txt"):
            (d / name).write_bytes(SECRET)
        (d / "sub" / "NUL").write_bytes(SECRET)
    return tmp_path


@pytest.fixture
def app(root):
    app = erlen.Erlen(__name__, root_path=str(root))
    app.config["TESTING"] = True

    @app.route("/file")
    def file_view():
        a = erlen.request.args
        kwargs = {}
        if "max_age" in a:
            kwargs["max_age"] = int(a["max_age"])
        if "etag" in a:
            kwargs["etag"] = {"0": False, "1": True}.get(a["etag"], a["etag"])
        if "conditional" in a:
            kwargs["conditional"] = a["conditional"] == "1"
        return send_file(
            a.get("p", "files/hello.txt"),
            as_attachment="attach" in a,
            download_name=a.get("name"),
            mimetype=a.get("mimetype"),
            **kwargs,
        )

    @app.route("/dir")
    def dir_view():
        return send_from_directory("files", erlen.request.args["p"])

    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def flask_client(root):
    """The same routes on Flask, as the oracle."""
    fapp = flask.Flask(__name__, root_path=str(root))

    @fapp.route("/file")
    def file_view():
        a = flask.request.args
        return flask.send_file(
            a.get("p", "files/hello.txt"),
            as_attachment="attach" in a,
            download_name=a.get("name"),
            mimetype=a.get("mimetype"),
        )

    return fapp.test_client()


def _mtime(root, rel="files/hello.txt"):
    return os.stat(os.path.join(root, rel)).st_mtime


# -- plain download ------------------------------------------------------------------------


def test_send_file_headers_and_body(client, root):
    r = client.get("/file")
    assert r.status_code == 200
    assert r.data == HELLO
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert r.headers["Content-Length"] == "10"
    assert r.headers["Content-Disposition"] == "inline; filename=hello.txt"
    assert r.headers["Accept-Ranges"] == "bytes"
    assert r.headers["Cache-Control"] == "no-cache"
    assert r.headers["Last-Modified"] == http_date(_mtime(root))
    assert r.headers["ETag"].startswith('"') and r.headers["ETag"].endswith('"')
    assert "Expires" not in r.headers
    assert "X-Sendfile" not in r.headers


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"p": "files/sub/deep.css"},
        {"p": "files/big.bin"},
        {"p": "files/notes.txt.gz"},
        {"p": "files/notes.txt.gz", "attach": "1"},
        {"attach": "1"},
        {"name": "report.csv", "attach": "1"},
        {"name": "my report.pdf"},
        {"name": 'quote"and\\slash.txt'},
        {"name": "\u20ac rates.txt", "attach": "1"},
        {"name": "na\u00efve caf\u00e9.txt"},
        {"name": "\u65e5\u672c.txt"},
        {"mimetype": "application/x-custom"},
        {"p": "files/\u20ac rates.txt"},
    ],
)
def test_headers_match_flask(client, flask_client, query):
    ours = client.get("/file", query_string=query)
    theirs = flask_client.get("/file", query_string=query)
    assert ours.status_code == theirs.status_code == 200
    assert ours.data == theirs.data
    for name in (
        "Content-Type",
        "Content-Length",
        "Content-Disposition",
        "Content-Encoding",
        "Last-Modified",
        "ETag",
        "Cache-Control",
        "Accept-Ranges",
    ):
        assert ours.headers.get(name) == theirs.headers.get(name), name


def test_content_disposition_non_ascii(client):
    r = client.get("/file", query_string={"name": "\u20ac.txt", "attach": "1"})
    assert r.headers["Content-Disposition"] == (
        "attachment; filename=.txt; filename*=UTF-8''%E2%82%AC.txt"
    )
    r = client.get("/file", query_string={"name": "caf\u00e9 menu.txt"})
    assert r.headers["Content-Disposition"] == (
        "inline; filename=\"cafe menu.txt\"; filename*=UTF-8''caf%C3%A9%20menu.txt"
    )


def test_content_disposition_control_characters_are_encoded(client):
    r = client.get("/file", query_string={"name": "evil\r\nSet-Cookie: x=1.txt"})
    assert r.status_code == 200
    cd = r.headers["Content-Disposition"]
    assert "\r" not in cd and "\n" not in cd
    assert "filename*=UTF-8''evil%0D%0ASet-Cookie%3A%20x%3D1.txt" in cd
    assert "Set-Cookie" not in r.headers


def test_mimetype_guess_and_encoding(client):
    r = client.get("/file", query_string={"p": "files/sub/deep.css"})
    assert r.headers["Content-Type"] == "text/css; charset=utf-8"
    r = client.get("/file", query_string={"name": "data.unknownext"})
    assert r.headers["Content-Type"] == "application/octet-stream"
    r = client.get("/file", query_string={"p": "files/notes.txt.gz"})
    assert r.headers["Content-Encoding"] == "gzip"
    r = client.get("/file", query_string={"p": "files/notes.txt.gz", "attach": "1"})
    assert "Content-Encoding" not in r.headers


def test_missing_file_is_an_error(client, app):
    app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(FileNotFoundError):
        client.get("/file", query_string={"p": "files/nope.txt"})


def test_outside_request_context_raises():
    with pytest.raises(RuntimeError, match="request context"):
        send_file(io.BytesIO(b"x"), mimetype="text/plain")
    with pytest.raises(RuntimeError, match="request context"):
        send_from_directory("files", "hello.txt")


# -- conditional requests ------------------------------------------------------------------


def test_etag_304(client):
    etag = client.get("/file").headers["ETag"]
    r = client.get("/file", headers={"If-None-Match": etag})
    assert r.status_code == 304
    assert r.data == b""
    assert r.headers["ETag"] == etag
    assert "Content-Length" not in r.headers
    # weak comparison for If-None-Match, lists, and *
    assert client.get("/file", headers={"If-None-Match": "W/" + etag}).status_code == 304
    assert client.get("/file", headers={"If-None-Match": f'"x", {etag}'}).status_code == 304
    assert client.get("/file", headers={"If-None-Match": "*"}).status_code == 304
    r = client.get("/file", headers={"If-None-Match": '"other"'})
    assert r.status_code == 200
    assert r.data == HELLO


def test_last_modified_304(client, root):
    lm = client.get("/file").headers["Last-Modified"]
    r = client.get("/file", headers={"If-Modified-Since": lm})
    assert r.status_code == 304
    assert r.data == b""
    older = http_date(_mtime(root) - 3600)
    assert client.get("/file", headers={"If-Modified-Since": older}).status_code == 200
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2)
    r = client.get("/file", headers={"If-Modified-Since": lm, "If-None-Match": '"other"'})
    assert r.status_code == 200


LAST_MODIFIED = {
    "aware": datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC),
    "naive": datetime(2020, 1, 2, 3, 4, 5),
    "int": 1_600_000_000,
    "float": 1_600_000_000.7,
}


@pytest.mark.parametrize("kind", list(LAST_MODIFIED))
@pytest.mark.parametrize("source", ["path", "bytesio"])
def test_last_modified_option_matches_flask(root, kind, source):
    def make(mod):
        app = mod.Flask(__name__, root_path=str(root))

        @app.route("/")
        def view():
            value = LAST_MODIFIED[kind]
            if source == "path":
                return mod.send_file("files/hello.txt", last_modified=value)
            return mod.send_file(io.BytesIO(b"abc"), mimetype="text/plain", last_modified=value)

        return app.test_client()

    ours, theirs = make(erlen).get("/"), make(flask).get("/")
    assert ours.headers["Last-Modified"] == theirs.headers["Last-Modified"]
    assert ("ETag" in ours.headers) == ("ETag" in theirs.headers)
    lm = ours.headers["Last-Modified"]
    assert make(erlen).get("/", headers={"If-Modified-Since": lm}).status_code == 304


def test_head_and_post_are_not_304_for_post(client):
    etag = client.get("/file").headers["ETag"]
    r = client.head("/file", headers={"If-None-Match": etag})
    assert r.status_code == 304
    r = client.head("/file")
    assert r.status_code == 200
    assert r.headers["Content-Length"] == "10"
    assert r.data == b""


def test_if_match_412(client):
    r = client.get("/file", headers={"If-Match": '"nope"'})
    assert r.status_code == 412
    assert r.data == b""
    etag = client.get("/file").headers["ETag"]
    assert client.get("/file", headers={"If-Match": etag}).status_code == 200


def test_etag_options(client):
    assert "ETag" not in client.get("/file", query_string={"etag": "0"}).headers
    r = client.get("/file", query_string={"etag": "v1"})
    assert r.headers["ETag"] == '"v1"'
    assert client.get("/file?etag=v1", headers={"If-None-Match": '"v1"'}).status_code == 304


def test_conditional_false(client):
    etag = client.get("/file").headers["ETag"]
    r = client.get("/file?conditional=0", headers={"If-None-Match": etag, "Range": "bytes=0-1"})
    assert r.status_code == 200
    assert r.data == HELLO
    assert "Accept-Ranges" not in r.headers


# -- ranges ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "body", "content_range"),
    [
        ("bytes=2-5", b"2345", "bytes 2-5/10"),
        ("bytes=0-0", b"0", "bytes 0-0/10"),
        ("bytes=7-", b"789", "bytes 7-9/10"),
        ("bytes=-3", b"789", "bytes 7-9/10"),
        ("bytes=-30", HELLO, "bytes 0-9/10"),
        ("bytes=5-100", b"56789", "bytes 5-9/10"),
    ],
)
def test_range_206(client, spec, body, content_range):
    r = client.get("/file", headers={"Range": spec})
    assert r.status_code == 206
    assert r.data == body
    assert r.headers["Content-Range"] == content_range
    assert r.headers["Content-Length"] == str(len(body))
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_range_head(client):
    r = client.head("/file", headers={"Range": "bytes=2-5"})
    assert r.status_code == 206
    assert r.headers["Content-Length"] == "4"
    assert r.data == b""


def test_range_in_big_file(client, root):
    data = (root / "files" / "big.bin").read_bytes()
    start = BLOCK_SIZE - 10
    r = client.get("/file?p=files/big.bin", headers={"Range": f"bytes={start}-{start + 99}"})
    assert r.status_code == 206
    assert r.data == data[start : start + 100]


@pytest.mark.parametrize("spec", ["bytes=10-", "bytes=100-200"])
def test_range_416(client, spec):
    r = client.get("/file", headers={"Range": spec})
    assert r.status_code == 416
    assert r.headers["Content-Range"] == "bytes */10"
    assert HELLO not in r.data


@pytest.mark.parametrize("spec", ["bytes=0-1,4-5", "items=0-1", "bytes=5-2", "bytes=x-y", "junk"])
def test_range_ignored_sends_whole_file(client, spec):
    r = client.get("/file", headers={"Range": spec})
    assert r.status_code == 200
    assert r.data == HELLO
    assert "Content-Range" not in r.headers


def test_if_range(client, root):
    first = client.get("/file")
    etag, lm = first.headers["ETag"], first.headers["Last-Modified"]
    r = client.get("/file", headers={"Range": "bytes=0-1", "If-Range": etag})
    assert (r.status_code, r.data) == (206, b"01")
    r = client.get("/file", headers={"Range": "bytes=0-1", "If-Range": '"stale"'})
    assert (r.status_code, r.data) == (200, HELLO)
    r = client.get("/file", headers={"Range": "bytes=0-1", "If-Range": "W/" + etag})
    assert r.status_code == 200  # weak validators never match If-Range
    r = client.get("/file", headers={"Range": "bytes=0-1", "If-Range": lm})
    assert (r.status_code, r.data) == (206, b"01")
    older = http_date(_mtime(root) - 60)
    r = client.get("/file", headers={"Range": "bytes=0-1", "If-Range": older})
    assert (r.status_code, r.data) == (200, HELLO)


# -- file objects ----------------------------------------------------------------------------


def test_bytesio(app):
    buf = io.BytesIO(b"hello world")

    @app.route("/bio")
    def bio():
        return send_file(buf, download_name="hi.txt")

    r = app.test_client().get("/bio")
    assert r.status_code == 200
    assert r.data == b"hello world"
    assert r.headers["Content-Length"] == "11"
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert r.headers["Content-Disposition"] == "inline; filename=hi.txt"
    assert "ETag" not in r.headers and "Last-Modified" not in r.headers
    r.close()  # an unbuffered test response closes the app's body on close, as Werkzeug's
    assert buf.closed


def test_bytesio_range_from_current_position(app):
    @app.route("/bio")
    def bio():
        buf = io.BytesIO(b"HEADER:payload")
        buf.seek(7)
        return send_file(buf, mimetype="application/octet-stream")

    c = app.test_client()
    r = c.get("/bio")
    assert (r.data, r.headers["Content-Length"]) == (b"payload", "7")
    r = c.get("/bio", headers={"Range": "bytes=1-3"})
    assert (r.status_code, r.data, r.headers["Content-Range"]) == (206, b"ayl", "bytes 1-3/7")


def test_real_file_object_is_streamed_and_closed(app, root):
    opened = []

    @app.route("/fo")
    def fo():
        f = open(os.path.join(root, "files", "big.bin"), "rb")  # noqa: SIM115
        opened.append(f)
        return send_file(f, mimetype="application/octet-stream")

    r = app.test_client().get("/fo")
    assert r.status_code == 200
    assert r.data == (root / "files" / "big.bin").read_bytes()
    assert "Content-Length" not in r.headers  # unknown size, as Werkzeug
    r.close()
    assert opened[0].closed


def test_file_object_needs_a_name_or_mimetype(app):
    app.config["PROPAGATE_EXCEPTIONS"] = True

    @app.route("/noname")
    def noname():
        return send_file(io.BytesIO(b"x"))

    @app.route("/attach")
    def attach():
        return send_file(io.BytesIO(b"x"), mimetype="text/plain", as_attachment=True)

    @app.route("/text")
    def text():
        return send_file(io.StringIO("x"), mimetype="text/plain")

    c = app.test_client()
    with pytest.raises(ValueError, match="MIME type"):
        c.get("/noname")
    with pytest.raises(TypeError, match="MIME type"):  # Werkzeug's exception type too
        c.get("/noname")
    with pytest.raises(TypeError, match="No name provided for attachment"):
        c.get("/attach")
    with pytest.raises(ValueError, match="binary mode"):
        c.get("/text")


def test_head_does_not_open_the_file(app, root, monkeypatch):
    import builtins

    calls = []
    real_open = builtins.open

    def spy(path, *a, **kw):
        calls.append(path)
        return real_open(path, *a, **kw)

    monkeypatch.setattr(builtins, "open", spy)
    r = app.test_client().head("/file")
    assert r.status_code == 200
    assert not [p for p in calls if str(p).endswith("hello.txt")]


# -- streaming and the server's file wrapper -------------------------------------------------


class FakeFileWrapper:
    """What a WSGI server puts in ``wsgi.file_wrapper``; records how it was used."""

    instances: list[FakeFileWrapper] = []

    def __init__(self, filelike, block_size=8192):
        self.filelike = filelike
        self.block_size = block_size
        self.closed = False
        FakeFileWrapper.instances.append(self)

    def __iter__(self):
        while True:
            data = self.filelike.read(self.block_size)
            if not data:
                return
            yield data

    def close(self):
        self.closed = True
        self.filelike.close()


def test_file_wrapper_is_used(client, root):
    FakeFileWrapper.instances.clear()
    r = client.get(
        "/file?p=files/big.bin", environ_overrides={"wsgi.file_wrapper": FakeFileWrapper}
    )
    assert r.status_code == 200
    assert r.data == (root / "files" / "big.bin").read_bytes()
    assert len(FakeFileWrapper.instances) == 1
    w = FakeFileWrapper.instances[0]
    assert w.filelike.name.endswith("big.bin")
    assert w.block_size == BLOCK_SIZE
    r.close()
    assert w.closed and w.filelike.closed


def test_file_wrapper_not_used_for_ranges(client):
    FakeFileWrapper.instances.clear()
    r = client.get(
        "/file",
        headers={"Range": "bytes=1-2"},
        environ_overrides={"wsgi.file_wrapper": FakeFileWrapper},
    )
    assert (r.status_code, r.data) == (206, b"12")
    assert FakeFileWrapper.instances == []


def test_wsgi_app_returns_the_file_wrapper_itself(app):
    from erlen.testing import EnvironBuilder

    environ = EnvironBuilder("/file").get_environ()
    environ["wsgi.file_wrapper"] = FakeFileWrapper
    FakeFileWrapper.instances.clear()
    rv = app(environ, lambda status, headers, exc_info=None: None)
    try:
        assert isinstance(rv, FakeFileWrapper)
    finally:
        rv.close()


def test_body_streams_in_blocks(app, root):
    size = (root / "files" / "big.bin").stat().st_size
    with app.test_request_context("/"):
        rv = send_file("files/big.bin")
        chunks = list(rv.response)
        rv.close()
    assert size > BLOCK_SIZE
    assert [len(c) for c in chunks[:-1]] == [BLOCK_SIZE] * (len(chunks) - 1)
    assert sum(map(len, chunks)) == size


def test_unsent_response_closes_file_on_close(app):
    with app.test_request_context("/"):
        rv = send_file("files/hello.txt")
        f = rv.response.file
        assert not f.closed
        rv.close()
        assert f.closed


# -- caching ---------------------------------------------------------------------------------


def test_max_age(client):
    r = client.get("/file?max_age=60")
    assert r.headers["Cache-Control"] == "public, max-age=60"
    assert "Expires" in r.headers
    r = client.get("/file?max_age=0")
    assert r.headers["Cache-Control"] == "no-cache, max-age=0"


def test_max_age_default_from_config(app, client):
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 120
    assert client.get("/file").headers["Cache-Control"] == "public, max-age=120"
    assert client.get("/static/hello.txt").headers["Cache-Control"] == "public, max-age=120"
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = None
    assert client.get("/static/hello.txt").headers["Cache-Control"] == "no-cache"


def test_max_age_callable(app, root):
    seen = []

    def policy(path):
        seen.append(path)
        return 7 if path.endswith(".txt") else None

    @app.route("/cb")
    def cb():
        return send_file("files/hello.txt", max_age=policy)

    r = app.test_client().get("/cb")
    assert r.headers["Cache-Control"] == "public, max-age=7"
    assert seen == [os.path.join(str(root), "files/hello.txt")]


# -- X-Sendfile ------------------------------------------------------------------------------


def test_x_sendfile(app, client, root):
    app.config["USE_X_SENDFILE"] = True
    r = client.get("/file")
    assert r.status_code == 200
    assert r.headers["X-Sendfile"] == os.path.join(str(root), "files/hello.txt")
    assert r.data == b""
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
    etag = r.headers["ETag"]
    r = client.get("/file", headers={"If-None-Match": etag})
    assert r.status_code == 304
    assert "X-Sendfile" not in r.headers


# -- send_from_directory and the static route ------------------------------------------------


def test_send_from_directory(client):
    r = client.get("/dir", query_string={"p": "hello.txt"})
    assert (r.status_code, r.data) == (200, HELLO)
    r = client.get("/dir", query_string={"p": "sub/deep.css"})
    assert (r.status_code, r.data) == (200, b"body{}")
    assert r.headers["Content-Type"] == "text/css; charset=utf-8"
    r = client.get("/dir", query_string={"p": "\u20ac rates.txt"})
    assert r.status_code == 200
    assert "filename*=UTF-8''%E2%82%AC%20rates.txt" in r.headers["Content-Disposition"]


def test_send_from_directory_missing_and_directories(client):
    assert client.get("/dir", query_string={"p": "nope.txt"}).status_code == 404
    assert client.get("/dir", query_string={"p": "sub"}).status_code == 404
    assert client.get("/dir", query_string={"p": "hello.txt/x"}).status_code == 404
    assert client.get("/dir", query_string={"p": "x" * 5000}).status_code == 404


def test_send_from_directory_passes_options(app):
    @app.route("/opt")
    def opt():
        return send_from_directory(
            "files", "hello.txt", as_attachment=True, download_name="h.txt", max_age=5
        )

    @app.route("/bad")
    def bad():
        return send_from_directory("files", "hello.txt", bogus=1)

    c = app.test_client()
    r = c.get("/opt")
    assert r.headers["Content-Disposition"] == "attachment; filename=h.txt"
    assert r.headers["Cache-Control"] == "public, max-age=5"
    app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(TypeError, match="bogus"):
        c.get("/bad")


@pytest.mark.parametrize("name", TRAVERSAL)
def test_send_from_directory_traversal_404(client, name):
    r = client.get("/dir", query_string={"p": name})
    assert r.status_code == 404
    assert SECRET not in r.data


def test_static_route(client):
    r = client.get("/static/hello.txt")
    assert (r.status_code, r.data) == (200, HELLO)
    r = client.get("/static/sub/deep.css")
    assert (r.status_code, r.data) == (200, b"body{}")
    r = client.get("/static/" + quote("\u20ac rates.txt"))
    assert (r.status_code, r.data) == (200, b"euro")
    r = client.get("/static/hello.txt", headers={"Range": "bytes=-2"})
    assert (r.status_code, r.data) == (206, b"89")


@pytest.mark.parametrize(
    ("options", "path", "url"),
    [
        ({"static_url_path": "/assets"}, "/assets/hello.txt", "/assets/hello.txt"),
        ({"static_folder": "files"}, "/files/hello.txt", "/files/hello.txt"),
        ({"static_folder": "files", "static_url_path": ""}, "/hello.txt", "/hello.txt"),
        ({"static_folder": None}, "/static/hello.txt", None),
    ],
)
def test_static_folder_and_url_path_options_match_flask(root, options, path, url):
    def make(mod):
        return mod.Flask(__name__, root_path=str(root), **options)

    app, fapp = make(erlen), make(flask)
    rv, frv = app.test_client().get(path), fapp.test_client().get(path)
    assert (rv.status_code, rv.data) == (frv.status_code, frv.data)
    assert rv.status_code == (404 if url is None else 200)
    assert app.static_url_path == fapp.static_url_path
    assert app.has_static_folder == fapp.has_static_folder
    if url is not None:
        with app.test_request_context():
            assert erlen.url_for("static", filename="hello.txt") == url


@pytest.mark.parametrize("name", [n for n in TRAVERSAL if n not in ("", "sub")])
def test_static_route_traversal_404(client, name):
    # quoted with safe="" so "/" and "\\" travel as %2F / %5C and arrive decoded in PATH_INFO
    # ("/static//etc/passwd" is redirected first: the router merges slashes, as Werkzeug's)
    r = client.get("/static/" + quote(name, safe=""), follow_redirects=True)
    assert r.status_code == 404
    assert SECRET not in r.data


def test_the_planted_files_exist(root):
    # the traversal tests are only meaningful if the dangerous names really exist
    for name in ("a\\..\\b", "C:secret", "CON", "NUL", "COM1", "nul.txt", "sub/NUL"):
        assert (root / "static" / name).read_bytes() == SECRET
