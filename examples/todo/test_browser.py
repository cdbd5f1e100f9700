"""The to-do app in Debian's Chromium (Playwright) against a real server process started
with the README's command (``python app.py --port N``), migrations applied at start."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def server(live_server, tmp_path_factory):
    instance = tmp_path_factory.mktemp("todo-instance")
    return live_server(
        [sys.executable, "app.py", "--port", "{port}"], cwd=HERE,
        env={"TODO_INSTANCE_PATH": str(instance), "TODO_SECRET_KEY": "browser-test"},
    )  # fmt: skip


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 800, "height": 520})
    page = context.new_page()
    yield page
    context.close()


def test_add_complete_delete(server, page, screenshot):
    page.goto(server.url + "/")
    assert page.locator(".empty").inner_text() == "Nothing to do. Add something above."
    for title in ("Read the erlen docs", "Write a <b>todo</b> app", "Ship it"):
        page.fill("input[name=title]", title)
        page.press("input[name=title]", "Enter")
        page.wait_for_load_state()
        assert page.locator(".flash.success").inner_text() == f"Added “{title}”."
    assert page.locator(".todos .title").all_inner_texts() == [
        "Read the erlen docs", "Write a <b>todo</b> app", "Ship it",
    ]  # fmt: skip

    first = page.locator(".todos li", has_text="Read the erlen docs")
    first.locator("button.toggle").click()
    page.wait_for_load_state()
    assert page.locator(".flash.success").inner_text() == "“Read the erlen docs” is done."
    done = page.locator(".todos li.done")
    assert done.locator(".title").inner_text() == "Read the erlen docs"
    # completed items go last and are struck through by style.css
    assert page.locator(".todos .title").last.inner_text() == "Read the erlen docs"
    assert "line-through" in done.locator(".title").evaluate(
        "e => getComputedStyle(e).textDecorationLine"
    )
    assert page.locator(".count").inner_text() == "2 of 3 left to do."
    screenshot(page, HERE)

    page.locator(".todos li", has_text="Ship it").locator("button.delete").click()
    page.wait_for_load_state()
    assert page.locator(".flash.success").inner_text() == "Deleted “Ship it”."
    assert page.locator(".todos li").count() == 2
    page.reload()
    assert page.locator(".flash").count() == 0  # flashed once


def test_blank_title_gets_a_message(server, page):
    page.goto(server.url + "/")
    # DataRequired renders `required`, so the browser itself refuses an empty field
    assert page.locator("input[name=title]").get_attribute("required") is not None
    page.fill("input[name=title]", "    ")
    page.press("input[name=title]", "Enter")
    page.wait_for_load_state()
    assert page.locator(".flash.error").inner_text() == "Write what needs doing."


def test_expired_form_gets_a_message(server, page):
    page.goto(server.url + "/")
    page.context.clear_cookies()  # the session (and its CSRF value) is gone
    page.fill("input[name=title]", "too late")
    page.press("input[name=title]", "Enter")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Form not accepted"
    assert "The CSRF session token is missing. Reload the page" in page.locator(".message").inner_text()
