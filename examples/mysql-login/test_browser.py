"""The MySQL login example in Chromium against a real server process on a throwaway MariaDB."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def server(live_server, mariadb_server):
    return live_server(
        [sys.executable, "app.py", "--port", "{port}"], cwd=HERE,
        env={"DATABASE_URL": mariadb_server.create_database(), "LOGIN_SECRET_KEY": "browser"},
    )  # fmt: skip


def test_register_login_profile(server, browser, screenshot):
    context = browser.new_context(viewport={"width": 800, "height": 480})
    page = context.new_page()
    page.goto(server.url + "/")
    page.get_by_role("link", name="Register").click()
    for name, value in {"username": "grace", "password": "hopper1906",
                        "email": "grace@example.com"}.items():  # fmt: skip
        page.fill(f"input[name={name}]", value)
    page.get_by_role("button", name="Register").click()
    page.wait_for_load_state()
    assert page.locator(".flash").inner_text() == "You have registered; log in now."
    page.fill("input[name=username]", "grace")
    page.fill("input[name=password]", "wrong")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    assert page.locator(".flash").inner_text() == "Incorrect username or password."
    page.fill("input[name=username]", "grace")
    page.fill("input[name=password]", "hopper1906")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    assert page.locator(".hello").inner_text() == "Welcome back, grace!"
    page.get_by_role("link", name="Profile").click()
    page.wait_for_load_state()
    assert "grace@example.com" in page.locator(".profile").inner_text()
    screenshot(page, HERE)
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()
    assert page.locator(".flash").inner_text() == "You are logged out."
    context.close()
