"""The live example in two Chromium pages (Playwright) against a real uvicorn process
(``python app.py``): chat messages and the counter arrive in the other page without a
reload. The first page's screenshot is the README's (screenshot.png)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def server(live_server):
    argv = [sys.executable, "app.py", "--port", "{port}"]
    return live_server(argv, cwd=HERE, env={"LIVE_SSE_KEEP_ALIVE": "0.5"})


def open_page(browser, server, name: str | None = None):
    context = browser.new_context(viewport={"width": 800, "height": 640})
    page = context.new_page()
    page.goto(server.url + "/")
    expect(page.locator("#count")).not_to_have_text("…")  # the event stream is connected
    if name is not None:
        page.fill("#join input[name=name]", name)
        page.click("#join button")
        expect(page.locator("#say")).to_be_visible()
        expect(page.locator("#join")).to_be_hidden()
    return context, page


def test_two_pages_see_each_others_messages_and_clicks(server, browser, screenshot):
    ann_context, ann = open_page(browser, server, "Ann")
    bob_context, bob = open_page(browser, server, "Bob")
    try:
        expect(ann.locator("#online")).to_have_text("Ann, Bob")
        start = int(ann.locator("#count").inner_text())

        ann.fill("#say input[name=text]", "Hi Bob, <b>this</b> is not bold")
        ann.press("#say input[name=text]", "Enter")
        expect(bob.locator("#messages li").last).to_have_text(
            "Ann: Hi Bob, <b>this</b> is not bold"
        )
        assert bob.locator("#messages b").count() == 1  # only the name is bold

        bob.fill("#say input[name=text]", "Hello Ann!")
        bob.click("#say button")
        expect(ann.locator("#messages li").last).to_have_text("Bob: Hello Ann!")

        for _ in range(3):
            bob.click("#plus")
        ann.click("#minus")
        expect(ann.locator("#count")).to_have_text(str(start + 2))
        expect(bob.locator("#count")).to_have_text(str(start + 2))
        screenshot(ann, HERE)
    finally:
        bob_context.close()
    expect(ann.locator("#online")).to_have_text("Ann")  # Bob's page closed: he left
    ann_context.close()


def test_bad_name_and_empty_message_show_the_servers_message(server, browser):
    context, page = open_page(browser, server)
    try:
        page.fill("#join input[name=name]", "<bad name>")
        page.click("#join button")
        expect(page.locator("#chat-error")).to_have_text(
            "A name is 1 to 20 letters, digits, spaces, dots, dashes or underscores."
        )
        expect(page.locator("#join")).to_be_visible()
        expect(page.locator("#say")).to_be_hidden()
        page.fill("#join input[name=name]", "Eve")
        page.click("#join button")
        expect(page.locator("#say")).to_be_visible()
        page.fill("#say input[name=text]", "   ")
        page.click("#say button")
        expect(page.locator("#chat-error")).to_have_text("A message cannot be empty.")
    finally:
        context.close()
