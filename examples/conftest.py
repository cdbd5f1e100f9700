"""Fixtures shared by the example apps' tests: a real Chromium (Debian's, driven by
Playwright), a real server process for an example, and the suite's throwaway servers
(tests/servers.py: MariaDB, PostgreSQL, Redis; tests/smtp_server.py: SMTP).

Browser tests skip when Chromium or Playwright is missing, except under CI (`make test`
installs both), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent.parent / "tests"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))
import server_fixtures  # noqa: E402

# the throwaway servers' fixtures (tests/server_fixtures.py), registered by name here
postgres_server = server_fixtures.postgres_server
mariadb_server = server_fixtures.mariadb_server
redis_server = server_fixtures.redis_server
smtp_server = server_fixtures.smtp_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _playwright():
    if os.environ.get("CI"):
        from playwright import sync_api

        assert os.path.exists(CHROMIUM), "CI must have Debian chromium (scripts/system-deps.sh)"
        return sync_api
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed")
    return sync_api


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for the session; tests open their own contexts/pages."""
    sync_api = _playwright()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class LiveServer:
    """A server process started by a command line; ``url`` once it answers ``ready_path``."""

    def __init__(
        self,
        argv: Sequence[str],
        cwd: Path,
        env: dict[str, str] | None = None,
        port: int | None = None,
        ready_path: str = "/",
        timeout: float = 30.0,
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [a.replace("{port}", str(self.port)) for a in argv]
        self.proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=dict(os.environ, **(env or {})),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(self.url + ready_path, timeout=2).read()
                break
            except urllib.error.HTTPError:
                break  # it answers: a 4xx/5xx page is still a running server
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(f"{' '.join(argv)} did not start:\n{self.output()}")
                time.sleep(0.1)

    def output(self) -> str:
        if self.proc.stdout and self.proc.poll() is not None:
            return self.proc.stdout.read().decode(errors="replace")
        return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def live_server() -> Iterator[Callable[..., LiveServer]]:
    """Start example servers: ``live_server([sys.executable, "app.py", "--port", "{port}"],
    cwd=HERE, env={...})``; all are stopped when the module's tests end."""
    started: list[LiveServer] = []

    def start(argv: Sequence[str], cwd: Path, **kwargs) -> LiveServer:
        server = LiveServer(argv, cwd, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


EXAMPLES = Path(__file__).resolve().parent
_PARKED: dict[Path, dict[str, object]] = {}  # example folder -> its modules, while inactive


def _example_of(module: object) -> Path | None:
    origin = getattr(module, "__file__", None)
    if not origin:
        return None
    folder = Path(origin).resolve().parent
    return folder if folder.parent == EXAMPLES else None


def _activate(folder: Path) -> None:
    """Each example is a folder of top-level modules named like the others' (``app``,
    ``test_browser``), imported as its user would (``from app import create_app``), and an
    app finds its templates through ``sys.modules[__name__]``. So while one example's files
    are imported or its tests run, only its modules are in ``sys.modules``; the others'
    wait in ``_PARKED`` (no "import file mismatch", no app rendering another's templates)."""
    for name, module in list(sys.modules.items()):
        owner = _example_of(module) if "." not in name else None
        if owner is not None and owner != folder:
            _PARKED.setdefault(owner, {})[name] = module
            del sys.modules[name]
    sys.modules.update(_PARKED.pop(folder, {}))  # type: ignore[arg-type]


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> None:
    if file_path.parent.parent == EXAMPLES:
        _activate(file_path.parent)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.path.parent.parent == EXAMPLES:
        _activate(item.path.parent)


@pytest.fixture
def screenshot(tmp_path: Path) -> Callable[..., Path]:
    """``screenshot(page, HERE)``: a PNG of the page for the example's README. It is written
    to ``HERE/screenshot.png`` when that file is missing or ``UPDATE_SCREENSHOTS=1`` is set
    (so a test run leaves the committed file alone); it is always taken and checked."""

    def take(page, folder: Path, name: str = "screenshot.png") -> Path:
        fresh = tmp_path / name
        page.screenshot(path=str(fresh), full_page=True)
        data = fresh.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5000, "blank screenshot?"
        target = folder / name
        if os.environ.get("UPDATE_SCREENSHOTS") == "1" or not target.exists():
            target.write_bytes(data)
        return fresh

    return take
