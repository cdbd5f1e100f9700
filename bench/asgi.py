"""ASGI in-process benchmark: erlen's ``app.asgi_app`` beside Starlette, Litestar and Quart.

Each framework serves the same two requests, written the way its docs do (``async def``
handlers): ``hello`` (GET /hello → text) and ``json-param`` (GET /user/42?fields=a,b, the
route registered after 50 other dynamic routes → JSON). The apps are called directly with an
ASGI scope, ``receive`` and ``send`` (no server, no sockets), rounds interleaved across the
peers as in ``bench.inprocess``.

    .venv/bin/python -m bench.asgi [--quick]

Results: ``bench/results/asgi.md`` (µs per request and erlen's speed-up over each peer).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import inprocess
from bench.apps import common

RESULTS = Path(__file__).resolve().parent / "results"
OTHER = common.OTHER_ROUTES
REQUESTS = {
    "hello": ("/hello", b"", b"Hello, World!"),
    "json-param": ("/user/42", b"fields=a,b", {"id": 42, "fields": ["a", "b"]}),
}


def _flask_like(module: str) -> Callable[[], Any]:
    """erlen's and Quart's app: one Flask-style source, the framework module swapped."""

    def build() -> Any:
        import importlib

        fw = importlib.import_module(module)
        request = fw.request
        app = (getattr(fw, "Erlen", None) or fw.Quart)(__name__)

        @app.get("/hello")
        async def hello() -> Any:
            return "Hello, World!", 200, {"Content-Type": "text/plain; charset=utf-8"}

        async def user(id: int) -> Any:
            return {"id": id, "fields": common.split_fields(request.args.get("fields"))}

        for i in range(OTHER):
            app.add_url_rule(f"/item{i}/<int:id>", f"item{i}", user)
        app.add_url_rule("/user/<int:id>", "user", user)
        return app.asgi_app if module == "erlen" else app

    return build


def _starlette() -> Any:
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, PlainTextResponse
    from starlette.routing import Route

    async def hello(request: Any) -> Any:
        return PlainTextResponse("Hello, World!")

    async def user(request: Any) -> Any:
        fields = common.split_fields(request.query_params.get("fields"))
        return JSONResponse({"id": request.path_params["id"], "fields": fields})

    routes = [Route(f"/item{i}/{{id:int}}", user) for i in range(OTHER)]
    return Starlette(routes=[Route("/hello", hello), *routes, Route("/user/{id:int}", user)])


def _litestar() -> Any:
    from litestar import Litestar, MediaType, Request, get

    @get("/hello", media_type=MediaType.TEXT)
    async def hello() -> str:
        return "Hello, World!"

    def make(path: str, name: str) -> Any:
        @get(path, name=name)
        async def user(id: int, request: Request) -> dict[str, Any]:
            return {"id": id, "fields": common.split_fields(request.query_params.get("fields"))}

        return user

    handlers = [make(f"/item{i}/{{id:int}}", f"item{i}") for i in range(OTHER)]
    return Litestar([hello, *handlers, make("/user/{id:int}", "user")], logging_config=None)


PEERS: dict[str, Callable[[], Any]] = {
    "erlen": _flask_like("erlen"),
    "starlette": _starlette,
    "litestar": _litestar,
    "quart": _flask_like("quart"),
}


def _scope(path: str, query: bytes) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query,
        "root_path": "", "headers": [(b"host", b"bench")], "server": ("bench", 80),
        "client": ("127.0.0.1", 50000),
    }  # fmt: skip


def _receiver(body: bytes = b"") -> Callable[[], Any]:
    """As a server's: the body once, then nothing until the client leaves (never, here)."""
    request = {"type": "http.request", "body": body, "more_body": False}
    sent = False

    async def receive() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            return request
        await asyncio.Event().wait()

    return receive


async def _one(app: Any, scope: dict[str, Any], body: bytes = b"") -> tuple[int, bytes]:
    got: list[Any] = []
    receive = _receiver(body)

    async def send(m: Any) -> None:
        got.append(m)

    await app(dict(scope), receive, send)
    body = b"".join(m.get("body", b"") for m in got if m["type"] == "http.response.body")
    return got[0]["status"], body


def _loop(app: Any, scope: dict[str, Any], body: bytes = b"") -> inprocess.Loop:
    """The timed loop: ``n`` requests of ``scope`` (with ``body``) through ``app``."""

    async def many(n: int) -> int:
        async def send(m: Any) -> None:
            return None

        t0 = time.perf_counter_ns()
        for _ in range(n):
            await app(dict(scope), _receiver(body), send)
        return time.perf_counter_ns() - t0

    runner = asyncio.Runner()
    return lambda n: runner.run(many(n))


def run(quick: bool) -> dict[str, Any]:
    round_s, rounds = (0.02, 2) if quick else (0.25, 7)
    apps: dict[str, Any] = {}
    out: dict[str, Any] = {}
    for name, build in PEERS.items():
        try:
            apps[name] = build()
        except Exception as exc:  # a peer not installed
            out.setdefault("_missing", {})[name] = f"{type(exc).__name__}: {exc}"[:200]
    for scenario, (path, query, expect) in REQUESTS.items():
        scope = _scope(path, query)
        loops = {}
        for name, app in apps.items():
            status, body = asyncio.run(_one(app, scope))
            value = json.loads(body) if isinstance(expect, dict) else body
            if (status, value) != (200, expect):
                raise SystemExit(f"{name} answered {scenario} wrongly: {status} {body[:80]!r}")
            loops[name] = _loop(app, scope)
        out[scenario] = inprocess.measure_interleaved(loops, round_s, rounds)
        for name, res in out[scenario].items():
            print(f"  {scenario:11} {name:10} {res['us']:8.1f} µs", file=sys.stderr, flush=True)
    return out


def report(results: dict[str, Any]) -> str:
    peers = [p for p in PEERS if p != "erlen" and p in results.get("hello", {})]
    lines = [
        "ASGI in-process, µs per request (lower is better), and erlen's speed-up over each"
        " peer (peer time / erlen time; > 1× means erlen is faster):",
        "",
        "| scenario | erlen µs | " + " | ".join(f"vs {p}" for p in peers) + " |",
        "|---|---:|" + "---:|" * len(peers),
    ]
    for scenario in REQUESTS:
        row = results[scenario]
        ours = row["erlen"]["us"]
        cells = [f"{row[p]['us'] / ours:.2f}×" for p in peers]
        lines.append(f"| {scenario} | {ours:.1f} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true")
    args = p.parse_args(argv)
    results = run(args.quick)
    text = report(results)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "asgi.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
