"""The demo in a real browser (Debian's Chromium driven by Playwright) against a real server.

Skipped when Chromium or Playwright is missing; `make test` installs both.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if os.environ.get("CI"):  # CI installs both (make test): a missing browser is a failure there
    from playwright import sync_api as playwright_sync

    assert os.path.exists(CHROMIUM), "CI must have Debian chromium (scripts/system-deps.sh)"
else:
    playwright_sync = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed", allow_module_level=True)

HERE = Path(__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    instance = tmp_path_factory.mktemp("demo-instance")
    port = _free_port()
    env = dict(os.environ, DEMO_INSTANCE_PATH=str(instance), DEMO_SECRET_KEY="browser-test")
    proc = subprocess.Popen(
        [sys.executable, "app.py", "--port", str(port)],
        cwd=HERE,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(base + "/", timeout=1).read()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                out = proc.stdout.read().decode() if proc.stdout else ""
                pytest.fail(f"demo server did not start:\n{out}")
            time.sleep(0.1)
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_add_note_with_form_and_flash(server, browser, tmp_path):
    page = browser.new_page()
    page.goto(server + "/")
    assert "No notes yet." in page.content()
    page.fill("input[name=title]", "From the browser <b>")
    page.fill("textarea[name=body]", "typed by Chromium")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    flash = page.locator(".flash.success")
    assert flash.inner_text() == "Saved “From the browser <b>”."
    link = page.get_by_role("link", name="From the browser <b>")
    assert link.count() == 1
    link.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "From the browser <b>"
    assert "typed by Chromium" in page.content()
    # the stylesheet really loaded: the page body is constrained by style.css
    assert page.evaluate("getComputedStyle(document.body).maxWidth") != "none"
    page.screenshot(path=str(tmp_path / "note.png"))
    assert (tmp_path / "note.png").stat().st_size > 1000
    page.close()


def test_flash_is_shown_once_and_empty_title_refused(server, browser):
    page = browser.new_page()
    page.goto(server + "/")
    page.fill("input[name=title]", "   ")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.locator(".flash.error").inner_text() == "A note needs a title."
    page.reload()
    assert page.locator(".flash").count() == 0
    page.close()


def test_session_counter_survives_navigation(server, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(server + "/session/")
    first = page.content()
    page.goto(server + "/session/")
    second = page.content()
    assert first != second  # the counter moved
    cookies = {c["name"]: c for c in context.cookies()}
    assert cookies["session"]["httpOnly"] is True
    assert cookies["session"]["sameSite"] == "Lax"
    context.close()
