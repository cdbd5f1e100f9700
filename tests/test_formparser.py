"""Tests for erlen.http.formparser and erlen.http.stream (bodies, forms, uploads)."""

from __future__ import annotations

import io
import os
import time
from typing import Any

import pytest

from erlen.exceptions import BadRequest, ClientDisconnected, RequestEntityTooLarge
from erlen.http.formparser import parse_form_data, parse_multipart
from erlen.http.request import Request
from erlen.http.stream import LimitedStream, get_input_stream
from erlen.utils import secure_filename

BOUNDARY = "----erlenBoundary7MA4YWxk"


def _environ(
    body: bytes = b"",
    content_type: str | None = None,
    method: str = "POST",
    content_length: Any = "auto",
    **extra: Any,
) -> dict[str, Any]:
    env: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": "/",
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
    }
    if content_type is not None:
        env["CONTENT_TYPE"] = content_type
    if content_length == "auto":
        env["CONTENT_LENGTH"] = str(len(body))
    elif content_length is not None:
        env["CONTENT_LENGTH"] = content_length
    env.update(extra)
    return env


def _multipart(
    fields: list[tuple[str, str]] = (),  # type: ignore[assignment]
    files: list[tuple[str, str, bytes, str]] = (),  # type: ignore[assignment]
    boundary: str = BOUNDARY,
) -> bytes:
    out = []
    for name, value in fields:
        out.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    for name, filename, data, ctype in files:
        out.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {ctype}\r\n\r\n'.encode()
            + data
            + b"\r\n"
        )
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out)


def _mp_request(body: bytes, boundary: str = BOUNDARY, **kw: Any) -> Request:
    return Request(_environ(body, f"multipart/form-data; boundary={boundary}", **kw))


class CountingStream:
    """A server input that records how much was read from it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.read_bytes = 0

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = self.size - self.read_bytes
        n = min(n, self.size - self.read_bytes)
        self.read_bytes += n
        return b"x" * n

    def readline(self, n: int = -1) -> bytes:
        return self.read(n)


# -- stream ------------------------------------------------------------------------


def test_limited_stream_stops_at_content_length() -> None:
    s = LimitedStream(io.BytesIO(b"hello world, more"), 11)
    assert s.read(5) == b"hello"
    assert s.read() == b" world"
    assert s.exhausted
    assert s.read() == b""
    assert s.tell() == 11


def test_limited_stream_readline_and_iter() -> None:
    s = LimitedStream(io.BytesIO(b"a\nbb\nccc\nignored"), 9)
    assert list(s) == [b"a\n", b"bb\n", b"ccc\n"]
    s = LimitedStream(io.BytesIO(b"a\nbb\nccc\n"), 9)
    assert s.readline() == b"a\n"
    assert s.readlines() == [b"bb\n", b"ccc\n"]


def test_limited_stream_early_eof_is_client_disconnected() -> None:
    s = LimitedStream(io.BytesIO(b"short"), 100)
    with pytest.raises(ClientDisconnected) as ei:
        s.read()
    assert ei.value.code == 400


def test_limited_stream_is_max_raises_when_crossing() -> None:
    src = CountingStream(10_000_000)
    s = LimitedStream(src, 1000, is_max=True)
    with pytest.raises(RequestEntityTooLarge):
        s.read()
    assert src.read_bytes <= 1001


def test_limited_stream_is_max_under_limit_reads_to_eof() -> None:
    s = LimitedStream(io.BytesIO(b"x" * 500), 1000, is_max=True)
    assert s.read() == b"x" * 500
    assert s.exhausted


def test_get_input_stream_without_length_is_empty() -> None:
    env = _environ(b"data", content_length=None)
    assert get_input_stream(env).read() == b""


def test_get_input_stream_terminated_reads_all() -> None:
    env = _environ(b"data" * 10, content_length=None, **{"wsgi.input_terminated": True})
    assert get_input_stream(env).read() == b"data" * 10


def test_stream_close_does_not_drain() -> None:
    src = CountingStream(1_000_000)
    s = LimitedStream(src, 1_000_000)
    s.read(10)
    s.close()
    assert src.read_bytes == 10


class ParseException(Exception):
    """Stands for gunicorn's ``gunicorn.http.errors.ParseException`` (a plain Exception)."""


