"""The gallery through the test client: uploads checked by content and size, stored under
safe names in the instance folder, served back (and thumbnails when Pillow is installed)."""

from __future__ import annotations

import io
import re
import struct
import zlib

import pytest
from app import create_app


def png(width: int = 4, height: int = 3) -> bytes:
    """A real (grey) PNG picture, made without any imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))  # fmt: skip


@pytest.fixture
def app(tmp_path, monkeypatch):
    monkeypatch.setenv("GALLERY_INSTANCE_PATH", str(tmp_path))
    return create_app({"TESTING": True, "MAX_CONTENT_LENGTH": 64 * 1024})


@pytest.fixture
def client(app):
    return app.test_client()


def token(client) -> str:
    return re.search(r'name="csrf_token"[^>]* value="([^"]+)"', client.get("/").text).group(1)


def upload(client, data: bytes, filename: str, **kwargs):
    return client.post("/upload", data={
        "picture": (io.BytesIO(data), filename), "csrf_token": token(client),
    }, follow_redirects=True, **kwargs)  # fmt: skip


def flashes(rv) -> list[str]:
    return re.findall(r'<p class="flash \w+" role="status">([^<]*)</p>', rv.text)


def test_upload_view_download(client, tmp_path):
    rv = upload(client, png(), "Holiday photo (1).PNG")
    assert flashes(rv) == ["Uploaded Holiday_photo_1.png."]
    assert (tmp_path / "pictures" / "Holiday_photo_1.png").read_bytes() == png()
    assert 'href="/pictures/Holiday_photo_1.png"' in rv.text
    rv = client.get("/pictures/Holiday_photo_1.png")
    assert rv.status_code == 200 and rv.mimetype == "image/png" and rv.data == png()
    rv = client.get("/pictures/Holiday_photo_1.png/download")
    assert rv.headers["Content-Disposition"] == "attachment; filename=Holiday_photo_1.png"


def test_extension_comes_from_the_content(client, tmp_path):
    rv = upload(client, png(), "really-a-png.gif")
    assert flashes(rv) == ["Uploaded really-a-png.png."]
    rv = upload(client, png(), "really-a-png.gif")
    assert flashes(rv) == ["Uploaded really-a-png-2.png."]  # no overwriting


@pytest.mark.parametrize("data, name", [
    (b"<script>alert(1)</script>", "evil.png"),
    (b"MZ\x90\x00 not a picture", "setup.jpg"),
    (b"", "empty.png"),
])  # fmt: skip
def test_non_pictures_are_refused_by_content(client, tmp_path, data, name):
    rv = upload(client, data, name)
    assert rv.status_code == 200
    assert flashes(rv) == ["That file is not a PNG, JPEG, GIF or WebP picture."]
    assert list((tmp_path / "pictures").iterdir()) == []


def test_no_file_chosen(client):
    rv = client.post("/upload", data={"csrf_token": token(client)}, follow_redirects=True)
    assert flashes(rv) == ["Choose a picture."]


def test_path_in_the_name_is_made_harmless(client, tmp_path):
    rv = upload(client, png(), "../../etc/passwd.png")
    assert flashes(rv) == ["Uploaded etc_passwd.png."]
    assert [p.name for p in (tmp_path / "pictures").iterdir()] == ["etc_passwd.png"]
    rv = upload(client, png(), "...")
    assert flashes(rv) == ["Uploaded picture.png."]


def test_too_large_is_a_413_page(client, tmp_path):
    rv = upload(client, png() + b"\x00" * (64 * 1024), "big.png")
    assert rv.status_code == 413
    assert "Pictures can be at most 64 KiB." in rv.text
    assert not (tmp_path / "pictures").exists() or list((tmp_path / "pictures").iterdir()) == []


def test_without_csrf_token(client):
    rv = client.post("/upload", data={"picture": (io.BytesIO(png()), "a.png")})
    assert rv.status_code == 400
    assert "The CSRF token is missing. Reload the page and try again." in rv.text


@pytest.mark.parametrize("path", ["/pictures/missing.png", "/pictures/../../etc/passwd",
                                  "/pictures/%2e%2e/secret", "/thumbs/none.jpg"])
def test_missing_or_outside_is_404(client, path):
    client.get("/")
    rv = client.get(path)
    assert rv.status_code == 404


def test_thumbnail_with_pillow(client, tmp_path):
    pytest.importorskip("PIL")
    upload(client, png(800, 600), "wide.png")
    rv = client.get("/thumbs/wide.png.jpg")
    assert rv.status_code == 200 and rv.mimetype == "image/jpeg"
    from PIL import Image

    assert Image.open(io.BytesIO(rv.data)).size == (320, 240)
    assert 'src="/thumbs/wide.png.jpg"' in client.get("/").text
