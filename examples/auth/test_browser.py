"""The accounts example in Debian's Chromium (Playwright) against a real server process
(``python app.py --port N``, the README's command) that mails through a real SMTP server on
loopback. The server makes its demo accounts at start (admin@ and teacher@example.com)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from smtp_server import SMTPServer

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def smtp():
    with SMTPServer() as server:
        yield server


@pytest.fixture(scope="module")
def server(live_server, smtp, tmp_path_factory):
    instance = tmp_path_factory.mktemp("auth-instance")
    return live_server(
        [sys.executable, "app.py", "--port", "{port}"], cwd=HERE,
        env={"AUTH_INSTANCE_PATH": str(instance), "AUTH_SECRET_KEY": "browser-test",
             "MAIL_SERVER": smtp.host, "MAIL_PORT": str(smtp.port)},
    )  # fmt: skip


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 800, "height": 600})
    page = context.new_page()
    yield page
    context.close()


def submit(page, fields: dict[str, str], button: str) -> None:
    for name, value in fields.items():
        page.fill(f"input[name={name}]", value)
    page.get_by_role("button", name=button).click()
    page.wait_for_load_state()


def log_in(page, url: str, email: str, password: str, remember: bool = False) -> None:
    page.goto(url + "/login")
    if remember:
        page.check("input[name=remember]")
    submit(page, {"email": email, "password": password}, "Log in")


def flash(page) -> str:
    return " | ".join(page.locator(".flash").all_inner_texts())


def test_register_then_only_the_student_page(server, page):
    page.goto(server.url + "/register")
    submit(page, {"email": "pupil@example.com", "password": "pupil pass",
                  "confirm": "pupil pazz"}, "Create account")  # fmt: skip
    assert flash(page) == "The passwords differ."
    submit(page, {"password": "pupil pass", "confirm": "pupil pass"}, "Create account")
    assert flash(page) == "Welcome! Your account is ready."
    assert page.locator(".hello").inner_text() == (
        "Hello pupil@example.com, you are logged in as student."
    )
    page.locator("nav").get_by_role("link", name="Student page").click()
    assert page.locator("h1").inner_text() == "Student page"
    response = page.goto(server.url + "/teacher")
    assert response is not None and response.status == 403
    assert page.locator("h1").inner_text() == "Not for your role"
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()
    assert flash(page) == "You are logged out."
    page.goto(server.url + "/student")
    assert page.url == server.url + "/login?next=%2Fstudent"


def test_remember_me_logs_back_in_after_the_session_cookie_is_gone(server, page):
    log_in(page, server.url, "teacher@example.com", "teacher-password", remember=True)
    assert flash(page) == "Logged in as teacher@example.com."
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["remember_token"]["httpOnly"] and cookies["remember_token"]["sameSite"] == "Lax"
    assert cookies["remember_token"]["expires"] > 0  # outlives the browser session
    page.context.clear_cookies(name="session")  # as when the browser was closed
    assert [c["name"] for c in page.context.cookies()] == ["remember_token"]
    page.goto(server.url + "/teacher")
    assert page.locator("h1").inner_text() == "Teacher page"
    assert page.locator(".students li").count() >= 1


def test_admin_page(server, page, screenshot):
    page.goto(server.url + "/register")
    submit(page, {"email": "new.teacher@example.com", "password": "pass word",
                  "confirm": "pass word"}, "Create account")  # fmt: skip
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()
    log_in(page, server.url, "admin@example.com", "admin-password")
    page.locator("nav").get_by_role("link", name="Administrator page").click()
    page.wait_for_load_state()
    row = page.locator("tr", has_text="new.teacher@example.com")
    row.locator("select").select_option("teacher")
    row.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert flash(page) == "new.teacher@example.com is now teacher."
    assert page.locator("tr", has_text="new.teacher@").locator("select").input_value() == (
        "teacher"
    )
    screenshot(page, HERE)
    response = page.goto(server.url + "/student")
    assert response is not None and response.status == 403


def test_password_reset_through_the_mail(server, smtp, page):
    page.goto(server.url + "/login")
    page.get_by_role("link", name="Forgot your password?").click()
    submit(page, {"email": "no such address"}, "Send the link")
    assert flash(page) == "That is not an e-mail address."
    before = len(smtp.messages)
    submit(page, {"email": "teacher@example.com"}, "Send the link")
    assert flash(page) == "If teacher@example.com has an account, a reset link is on its way."
    (mail,) = smtp.messages[before:]
    assert mail.rcpt_tos == ["teacher@example.com"]
    link = re.search(r"(http://\S+/reset/\S+)", mail.message.get_content()).group(1)
    assert link.startswith(server.url)

    page.goto(link)
    submit(page, {"password": "the new one!", "confirm": "the new one!"}, "Change the password")
    assert flash(page) == "Your password is changed. Log in with the new one."
    log_in(page, server.url, "teacher@example.com", "teacher-password")
    assert flash(page) == "Wrong e-mail or password."
    log_in(page, server.url, "teacher@example.com", "the new one!")
    assert flash(page) == "Logged in as teacher@example.com."
    page.goto(link)  # used up
    assert flash(page) == "This reset link was already used. Ask for a new one."