class FailingInput:
    """A server input that gives ``good`` and then fails as gunicorn's de-chunker does."""

    def __init__(self, good: bytes, error: Exception) -> None:
        self._good = io.BytesIO(good)
        self._error = error

    def read(self, n: int = -1) -> bytes:
        data = self._good.read(n if n is not None and n >= 0 else -1)
        if not data:
            raise self._error
        return data

    def readline(self, n: int = -1) -> bytes:
        return self.read(n)


_INPUT_ERRORS = [
    (ParseException("Invalid chunk size: b'zz'"), BadRequest, "ParseException"),
    (ValueError("I/O operation on closed file"), BadRequest, "ValueError"),
    (OSError("No more data"), ClientDisconnected, "OSError"),
    (ConnectionResetError(), ClientDisconnected, "ConnectionResetError"),
    (TimeoutError("timed out"), ClientDisconnected, "TimeoutError"),
]


@pytest.mark.parametrize(("error", "expected", "name"), _INPUT_ERRORS)
@pytest.mark.parametrize("how", ["read", "read(5)", "readline"])
def test_server_read_errors_are_400(error: Exception, expected: type, name: str, how: str) -> None:
    s = LimitedStream(FailingInput(b"partial", error), None, is_max=True)
    with pytest.raises(expected) as info:
        while True:  # the good bytes first, then the server's error
            data = s.read() if how == "read" else s.read(5) if how == "read(5)" else s.readline()
            if not data:
                break
    assert info.value.code == 400
    assert name in info.value.description
    assert info.value.__cause__ is error
    assert s.exhausted and s.read() == b""  # no second read of a broken input


def test_http_errors_and_memory_errors_from_the_input_pass_unchanged() -> None:
    for error in (RequestEntityTooLarge(), MemoryError()):
        s = LimitedStream(FailingInput(b"", error), 10)
        with pytest.raises(type(error)) as info:
            s.read()
        assert info.value is error


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", b"a=1&b="),
        ("multipart/form-data; boundary=b", b"--b\r\nContent-Disposition: form-data; name=a\r\n"),
        ("application/json", b'{"a": '),
        ("application/octet-stream", b"abc"),
    ],
)
def test_request_body_with_server_read_error_is_400(content_type: str, body: bytes) -> None:
    env = _environ(b"", content_type=content_type, content_length=None)
    env["wsgi.input"] = FailingInput(body, ParseException("Invalid chunk size"))
    env["wsgi.input_terminated"] = True
    req = Request(env)
    with pytest.raises(BadRequest) as info:
        if content_type == "application/json":
            req.get_json()
        elif content_type == "application/octet-stream":
            req.get_data()
        else:
            req.files  # noqa: B018
    assert "could not be read (ParseException)" in info.value.description


# -- urlencoded -------------------------------------------------------------------------


def test_urlencoded_form() -> None:
    req = Request(_environ(b"a=1&b=x+y&a=2&c=%E2%82%AC", "application/x-www-form-urlencoded"))
    assert req.form["a"] == "1"
    assert req.form.getlist("a") == ["1", "2"]
    assert req.form["b"] == "x y"
    assert req.form["c"] == "\u20ac"
    assert len(req.files) == 0
    assert req.data == b""


def test_urlencoded_form_charset_param_and_case() -> None:
    req = Request(_environ(b"a=1", "Application/X-WWW-Form-Urlencoded; charset=UTF-8"))
    assert req.form["a"] == "1"


def test_urlencoded_too_large_content_length() -> None:
    req = Request(_environ(b"a=" + b"x" * 100, "application/x-www-form-urlencoded"))
    req.max_form_memory_size = 50
    with pytest.raises(RequestEntityTooLarge):
        req.form  # noqa: B018


