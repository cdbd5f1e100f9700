"""Hostile and broken clients against the real servers (waitress for `erlen run`, gunicorn for
`erlen serve`) over raw sockets: malformed Host headers, broken chunked bodies, forged log
lines, oversized headers, control-socket collisions (issue 11, section 5; decision 010)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from test_serving import ERLEN, Server, free_port, servers, wait_output  # noqa: F401

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
