"""The charts page in Debian's Chromium against a real server process: Chart.js (served by
the app) draws the series, the PNG loads, a bad input shows the server's message."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def server(live_server):
    return live_server([sys.executable, "app.py", "--port", "{port}"], cwd=HERE)


def test_chart_js_draws_and_png_loads(server, browser, screenshot):
    page = browser.new_page(viewport={"width": 800, "height": 900})
    requests: list[str] = []
    page.on("request", lambda req: requests.append(req.url))
    page.goto(server.url + "/")
    page.wait_for_function("document.body.dataset.points === '12'")
    assert page.evaluate("typeof Chart") == "function"
    # the canvas really has pixels drawn on it
    assert page.evaluate("document.getElementById('chart').toDataURL().length") > 5000
    page.wait_for_function("document.getElementById('png').naturalWidth > 0")
    assert page.evaluate("document.getElementById('png').naturalWidth") == 600
    assert all(url.startswith(server.url) for url in requests)  # no CDN, nothing external
    page.fill("#months", "6")
    page.click("button[type=submit]")
    page.wait_for_function("document.body.dataset.points === '6'")
    page.wait_for_function(
        "(img => img.src.endsWith('months=6') && img.complete)(document.getElementById('png'))"
    )
    screenshot(page, HERE)
    page.close()


def test_bad_months_shows_the_servers_message(server, browser):
    page = browser.new_page()
    page.goto(server.url + "/")
    page.wait_for_function("document.body.dataset.points === '12'")
    page.evaluate("document.getElementById('months').removeAttribute('max')")
    page.fill("#months", "99")
    page.click("button[type=submit]")
    page.wait_for_function("document.getElementById('error').textContent.length > 0")
    assert page.locator("#error").inner_text() == "months must be a whole number from 1 to 24."
    assert page.evaluate("document.body.dataset.points") == "12"
    page.close()