def test_urlencoded_too_large_chunked() -> None:
    src = CountingStream(10_000_000)
    env = _environ(
        b"",
        "application/x-www-form-urlencoded",
        content_length=None,
        **{"wsgi.input": src, "wsgi.input_terminated": True},
    )
    req = Request(env)
    req.max_form_memory_size = 1000
    with pytest.raises(RequestEntityTooLarge):
        req.form  # noqa: B018
    assert src.read_bytes <= 1001 + 64 * 1024


def test_urlencoded_invalid_is_400() -> None:
    req = Request(_environ(b"a=%ZZ&b=%FF", "application/x-www-form-urlencoded"))
    with pytest.raises(BadRequest):
        req.form  # noqa: B018


def test_urlencoded_one_megabyte_of_ampersands_is_fast() -> None:
    body = b"&" * 1_000_000 + b"a=1"
    req = Request(_environ(body, "application/x-www-form-urlencoded"))
    req.max_form_memory_size = 2_000_000
    t = time.perf_counter()
    assert req.form["a"] == "1"
    assert time.perf_counter() - t < 0.5


def test_get_data_then_form_parses_cached_body() -> None:
    req = Request(_environ(b"a=1", "application/x-www-form-urlencoded"))
    assert req.get_data() == b"a=1"
    assert req.form["a"] == "1"


def test_other_mimetype_leaves_body_in_data() -> None:
    req = Request(_environ(b"<xml/>", "application/xml"))
    assert len(req.form) == 0
    assert len(req.files) == 0
    assert req.data == b"<xml/>"


def test_parse_form_data_returns_none_for_non_form() -> None:
    assert parse_form_data(io.BytesIO(b"x"), "text/plain", {}, 1) is None


# -- multipart --------------------------------------------------------------------------


def test_multipart_fields_and_files() -> None:
    body = _multipart(
        fields=[("title", "Hello"), ("tag", "a"), ("tag", "b")],
        files=[("upload", "hello.txt", b"file contents\r\nline 2", "text/plain")],
    )
    req = _mp_request(body)
    assert req.form["title"] == "Hello"
    assert req.form.getlist("tag") == ["a", "b"]
    f = req.files["upload"]
    assert f.filename == "hello.txt"
    assert f.name == "upload"
    assert f.content_type == "text/plain"
    assert f.mimetype == "text/plain"
    assert f.headers["Content-Type"] == "text/plain"
    assert f.read() == b"file contents\r\nline 2"
    assert "upload" not in req.form
    assert req.data == b""


def test_multipart_several_files_in_one_field(tmp_path: Any) -> None:
    body = _multipart(
        files=[
            ("docs", "a.txt", b"AAA", "text/plain"),
            ("docs", "b.bin", b"\x00\x01\x02", "application/octet-stream"),
        ]
    )
    req = _mp_request(body)
    files = req.files.getlist("docs")
    assert [f.filename for f in files] == ["a.txt", "b.bin"]
    assert files[1].read() == b"\x00\x01\x02"
    target = tmp_path / "a.txt"
    files[0].save(str(target))
    assert target.read_bytes() == b"AAA"


def test_multipart_field_charset_param() -> None:
    b = BOUNDARY
    body = (
        (
            f'--{b}\r\nContent-Disposition: form-data; name="t"\r\n'
            f"Content-Type: text/plain; charset=latin-1\r\n\r\n"
        ).encode()
        + "caf\xe9".encode("latin-1")
        + f"\r\n--{b}--\r\n".encode()
    )
    assert _mp_request(body).form["t"] == "caf\xe9"


def test_multipart_big_file_spills_to_disk() -> None:
    data = os.urandom(2 * 1024 * 1024)
    req = _mp_request(_multipart(files=[("f", "big.bin", data, "application/octet-stream")]))
    f = req.files["f"]
    assert f.stream._rolled  # type: ignore[attr-defined]
    os.fstat(f.stream.fileno())  # a real file on disk
    assert f.read() == data
    req.close()
    assert f.stream.closed


def test_multipart_small_file_stays_in_memory() -> None:
    req = _mp_request(_multipart(files=[("f", "s.txt", b"small", "text/plain")]))
    assert not req.files["f"].stream._rolled


