"""End-to-end: the real development and production servers in subprocesses on loopback."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

if os.name == "nt":  # pragma: no cover
    pytest.skip("process-group handling in these tests is POSIX only", allow_module_level=True)

ERLEN = str(Path(sys.executable).with_name("erlen"))
SRC = str(Path(__file__).resolve().parent.parent / "src")

APP = """
import hashlib, os, time
from erlen import Erlen, request

app = Erlen(__name__)

@app.route("/")
def index():
    return "{marker}"

@app.route("/conn")
def conn():
    return str(request.environ.get("REMOTE_PORT"))

@app.route("/sleep")
def sleep():
    time.sleep(float(request.args.get("s", "0.2")))
    return "slept"

@app.route("/upload", methods=["POST"])
def upload():
    data = request.get_data()
    return {{"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}}

@app.route("/pid")
def pid():
    return str(os.getpid())

@app.route("/boom", methods=["GET", "POST"])
def boom():
    secret_local = "<b>local & value</b>"
    return 1 / 0
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_app(folder: Path, marker: str = "v1", name: str = "app.py") -> Path:
    path = folder / name
    path.write_text(APP.format(marker=marker))
    return path


class Server:
    """A server subprocess in its own process group, output captured in a file."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
        self.log = cwd / f"server-{time.monotonic_ns()}.log"
        full_env = {**os.environ, "PYTHONPATH": SRC, "PYTHONUNBUFFERED": "1"}
        full_env.pop("ERLEN_RUN_FROM_CLI", None)
        full_env.pop("ERLEN_APP", None)
        full_env.update(env or {})
        self._out = open(self.log, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            args, cwd=cwd, env=full_env, stdout=self._out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_port(self, port: int, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited {self.proc.returncode}:\n{self.output()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"server did not listen on {port}:\n{self.output()}")

    def wait_exit(self, timeout: float = 15) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self._out.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self._out.close()


@pytest.fixture
def servers():
    started: list[Server] = []

    def start(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> Server:
        server = Server(args, cwd, env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def get(port: int, path: str, headers: dict[str, str] | None = None, timeout: float = 10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


@pytest.fixture
def dev_server(tmp_path, servers):
    """`erlen run` (no reloader, no debug) on a free port, shared by several checks."""
    write_app(tmp_path)
    port = free_port()
    server = servers([ERLEN, "--app", "app.py", "run", "--no-debug", "--port", str(port)], tmp_path)
    server.wait_port(port)
    return port, server


def test_keep_alive_two_requests_one_connection(dev_server):
    port, server = dev_server
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/conn")
    first = conn.getresponse()
    first_port = first.read()
    assert first.status == 200
    assert first.getheader("Connection", "").lower() != "close"
    sock = conn.sock
    conn.request("GET", "/")
    second = conn.getresponse()
    assert second.read() == b"v1"
    conn.request("GET", "/conn")
    third = conn.getresponse()
    assert third.read() == first_port  # same client port: the same TCP connection
    assert conn.sock is sock
    conn.close()
    time.sleep(0.2)
    log = server.output()
    assert '"GET /conn HTTP/1.1" 200' in log
    assert " * Running on http://127.0.0.1:" in log


def test_concurrent_requests(dev_server):
    port, _ = dev_server
    results: list[int] = []

    def worker() -> None:
        status, _, body = get(port, "/sleep?s=0.2")
        if body == b"slept":
            results.append(status)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    started = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join(15)
    elapsed = time.perf_counter() - started
    assert results == [200] * 8
    assert elapsed < 8 * 0.2 / 2, elapsed


def test_large_and_chunked_uploads(dev_server):
    port, _ = dev_server
    data = os.urandom(20 * 1024 * 1024)
    digest = hashlib.sha256(data).hexdigest()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/upload", body=data, headers={"Content-Type": "application/octet-stream"})
    resp = conn.getresponse()
    assert resp.status == 200
    assert json.loads(resp.read()) == {"size": len(data), "sha256": digest}
    chunks = [data[i : i + (1 << 20)] for i in range(0, 3 << 20, 1 << 20)]
    conn.request("POST", "/upload", body=iter(chunks), encode_chunked=True)
    resp = conn.getresponse()
    assert resp.status == 200
    body = json.loads(resp.read())
    assert body == {"size": 3 << 20, "sha256": hashlib.sha256(b"".join(chunks)).hexdigest()}
    conn.close()


def test_debug_off_plain_500_nothing_leaked(dev_server):
    port, server = dev_server
    status, headers, body = get(port, "/boom")
    assert status == 500
    assert b"Internal Server Error" in body
    assert b"ZeroDivisionError" not in body
    assert b"secret_local" not in body and b"local &amp; value" not in body
    time.sleep(0.2)
    assert "ZeroDivisionError: division by zero" in server.output()  # logged


def test_debug_page(tmp_path, servers):
    write_app(tmp_path)
    port = free_port()
    server = servers([ERLEN, "--app", "app.py", "run", "--debug", "--no-reload", "-p", str(port)], tmp_path)  # fmt: skip
    server.wait_port(port)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(
        "POST",
        "/boom?q=1",
        body="name=ann&password=hunter2",
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Probe": "probe<1>"},
    )
    resp = conn.getresponse()
    page = resp.read().decode()
    assert resp.status == 500
    assert resp.getheader("Content-Type") == "text/html; charset=utf-8"
    assert "ZeroDivisionError" in page and "division by zero" in page
    assert "return 1 / 0" in page  # source line
    assert "secret_local" in page and "&lt;b&gt;local &amp; value&lt;/b&gt;" in page
    assert "<b>local & value</b>" not in page
    assert "POST" in page and f"http://127.0.0.1:{port}/boom?q=1" in page
    assert "probe&lt;1&gt;" in page  # request header, escaped
    assert "ann" in page and "hunter2" not in page  # form shown, password redacted
    assert "<script" not in page.lower()
    conn.request("GET", "/boom", headers={"Accept": "application/json"})
    resp = conn.getresponse()
    data = json.loads(resp.read())
    assert resp.status == 500 and resp.getheader("Content-Type") == "application/json"
    assert data["error"]["type"] == "ZeroDivisionError"
    assert data["error"]["traceback"][-1]["code"] == "return 1 / 0"
    assert data["error"]["traceback"][-1]["locals"]["secret_local"] == "'<b>local & value</b>'"
    conn.close()
    assert " * Debug mode: on" in server.output()


def test_reloader_picks_up_edits_and_survives_syntax_errors(tmp_path, servers):
    app_file = write_app(tmp_path, "v1")
    port = free_port()
    server = servers([ERLEN, "--app", "app.py", "--debug", "run", "--port", str(port)], tmp_path)
    server.wait_port(port)
    assert get(port, "/")[2] == b"v1"

    def wait_for(check, what: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if check(get(port, "/", timeout=5)):
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"reloader never served {what}:\n{server.output()}")

    time.sleep(0.5)  # let the watcher start
    write_app(tmp_path, "v2")
    wait_for(lambda r: r[2] == b"v2", "v2")
    app_file.write_text(APP.format(marker="v3") + "\ndef broken(:\n")
    wait_for(lambda r: r[0] == 500 and b"SyntaxError" in r[2], "the syntax error")
    assert server.proc.poll() is None  # the watcher is alive
    write_app(tmp_path, "v3")
    wait_for(lambda r: r[2] == b"v3", "v3")
    assert "Detected change in 'app.py'" in server.output()
    assert "SyntaxError" in server.output()


def test_app_run_from_script(tmp_path, servers):
    port = free_port()
    script = write_app(tmp_path, "from-run")
    with script.open("a") as f:
        f.write(f"\nif __name__ == '__main__':\n    app.run(port={port})\n")
    server = servers([sys.executable, str(script)], tmp_path)
    server.wait_port(port)
    assert get(port, "/")[:3:2] == (200, b"from-run")


def test_port_in_use(tmp_path, servers):
    write_app(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        server = servers([ERLEN, "--app", "app.py", "run", "--port", str(port)], tmp_path)
        assert server.wait_exit() == 1
    out = server.output().strip()
    assert out.splitlines()[-1] == (
        f"Error: address 127.0.0.1:{port} is already in use (another server running? try --port)"
    )
    assert "Traceback" not in out


def test_bad_host(tmp_path, servers):
    write_app(tmp_path)
    server = servers([ERLEN, "--app", "app.py", "run", "--host", "no-such-host.invalid"], tmp_path)
    assert server.wait_exit() == 1
    out = server.output()
    assert "Error: cannot use host 'no-such-host.invalid'" in out
    assert "Traceback" not in out


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")
def test_tls_dev_server(tmp_path, servers):
    write_app(tmp_path, "secure")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem",
         "-out", "cert.pem", "-days", "2", "-subj", "/CN=localhost"],
        cwd=tmp_path, check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    port = free_port()
    server = servers(
        [
            ERLEN,
            "--app",
            "app.py",
            "run",
            "-p",
            str(port),
            "--cert",
            "cert.pem",
            "--key",
            "key.pem",
        ],
        tmp_path,
    )
    server.wait_port(port)
    ctx = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
    ctx.check_hostname = False
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=ctx)
    conn.request("GET", "/")
    resp = conn.getresponse()
    assert (resp.status, resp.read()) == (200, b"secure")
    conn.close()
    assert f"https://127.0.0.1:{port}" in server.output()


def test_serve_with_workers_and_graceful_sigterm(tmp_path, servers):
    pytest.importorskip("gunicorn")
    write_app(tmp_path, "prod")
    port = free_port()
    server = servers([ERLEN, "--app", "app:app", "serve", "-w", "2", "-p", str(port)], tmp_path)
    server.wait_port(port)
    deadline = time.monotonic() + 15
    while server.output().count("Booting worker") < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.output().count("Booting worker") == 2
    assert get(port, "/")[2] == b"prod"
    result: list[tuple[int, bytes]] = []

    def slow() -> None:
        status, _, body = get(port, "/sleep?s=1", timeout=15)
        result.append((status, body))

    th = threading.Thread(target=slow)
    th.start()
    time.sleep(0.3)  # the slow request is in flight
    os.kill(server.proc.pid, signal.SIGTERM)
    th.join(15)
    assert result == [(200, b"slept")]  # finished despite the shutdown
    assert server.wait_exit(15) == 0
    log = server.output()
    assert '"GET / HTTP/1.1" 200' in log  # access log
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_serve_port_in_use(tmp_path, servers):
    pytest.importorskip("gunicorn")
    write_app(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        server = servers([ERLEN, "--app", "app.py", "serve", "--port", str(port)], tmp_path)
        assert server.wait_exit() == 1
    assert "is already in use" in server.output()


def test_cli_routes_in_subprocess(tmp_path):
    (tmp_path / "wsgi.py").write_text(
        textwrap.dedent(
            """
            from erlen import Erlen
            app = Erlen(__name__)

            @app.post("/items/<int:id>")
            def item(id):
                return ""
            """
        )
    )
    env = {**os.environ, "PYTHONPATH": SRC}
    env.pop("ERLEN_APP", None)
    out = subprocess.run(
        [ERLEN, "routes"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["Endpoint", "Methods", "Rule"]
    assert ["item", "POST", "/items/<int:id>"] in [line.split() for line in lines]
