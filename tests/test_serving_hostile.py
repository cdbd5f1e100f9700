"""Hostile and broken clients against the real servers (waitress for `erlen run`, gunicorn for
`erlen serve`) over raw sockets: malformed Host headers, broken chunked bodies, forged log
lines, oversized headers, control-socket collisions (issue 11, section 5; decision 010)."""

from __future__ import annotations

import json
import os
import re
import socket
import sys
from pathlib import Path

import pytest

from test_serving import ERLEN, free_port, servers, wait_output  # noqa: F401 (servers: a fixture)

if os.name == "nt":  # pragma: no cover
    pytest.skip("process-group handling in these tests is POSIX only", allow_module_level=True)

APP = """
from erlen import Erlen, request, url_for

app = Erlen(__name__)

@app.route("/")
def index():
    return "ok"

@app.route("/dir/")
def directory():
    return url_for("directory", _external=True)

@app.route("/headers")
def headers():
    return dict(request.headers)

@app.post("/data")
def data():
    return {"size": len(request.get_data())}

@app.post("/form")
def form():
    return {"form": request.form.to_dict()}

@app.post("/files")
def files():
    return {"files": list(request.files)}

@app.post("/json")
def json():
    return {"json": request.get_json()}
"""


def write_app(folder: Path) -> None:
    (folder / "app.py").write_text(APP)


