"""The deployment files, run as they say: the Procfile's gunicorn command and the uvicorn
command line as real processes, the committed nginx.conf in front of gunicorn (a real
nginx from Debian), and the Dockerfile's CMD being the command these tests run (docker
itself is not needed here)."""

from __future__ import annotations

import http.client
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import free_port

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def procfile_command() -> list[str]:
    (line,) = [x for x in (HERE / "Procfile").read_text().splitlines() if x.startswith("web:")]
    return shlex.split(line.removeprefix("web:").strip())


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers=headers or {})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body


def test_dockerfile_cmd_is_the_procfiles_command():
    cmd = re.search(r"^CMD (\[.*\])$", (HERE / "Dockerfile").read_text(), re.M)
    assert cmd is not None
    assert json.loads(cmd.group(1)) == [
        "8000" if a == "$PORT" else a.replace("$PORT", "8000") for a in procfile_command()
    ]


@pytest.fixture(scope="module")
def gunicorn(live_server):
    pytest.importorskip("gunicorn")
    port = free_port()
    argv = [a.replace("$PORT", str(port)) for a in procfile_command()]
    argv[0] = str(BIN / argv[0])  # the venv's gunicorn
    return live_server(argv, cwd=HERE, port=port, ready_path="/health")


def test_gunicorn_from_the_procfile_serves_the_app(gunicorn):
    status, headers, body = get(gunicorn.port, "/health")
    assert (status, body) == (200, b"ok")
    assert "gunicorn" in headers["server"]


def test_uvicorn_command_line_serves_the_app(live_server):
    pytest.importorskip("uvicorn")
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "--interface", "asgi3", "--proxy-headers"]
    argv += ["--forwarded-allow-ips", "127.0.0.1", "--port", str(port), "app:app"]
    server = live_server(argv, cwd=HERE, port=port, ready_path="/health")
    status, headers, body = get(port, "/", {"X-Forwarded-Proto": "https", "Host": "example.com"})
    assert status == 200 and headers["server"] == "uvicorn"
    seen = json.loads(body)
    assert seen["scheme"] == "https" and seen["url"] == "https://example.com/"
    server.stop()


def test_nginx_config_in_front_of_gunicorn(gunicorn, tmp_path):
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None
    )
    if nginx is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have nginx (scripts/system-deps.sh)")
        pytest.skip("nginx is not installed")
    listen = free_port()
    conf = (HERE / "nginx.conf").read_text()
    conf = conf.replace("127.0.0.1:8000", f"127.0.0.1:{gunicorn.port}")
    conf = conf.replace("127.0.0.1:8080", f"127.0.0.1:{listen}")
    conf = conf.replace("/srv/app/static/", f"{HERE / 'static'}/")
    (tmp_path / "nginx.conf").write_text(conf)
    args = [nginx, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")]
    # in the foreground (stays our child); as root, workers as root too: the checkout may sit
    # in a folder only root can read (a mktemp -d clone), where nobody would get 403s
    directives = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
    args += ["-e", str(tmp_path / "error.log"), "-g", directives]
    check = subprocess.run([*args, "-t"], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        import time

        deadline = time.monotonic() + 10
        while True:
            try:
                status, headers, body = get(
                    listen, "/", {"Host": "example.com", "X-Forwarded-For": "6.6.6.6"}
                )
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "nginx did not start"
                time.sleep(0.1)
        assert status == 200 and headers["server"].startswith("nginx")
        seen = json.loads(body)
        # ProxyFix: the client's host and address as nginx saw them; a forged header is not used
        assert seen["url"] == "http://example.com/"
        assert seen["remote_addr"] == "127.0.0.1"
        assert seen["stylesheet"] == "http://example.com/static/site.css"
        status, headers, body = get(listen, "/static/site.css", {"Host": "example.com"})
        assert status == 200 and body.startswith(b"body {")
        assert headers["content-type"] == "text/css"  # from nginx's mime types, not the app
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_browser_sees_the_app_through_gunicorn(gunicorn, browser, screenshot):
    page = browser.new_page(viewport={"width": 700, "height": 300})
    page.goto(gunicorn.url + "/")
    assert json.loads(page.inner_text("body"))["remote_addr"] == "127.0.0.1"
    screenshot(page, HERE)
    page.close()
