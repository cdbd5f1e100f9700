"""In-process layer: call WSGI apps directly, no server, no sockets.

Each request gets a fresh environ (a copy of a per-scenario template) and a fresh BytesIO
``wsgi.input``; the body iterable is consumed and closed as a server would. Every peer's
response is verified before it is timed, so a broken scenario can never produce a number.
"""

from __future__ import annotations

import gc
import io
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.apps import common
from bench.scenarios import Reply, Scenario

BASE_ENVIRON: dict[str, Any] = {
    "SERVER_NAME": "localhost",
    "SERVER_PORT": "80",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "SCRIPT_NAME": "",
    "REMOTE_ADDR": "127.0.0.1",
    "HTTP_HOST": "localhost",
    "HTTP_USER_AGENT": "erlen-bench/1.0",
    "HTTP_ACCEPT": "*/*",
    "HTTP_ACCEPT_ENCODING": "gzip, deflate",
    "wsgi.version": (1, 0),
    "wsgi.url_scheme": "http",
    "wsgi.errors": sys.stderr,
    "wsgi.multithread": False,
    "wsgi.multiprocess": False,
    "wsgi.run_once": False,
}


class BenchError(Exception):
    """A peer gave a wrong response: the cell is reported as FAIL, never timed."""


def make_environ(scenario: Scenario, cookie: str | None = None) -> dict[str, Any]:
    """The environ template for ``scenario`` (without ``wsgi.input``, added per request)."""
    env = dict(BASE_ENVIRON)
    env["REQUEST_METHOD"] = scenario.method
    env["PATH_INFO"] = scenario.path
    env["QUERY_STRING"] = scenario.query
    if scenario.body or scenario.method == "POST":
        env["CONTENT_LENGTH"] = str(len(scenario.body))
    if scenario.content_type:
        env["CONTENT_TYPE"] = scenario.content_type
    if cookie:
        env["HTTP_COOKIE"] = cookie
    for name, value in scenario.headers:
        env["HTTP_" + name.upper().replace("-", "_")] = value
    return env


def call(app: Any, template: dict[str, Any], body: bytes = b"") -> Reply:
    """One request through ``app``, collecting status, headers and body."""
    got: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        got[:] = [status, headers]
        return lambda data: None

    env = template.copy()
    env["wsgi.input"] = io.BytesIO(body)
    it = app(env, start_response)
    try:
        data = b"".join(it)
    finally:
        close = getattr(it, "close", None)
        if close is not None:
            close()
    return Reply(int(got[0].split(" ", 1)[0]), list(got[1]), data)


def session_cookie(reply: Reply) -> str:
    """``name=value`` of the session cookie set by ``reply`` (as a browser sends it back)."""
    for value in reply.header_all("Set-Cookie"):
        if value.startswith(common.SESSION_COOKIE + "="):
            return value.split(";", 1)[0]
    raise BenchError("no session cookie set")


def prepare(app: Any, scenario: Scenario) -> dict[str, Any]:
    """Verified environ template for ``scenario`` on ``app`` (raises BenchError if wrong).

    For the session scenario a first cookie-less request must answer ``1`` and set the
    cookie; the template then carries that cookie, so each timed request answers ``2``.
    """
    template = make_environ(scenario)
    if scenario.session:
        first = call(app, template, scenario.body)
        if first.status != 200 or first.body != b"1":
            raise BenchError(f"first session request: {first.status} {first.body[:80]!r}")
        template = make_environ(scenario, session_cookie(first))
    reply = call(app, template, scenario.body)
    problem = scenario.check(reply)
    if problem:
        raise BenchError(problem)
    return template


def _no_write(data: bytes) -> None:
    return None


def _start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
    return _no_write


def _loop_wsgi(app: Any, template: dict[str, Any], body: bytes, n: int) -> int:
    bytes_io = io.BytesIO
    sr = _start_response
    t0 = time.perf_counter_ns()
    for _ in range(n):
        env = template.copy()
        env["wsgi.input"] = bytes_io(body)
        it = app(env, sr)
        for _chunk in it:
            pass
        close = getattr(it, "close", None)
        if close is not None:
            close()
    return time.perf_counter_ns() - t0


def _loop_callable(fn: Callable[[], Any], n: int) -> int:
    t0 = time.perf_counter_ns()
    for _ in range(n):
        fn()
    return time.perf_counter_ns() - t0


Loop = Callable[[int], int]  # runs n calls, returns the elapsed ns


