"""The request body under ASGI: read before the view up to the form memory limit, longer
bodies streamed to ``async def`` views as they arrive (``async for chunk in request.stream``,
``await request.stream``), MAX_CONTENT_LENGTH enforced while reading."""

from __future__ import annotations

import asyncio
import hashlib
import io
from typing import Any

import pytest

from erlen import Erlen, request
from test_asgi import _scope, run

CHUNK = 64 * 1024


async def _post(
    app: Erlen,
    path: str,
    chunks: list[bytes],
    headers: list[Any] | None = None,
    end: dict[str, Any] | None = None,
) -> tuple[list[Any], list[int]]:
    """POST ``chunks`` as separate ``http.request`` messages; the response messages and,
    per message, how many the app had received when the view started (``seen`` below)."""
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    if end is not None:  # e.g. a disconnect instead of the last message
        messages[-1] = end
    pulled: list[int] = [0]
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        if pulled[0] >= len(messages):
            await asyncio.sleep(3600)  # after the body: only a disconnect would come
        pulled[0] += 1
        await asyncio.sleep(0)  # a real server waits for the network here
        return messages[pulled[0] - 1]

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    app.config["_PULLED"] = pulled
    await app.asgi_app(_scope(path, "POST", headers or [(b"host", b"t")]), receive, send)
    return sent, pulled


def _answer(sent: list[Any]) -> tuple[int, bytes]:
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], body


@pytest.fixture
def app() -> Erlen:
    app = Erlen(__name__)

    def seen() -> int:
        return int(app.config["_PULLED"][0])

    @app.post("/chunks")
    async def chunks() -> Any:
        at_start = seen()
        sizes = [len(c) async for c in request.stream]
        return {"at_start": at_start, "sizes": sizes}

    @app.post("/await")
    async def awaited() -> Any:
        at_start = seen()
        data = await request.stream
        return {"at_start": at_start, "sha": hashlib.sha256(data).hexdigest()}

    @app.post("/form")
    async def form() -> Any:  # the sync request API in an async view, on a streamed body
        at_start = seen()
        upload = request.files["f"]
        return {"at_start": at_start, "name": request.form["name"], "size": len(upload.read())}

    @app.post("/sync")
    def sync() -> Any:
        return {"at_start": seen(), "size": len(request.get_data())}

    return app


def test_a_long_body_streams_to_an_async_view_as_it_arrives(app: Erlen) -> None:
    body = [b"a" * CHUNK for _ in range(40)]  # 2.5 MiB, over the 500 kB form memory limit
    sent, pulled = run(_post(app, "/chunks", body))
    status, answer = _answer(sent)
    assert status == 200, answer
    got = __import__("json").loads(answer)
    assert got["at_start"] < 40  # the view ran before the body had all arrived
    assert sum(got["sizes"]) == 40 * CHUNK
    assert len(got["sizes"]) > 1  # in pieces, not read into memory first
    assert pulled[0] == 40


def test_a_short_body_is_read_before_the_view(app: Erlen) -> None:
    sent, _ = run(_post(app, "/chunks", [b"a" * 1000, b"b" * 1000, b"c" * 1000]))
    status, answer = _answer(sent)
    assert status == 200
    assert __import__("json").loads(answer) == {"at_start": 3, "sizes": [3000]}


def test_a_sync_view_gets_the_whole_body_read_first(app: Erlen) -> None:
    sent, _ = run(_post(app, "/sync", [b"a" * CHUNK for _ in range(40)]))
    assert _answer(sent) == (200, b'{"at_start":40,"size":2621440}\n')


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_await_request_stream_is_the_whole_body(app: Erlen, declared: bool) -> None:
    data = bytes(range(256)) * 8192  # 2 MiB
    chunks = [data[i : i + 50_000] for i in range(0, len(data), 50_000)]
    headers = [(b"host", b"t")]
    if declared:
        headers.append((b"content-length", str(len(data)).encode()))
    sent, _ = run(_post(app, "/await", chunks, headers))
    status, answer = _answer(sent)
    got = __import__("json").loads(answer)
    assert status == 200
    assert got["sha"] == hashlib.sha256(data).hexdigest()
    assert got["at_start"] < len(chunks)