def test_multipart_too_many_parts_is_413() -> None:
    body = _multipart(fields=[(f"f{i}", "v") for i in range(20)])
    req = _mp_request(body)
    req.max_form_parts = 10
    with pytest.raises(RequestEntityTooLarge):
        req.form  # noqa: B018


def test_multipart_fields_too_large_is_413() -> None:
    body = _multipart(fields=[("a", "x" * 600), ("b", "y" * 600)])
    req = _mp_request(body)
    req.max_form_memory_size = 1000
    with pytest.raises(RequestEntityTooLarge):
        req.form  # noqa: B018


def test_multipart_files_do_not_count_towards_memory_limit() -> None:
    body = _multipart(fields=[("a", "x")], files=[("f", "f.bin", b"z" * 5000, "x/y")])
    req = _mp_request(body)
    req.max_form_memory_size = 1000
    assert req.form["a"] == "x"
    assert len(req.files["f"].read()) == 5000


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data",
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=" + "x" * 300,
        'multipart/form-data; boundary="bad\x01"',
    ],
)
def test_multipart_bad_boundary_is_400(content_type: str) -> None:
    req = Request(_environ(_multipart(), content_type))
    with pytest.raises(BadRequest) as ei:
        req.form  # noqa: B018
    assert ei.value.code == 400


@pytest.mark.parametrize(
    "body",
    [
        b"garbage without any boundary",
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=a\r\n\r\nunterminated".encode(),
        f"--{BOUNDARY}\r\nNo-Colon-Header\r\n\r\nx\r\n--{BOUNDARY}--\r\n".encode(),
        f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n--{BOUNDARY}--\r\n".encode(),
        f"--{BOUNDARY}\r\nX-Long: ".encode() + b"h" * 200_000,
    ],
)
def test_multipart_malformed_is_400(body: bytes) -> None:
    req = _mp_request(body)
    with pytest.raises(BadRequest) as ei:
        req.files  # noqa: B018
    assert ei.value.code == 400


def test_multipart_empty_body_is_empty_form() -> None:
    req = _mp_request(b"")
    assert len(req.form) == 0 and len(req.files) == 0


def test_multipart_crlf_heavy_part_is_linear() -> None:
    data = b"\r\n" * 500_000  # 1 MB of CR/LF
    body = _multipart(files=[("f", "crlf.bin", data, "application/octet-stream")])
    t = time.perf_counter()
    req = _mp_request(body)
    assert req.files["f"].read() == data
    assert time.perf_counter() - t < 1.0
    # the same, as a non-file field with a big enough memory limit
    body = _multipart(fields=[("a", "\r" * 1_000_000)])
    req = _mp_request(body)
    req.max_form_memory_size = 2_000_000
    t = time.perf_counter()
    assert req.form["a"] == "\r" * 1_000_000
    assert time.perf_counter() - t < 1.0


def test_multipart_rfc2231_filename() -> None:
    b = BOUNDARY
    body = (
        f'--{b}\r\nContent-Disposition: form-data; name="f"; filename="fallback.txt"; '
        f"filename*=UTF-8''%E2%82%AC.txt\r\n\r\neuro\r\n--{b}--\r\n"
    ).encode()
    assert _mp_request(body).files["f"].filename == "\u20ac.txt"


def _one_file(name: str) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f"; filename="{name}"\r\n'
        f"\r\nx\r\n--{BOUNDARY}--\r\n"
    ).encode()


@pytest.mark.parametrize(
    "name", ["../../etc/passwd", "../evil.txt", "/etc/passwd", "..", "a/../b.txt", "./x"]
)
def test_multipart_path_filename_is_kept_as_sent_like_werkzeug(name: str) -> None:
    """Paths are the app's to clean (secure_filename); refusing them lost the upload."""
    from werkzeug.wrappers import Request as WRequest

    body = _one_file(name)
    ct = f"multipart/form-data; boundary={BOUNDARY}"
    ours = Request(_environ(body, ct)).files["f"]
    theirs = WRequest(_environ(body, ct)).files["f"]
    assert (ours.filename, ours.read()) == (theirs.filename, theirs.read()) == (name, b"x")


