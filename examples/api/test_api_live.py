"""The API example as a real server process: /docs rendered by Chromium (only local assets,
a login run from the page; the README's screenshot is taken here) and schemathesis fuzzing
every documented operation, finding no 5xx and no answer that breaks the schema."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SCREENSHOT = HERE / "docs-screenshot.png"


@pytest.fixture(scope="module")
def server(live_server, tmp_path_factory):
    instance = tmp_path_factory.mktemp("api-instance")
    return live_server(
        [sys.executable, "app.py", "--port", "{port}"],
        cwd=HERE,
        env={"API_INSTANCE_PATH": str(instance), "API_JWT_SECRET_KEY": "t" * 64},
        ready_path="/openapi.json",
    )


def token(base: str) -> str:
    req = urllib.request.Request(
        base + "/auth/token",
        data=json.dumps({"username": "demo", "password": "demo-password"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())["access_token"]


def test_docs_page_renders_with_local_assets_only(server, browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    requested: list[str] = []
    failed: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.url + "/docs")
    title = page.locator(".swagger-ui .info .title")
    title.wait_for(timeout=15000)
    assert title.inner_text().startswith("Books API")
    ops = page.locator(".opblock-summary-path")
    ops.first.wait_for()
    paths = {ops.nth(i).inner_text().replace("\u200b", "") for i in range(ops.count())}
    assert paths == {"/auth/token", "/auth/me", "/books", "/books/{book_id}"}
    assert page.locator(".btn.authorize").count() == 1  # the bearer scheme is offered
    page.screenshot(path=str(SCREENSHOT), full_page=False)

    # run POST /auth/token from the page: Swagger UI calls the API, which answers
    block = page.locator(".opblock.opblock-post", has_text="/auth/token")
    block.locator(".opblock-summary").click()
    block.get_by_role("button", name="Try it out").click()
    block.locator("textarea.body-param__text").fill(
        json.dumps({"username": "demo", "password": "demo-password"})
    )
    block.get_by_role("button", name="Execute").click()
    status = block.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for(timeout=10000)
    assert status.inner_text().strip() == "200"
    assert "access_token" in block.locator(".live-responses-table .microlight").first.inner_text()

    assert errors == []
    assert failed == []
    assert requested and all(u.startswith(server.url + "/") for u in requested), requested
    assert server.url + "/openapi.json" in requested
    assert SCREENSHOT.stat().st_size > 10_000
    context.close()


def test_schemathesis_finds_no_server_error_and_no_schema_violation(server, tmp_path):
    """Every operation, 15 generated cases each, positive and negative data, with a token."""
    st = Path(sys.executable).with_name("schemathesis")
    if not st.exists():
        pytest.skip("schemathesis is not installed")
    argv = [
        str(st),
        "run",
        server.url + "/openapi.json",
        "--checks",
        "not_a_server_error,status_code_conformance,content_type_conformance,"
        "response_schema_conformance",
        "--max-examples",
        "15",
        "--phases",
        "examples,coverage,fuzzing",
        "--workers",
        "1",
        "--seed",
        "1",
        "--no-shrink",
        "--suppress-health-check",
        "all",
        "--request-timeout",
        "10",
        "--header",
        f"Authorization: Bearer {token(server.url)}",
    ]
    env = dict(os.environ, NO_COLOR="1", SCHEMATHESIS_HOOKS="")
    proc = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "No issues found" in out or "passed" in out, out