def test_form_and_files_work_in_an_async_view_on_a_streamed_body(app: Erlen) -> None:
    boundary = "erlenboundary"
    payload = b"\x00\xff" * 1_000_000  # 2 MB file part
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nada\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="f"; filename="a.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + payload
        + f"\r\n--{boundary}--\r\n".encode()
    )
    chunks = [body[i : i + CHUNK] for i in range(0, len(body), CHUNK)]
    headers = [
        (b"host", b"t"),
        (b"content-type", f"multipart/form-data; boundary={boundary}".encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    sent, _ = run(_post(app, "/form", chunks, headers))
    status, answer = _answer(sent)
    assert status == 200, answer
    got = __import__("json").loads(answer)
    assert (got["name"], got["size"]) == ("ada", 2_000_000)
    assert got["at_start"] < len(chunks)


def test_max_content_length_is_enforced_while_streaming(app: Erlen, caplog: Any) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1_000_000
    sent, pulled = run(_post(app, "/chunks", [b"a" * CHUNK for _ in range(40)]))  # no length
    assert sent[0]["status"] == 413
    assert pulled[0] < 40  # refused while reading, not after taking it all
    assert "Traceback" not in caplog.text


def test_a_client_leaving_mid_body_is_a_clean_4xx_with_teardown(app: Erlen, caplog: Any) -> None:
    torn_down: list[Any] = []
    app.teardown_request(lambda exc: torn_down.append(exc))
    chunks = [b"a" * CHUNK for _ in range(20)]
    sent, _ = run(_post(app, "/chunks", chunks, end={"type": "http.disconnect"}))
    assert sent[0]["status"] == 400
    assert torn_down == [None]  # answered as an HTTP error, not an unhandled exception
    assert "Exception on" not in caplog.text


def test_a_streamed_body_ending_before_its_content_length_is_400(app: Erlen) -> None:
    headers = [(b"host", b"t"), (b"content-length", b"5000000")]
    sent, _ = run(_post(app, "/chunks", [b"a" * CHUNK for _ in range(20)], headers))
    assert sent[0]["status"] == 400


def test_async_iteration_and_await_also_work_under_wsgi(app: Erlen) -> None:
    app.config["_PULLED"] = [0]
    client = app.test_client()
    data = b"z" * 300_000
    assert client.post("/await", data=data).json["sha"] == hashlib.sha256(data).hexdigest()
    sizes = client.post("/chunks", data=io.BytesIO(data)).json["sizes"]
    assert sum(sizes) == 300_000


def _get(app: Erlen, headers: list[Any], body: bytes) -> tuple[int, bytes, int]:
    """A GET through ``asgi_app`` whose receive counts its calls."""
    calls = [0]
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        calls[0] += 1
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = _scope("/echo", "GET", headers)
    run(app.asgi_app(scope, receive, send))
    status, answer = _answer(sent)
    return status, answer, calls[0]


def test_a_get_without_framing_headers_is_answered_without_awaiting_receive() -> None:
    app = Erlen(__name__)
    app.get("/echo")(lambda: request.get_data())
    # RFC 9112 6.3: no Content-Length, no Transfer-Encoding: no body, nothing to receive
    assert _get(app, [(b"host", b"t")], b"") == (200, b"", 0)
    # a GET that declares a body still has it read
    declared = [(b"host", b"t"), (b"content-length", b"5")]
    assert _get(app, declared, b"hello") == (200, b"hello", 1)


def test_a_post_without_framing_headers_still_has_its_body_read() -> None:
    app = Erlen(__name__)
    app.post("/up")(lambda: request.get_data())
    sent, pulled = run(_post(app, "/up", [b"in-process ", b"caller"]))
    assert _answer(sent) == (200, b"in-process caller")
