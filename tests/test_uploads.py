"""File uploads and forms through the app: files, limits, malformed bodies, attack shapes."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

import erlen
from erlen import request
from erlen.utils import secure_filename

BOUNDARY = "----erlenTestBoundary"
CT = f"multipart/form-data; boundary={BOUNDARY}"


def _part(name: str, body: bytes, filename: str | None = None, extra: str = "") -> bytes:
    disp = f'form-data; name="{name}"'
    if filename is not None:
        disp += f'; filename="{filename}"'
    head = f"--{BOUNDARY}\r\nContent-Disposition: {disp}{extra}\r\n"
    if filename is not None:
        head += "Content-Type: application/octet-stream\r\n"
    return head.encode() + b"\r\n" + body + b"\r\n"


def _body(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


@pytest.fixture
def uapp(app: erlen.Erlen) -> erlen.Erlen:
    @app.post("/upload")
    def upload() -> Any:
        files = request.files.getlist("f")
        return {
            "form": request.form.to_dict(flat=False),
            "files": [
                {
                    "filename": f.filename,
                    "name": f.name,
                    "content_type": f.content_type,
                    "mimetype": f.mimetype,
                    "data": f.read().decode("latin-1"),
                }
                for f in files
            ],
        }

    return app


# -- the basics ---------------------------------------------------------------------------------
def test_files_getlist_and_form(uapp: erlen.Erlen) -> None:
    rv = uapp.test_client().post(
        "/upload",
        data={
            "title": "hello",
            "tag": ["a", "b"],
            "f": [
                (io.BytesIO(b"first file"), "one.txt"),
                (io.BytesIO(b"\x00\x01\x02"), "two.bin", "application/x-custom"),
            ],
        },
    )
    assert rv.status_code == 200
    data = rv.json
    assert data["form"] == {"title": ["hello"], "tag": ["a", "b"]}
    assert data["files"] == [
        {
            "filename": "one.txt",
            "name": "f",
            "content_type": "text/plain",
            "mimetype": "text/plain",
            "data": "first file",
        },
        {
            "filename": "two.bin",
            "name": "f",
            "content_type": "application/x-custom",
            "mimetype": "application/x-custom",
            "data": "\x00\x01\x02",
        },
    ]


def test_file_storage_interface(app: erlen.Erlen, tmp_path: Path) -> None:
    @app.post("/")
    def view() -> Any:
        f = request.files["doc"]
        assert bool(f)
        dest = tmp_path / "saved.txt"
        f.save(str(dest))
        f.stream.seek(0)
        buf = io.BytesIO()
        f.save(buf)
        f.seek(0)
        line = f.readline()
        assert "missing" not in request.files
        return {
            "disk": dest.read_bytes().decode(),
            "buffer": buf.getvalue().decode(),
            "line": line.decode(),
            "header_ct": f.headers["Content-Type"],
        }

    rv = app.test_client().post(
        "/", data={"doc": (io.BytesIO(b"line1\nline2\n"), "doc.txt", "text/plain")}
    )
    assert rv.status_code == 200
    assert rv.json == {
        "disk": "line1\nline2\n",
        "buffer": "line1\nline2\n",
        "line": "line1\n",
        "header_ct": "text/plain",
    }


def test_save_to_pathlib_path(app: erlen.Erlen, tmp_path: Path) -> None:
    @app.post("/")
    def view() -> str:
        request.files["f"].save(tmp_path / "p.bin")
        return "ok"

    app.test_client().post("/", data={"f": (io.BytesIO(b"abc"), "x.bin")})
    assert (tmp_path / "p.bin").read_bytes() == b"abc"


def test_missing_file_key_is_400(uapp: erlen.Erlen) -> None:
    @uapp.post("/need")
    def need() -> str:
        return request.files["nope"].filename or ""

    rv = uapp.test_client().post("/need", data={"x": "1"})
    assert rv.status_code == 400


def test_urlencoded_form(uapp: erlen.Erlen) -> None:
    rv = uapp.test_client().post("/upload", data={"a": "1", "b": ["x", "y"]})
    assert rv.json == {"form": {"a": ["1"], "b": ["x", "y"]}, "files": []}


def test_raw_multipart_body(uapp: erlen.Erlen) -> None:
    body = _body(_part("t", "h\u00e9".encode()), _part("f", b"DATA", filename="d.txt"))
    rv = uapp.test_client().post("/upload", data=body, content_type=CT)
    assert rv.status_code == 200
    assert rv.json["form"] == {"t": ["h\u00e9"]}
    assert rv.json["files"][0]["data"] == "DATA"


def test_empty_filename_gives_falsy_storage(app: erlen.Erlen) -> None:
    @app.post("/")
    def view() -> Any:
        f = request.files["f"]
        return {"bool": bool(f), "filename": f.filename}

    body = _body(_part("f", b"", filename=""))
    rv = app.test_client().post("/", data=body, content_type=CT)
    assert rv.json == {"bool": False, "filename": ""}


# -- temp files closed ----------------------------------------------------------------------------
def test_uploaded_files_closed_after_request(app: erlen.Erlen) -> None:
    kept: list[Any] = []

    @app.post("/")
    def view() -> str:
        f = request.files["f"]
        kept.append(f.stream)
        assert not f.stream.closed
        return str(len(f.read()))

    big = b"x" * (2 * 1024 * 1024)  # over the spool size: a real temp file
    rv = app.test_client().post("/", data={"f": (io.BytesIO(big), "big.bin")})
    assert rv.text == str(len(big))
    assert kept and kept[0].closed


def test_files_closed_even_when_view_fails(app: erlen.Erlen) -> None:
    kept: list[Any] = []
    app.testing = False

    @app.post("/")
    def view() -> str:
        kept.append(request.files["f"].stream)
        raise ValueError("boom")

    rv = app.test_client().post("/", data={"f": (io.BytesIO(b"x" * 600_000), "a.bin")})
    assert rv.status_code == 500
    assert kept[0].closed


# -- limits ------------------------------------------------------------------------------------------
class _ExplodingStream(io.RawIOBase):
    """A body that must never be read."""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:  # type: ignore[override]
        raise AssertionError("the body was read")

    def readinto(self, b: Any) -> int:
        raise AssertionError("the body was read")


def test_max_content_length_413_before_reading(uapp: erlen.Erlen) -> None:
    uapp.config["MAX_CONTENT_LENGTH"] = 1000
    rv = uapp.test_client().post(
        "/upload",
        input_stream=_ExplodingStream(),  # type: ignore[arg-type]
        content_length=10_000_000,
        content_type=CT,
    )
    assert rv.status_code == 413


def test_max_content_length_allows_small(uapp: erlen.Erlen) -> None:
    uapp.config["MAX_CONTENT_LENGTH"] = 1000
    rv = uapp.test_client().post("/upload", data={"f": (io.BytesIO(b"small"), "s.txt")})
    assert rv.status_code == 200


def test_max_content_length_multipart_over(uapp: erlen.Erlen) -> None:
    uapp.config["MAX_CONTENT_LENGTH"] = 1000
    rv = uapp.test_client().post("/upload", data={"f": (io.BytesIO(b"x" * 5000), "s.txt")})
    assert rv.status_code == 413


def test_max_form_memory_size(uapp: erlen.Erlen) -> None:
    uapp.config["MAX_FORM_MEMORY_SIZE"] = 100
    c = uapp.test_client()
    assert c.post("/upload", data={"a": "x" * 50}).status_code == 200
    assert c.post("/upload", data={"a": "x" * 200}).status_code == 413  # urlencoded
    body = _body(_part("a", b"x" * 60), _part("b", b"y" * 60))  # together over the limit
    assert c.post("/upload", data=body, content_type=CT).status_code == 413
    # files do not count against the field memory limit
    rv = c.post("/upload", data={"f": (io.BytesIO(b"z" * 10_000), "z.txt")})
    assert rv.status_code == 200


def test_max_form_parts(uapp: erlen.Erlen) -> None:
    uapp.config["MAX_FORM_PARTS"] = 5
    c = uapp.test_client()
    ok = _body(*[_part(f"k{i}", b"v") for i in range(5)])
    assert c.post("/upload", data=ok, content_type=CT).status_code == 200
    too_many = _body(*[_part(f"k{i}", b"v") for i in range(6)])
    assert c.post("/upload", data=too_many, content_type=CT).status_code == 413


def test_per_request_override_in_before_request(uapp: erlen.Erlen) -> None:
    uapp.config["MAX_CONTENT_LENGTH"] = 100

    @uapp.post("/big")
    def big() -> str:
        return str(len(request.files["f"].read()))

    @uapp.before_request
    def allow_big() -> None:
        if request.endpoint == "big":
            request.max_content_length = 100_000
            request.max_form_parts = 2
            request.max_form_memory_size = 10

    c = uapp.test_client()
    data = b"x" * 5000
    assert c.post("/big", data={"f": (io.BytesIO(data), "b.bin")}).text == "5000"
    assert c.post("/upload", data={"f": (io.BytesIO(data), "b.bin")}).status_code == 413
    three = _body(_part("f", b"1", filename="a"), _part("g", b"2"), _part("h", b"3"))
    assert c.post("/big", data=three, content_type=CT).status_code == 413
    fields = _body(_part("f", b"1", filename="a"), _part("g", b"x" * 11))  # field over 10 bytes
    assert c.post("/big", data=fields, content_type=CT).status_code == 413
    fields = _body(_part("f", b"1", filename="a"), _part("g", b"x" * 10))
    assert c.post("/big", data=fields, content_type=CT).text == "1"


# -- malformed bodies -> 400 ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "ctype"),
    [
        (b"--" + BOUNDARY.encode() + b"\r\nContent-Disposition: form-data", CT),  # truncated
        (_part("a", b"v"), CT),  # no closing boundary
        (b"not multipart at all", CT),
        (b"--wrong\r\n\r\nx\r\n--wrong--\r\n", CT),
        (_body(_part("a", b"v")), "multipart/form-data"),  # no boundary parameter
        (_body(_part("a", b"v")), 'multipart/form-data; boundary="bad\x7fboundary"'),
        (
            f"--{BOUNDARY}\r\nbroken header line\r\n\r\nv\r\n--{BOUNDARY}--\r\n".encode(),
            CT,
        ),
    ],
    ids=[
        "truncated",
        "unterminated",
        "garbage",
        "wrong-boundary",
        "no-boundary",
        "bad-boundary",
        "bad-header",
    ],
)
def test_malformed_multipart_400(uapp: erlen.Erlen, body: bytes, ctype: str) -> None:
    rv = uapp.test_client().post("/upload", data=body, content_type=ctype)
    assert rv.status_code == 400


def test_malformed_urlencoded_400(uapp: erlen.Erlen) -> None:
    rv = uapp.test_client().post(
        "/upload", data=b"a=%zz", content_type="application/x-www-form-urlencoded"
    )
    assert rv.status_code == 400


@pytest.mark.parametrize(
    ("config", "body", "code"),
    [
        ({}, _part("a", b"v"), 400),  # no closing boundary
        ({"MAX_FORM_PARTS": 2}, _body(*[_part(f"k{i}", b"v") for i in range(3)]), 413),
        ({"MAX_FORM_MEMORY_SIZE": 10}, _body(_part("a", b"x" * 20)), 413),
        ({"MAX_CONTENT_LENGTH": 10}, _body(_part("a", b"x" * 20)), 413),
    ],
    ids=["malformed", "parts", "memory", "content-length"],
)
def test_bad_upload_is_4xx_and_logged(
    uapp: erlen.Erlen,
    caplog: pytest.LogCaptureFixture,
    config: dict[str, int],
    body: bytes,
    code: int,
) -> None:
    uapp.config.update(config)
    with caplog.at_level("WARNING", logger="erlen"):
        rv = uapp.test_client().post("/upload", data=body, content_type=CT)
    assert rv.status_code == code
    lines = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(line.startswith(f"{code} POST '/upload'") for line in lines), lines


# -- attack shapes ---------------------------------------------------------------------------------------
def test_attack_too_many_parts_fast(uapp: erlen.Erlen) -> None:
    body = _body(*[_part("k", b"") for _ in range(50_000)])
    start = time.perf_counter()
    rv = uapp.test_client().post("/upload", data=body, content_type=CT)
    assert rv.status_code == 413
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize("filler", [b"\r\n", b"\r", b"\n", b"\r\n-"])
def test_attack_huge_part_starting_with_crlf_is_linear(uapp: erlen.Erlen, filler: bytes) -> None:
    uapp.config["MAX_FORM_MEMORY_SIZE"] = None  # let it be parsed completely

    @uapp.post("/size")
    def size() -> str:
        return str(len(request.files["f"].read()))

    def timed(n: int) -> float:
        payload = filler * (n // len(filler))
        body = _body(_part("f", payload, filename="a.bin"))
        start = time.perf_counter()
        rv = uapp.test_client().post("/size", data=body, content_type=CT)
        elapsed = time.perf_counter() - start
        assert rv.status_code == 200
        assert rv.text == str(len(payload))
        return elapsed

    small = timed(500_000)
    large = timed(4_000_000)
    assert large < 2.0
    assert large < max(small, 0.01) * 8 * 3  # 8x the data: roughly linear, generous margin


def test_attack_crlf_field_over_memory_limit(uapp: erlen.Erlen) -> None:
    body = _body(_part("a", b"\r\n" * 400_000))
    start = time.perf_counter()
    rv = uapp.test_client().post("/upload", data=body, content_type=CT)
    assert rv.status_code == 413  # 800 KB of field > default MAX_FORM_MEMORY_SIZE (500 KB)
    assert time.perf_counter() - start < 1.0


def test_attack_non_file_fields_over_memory_limit(uapp: erlen.Erlen) -> None:
    body = _body(*[_part(f"k{i}", b"x" * 10_000) for i in range(60)])  # 600 KB of fields
    rv = uapp.test_client().post("/upload", data=body, content_type=CT)
    assert rv.status_code == 413


@pytest.mark.parametrize("kind", ["many-headers", "long-header", "no-blank-line"])
def test_attack_endless_part_headers(uapp: erlen.Erlen, kind: str) -> None:
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="a"\r\n'.encode()
    if kind == "many-headers":
        head += b"".join(b"X-H%d: v\r\n" % i for i in range(100_000))
    elif kind == "long-header":
        head += b"X-Long: " + b"v" * 2_000_000 + b"\r\n"
    else:
        head += b"X-A: b" * 500_000
    body = head + f"\r\nvalue\r\n--{BOUNDARY}--\r\n".encode()
    start = time.perf_counter()
    rv = uapp.test_client().post("/upload", data=body, content_type=CT)
    assert rv.status_code in (400, 413)
    assert time.perf_counter() - start < 2.0


def test_attack_filename_star_is_decoded_and_saved_safely(app: erlen.Erlen, tmp_path: Path) -> None:
    uploads = tmp_path / "a" / "uploads"
    uploads.mkdir(parents=True)
    saved: list[str] = []

    @app.post("/")
    def view() -> str:
        f = request.files["f"]
        name = secure_filename(f.filename or "")
        saved.append(f.filename or "")
        if name:
            f.save(uploads / name)
        return name

    c = app.test_client()
    # a bare name in filename* is decoded (RFC 2231) and wins over filename=
    extra = "; filename*=UTF-8''caf%C3%A9%20menu.txt"
    body = _body(_part("f", b"ok", filename="plain.txt", extra=extra))
    rv = c.post("/", data=body, content_type=CT)
    assert (rv.status_code, saved) == (200, ["caf\u00e9 menu.txt"])
    assert rv.text == "cafe_menu.txt"
    assert (uploads / "cafe_menu.txt").read_bytes() == b"ok"
    # a path in filename* reaches the view as sent (as Werkzeug); secure_filename keeps the
    # saved file inside the upload folder
    extra = "; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd"
    body = _body(_part("f", b"pw", filename="plain.txt", extra=extra))
    rv = c.post("/", data=body, content_type=CT)
    assert (rv.status_code, rv.text) == (200, "etc_passwd")
    assert saved == ["caf\u00e9 menu.txt", "../../etc/passwd"]
    assert (uploads / "etc_passwd").read_bytes() == b"pw"
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == ["a/uploads/cafe_menu.txt", "a/uploads/etc_passwd"]


@pytest.mark.parametrize(
    ("filename", "extra", "sent", "secured"),
    [
        ("../../etc/passwd", "", "../../etc/passwd", "etc_passwd"),
        ("/etc/passwd", "", "/etc/passwd", "etc_passwd"),
        ("..", "", "..", ""),
        ("plain.txt", "; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd", "../../etc/passwd", "etc_passwd"),
        ("plain.txt", "; filename*=UTF-8''..%5Cwin.ini", "..\\win.ini", "win.ini"),
    ],
    ids=["dotdot", "absolute", "bare-dotdot", "star-dotdot", "star-backslash-dotdot"],
)
def test_path_filenames_are_accepted_as_sent(
    uapp: erlen.Erlen, filename: str, extra: str, sent: str, secured: str
) -> None:
    """Issue 11: the upload is not lost; the app sees the name the client sent."""
    body = _body(_part("f", b"pw", filename=filename, extra=extra))
    rv = uapp.test_client().post("/upload", data=body, content_type=CT)
    assert rv.status_code == 200
    (f,) = rv.json["files"]
    assert (f["filename"], f["data"]) == (sent, "pw")
    assert secure_filename(f["filename"]) == secured


def test_attack_filename_nul_never_reaches_the_app(
    uapp: erlen.Erlen, caplog: pytest.LogCaptureFixture
) -> None:
    for extra, filename in (("; filename*=UTF-8''evil%00.txt", "plain.txt"), ("", "evil\x00.txt")):
        caplog.clear()
        body = _body(_part("f", b"pw", filename=filename, extra=extra))
        rv = uapp.test_client().post("/upload", data=body, content_type=CT)
        assert rv.status_code == 400
        assert b"evil" not in rv.data
        assert [r.getMessage() for r in caplog.records if r.name == "erlen"] == [
            "400 POST '/upload': Invalid filename in multipart upload (NUL byte)."
        ]


_BIG_FILE = _part("f", b"x" * 700_000, filename="big.bin")  # over the 500 KiB spool: on disk


@pytest.mark.parametrize(
    ("tail", "code"),
    [
        (_body(*[_part(f"k{i}", b"v") for i in range(5)]), 413),  # too many parts
        (_body(_part("a", b"x" * 600_000)), 413),  # field over MAX_FORM_MEMORY_SIZE
        (_body(_part("g", b"pw", filename="a", extra="; filename*=UTF-8''x%00")), 400),
        (b"".join(b"X-H%d: v\r\n" % i for i in range(100_000)), 400),  # endless part headers
        (f"--{BOUNDARY}\r\nbroken header line\r\n\r\nv\r\n".encode(), 400),  # malformed
    ],
    ids=["parts", "memory", "filename-star", "endless-headers", "malformed"],
)
def test_attack_temp_files_closed_on_error(
    app: erlen.Erlen, monkeypatch: pytest.MonkeyPatch, tail: bytes, code: int
) -> None:
    """A body that fails half way, after a big file went to disk, leaves no open files."""
    import tempfile

    created: list[Any] = []
    real = tempfile.SpooledTemporaryFile

    def spy(*a: Any, **kw: Any) -> Any:
        f = real(*a, **kw)
        created.append(f)
        return f

    monkeypatch.setattr(tempfile, "SpooledTemporaryFile", spy)
    app.config["MAX_FORM_PARTS"] = 3

    @app.post("/")
    def view() -> str:
        return str(len(request.files))  # parsing (and failing) happens here

    rv = app.test_client().post("/", data=_BIG_FILE + tail, content_type=CT)
    assert rv.status_code == code
    assert created and created[0]._rolled  # the big file really was spilled to disk
    assert all(f.closed for f in created)


# -- 50 MB upload stays out of memory -----------------------------------------------------------------------
_BIG_UPLOAD_SCRIPT = textwrap.dedent(
    r'''
    import hashlib, io, resource, sys
    import erlen

    SIZE = 50 * 1024 * 1024
    BOUNDARY = "bigboundary1234"
    HEAD = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"big.bin\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    TAIL = f"\r\n--{BOUNDARY}--\r\n".encode()
    CHUNK = bytes(range(256)) * 256  # 64 KiB

    class Body(io.RawIOBase):
        """The multipart body generated on the fly: never held in memory."""
        def __init__(self):
            self.pieces = self._gen()
            self.buf = b""
        def _gen(self):
            yield HEAD
            left = SIZE
            while left:
                n = min(left, len(CHUNK))
                yield CHUNK[:n]
                left -= n
            yield TAIL
        def readable(self):
            return True
        def read(self, n=-1):
            while n < 0 or len(self.buf) < n:
                try:
                    self.buf += next(self.pieces)
                except StopIteration:
                    break
            if n < 0:
                n = len(self.buf)
            out, self.buf = self.buf[:n], self.buf[n:]
            return out
        def readinto(self, b):
            data = self.read(len(b))
            b[:len(data)] = data
            return len(data)

    app = erlen.Erlen(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 100 * 1024 * 1024

    @app.post("/up")
    def up():
        f = request_files = erlen.request.files["f"]
        h = hashlib.sha256()
        n = 0
        while True:
            block = f.stream.read(65536)
            if not block:
                break
            n += len(block)
            h.update(block)
        return {"size": n, "sha": h.hexdigest(), "form": len(erlen.request.form)}

    client = app.test_client()
    # warm up (imports, first request) with a small body
    client.post("/up", data={"f": (io.BytesIO(b"warm"), "w.bin")})
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    length = len(HEAD) + SIZE + len(TAIL)
    rv = client.post("/up", input_stream=Body(), content_length=length,
                     content_type=f"multipart/form-data; boundary={BOUNDARY}")
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    expected = hashlib.sha256()
    left = SIZE
    while left:
        n = min(left, len(CHUNK))
        expected.update(CHUNK[:n])
        left -= n
    print(rv.status_code, rv.json["size"], rv.json["sha"] == expected.hexdigest(), before, after)
    '''
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss in KiB on Linux")
def test_50mb_upload_stays_out_of_memory(tmp_path: Path) -> None:
    script = tmp_path / "big_upload.py"
    script.write_text(_BIG_UPLOAD_SCRIPT)
    env = dict(os.environ, TMPDIR=str(tmp_path))
    out = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=str(tmp_path),
    )
    assert out.returncode == 0, out.stderr
    status, size, sha_ok, before, after = out.stdout.split()
    assert (status, size, sha_ok) == ("200", str(50 * 1024 * 1024), "True")
    growth_mib = (int(after) - int(before)) / 1024
    assert growth_mib < 20, f"peak RSS grew by {growth_mib:.1f} MiB for a 50 MiB upload"
    # the temp file was removed when the request ended
    assert not [p for p in tmp_path.iterdir() if p.name != "big_upload.py"]