def test_multipart_backslash_path_filename_is_kept() -> None:
    assert _mp_request(_one_file("a\\..\\b.txt")).files["f"].filename == "a\\..\\b.txt"


def test_multipart_nul_in_filename_is_400() -> None:
    with pytest.raises(BadRequest, match="NUL"):
        _mp_request(_one_file("evil\x00.txt")).files  # noqa: B018


def test_multipart_filename_with_dots_inside_is_kept() -> None:
    b = BOUNDARY
    body = (
        f'--{b}\r\nContent-Disposition: form-data; name="f"; filename="my..file.tar.gz"\r\n'
        f"\r\nx\r\n--{b}--\r\n"
    ).encode()
    assert _mp_request(body).files["f"].filename == "my..file.tar.gz"


def test_multipart_empty_filename_is_a_file() -> None:
    req = _mp_request(_multipart(files=[("f", "", b"", "application/octet-stream")]))
    assert req.files["f"].filename == ""
    assert not req.files["f"]


def test_multipart_utf8_field_values() -> None:
    req = _mp_request(_multipart(fields=[("name", "J\u00fcrgen \u20ac")]))
    assert req.form["name"] == "J\u00fcrgen \u20ac"


def test_multipart_request_close_closes_files() -> None:
    req = _mp_request(_multipart(files=[("a", "a", b"1", "x/y"), ("b", "b", b"2", "x/y")]))
    files = [f for _, f in req.files.items(multi=True)]
    with req:
        assert files[0].read() == b"1"
    assert all(f.stream.closed for f in files)


def test_multipart_error_closes_already_opened_files() -> None:
    opened: list[Any] = []

    def factory() -> Any:
        f = io.BytesIO()
        opened.append(f)
        return f

    body = _multipart(files=[("a", "a", b"1", "x/y")]).replace(f"--{BOUNDARY}--".encode(), b"")
    with pytest.raises(BadRequest):
        parse_multipart(io.BytesIO(body), BOUNDARY, None, None, None, factory)
    assert opened and opened[0].closed


def test_multipart_max_content_length_413_before_read() -> None:
    src = CountingStream(10_000)
    env = _environ(
        b"",
        f"multipart/form-data; boundary={BOUNDARY}",
        content_length="10000",
        **{"wsgi.input": src},
    )
    req = Request(env)
    req.max_content_length = 100
    with pytest.raises(RequestEntityTooLarge):
        req.files  # noqa: B018
    assert src.read_bytes == 0


# -- oracle ------------------------------------------------------------------------------


def test_multipart_matches_werkzeug() -> None:
    from werkzeug.wrappers import Request as WRequest

    body = _multipart(
        fields=[("a", "1"), ("b", "\u00e9t\u00e9"), ("a", "2")],
        files=[("f", "x.txt", b"X" * 100, "text/plain"), ("f", "y.txt", b"Y", "text/csv")],
    )
    ct = f"multipart/form-data; boundary={BOUNDARY}"
    ours = Request(_environ(body, ct))
    theirs = WRequest(_environ(body, ct))
    assert list(ours.form.items(multi=True)) == list(theirs.form.items(multi=True))
    ours_files = [
        (k, f.filename, f.content_type, f.read()) for k, f in ours.files.items(multi=True)
    ]
    their_files = [
        (k, f.filename, f.content_type, f.read()) for k, f in theirs.files.items(multi=True)
    ]
    assert ours_files == their_files


@pytest.mark.parametrize(
    "name", ["C:\\Users\\me\\b.txt", "\\\\server\\share\\c.txt", "d:\\x.txt"]
)
def test_multipart_windows_path_filename_is_kept_as_sent(name: str) -> None:
    """The library's IE6 workaround kept only ``b.txt``; the app gets the name as sent."""
    assert _mp_request(_one_file(name)).files["f"].filename == name
    assert "\\" not in secure_filename(name) and ":" not in secure_filename(name)


def test_secure_filename_of_a_windows_path_keeps_its_parts() -> None:
    assert secure_filename("C:\\Users\\me\\b.txt") == "C_Users_me_b.txt"
