"""The gallery in Chromium against a real server process (``python app.py --port N``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from test_gallery import png

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def server(live_server, tmp_path_factory):
    instance = tmp_path_factory.mktemp("gallery-instance")
    return live_server(
        [sys.executable, "app.py", "--port", "{port}"], cwd=HERE,
        env={"GALLERY_INSTANCE_PATH": str(instance), "GALLERY_SECRET_KEY": "browser"},
    )  # fmt: skip


def test_upload_pictures_and_a_refused_file(server, browser, tmp_path, screenshot):
    context = browser.new_context(viewport={"width": 800, "height": 480})
    page = context.new_page()
    page.goto(server.url + "/")
    assert page.locator(".empty").inner_text() == "No pictures yet."
    for i, (w, h) in enumerate([(640, 480), (300, 300), (480, 640)]):
        path = tmp_path / f"picture {i}.png"
        path.write_bytes(png(w, h))
        page.set_input_files("input[name=picture]", str(path))
        page.get_by_role("button", name="Upload").click()
        page.wait_for_load_state()
        assert page.locator(".flash").inner_text() == f"Uploaded picture_{i}.png."
    fake = tmp_path / "notes.png"
    fake.write_text("just text")
    page.set_input_files("input[name=picture]", str(fake))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_load_state()
    assert page.locator(".flash.error").inner_text() == (
        "That file is not a PNG, JPEG, GIF or WebP picture."
    )
    images = page.locator(".grid img")
    assert images.count() == 3
    assert all(images.nth(i).evaluate("img => img.naturalWidth > 0") for i in range(3))
    screenshot(page, HERE)
    big = tmp_path / "big.png"
    big.write_bytes(png() + b"\x00" * (3 * 1024 * 1024))
    page.set_input_files("input[name=picture]", str(big))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_load_state()
    assert page.locator(".message").inner_text() == "Pictures can be at most 2 MiB."
    context.close()
