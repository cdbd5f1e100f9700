"""The ML example in Debian's Chromium (Playwright) against a real server process
(``python app.py``); its first start trains the model into a fresh instance folder.
The page screenshot is the README's (screenshot.png)."""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def server(live_server, tmp_path_factory):
    instance = tmp_path_factory.mktemp("ml-browser")
    env = {"ML_INSTANCE_PATH": str(instance), "ML_SECRET_KEY": "browser-test"}
    server = live_server([sys.executable, "app.py", "--port", "{port}"], cwd=HERE, env=env)
    assert (instance / "iris-model.joblib").is_file()  # trained at first start
    return server


def test_predict_in_the_form(server, browser, screenshot):
    page = browser.new_page(viewport={"width": 800, "height": 700})
    page.goto(server.url + "/")
    for name, value in {
        "sepal_length": "6.9",
        "sepal_width": "3.1",
        "petal_length": "5.8",
        "petal_width": "2.2",
    }.items():
        page.fill(f"input[name={name}]", value)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#species").inner_text() == "virginica"
    assert page.locator(".result tr").count() == 3
    assert page.evaluate("getComputedStyle(document.body).maxWidth") != "none"  # CSS loaded
    screenshot(page, HERE)
    page.close()


def test_server_side_range_message_when_browser_checks_are_off(server, browser):
    page = browser.new_page()
    page.goto(server.url + "/")
    # the inputs are type=number with min/max, so Chromium itself refuses -1; a client that
    # skips those checks (curl, an old browser) meets the server's own validation
    page.evaluate("document.querySelector('form').noValidate = true")
    page.fill("input[name=sepal_length]", "-1")
    page.fill("input[name=sepal_width]", "3")
    page.fill("input[name=petal_length]", "1.4")
    page.fill("input[name=petal_width]", "0.2")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#sepal_length-error").inner_text() == "Enter a value between 0 and 10 cm."
    assert page.locator("#species").count() == 0
    page.close()


def test_json_api_over_http(server):
    body = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
    req = urllib.request.Request(
        server.url + "/api/predict",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as rv:
        assert rv.headers["Content-Type"] == "application/json"
        assert json.load(rv)["species"] == "setosa"