def calibrate(loop: Loop, round_seconds: float) -> int:
    """N such that one round of ``loop`` lasts ~round_seconds (doubles as warm-up)."""
    n = 1
    while True:
        elapsed = loop(n)
        if elapsed >= round_seconds * 1e9 or n >= 1 << 22:
            return n
        n = max(n * 2, int(n * round_seconds * 1e9 / max(elapsed, 1) * 0.8))


def measure_interleaved(
    loops: dict[str, Loop], round_seconds: float, rounds: int
) -> dict[str, dict[str, Any]]:
    """Best-of-``rounds`` µs per call for each loop, rounds interleaved across the loops.

    Round 1 of every loop, then round 2 of every loop, and so on: this machine's speed drifts
    by tens of percent over seconds, and interleaving lets every peer meet the same fast and
    slow stretches, so the best rounds are comparable. Every other round runs the loops in
    reverse order, so no loop always follows the same neighbour. GC stays enabled (servers
    run with it) but is collected before each round.
    """
    ns = {name: calibrate(loop, round_seconds) for name, loop in loops.items()}
    times: dict[str, list[float]] = {name: [] for name in loops}
    order = list(loops.items())
    for i in range(rounds):
        for name, loop in order if i % 2 == 0 else reversed(order):
            gc.collect()
            times[name].append(loop(ns[name]) / ns[name] / 1000)
    return {
        name: {"us": min(t), "n": ns[name], "rounds": rounds, "all_us": t}
        for name, t in times.items()
    }


def wsgi_loop(app: Any, scenario: Scenario) -> Loop:
    """Verify ``scenario`` on ``app`` (BenchError if wrong), then the loop that times it."""
    template = prepare(app, scenario)
    body = scenario.body
    return lambda n: _loop_wsgi(app, template, body, n)


def jinja_direct_loop() -> Loop:
    """The template scenario's page rendered by Jinja2 alone (the reference column)."""
    env = common.make_jinja_env()
    ctx = common.TEMPLATE_CONTEXT

    def render() -> bytes:
        return env.get_template("page.html").render(**ctx).encode()

    return lambda n: _loop_callable(render, n)


def multipart_direct_loop(scenario: Scenario) -> Loop:
    """The upload body parsed by the ``multipart`` library's push parser alone (erlen's
    parser), in memory, 64 KiB reads, plus the same answer: the floor for the upload."""
    from multipart import PushMultipartParser

    body = scenario.body
    boundary = (scenario.content_type or "").partition("boundary=")[2].strip('"')

    def parse() -> bytes:
        stream = io.BytesIO(body)
        data: list[bytes] = []
        in_file = False
        with PushMultipartParser(boundary) as parser:
            while True:
                chunk = stream.read(65536)
                for event in parser.parse(chunk):
                    if type(event) is bytes:
                        if in_file:
                            data.append(event)
                    elif event is None:
                        in_file = False
                    else:
                        in_file = event.name == "file"  # type: ignore[union-attr]
                if not chunk:
                    break
        return common.upload_answer(b"".join(data)).encode()

    if parse() != scenario.expect_body:
        raise BenchError("multipart direct: wrong upload answer")
    return lambda n: _loop_callable(parse, n)


def multipart_library_loop(scenario: Scenario) -> Loop:
    """The upload body through the ``multipart`` library's own high-level parser with its
    defaults (``MultipartParser``: parts over 64 KiB spool to a temporary file, as erlen's
    over 500 KiB do), reading the file part back: what a user of the library alone pays."""
    from multipart import MultipartParser

    body = scenario.body
    boundary = (scenario.content_type or "").partition("boundary=")[2].strip('"')

    def parse() -> bytes:
        parser = MultipartParser(io.BytesIO(body), boundary, content_length=len(body))
        try:
            part = parser.get("file")
            assert part is not None
            part.file.seek(0)
            answer = common.upload_answer(part.file.read())
        finally:
            for p in parser.parts():
                p.close()
        return answer.encode()

    if parse() != scenario.expect_body:
        raise BenchError("multipart library: wrong upload answer")
    return lambda n: _loop_callable(parse, n)


def harness_loop() -> Loop:
    """The loop itself (environ copy, BytesIO, start_response) around a no-op app."""
    body = [b"x"]

    def null_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return body

    template = make_environ(Scenario("null", "", "GET", "/"))
    return lambda n: _loop_wsgi(null_app, template, b"", n)
