"""End-to-end: the real development and production servers in subprocesses on loopback."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
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

@app.route("/save", methods=["POST"])
def save():
    from erlen.utils import secure_filename
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "a", "uploads")
    os.makedirs(folder, exist_ok=True)
    names = []
    for f in request.files.getlist("f"):
        name = secure_filename(f.filename)
        f.save(os.path.join(folder, name))
        names.append([f.filename, name])
    return {{"saved": names}}

@app.route("/stream")
def stream():
    return (part.encode() for part in ("one,", "two,", "three"))

@app.route("/pid")
def pid():
    return str(os.getpid())

@app.route("/boom", methods=["GET", "POST"])
def boom():
    markup_local = "<b>local & value</b>"
    return 1 / 0
"""


def wait_output(server: Server, text: str, timeout: float = 10) -> str:
    """The server's output once it contains ``text`` (bounded wait)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = server.output()
        if text in out:
            return out
        time.sleep(0.05)
    raise AssertionError(f"never saw {text!r} in the output:\n{server.output()}")


def edit_until(
    server: Server,
    port: int,
    path: str,
    edit: Callable[[], None],
    check: Callable[[tuple[int, dict[str, str], bytes]], bool],
    what: str,
    timeout: float = 30,
) -> None:
    """Edit a watched file until GET ``path`` passes ``check`` (bounded wait).

    The edit is repeated every few seconds: on a loaded machine the watcher may not be
    watching yet when the first edit lands, and a lost event must not fail the test.
    """
    edit()
    deadline = time.monotonic() + timeout
    next_edit = time.monotonic() + 4
    while time.monotonic() < deadline:
        try:
            if check(get(port, path, timeout=5)):
                return
        except OSError:
            pass
        if time.monotonic() > next_edit:
            edit()
            next_edit = time.monotonic() + 4
        time.sleep(0.2)
    raise AssertionError(f"the reloader never served {what}:\n{server.output()}")


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
    log = wait_output(server, '"GET /conn HTTP/1.1" 200')
    # one line per request: client, method, path, protocol, status, time
    assert re.search(r'^127\.0\.0\.1 "GET /conn HTTP/1\.1" 200 \d+\.\dms$', log, re.M), log
    assert " * Running on http://127.0.0.1:" in log


def test_streamed_response_is_chunked(dev_server):
    port, _ = dev_server
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/stream")
    resp = conn.getresponse()
    assert resp.status == 200
    assert resp.getheader("Transfer-Encoding") == "chunked"
    assert resp.getheader("Content-Length") is None
    assert resp.read() == b"one,two,three"
    # waitress ends the connection after a chunked response (Connection: close, valid
    # HTTP/1.1); the client reconnects and the next request works
    conn.request("GET", "/")
    assert conn.getresponse().read() == b"v1"
    conn.close()


def test_concurrent_requests(dev_server):
    port, _ = dev_server
    results: list[int] = []

    def worker() -> None:
        status, _, body = get(port, "/sleep?s=0.5")
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
    assert elapsed < 8 * 0.5 / 2, elapsed  # one at a time would take 4 s


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


def test_upload_with_path_filename_is_saved_inside_the_folder(dev_server, tmp_path):
    """Issue 11 through a real server: '../../etc/passwd' is accepted as sent, and
    secure_filename stores it as a plain name in the upload folder, nowhere else."""
    port, _ = dev_server
    b = "realserverboundary"
    parts = [("../../etc/passwd", b"pw"), ("../escape.txt", b"esc"), ("ok.txt", b"ok")]
    body = b"".join(
        f'--{b}\r\nContent-Disposition: form-data; name="f"; filename="{name}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n"
        for name, data in parts
    ) + f"--{b}--\r\n".encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(
            "POST", "/save", body=body,
            headers={"Content-Type": f"multipart/form-data; boundary={b}"},
        )  # fmt: skip
        resp = conn.getresponse()
        assert resp.status == 200
        assert json.loads(resp.read()) == {
            "saved": [
                ["../../etc/passwd", "etc_passwd"],
                ["../escape.txt", "escape.txt"],
                ["ok.txt", "ok.txt"],
            ]
        }
    finally:
        conn.close()
    uploads = tmp_path / "a" / "uploads"
    assert {p.name: p.read_bytes() for p in uploads.iterdir()} == {
        "etc_passwd": b"pw", "escape.txt": b"esc", "ok.txt": b"ok",
    }  # fmt: skip
    others = [
        p.relative_to(tmp_path).as_posix()
        for p in tmp_path.rglob("*")
        if p.is_file() and p.parent != uploads and "__pycache__" not in p.parts
    ]
    assert sorted(o for o in others if not o.startswith("server-")) == ["app.py"]


def test_debug_off_plain_500_nothing_leaked(dev_server):
    port, server = dev_server
    status, headers, body = get(port, "/boom")
    assert status == 500
    assert b"Internal Server Error" in body
    assert b"ZeroDivisionError" not in body
    assert b"markup_local" not in body and b"local &amp; value" not in body
    wait_output(server, "ZeroDivisionError: division by zero")  # logged


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
    assert "markup_local" in page and "&lt;b&gt;local &amp; value&lt;/b&gt;" in page
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
    assert data["error"]["traceback"][-1]["locals"]["markup_local"] == "'<b>local & value</b>'"
    conn.close()
    assert " * Debug mode: on" in server.output()


def test_reloader_picks_up_edits_and_survives_syntax_errors(tmp_path, servers):
    app_file = write_app(tmp_path, "v1")
    port = free_port()
    server = servers([ERLEN, "--app", "app.py", "--debug", "run", "--port", str(port)], tmp_path)
    server.wait_port(port)
    assert get(port, "/")[2] == b"v1"

    def edit(marker: str, tail: str = "") -> Callable[[], None]:
        return lambda: app_file.write_text(APP.format(marker=marker) + tail)

    edit_until(server, port, "/", edit("v2"), lambda r: r[2] == b"v2", "v2")
    edit_until(
        server,
        port,
        "/",
        edit("v3", "\ndef broken(:\n"),
        lambda r: r[0] == 500 and b"SyntaxError" in r[2],
        "the syntax error",
    )
    assert server.proc.poll() is None  # the watcher is alive
    edit_until(server, port, "/", edit("v3"), lambda r: r[2] == b"v3", "v3")
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


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "reloader"])
def test_port_in_use_with_and_without_reloader(tmp_path, servers, debug):
    write_app(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        flag = "--debug" if debug else "--no-debug"
        server = servers([ERLEN, "--app", "app.py", flag, "run", "--port", str(port)], tmp_path)
        assert server.wait_exit() == 1
    lines = server.output().strip().splitlines()
    assert lines == [
        f"Error: address 127.0.0.1:{port} is already in use (another server running? try --port)"
    ]


def test_permission_denied_one_line(tmp_path, servers):
    """EACCES from bind (simulated: the tests may run as root) is one line, exit 1."""
    write_app(tmp_path)
    code = (
        "import errno, socket, sys\n"
        "def bind(self, addr): raise PermissionError(errno.EACCES, 'Permission denied')\n"
        "socket.socket.bind = bind\n"
        "from erlen.cli import main\n"
        "sys.argv = ['erlen', '--app', 'app.py', 'run', '--port', '80']\n"
        "main()\n"
    )
    server = servers([sys.executable, "-c", code], tmp_path)
    assert server.wait_exit() == 1
    assert server.output().strip().splitlines() == [
        "Error: permission denied to listen on 127.0.0.1:80 (ports below 1024 need privileges)"
    ]


@pytest.mark.skipif(os.geteuid() == 0, reason="root may bind privileged ports")
def test_permission_denied_real(tmp_path, servers):
    write_app(tmp_path)
    server = servers([ERLEN, "--app", "app.py", "run", "--port", "1"], tmp_path)
    assert server.wait_exit() == 1
    assert "Error: permission denied to listen on 127.0.0.1:1" in server.output()


def test_import_error_in_app_is_shown_with_real_traceback(tmp_path, servers):
    (tmp_path / "broken.py").write_text("import os\nfrom erlen import Erlen\n\nimport nope_xyz\n")
    server = servers([ERLEN, "--app", "broken.py", "run", "--port", str(free_port())], tmp_path)
    assert server.wait_exit() == 2
    out = server.output()
    assert "While importing 'broken', an ImportError was raised" in out
    assert 'broken.py", line 4, in <module>' in out and "import nope_xyz" in out
    assert "ModuleNotFoundError: No module named 'nope_xyz'" in out
    assert "site-packages/click" not in out and "discovery.py" not in out


@pytest.mark.parametrize("reload", [False, True], ids=["plain", "reloader"])
def test_ctrl_c_stops_cleanly(tmp_path, servers, reload):
    write_app(tmp_path)
    port = free_port()
    flag = "--reload" if reload else "--no-reload"
    server = servers([ERLEN, "--app", "app.py", "run", flag, "--port", str(port)], tmp_path)
    server.wait_port(port)
    assert get(port, "/")[2] == b"v1"
    os.killpg(server.proc.pid, signal.SIGINT)  # what a terminal sends to the foreground group
    assert server.wait_exit(15) == 0
    out = server.output()
    assert "Traceback" not in out and "KeyboardInterrupt" not in out
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_dotenv_files_and_erlen_debug_in_real_server(tmp_path, servers):
    write_app(tmp_path, name="webapp.py")
    port = free_port()
    (tmp_path / ".erlenenv").write_text("ERLEN_APP=webapp.py\nERLEN_DEBUG=0\n")
    (tmp_path / ".env").write_text("ERLEN_DEBUG=1\n")  # .env wins over .erlenenv
    server = servers([ERLEN, "run", "--no-reload", "--port", str(port)], tmp_path)
    server.wait_port(port)
    status, headers, body = get(port, "/boom", headers={"Accept": "application/json"})
    assert status == 500 and headers["Content-Type"] == "application/json"
    assert json.loads(body)["error"]["type"] == "ZeroDivisionError"
    assert " * Debug mode: on" in server.output()
    server.stop()
    (tmp_path / "off.env").write_text("ERLEN_DEBUG=0\n")  # --env-file wins over both
    server = servers([ERLEN, "--env-file", "off.env", "run", "--port", str(port)], tmp_path)
    server.wait_port(port)
    status, _, body = get(port, "/boom", headers={"Accept": "application/json"})
    assert status == 500 and b"ZeroDivisionError" not in body
    assert " * Debug mode: off" in server.output()


def test_app_run_debug_true_reloads_on_template_change(tmp_path, servers):
    """The Flask tutorial's way: `python app.py` with app.run(debug=True, port=...)."""
    port = free_port()
    script = write_app(tmp_path, "tutorial")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "page.html").write_text("page one")
    with script.open("a") as f:
        f.write(
            "\nfrom erlen import render_template\n"
            "@app.route('/page')\ndef page():\n    return render_template('page.html')\n"
            f"\nif __name__ == '__main__':\n    app.run(debug=True, port={port})\n"
        )
    server = servers([sys.executable, str(script)], tmp_path)
    server.wait_port(port)
    status, headers, page = get(port, "/boom")
    assert status == 500 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"ZeroDivisionError" in page and b"return 1 / 0" in page
    first_pid = get(port, "/pid")[2]
    template = tmp_path / "templates" / "page.html"
    edit_until(
        server, port, "/pid", lambda: template.write_text("page two"),
        lambda r: r[0] == 200 and r[2] != first_pid, "a restarted process",
    )  # fmt: skip
    assert get(port, "/page")[2] == b"page two"
    assert "Detected change in 'templates/page.html'" in server.output()
    os.killpg(server.proc.pid, signal.SIGINT)
    assert server.wait_exit(15) == 0


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
    args = [ERLEN, "--app", "app:app", "serve", "-w", "2", "-t", "2", "-p", str(port)]
    server = servers(args, tmp_path)
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
    assert re.search(r'^127\.0\.0\.1 "GET / HTTP/1\.1" 200 4 \d+ms', log, re.M), log  # access
    assert "Handling signal: term" in log and "Shutting down: Master" in log
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
    out = subprocess.run(
        [ERLEN, "routes", "--sort", "rule"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert [line.split()[0] for line in out.stdout.splitlines()[2:]] == ["item", "static"]


# -- app.run() in process: what it hands the server ---------------------------------------------
@pytest.fixture
def captured_run(monkeypatch, tmp_path):
    import erlen.serving

    calls: list[tuple[tuple, dict]] = []
    monkeypatch.setattr(erlen.serving, "run_simple", lambda *a, **k: calls.append((a, k)))
    monkeypatch.chdir(tmp_path)
    for var in ("RUN_FROM_CLI", "DEBUG", "SKIP_DOTENV", "RUN_PORT"):
        monkeypatch.delenv(f"ERLEN_{var}", raising=False)
        monkeypatch.delenv(f"FLASK_{var}", raising=False)
    yield calls
    os.environ.pop("ERLEN_DEBUG", None)  # a .env file may have set it
    os.environ.pop("FLASK_DEBUG", None)


def test_app_run_arguments(captured_run, monkeypatch):
    from erlen import Erlen

    app = Erlen("run_app")
    app.run()
    (host, port, served), options = captured_run[-1]
    assert (host, port, served) == ("127.0.0.1", 5000, app)
    assert options == {"use_reloader": False, "use_debugger": False}
    app.run(host="0.0.0.0", port=0, debug=True, use_reloader=False, threads=4)
    (host, port, _), options = captured_run[-1]
    assert (host, port, app.debug) == ("0.0.0.0", 0, True)
    assert options == {"use_reloader": False, "use_debugger": True, "threads": 4}
    app.debug = False
    app.config["SERVER_NAME"] = "example.test:8123"
    app.run()
    assert captured_run[-1][0][:2] == ("example.test", 8123)
    monkeypatch.setenv("ERLEN_RUN_FROM_CLI", "true")  # `erlen run` imported a script
    app.run()
    assert len(captured_run) == 3


def test_app_run_loads_dotenv_unless_told_not_to(captured_run, tmp_path):
    from erlen import Erlen

    (tmp_path / ".env").write_text("ERLEN_DEBUG=1\n")
    app = Erlen("run_app")
    app.run(load_dotenv=False)
    assert app.debug is False and "ERLEN_DEBUG" not in os.environ
    app.run()
    assert app.debug is True and captured_run[-1][1]["use_reloader"] is True


def test_app_run_reads_flask_debug_and_flaskenv(captured_run, tmp_path, monkeypatch):
    from erlen import Erlen

    (tmp_path / ".flaskenv").write_text("FLASK_DEBUG=1\n")
    app = Erlen("run_app")
    app.run()
    assert app.debug is True and captured_run[-1][1]["use_debugger"] is True
    monkeypatch.setenv("ERLEN_DEBUG", "0")  # erlen's spelling wins
    app.run()
    assert app.debug is False
    monkeypatch.setenv("FLASK_SKIP_DOTENV", "1")
    os.environ.pop("FLASK_DEBUG")  # set by .flaskenv: not monkeypatch's to restore
    monkeypatch.delenv("ERLEN_DEBUG")
    app.run()
    assert "FLASK_DEBUG" not in os.environ  # .flaskenv skipped


def test_app_run_server_error_is_one_line(monkeypatch, capsys):
    import erlen.serving
    from erlen import Erlen

    def fail(*a, **k):
        raise erlen.serving.ServerError("address 127.0.0.1:5000 is already in use")

    monkeypatch.setattr(erlen.serving, "run_simple", fail)
    monkeypatch.delenv("ERLEN_RUN_FROM_CLI", raising=False)
    with pytest.raises(SystemExit) as info:
        Erlen("run_app").run(load_dotenv=False)
    assert info.value.code == 1
    assert capsys.readouterr().err == "Error: address 127.0.0.1:5000 is already in use\n"
