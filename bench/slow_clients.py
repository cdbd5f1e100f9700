"""Slow clients (slowloris) against gunicorn's sync workers, with and without nginx in front.

Starts ``erlen serve`` (gunicorn, sync workers) on loopback with a one-route app, then opens
``--slow`` connections that send a request head one byte per ``--interval`` seconds and never
finish it (reconnecting when dropped), and measures a normal client meanwhile: ``--requests``
sequential GETs with a ``--timeout`` each, ``--pace`` s apart. Then the same with nginx (the config from
docs/deployment.md, see :func:`nginx_config`) between the clients and gunicorn.

    .venv/bin/python bench/slow_clients.py              # both runs (~2-3 min), a table
    .venv/bin/python bench/slow_clients.py --no-nginx   # gunicorn alone
    .venv/bin/python bench/slow_clients.py --json       # machine-readable

Only 127.0.0.1 is contacted. Needs gunicorn (``erlen[serve]``) and, for the second run,
nginx on PATH (Debian: ``apt-get install -y nginx``).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DOCS = REPO_ROOT / "docs" / "deployment.md"
HOST = "127.0.0.1"
APP = 'from erlen import Erlen\napp = Erlen(__name__)\n\n@app.route("/")\ndef index():\n    return "ok"\n'


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


# -- nginx, configured as docs/deployment.md says ----------------------------------------------
def docs_nginx_block(docs: Path = DOCS) -> str:
    """The first ```nginx block of docs/deployment.md (the recommended proxy config)."""
    m = re.search(r"```nginx\n(.*?)```", docs.read_text(), re.S)
    if m is None:
        raise RuntimeError(f"no nginx block in {docs}")
    return m.group(1)


def nginx_config(prefix: Path, listen: int, upstream: int, static: Path | None = None) -> str:
    """A complete nginx.conf for a non-daemon nginx in ``prefix``: the docs' block with its
    ports (and static folder) replaced, inside a minimal main/events/http frame."""
    block = docs_nginx_block()
    block = block.replace("listen 443 ssl;", f"listen {HOST}:{listen};")
    block = block.replace("server 127.0.0.1:8000;", f"server {HOST}:{upstream};")
    if static is not None:
        block = block.replace("/srv/myproject/static/", f"{static}/")
    temp = "\n".join(
        f"    {kind}_temp_path {prefix}/{kind}_temp;"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = "user root;\n" if os.geteuid() == 0 else ""  # else workers run as nobody
    return (
        f"{user}daemon off;\nworker_processes 1;\npid {prefix}/nginx.pid;\n"
        f"error_log {prefix}/error.log warn;\n"
        "events { worker_connections 1024; }\n"
        f"http {{\n    access_log {prefix}/access.log;\n{temp}\n{block}\n}}\n"
    )


def nginx_binary() -> str | None:
    """nginx on PATH, or Debian's /usr/sbin/nginx (not on a normal user's PATH)."""
    found = shutil.which("nginx")
    if found is None and os.access("/usr/sbin/nginx", os.X_OK):
        found = "/usr/sbin/nginx"
    return found


def start_nginx(prefix: Path, listen: int, upstream: int, static: Path | None = None) -> Any:
    """nginx (foreground) on ``listen`` proxying to ``upstream``; the caller stops it."""
    conf = prefix / "nginx.conf"
    conf.write_text(nginx_config(prefix, listen, upstream, static))
    binary = nginx_binary()
    if binary is None:
        raise RuntimeError("nginx not found")
    args = [binary, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")]
    check = subprocess.run([*args, "-t"], capture_output=True, text=True, timeout=30)
    if check.returncode != 0:
        raise RuntimeError(f"nginx -t failed:\n{check.stderr}")
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(listen, proc)
    return proc


def start_gunicorn(folder: Path, port: int, workers: int, threads: int = 1) -> Any:
    (folder / "slowapp.py").write_text(APP)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src"), "HOME": str(folder)}
    erlen = Path(sys.executable).with_name("erlen")
    args = [str(erlen), "--app", "slowapp:app", "serve", "-w", str(workers), "-p", str(port)]
    args += ["--threads", str(threads)]  # 1: sync workers; more: gthread
    log = (folder / "gunicorn.log").open("wb")
    proc = subprocess.Popen(args, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
    wait_port(port, proc)
    return proc


def stop(proc: Any) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


# -- the clients ------------------------------------------------------------------------------
class SlowClients:
    """``n`` connections sending a request head one byte per ``interval`` s, never ending it;
    a dropped connection is reopened (what a slowloris attacker does)."""

    HEAD = b"GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: slow\r\nX-Slow: "

    def __init__(self, port: int, n: int, interval: float) -> None:
        self.port, self.n, self.interval = port, n, interval
        self.stop = threading.Event()
        self.reconnects = 0
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(n)]

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                with socket.create_connection((HOST, self.port), timeout=5) as sock:
                    sock.sendall(self.HEAD[:16])
                    rest = self.HEAD[16:] + b"a" * 100_000
                    for i in range(len(rest)):
                        if self.stop.wait(self.interval):
                            return
                        sock.sendall(rest[i : i + 1])
            except OSError:
                pass
            self.reconnects += 1
            self.stop.wait(0.2)

    def __enter__(self) -> SlowClients:
        for th in self.threads:
            th.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for th in self.threads:
            th.join(10)


def normal_client(port: int, requests: int, timeout: float, pace: float = 0) -> dict[str, Any]:
    """``requests`` sequential GET / (a new connection each), ``timeout`` s each, started at
    least ``pace`` s apart (so a run lasts long enough for the proxy's timeouts to matter)."""
    latencies: list[float] = []
    failures: dict[str, int] = {}
    next_start = time.perf_counter()
    for _ in range(requests):
        time.sleep(max(0.0, next_start - time.perf_counter()))
        started = next_start = time.perf_counter()
        next_start += pace
        conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
        try:
            conn.request("GET", "/")
            resp = conn.getresponse()
            body = resp.read()
            if resp.status == 200 and body == b"ok":
                latencies.append(time.perf_counter() - started)
            else:
                failures[f"HTTP {resp.status}"] = failures.get(f"HTTP {resp.status}", 0) + 1
        except OSError as e:
            name = type(e).__name__
            failures[name] = failures.get(name, 0) + 1
        finally:
            conn.close()
    return {
        "requests": requests,
        "ok": len(latencies),
        "failures": failures,
        "median_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "max_ms": round(max(latencies) * 1000, 1) if latencies else None,
    }


def measure(args: argparse.Namespace, with_nginx: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="erlen-slow-") as tmp:
        folder = Path(tmp)
        app_port = free_port()
        gunicorn = start_gunicorn(folder, app_port, args.workers, args.threads)
        nginx = None
        port = app_port
        try:
            if with_nginx:
                (folder / "nginx").mkdir()
                port = free_port()
                nginx = start_nginx(folder / "nginx", port, app_port)
            baseline = normal_client(port, args.requests, args.timeout)
            with SlowClients(port, args.slow, args.interval) as slow:
                time.sleep(args.warmup)  # let them connect and occupy what they can
                began = time.monotonic()
                loaded = normal_client(port, args.requests, args.timeout, args.pace)
                loaded["seconds"] = round(time.monotonic() - began + args.warmup, 1)
                reconnects = slow.reconnects
        finally:
            if nginx is not None:
                stop(nginx)
            stop(gunicorn)
        log = (folder / "gunicorn.log").read_text(errors="replace")
    return {
        "setup": "gunicorn behind nginx" if with_nginx else "gunicorn alone",
        "baseline": baseline,
        "under_slow_clients": loaded,
        "slow_reconnects": reconnects,
        "worker_timeouts": log.count("WORKER TIMEOUT"),
    }


def _row(r: dict[str, Any], key: str) -> str:
    m = r[key]
    fails = ", ".join(f"{k} {v}" for k, v in sorted(m["failures"].items())) or "-"
    return (
        f"| {r['setup']} | {'none' if key == 'baseline' else 'slow clients'} "
        f"| {m['ok']}/{m['requests']} | {m['median_ms']} | {m['max_ms']} | {fails} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (gthread)")
    parser.add_argument("--slow", type=int, default=50, help="slow connections")
    parser.add_argument("--interval", type=float, default=1.0, help="s between their bytes")
    parser.add_argument("--requests", type=int, default=20, help="normal requests per phase")
    parser.add_argument("--timeout", type=float, default=5.0, help="s per normal request")
    parser.add_argument("--pace", type=float, default=1.0, help="s between request starts")
    parser.add_argument("--warmup", type=float, default=2.0, help="s before measuring")
    parser.add_argument("--no-nginx", action="store_true", help="skip the nginx run")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    runs = [measure(args, with_nginx=False)]
    if not args.no_nginx:
        if nginx_binary() is None:
            print("nginx not found: skipping the nginx run", file=sys.stderr)
        else:
            runs.append(measure(args, with_nginx=True))
    if args.json:
        print(json.dumps({"args": vars(args), "runs": runs}, indent=2))
        return 0
    kind = "sync" if args.threads == 1 else f"gthread ({args.threads} threads)"
    print(
        f"{args.workers} {kind} workers, {args.slow} slow clients (1 byte/{args.interval:g} s),"
        f" {args.requests} sequential requests, {args.timeout:g} s timeout each\n"
    )
    print("| setup | load | ok | median ms | max ms | failures |")
    print("|---|---|---|---|---|---|")
    for r in runs:
        print(_row(r, "baseline"))
        print(_row(r, "under_slow_clients"))
    for r in runs:
        print(
            f"\n{r['setup']}: slow clients on for {r['under_slow_clients']['seconds']} s,"
            f" {r['worker_timeouts']} gunicorn worker timeouts,"
            f" {r['slow_reconnects']} slow-client reconnects"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
