"""Typed JSON API benchmark: erlen's typed binding beside FastAPI and Litestar.

One request: POST /items?notify=1 with a JSON body of 5 fields, validated into a pydantic
model (a query scalar beside it), answered with a response model (validated, serialized).
Each framework's app is written the way its docs do (``async def``). In-process: the apps are
called directly with an ASGI scope (erlen also through WSGI), rounds interleaved across the
peers as in ``bench.inprocess``.

    .venv/bin/python -m bench.api [--quick]

Results: ``bench/results/api.md`` (µs per request and erlen's speed-up over each peer).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import sys
from pathlib import Path
from typing import Any

import pydantic

from bench import inprocess
from bench.asgi import _loop, _one

RESULTS = Path(__file__).resolve().parent / "results"
BODY = json.dumps(
    {"name": "widget", "price": 9.5, "quantity": 3, "tags": ["a", "b"], "active": True}
).encode()
EXPECT = {"id": 1, "name": "widget", "total": 28.5, "tags": ["a", "b"], "notified": True}


class Item(pydantic.BaseModel):
    name: str
    price: float
    quantity: int
    tags: list[str]
    active: bool = True


class Created(pydantic.BaseModel):
    id: int
    name: str
    total: float
    tags: list[str]
    notified: bool


def _answer(item: Item, notify: bool) -> Created:
    return Created(
        id=1, name=item.name, total=item.price * item.quantity, tags=item.tags, notified=notify
    )


def _erlen() -> Any:
    from erlen import Erlen

    app = Erlen(__name__)

    @app.post("/items")
    async def create(item: Item, notify: bool = False) -> Created:
        return _answer(item, notify)

    return app


def _fastapi() -> Any:
    from fastapi import FastAPI

    app = FastAPI()

    @app.post("/items")
    async def create(item: Item, notify: bool = False) -> Created:
        return _answer(item, notify)

    return app


def _litestar() -> Any:
    from litestar import Litestar, post

    @post("/items", status_code=200)
    async def create(data: Item, notify: bool = False) -> Created:
        return _answer(data, notify)

    return Litestar([create], logging_config=None)


def _scope() -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/items", "raw_path": b"/items", "query_string": b"notify=1",
        "root_path": "", "server": ("bench", 80), "client": ("127.0.0.1", 50000),
        "headers": [(b"host", b"bench"), (b"content-type", b"application/json"),
                    (b"content-length", str(len(BODY)).encode())],
    }  # fmt: skip


def _wsgi_environ() -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST", "SCRIPT_NAME": "", "PATH_INFO": "/items",
        "QUERY_STRING": "notify=1", "SERVER_NAME": "bench", "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "bench", "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(BODY)), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
        "wsgi.multithread": False, "wsgi.multiprocess": False, "wsgi.run_once": False,
        "wsgi.version": (1, 0), "REMOTE_ADDR": "127.0.0.1",
    }  # fmt: skip


def _wsgi_check(app: Any) -> tuple[int, bytes]:
    env = _wsgi_environ()
    env["wsgi.input"] = io.BytesIO(BODY)
    status: list[str] = []
    body = b"".join(app(env, lambda s, h, e=None: status.append(s)))
    return int(status[0].split()[0]), body


def asgi_erlen() -> Any:
    """Factories for ``uvicorn --factory bench.api:asgi_<name>`` (the loopback run)."""
    return _erlen().asgi_app


def asgi_fastapi() -> Any:
    return _fastapi()


def asgi_litestar() -> Any:
    return _litestar()


def loopback(seconds: int) -> dict[str, Any]:
    """Each app under uvicorn (1 worker, httptools), loaded by ``wrk -t1 -c32`` for
    ``seconds``; requests/s and p50 latency. Only 127.0.0.1 is contacted."""
    import shutil
    import tempfile

    from bench.loopback import HOST, asgi_loop, fetch, free_port, serve_and_load

    if shutil.which("wrk") is None:
        return {"_missing": "wrk not found (apt-get install -y wrk)"}

    def check(url: str) -> str | None:
        status, body = fetch(url, BODY, {"Content-Type": "application/json"})
        return None if status == 200 and json.loads(body) == EXPECT else f"{status} {body[:80]!r}"

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        body_path = Path(tmp, "body.json")
        body_path.write_bytes(BODY)
        script = Path(tmp, "post.lua")
        script.write_text(
            'wrk.method = "POST"\n'
            f'local f = io.open("{body_path}", "rb"); wrk.body = f:read("*a"); f:close()\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
        )
        for name in ("erlen", "fastapi", "litestar"):
            port = free_port()
            cmd = [sys.executable, "-m", "uvicorn", "--factory", f"bench.api:asgi_{name}",
                   "--host", HOST, "--port", str(port), "--workers", "1", "--http", "httptools",
                   "--loop", asgi_loop(), "--interface", "asgi3", "--log-level", "warning",
                   "--no-access-log"]  # fmt: skip
            url = f"http://{HOST}:{port}/items?notify=1"
            try:
                out[name] = serve_and_load(cmd, url, check, seconds, str(script))
            except RuntimeError as exc:
                out[name] = {"error": str(exc)}
            print(f"  loopback {name:10} {out[name]}", file=sys.stderr, flush=True)
    return out


def run(quick: bool) -> dict[str, Any]:
    round_s, rounds = (0.02, 2) if quick else (0.25, 7)
    loops: dict[str, inprocess.Loop] = {}
    missing: dict[str, str] = {}
    builders = {"erlen": _erlen, "fastapi": _fastapi, "litestar": _litestar}
    for name, build in builders.items():
        try:
            app = build()
        except Exception as exc:  # a peer not installed
            missing[name] = f"{type(exc).__name__}: {exc}"[:200]
            continue
        asgi = app.asgi_app if name == "erlen" else app
        status, body = asyncio.run(_one(asgi, _scope(), BODY))
        if (status, json.loads(body)) != (200, EXPECT):
            raise SystemExit(f"{name} answered wrongly: {status} {body[:120]!r}")
        loops[f"{name} (ASGI)"] = _loop(asgi, _scope(), BODY)
        if name == "erlen":
            status, body = _wsgi_check(app)
            if (status, json.loads(body)) != (200, EXPECT):
                raise SystemExit(f"erlen WSGI answered wrongly: {status} {body[:120]!r}")
            loops["erlen (WSGI)"] = lambda n, app=app: inprocess._loop_wsgi(
                app, _wsgi_environ(), BODY, n
            )
    out = inprocess.measure_interleaved(loops, round_s, rounds)
    for name, res in out.items():
        print(f"  {name:16} {res['us']:8.1f} µs", file=sys.stderr, flush=True)
    return {"typed-post": out, "_missing": missing}


def report(results: dict[str, Any]) -> str:
    row = results["typed-post"]
    ours = row["erlen (ASGI)"]["us"]
    lines = [
        "Typed JSON POST (5-field body model + query scalar → response model), in-process,"
        " µs per request (lower is better); ratio = that time / erlen ASGI's (> 1× means"
        " erlen is faster):",
        "",
        "| app | µs | ratio |",
        "|---|---:|---:|",
    ]
    for name, res in row.items():
        lines.append(f"| {name} | {res['us']:.1f} | {res['us'] / ours:.2f}× |")
    for name, why in results.get("_missing", {}).items():
        lines.append(f"\n{name}: not measured ({why})")
    loop = results.get("loopback")
    if loop and "erlen" in loop:
        base = loop["erlen"].get("rps") or float("nan")
        lines += [
            "",
            "Over loopback (uvicorn, 1 worker, httptools, uvloop when installed; wrk -t1 -c32),"
            " requests/s (higher is better); ratio = erlen's requests/s / that app's:",
            "",
            "| app | req/s | p50 ms | server CPU µs/req | ratio |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, res in loop.items():
            if isinstance(res, dict) and "error" in res:
                lines.append(f"| {name} | FAIL | | | {res['error'][:120]} |")
            elif isinstance(res, dict):
                ratio = base / res["rps"] if res.get("rps") else float("nan")
                lines.append(
                    f"| {name} | {res['rps']:.0f} | {res.get('p50_ms') or float('nan'):.2f}"
                    f" | {res.get('server_cpu_us') or float('nan'):.1f} | {ratio:.2f}× |"
                )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--loopback", type=int, default=0, metavar="SECONDS",
                   help="also load each app under uvicorn with wrk for SECONDS")  # fmt: skip
    args = p.parse_args(argv)
    results = run(args.quick)
    if args.loopback:
        results["loopback"] = loopback(args.loopback)
    text = report(results)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "api.md").write_text(text)
    (RESULTS / "api.json").write_text(json.dumps(results, indent=1))
    print(text)
    failed = [
        n for n, r in results.get("loopback", {}).items() if isinstance(r, dict) and "error" in r
    ]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
