"""ASGI benchmark: erlen beside Starlette, Litestar and Quart, in-process and over loopback.

Each framework serves the same two requests, written the way its docs do (``async def``
handlers): ``hello`` (GET /hello → text) and ``json-param`` (GET /user/42?fields=a,b, the
route registered after 50 other dynamic routes → JSON). In-process, the apps are called
directly with an ASGI scope, ``receive`` and ``send`` (no server, no sockets; erlen's
``app.asgi_app``), rounds interleaved across the peers as in ``bench.inprocess``. With
``--loopback SECONDS`` each app is also served by uvicorn and by granian (one worker each,
the app object a user would name: ``uvicorn --interface asgi3 module:app``) and loaded by
``wrk -t1 -c32`` for SECONDS per scenario on 127.0.0.1.

    .venv/bin/python -m bench.asgi [--quick] [--loopback SECONDS]

Results: ``bench/results/asgi.md`` (µs per request, requests/s and erlen's ratio over each
peer, the issue's targets) and ``asgi.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import inprocess
from bench.apps import common
from bench.loopback import HOST, asgi_loop, fetch, free_port, serve_and_load

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
        return app

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
# The targets, per layer, server and scenario: (peer, erlen's ratio must exceed / reach).
TARGETS = [("starlette", 1.0, "gt", "above Starlette"), ("litestar", 1.0, "gt", "above Litestar"),
           ("quart", 3.0, "ge", "≥ 3× Quart")]  # fmt: skip


def asgi_erlen() -> Any:
    """Factories for ``uvicorn --factory`` / ``granian --factory bench.asgi:asgi_<name>``
    (the loopback run): the app object a user hands the server (erlen's ``Erlen`` itself)."""
    return PEERS["erlen"]()


def asgi_starlette() -> Any:
    return PEERS["starlette"]()


def asgi_litestar() -> Any:
    return PEERS["litestar"]()


def asgi_quart() -> Any:
    return PEERS["quart"]()


def _inprocess_target(name: str, app: Any) -> Any:
    """What the in-process loop calls: erlen's ``asgi_app`` (its ``__call__`` also takes
    WSGI's two arguments and forwards), the others' app."""
    return app.asgi_app if name == "erlen" else app


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
            apps[name] = _inprocess_target(name, build())
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


def _uvicorn(target: str, port: int, loop: str) -> list[str]:
    return [sys.executable, "-m", "uvicorn", "--factory", target, "--host", HOST,
            "--port", str(port), "--workers", "1", "--http", "httptools", "--loop", loop,
            "--interface", "asgi3", "--log-level", "warning", "--no-access-log"]  # fmt: skip


def _granian(target: str, port: int, loop: str) -> list[str]:
    return [sys.executable, "-m", "granian", "--factory", target, "--host", HOST,
            "--port", str(port), "--workers", "1", "--http", "1", "--loop", loop,
            "--interface", "asgi", "--no-ws", "--log-level", "warning",
            "--no-access-log"]  # fmt: skip


SERVERS: dict[str, Callable[[str, int, str], list[str]]] = {
    "uvicorn": _uvicorn,
    "granian": _granian,
}


def _check(scenario: str) -> Callable[[str], str | None]:
    """The readiness probe for ``scenario``: the live server's answer must be the expected."""
    expect = REQUESTS[scenario][2]

    def check(url: str) -> str | None:
        status, body = fetch(url)
        try:
            value = json.loads(body) if isinstance(expect, dict) else body
        except ValueError:
            value = body
        return None if (status, value) == (200, expect) else f"{status} {body[:80]!r}"

    return check


def loopback(seconds: int, log: Any = print) -> dict[str, Any]:
    """Every server × scenario × peer over 127.0.0.1: ``{"config": …, "results": {server:
    {scenario: {peer: parse_wrk's numbers or {"error": …}}}}}``. A fresh server process
    per load; the peers taken in turn within a scenario so drift hits them alike."""
    if shutil.which("wrk") is None:
        return {"_missing": "wrk not found (apt-get install -y wrk)"}
    loop = asgi_loop()
    results: dict[str, Any] = {}
    missing: dict[str, str] = {}
    for server, command in SERVERS.items():
        try:
            __import__(server)
        except ImportError as exc:
            missing[server] = f"not installed ({exc})"
            continue
        results[server] = {}
        for scenario, (path, query, _) in REQUESTS.items():
            results[server][scenario] = {}
            for peer in PEERS:
                port = free_port()
                url = f"http://{HOST}:{port}{path}" + (f"?{query.decode()}" if query else "")
                cmd = command(f"bench.asgi:asgi_{peer}", port, loop)
                try:
                    res = serve_and_load(cmd, url, _check(scenario), seconds)
                except RuntimeError as exc:
                    res = {"error": str(exc)}
                results[server][scenario][peer] = res
                log(f"  loopback {server:8} {scenario:11} {peer:10} {_fmt(res)}")
    config = {
        "servers": {
            "uvicorn": f"uvicorn 1 worker, --http httptools, --loop {loop}, --interface asgi3",
            "granian": f"granian 1 worker, --interface asgi, --http 1, --loop {loop}, --no-ws",
        },
        "loop": loop,
        "load": f"wrk -t1 -c32 -d{seconds}s --latency",
    }
    out: dict[str, Any] = {"config": config, "results": results}
    if missing:
        out["_missing"] = missing
    return out


def _fmt(res: dict[str, Any]) -> str:
    if "error" in res:
        return "FAIL " + res["error"]
    cpu = res.get("server_cpu_us")
    return (
        f"{res['rps']:8.0f} req/s  p50 {res['p50_ms']} ms  errors {res['errors']}"
        f"  server CPU {cpu if cpu is not None else 'n/a'} µs/request"
    )


Ratios = dict[tuple[str, str, str], tuple[float | None, float | None]]


def _judge(ratios: tuple[float | None, float | None], limit: float, how: str) -> str:
    """The target's cells: erlen's ratio, the server-CPU one beside it (loopback), met."""
    ratio, by_cpu = ratios
    cpu = "" if by_cpu is None else f"{by_cpu:.2f}×"
    if ratio is None:
        return f"n/a | {cpu} | **no**"
    met = ratio > limit if how == "gt" else ratio >= limit
    return f"{ratio:.2f}× | {cpu} | {'yes' if met else '**no**'}"


def report(results: dict[str, Any]) -> str:
    peers = [p for p in PEERS if p != "erlen" and p in results.get("hello", {})]
    lines = [
        "ASGI in-process, µs per request (lower is better), and erlen's speed-up over each"
        " peer (peer time / erlen time; > 1× means erlen is faster):",
        "",
        "| scenario | erlen µs | " + " | ".join(f"vs {p}" for p in peers) + " |",
        "|---|---:|" + "---:|" * len(peers),
    ]
    # (layer, scenario, peer) → erlen's ratios (time or req/s; server CPU), for the targets
    ratios: Ratios = {}
    for scenario in REQUESTS:
        row = results[scenario]
        ours = row["erlen"]["us"]
        for p in peers:
            ratios[("in-process", scenario, p)] = (row[p]["us"] / ours, None)
        cells = [f"{row[p]['us'] / ours:.2f}×" for p in peers]
        lines.append(f"| {scenario} | {ours:.1f} | " + " | ".join(cells) + " |")
    for name, why in results.get("_missing", {}).items():
        lines.append(f"\n{name}: not measured ({why})")
    lines += _loopback_lines(results.get("loopback"), ratios)
    lines += ["", "Targets (erlen's ratio over the peer, > 1× means erlen is faster; judged on"
              " in-process time and on loopback requests/s; beside them, over loopback, the"
              " ratio of server CPU per request, peer's / erlen's):", "",
              "| layer | scenario | target | erlen's ratio | by server CPU | met |",
              "|---|---|---|---:|---:|:---:|"]  # fmt: skip
    for (layer, scenario, peer), pair in ratios.items():
        for name, limit, how, wording in TARGETS:
            if name == peer:
                lines.append(f"| {layer} | {scenario} | {wording} | {_judge(pair, limit, how)} |")
    return "\n".join(lines) + "\n"


def _loopback_lines(loop: dict[str, Any] | None, ratios: Ratios) -> list[str]:
    """The loopback table (requests/s, p50, erlen's ratio), filling ``ratios`` per server."""
    if not loop:
        return []
    if "results" not in loop:
        return ["", f"Loopback: not measured ({loop.get('_missing')})"]
    cfg = loop["config"]
    lines = [
        "",
        f"Over loopback ({cfg['load']} per scenario and app, a fresh server process each;"
        f" {'; '.join(cfg['servers'].values())}), requests/s (higher is better), p50 latency,"
        " and erlen's ratio (erlen's requests/s / the app's; > 1× means erlen is faster)."
        " Server CPU: the server's processes' CPU time per request during the load (lower is"
        " better; steadier than requests/s when the server does not get a whole core):",
        "",
        "| server | scenario | app | req/s | p50 ms | errors | server CPU µs/req | erlen's ratio |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for server, scenarios in loop["results"].items():
        for scenario, row in scenarios.items():
            base = row.get("erlen", {}).get("rps")
            base_cpu = row.get("erlen", {}).get("server_cpu_us")
            for peer, res in row.items():
                by_cpu = None
                if "error" in res:
                    lines.append(
                        f"| {server} | {scenario} | {peer} | FAIL | | | | {res['error'][:120]} |"
                    )
                    ratio = None
                else:
                    ratio = base / res["rps"] if base and res["rps"] else None
                    if base_cpu and res.get("server_cpu_us"):
                        by_cpu = res["server_cpu_us"] / base_cpu
                    shown = f"{ratio:.2f}×" if ratio is not None else "n/a"
                    p50 = f"{res['p50_ms']:.2f}" if res.get("p50_ms") is not None else "n/a"
                    cpu = res.get("server_cpu_us")
                    lines.append(
                        f"| {server} | {scenario} | {peer} | {res['rps']:,.0f} | {p50}"
                        f" | {res['errors']} | {'n/a' if cpu is None else f'{cpu:.1f}'}"
                        f" | {shown} |"
                    )
                if peer != "erlen":
                    ratios[(server, scenario, peer)] = (ratio, by_cpu)
    for server, why in loop.get("_missing", {}).items():
        lines.append(f"\n{server}: not measured ({why})")
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--loopback", type=int, default=0, metavar="SECONDS",
                   help="also serve each app by uvicorn and granian, wrk for SECONDS each")  # fmt: skip
    args = p.parse_args(argv)
    results = run(args.quick)
    if args.loopback:
        results["loopback"] = loopback(args.loopback)
    text = report(results)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "asgi.md").write_text(text)
    (RESULTS / "asgi.json").write_text(json.dumps(results, indent=1))
    print(text)
    failed = [
        res
        for scenarios in results.get("loopback", {}).get("results", {}).values()
        for row in scenarios.values()
        for res in row.values()
        if "error" in res or res["errors"]
    ]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