def raw_request(port: int, data: bytes, timeout: float = 10) -> bytes:
    """Send ``data`` as it is on a new connection; everything the server answers until it
    closes (or ``timeout``)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except TimeoutError:
            pass
    return b"".join(chunks)


def get_with_host(port: int, path: bytes, host: bytes) -> bytes:
    return raw_request(
        port, b"GET " + path + b" HTTP/1.1\r\nHost: " + host + b"\r\nConnection: close\r\n\r\n"
    )


@pytest.fixture
def dev_server(tmp_path, servers):  # noqa: F811
    """`erlen run` (waitress, no reloader, no debug) on a free port."""
    write_app(tmp_path)
    port = free_port()
    server = servers([ERLEN, "--app", "app.py", "run", "--no-debug", "--port", str(port)], tmp_path)
    server.wait_port(port)
    return port, server


@pytest.fixture
def prod_server(tmp_path, servers):  # noqa: F811
    """`erlen serve` (gunicorn, one sync worker) on a free port."""
    pytest.importorskip("gunicorn")
    write_app(tmp_path)
    port = free_port()
    args = [ERLEN, "--app", "app:app", "serve", "-w", "1", "-p", str(port)]
    server = servers(args, tmp_path, {"HOME": str(tmp_path)})
    server.wait_port(port)
    return port, server


# -- 1. Host header ---------------------------------------------------------------------------
def test_invalid_host_is_400_in_real_server(dev_server):
    port, server = dev_server
    for host in (b"a@evil.com", b"x" * 5000, b"h:99999"):
        for path in (b"/dir", b"/dir/"):
            answer = get_with_host(port, path, host)
            head = answer.partition(b"\r\n\r\n")[0]
            assert head.startswith(b"HTTP/1.1 400 "), answer[:300]
            assert b"location" not in head.lower() and host not in answer
    answer = get_with_host(port, b"/dir", b"ok.test:81")
    assert answer.startswith(b"HTTP/1.1 308 ")
    assert b"\r\nLocation: http://ok.test:81/dir/\r\n" in answer
    log = wait_output(server, "400 GET '/dir/': The request's Host header is invalid.")
    assert "Traceback" not in log


# -- 2. broken chunked request bodies -----------------------------------------------------------
BODY_VIEWS = {
    b"/data": b"application/octet-stream",
    b"/form": b"application/x-www-form-urlencoded",
    b"/files": b"multipart/form-data; boundary=b",
    b"/json": b"application/json",
}
BROKEN_CHUNKED = {
    "bad-size": b"zz\r\nhello\r\n0\r\n\r\n",
    "no-terminator": b"5\r\nhelloXX3\r\nabc\r\n0\r\n\r\n",
    "closed-mid-body": b"10\r\nhel",  # then the client closes its side
}


def post_chunked(port: int, path: bytes, content_type: bytes, body: bytes, close: bool) -> bytes:
    head = (
        b"POST " + path + b" HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: " + content_type + b"\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head + body)
        if close:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except (TimeoutError, ConnectionResetError):
            pass
    return b"".join(chunks)


def test_broken_chunked_body_is_400_under_gunicorn(prod_server):
    port, server = prod_server
    for case, body in BROKEN_CHUNKED.items():
        for path, content_type in BODY_VIEWS.items():
            answer = post_chunked(port, path, content_type, body, case == "closed-mid-body")
            assert answer.startswith(b"HTTP/1.1 400 "), (case, path, answer[:200])
            assert b"Traceback" not in answer
    # the worker read each body while the app ran: one line each, naming what the server saw
    log = wait_output(server, "400 POST '/json': The request body ended before it was complete")
    for path in ("/data", "/form", "/files", "/json"):
        assert f"400 POST '{path}': The request body could not be read (InvalidChunkSize)." in log
        assert (
            f"400 POST '{path}': The request body could not be read (ChunkMissingTerminator)."
            in log
        )
        assert (
            f"400 POST '{path}': The request body ended before it was complete (NoMoreData)." in log
        )
    assert "Traceback" not in log and " 500 " not in log
    # the worker is still serving
    assert get_with_host(port, b"/", b"localhost").startswith(b"HTTP/1.1 200 ")


def test_broken_chunked_body_under_waitress(dev_server):
    """waitress de-chunks before calling the app: it answers a broken body with its own 400 and
    drops a connection closed mid-body without calling the app at all."""
    port, server = dev_server
    for case, body in BROKEN_CHUNKED.items():
        for path, content_type in BODY_VIEWS.items():
            answer = post_chunked(port, path, content_type, body, case == "closed-mid-body")
            if case == "closed-mid-body":
                assert answer == b""
            else:
                assert answer.startswith(b"HTTP/1.1 400 Bad Request"), (case, path, answer)
    assert get_with_host(port, b"/", b"localhost").startswith(b"HTTP/1.1 200 ")
    log = server.output()
    assert "Traceback" not in log and "POST" not in log  # the app never saw them


# -- 3. access log lines --------------------------------------------------------------------------
def test_access_log_escapes_the_decoded_path(dev_server):
    port, server = dev_server
    forged = b"%0d%0a127.0.0.1%20%22GET%20/forged%20HTTP/1.1%22%20200%200.1ms"
    answer = raw_request(
        port,
        b"GET /x" + forged + b"%1b[31mred HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 404 ")
    log = wait_output(server, " 404 ")
    assert "\x1b" not in log and "\r" not in log
    lines = [line for line in log.splitlines() if line.startswith("127.0.0.1 ")]
    assert len(lines) == 1, log  # one request, one line: nothing forged
    logged = r'127.0.0.1 "GET /x\x0d\x0a127.0.0.1 \"GET /forged HTTP/1.1\" 200 0.1ms\x1b[31mred'
    assert re.fullmatch(re.escape(logged) + r' HTTP/1\.1" 404 \d+\.\dms', lines[0]), lines[0]


# -- 4. debug page redaction ----------------------------------------------------------------------
def test_debug_page_in_real_server_shows_no_secret(tmp_path, servers):  # noqa: F811
    (tmp_path / "app.py").write_text(
        "from erlen import Erlen\n"
        "app = Erlen(__name__)\n"
        "app.config['SECRET_KEY'] = 's3cr3t'\n"
        "@app.route('/boom')\n"
        "def boom():\n"
        "    password = 'hunter2'\n"
        "    config = app.config\n"
        "    raise RuntimeError('boom')\n"
    )
    port = free_port()
    args = [ERLEN, "--app", "app.py", "run", "--debug", "--no-reload", "-p", str(port)]
    server = servers(args, tmp_path)
    server.wait_port(port)
    answer = raw_request(
        port,
        b"GET /boom?api_key=k3yk3yk3y HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 500 ")
    page = answer.decode()
    assert "RuntimeError" in page and "<th>password</th><td>[redacted]</td>" in page
    assert "<th>config</th><td>Config(" in page  # shown, its secret keys redacted
    for secret in ("hunter2", "s3cr3t", "k3yk3yk3y"):
        assert secret not in page, secret


# -- 5. request line and header limits ----------------------------------------------------------
HEAD = b"Host: localhost\r\nConnection: close\r\n"
OVER_LIMITS = {
    "request-line": (b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\n" + HEAD + b"\r\n", 414),
    "header-line": (b"GET / HTTP/1.1\r\n" + HEAD + b"X-Big: " + b"b" * 9000 + b"\r\n\r\n", 431),
    "fields": (b"GET / HTTP/1.1\r\n" + HEAD + b"".join(b"X-F%d: v\r\n" % i for i in range(101)) + b"\r\n", 431),
}  # fmt: skip
UNDER_LIMITS = (
    b"GET /" + b"a" * 4000 + b" HTTP/1.1\r\n" + HEAD
    + b"".join(b"X-F%d: v\r\n" % i for i in range(95)) + b"X-Big: " + b"b" * 8000 + b"\r\n\r\n"
)  # fmt: skip


@pytest.mark.parametrize("which", ["dev", "prod"])
def test_request_limits_as_gunicorn(request, which):
    port, server = request.getfixturevalue(f"{which}_server")
    for case, (data, code) in OVER_LIMITS.items():
        answer = raw_request(port, data)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.split(b"\r\n")[0].split(b" ")[1] == str(code).encode(), (case, answer[:200])
        assert len(body) < 300 and b"Traceback" not in answer
    assert raw_request(port, UNDER_LIMITS).split(b"\r\n")[0].endswith(b" 404 NOT FOUND")
    if which == "dev":  # one line per refused request, naming the limit
        log = wait_output(server, "more header fields than limit_request_fields 100")
        assert "414 URI Too Long from 127.0.0.1: request line over limit_request_line 4094" in log
        assert (
            "431 Request Header Fields Too Large from 127.0.0.1:"
            " a header line over limit_request_field_size 8190"
        ) in log


def test_request_limits_are_options_of_app_run(tmp_path, servers):  # noqa: F811
    port = free_port()
    write_app(tmp_path)
    with (tmp_path / "app.py").open("a") as f:
        f.write(f"\napp.run(port={port}, limit_request_fields=200, limit_request_line=8000)\n")
    server = servers([sys.executable, "app.py"], tmp_path)
    server.wait_port(port)
    assert raw_request(port, OVER_LIMITS["request-line"][0]).startswith(b"HTTP/1.1 404 ")
    assert raw_request(port, OVER_LIMITS["fields"][0]).startswith(b"HTTP/1.1 200 ")
    assert raw_request(port, OVER_LIMITS["header-line"][0]).startswith(b"HTTP/1.0 431 ")


# -- 6. gunicorn's control socket -------------------------------------------------------------------
def test_two_serve_instances_leave_nothing_in_home(tmp_path, servers):  # noqa: F811
    pytest.importorskip("gunicorn")
    write_app(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "XDG_RUNTIME_DIR": ""}
    started = []
    for _ in range(2):
        port = free_port()
        args = [ERLEN, "--app", "app:app", "serve", "-w", "1", "-p", str(port)]
        server = servers(args, tmp_path, env)
        server.wait_port(port)
        started.append((port, server))
    for port, server in started:  # both answer, from their own master
        assert get_with_host(port, b"/", b"localhost").startswith(b"HTTP/1.1 200 ")
        wait_output(server, "Booting worker")
        assert "Control socket" not in server.output()
    for _, server in started:
        server.stop()
    assert list(home.iterdir()) == []


def test_serve_control_socket_on_request(tmp_path, servers):  # noqa: F811
    config = pytest.importorskip("gunicorn.config")
    if "control_socket" not in config.Config().settings:
        pytest.skip("gunicorn < 25.1 has no control socket")
    write_app(tmp_path)
    port = free_port()
    ctl = tmp_path / "run" / "erlen.ctl"
    args = [ERLEN, "--app", "app:app", "serve", "-w", "1", "-p", str(port)]
    server = servers([*args, "--control-socket", str(ctl)], tmp_path, {"HOME": str(tmp_path)})
    server.wait_port(port)
    wait_output(server, f"Control socket listening at {ctl}")
    assert ctl.is_socket() and (ctl.stat().st_mode & 0o777) == 0o600


# -- 7. the nginx config of docs/deployment.md ------------------------------------------------------
def test_docs_nginx_config_proxies(tmp_path, prod_server):
    """The config the docs recommend starts (nginx -t, then a foreground nginx) and proxies to
    gunicorn with the forwarding headers; static files come from nginx itself. The slowloris
    measurement is bench/slow_clients.py (minutes), not a test."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.slow_clients import nginx_binary, start_nginx, stop

    if nginx_binary() is None:
        if os.environ.get("CI"):  # CI installs it (make test): missing is a failure there
            pytest.fail("CI must have nginx (scripts/system-deps.sh)")
        pytest.skip("nginx is not installed (scripts/system-deps.sh installs it)")

    port, _ = prod_server
    static = tmp_path / "static"
    static.mkdir()
    (static / "app.css").write_text("body{}")
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    listen = free_port()
    nginx = start_nginx(prefix, listen, port, static)
    try:
        answer = get_with_host(listen, b"/headers", b"example.com")
        assert answer.startswith(b"HTTP/1.1 200 "), answer[:300]
        seen = json.loads(answer.partition(b"\r\n\r\n")[2])
        assert seen["Host"] == "example.com" and seen["X-Forwarded-Proto"] == "http"
        assert seen["X-Forwarded-For"] == "127.0.0.1" and seen["X-Forwarded-Host"] == "example.com"
        answer = get_with_host(listen, b"/static/app.css", b"example.com")
        assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"\r\n\r\nbody{}")
        assert b"Server: nginx" in answer
    finally:
        stop(nginx)
