"""Loopback layer: every peer behind the same gunicorn (sync workers), loaded by ``wrk``.

Only 127.0.0.1 is ever contacted. Each scenario is verified over HTTP before ``wrk`` runs
for a bounded duration; errors (socket errors, plus non-2xx/3xx except for the 404 case)
are reported and must be 0. ``serve_and_load`` is the same for any server command line (the
ASGI benchmarks: ``bench.asgi``, ``bench.api``).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

from bench import REPO_ROOT
from bench.scenarios import Reply, Scenario

HOST = "127.0.0.1"


def tools_missing() -> str | None:
    """Why the loopback layer cannot run here (None when it can)."""
    if shutil.which("wrk") is None:
        return "wrk not found (apt-get install -y wrk)"
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        return "gunicorn not installed (pip install gunicorn)"
    return None


def free_port() -> int:
    """A port nothing listens on at 127.0.0.1 now (the server binds it next)."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class Server:
    """A gunicorn process serving one peer's app of one kind on a free loopback port."""

    def __init__(self, peer: str, kind: str, workers: int) -> None:
        self.port = free_port()
        env = {**os.environ, "BENCH_PEER": peer, "BENCH_KIND": kind}
        cmd = [
            sys.executable, "-m", "gunicorn", "-k", "sync", "-w", str(workers),
            "-b", f"{HOST}:{self.port}", "--log-level", "warning", "bench.apps.wsgi:app",
        ]  # fmt: skip
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the server)
        self.proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stderr=self._log)
        # gunicorn's master binds before its workers boot: wait for a real HTTP answer.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                why = self.stderr_tail()
                self.stop()
                raise RuntimeError(f"gunicorn exited: {why}")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=1)
                conn.request("GET", "/")
                conn.getresponse().read()
                conn.close()
                return
            except OSError:
                time.sleep(0.1)
        why = self.stderr_tail()
        self.stop()
        raise RuntimeError(f"gunicorn did not answer in 20 s: {why}")

    def stderr_tail(self) -> str:
        """Last line of gunicorn's stderr (why it failed)."""
        self._log.seek(0)
        lines = self._log.read().decode(errors="replace").strip().splitlines()
        return lines[-1][-300:] if lines else ""

    def request(self, scenario: Scenario, cookie: str | None = None) -> Reply:
        """One request with http.client (used to verify before loading)."""
        conn = http.client.HTTPConnection(HOST, self.port, timeout=10)
        headers = {"Content-Type": scenario.content_type} if scenario.content_type else {}
        if cookie:
            headers["Cookie"] = cookie
        try:
            conn.request(scenario.method, scenario.target, scenario.body or None, headers)
            resp = conn.getresponse()
            return Reply(resp.status, resp.getheaders(), resp.read())
        finally:
            conn.close()

    def stop(self) -> None:
        """SIGTERM our gunicorn master (it stops its workers) and wait."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def verify(server: Server, scenario: Scenario) -> str | None:
    """Check the live server's answer; returns the cookie to send (session) or None."""
    cookie = None
    if scenario.session:
        first = server.request(scenario)
        values = [v for v in first.header_all("Set-Cookie") if v.startswith("session=")]
        if first.body != b"1" or not values:
            raise RuntimeError(f"first session request: {first.status} {first.body[:60]!r}")
        cookie = values[0].split(";", 1)[0]
    reply = server.request(scenario, cookie)
    problem = scenario.check(reply)
    if problem:
        raise RuntimeError(problem)
    return cookie


def _lua(scenario: Scenario, cookie: str | None, tmp: str) -> str | None:
    lines = []
    if scenario.method != "GET":
        lines.append(f"wrk.method = {json.dumps(scenario.method)}")
    if scenario.body:
        path = os.path.join(tmp, "body.bin")
        with open(path, "wb") as f:
            f.write(scenario.body)
        lines.append(
            f'local f = io.open({json.dumps(path)}, "rb"); wrk.body = f:read("*a"); f:close()'
        )
    if scenario.content_type:
        lines.append(f'wrk.headers["Content-Type"] = {json.dumps(scenario.content_type)}')
    if cookie:
        lines.append(f'wrk.headers["Cookie"] = {json.dumps(cookie)}')
    if not lines:
        return None
    script = os.path.join(tmp, "scenario.lua")
    with open(script, "w") as f:
        f.write("\n".join(lines) + "\n")
    return script


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def parse_wrk(out: str, expect_status: int) -> dict[str, Any]:
    """Requests/s, p50/p99 latency (ms) and error count from wrk's ``--latency`` output."""

    def latency(pct: str) -> float | None:
        m = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return round(float(m.group(1)) * _UNITS[m.group(2)], 3) if m else None

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = sum(int(x) for x in sock.groups()) if sock else 0
    if non2xx and expect_status < 400:
        errors += int(non2xx.group(1))
    return {
        "rps": float(rps.group(1)) if rps else 0.0,
        "requests": int(total.group(1)) if total else 0,
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "errors": errors,
    }


def run_wrk(
    server: Server, scenario: Scenario, cookie: str | None, duration: float, connections: int
) -> dict[str, Any]:
    """Load ``scenario`` for ``duration`` seconds with one wrk thread."""
    with tempfile.TemporaryDirectory(prefix="erlen-bench-") as tmp:
        script = _lua(scenario, cookie, tmp)
        seconds = max(1, round(duration))  # wrk takes whole seconds ("3.0s" is rejected)
        cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
        if script:
            cmd += ["-s", script]
        cmd.append(f"http://{HOST}:{server.port}{scenario.target}")
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    res = parse_wrk(proc.stdout, scenario.expect_status)
    if not res["requests"]:
        raise RuntimeError(f"wrk failed: {(proc.stderr or proc.stdout).strip()[:200]}")
    return res


def run_loopback(
    peers: list[str],
    scenarios: list[Scenario],
    duration: float = 3.0,
    workers: int | None = None,
    log: Any = print,
) -> dict[str, Any]:
    """Every peer × scenario over loopback: ``{"config": …, "results": {scenario: {peer: …}}}``."""
    workers = workers or (os.cpu_count() or 1)
    connections = 2 * workers
    results: dict[str, dict[str, Any]] = {s.name: {} for s in scenarios}
    for kind in sorted({s.kind for s in scenarios}):
        # All peers' servers up at once; peers interleaved per scenario so load drift on
        # the machine hits every peer alike.
        servers: dict[str, Server | str] = {}
        try:
            for peer in peers:
                try:
                    servers[peer] = Server(peer, kind, workers)
                except RuntimeError as exc:
                    servers[peer] = str(exc)
            for s in (s for s in scenarios if s.kind == kind):
                for peer, server in servers.items():
                    try:
                        if isinstance(server, str):
                            raise RuntimeError(server)
                        cookie = verify(server, s)
                        res = run_wrk(server, s, cookie, duration, connections)
                    except Exception as exc:
                        res = {"error": f"{type(exc).__name__}: {exc}"}
                        if isinstance(server, Server) and server.proc.poll() is not None:
                            res["error"] += f" (gunicorn: {server.stderr_tail()})"
                    results[s.name][peer] = res
                    log(f"  loopback {s.name:15} {peer:7} {_fmt(res)}")
        finally:
            for server in servers.values():
                if isinstance(server, Server):
                    server.stop()
    config = {
        "server": f"gunicorn sync, {workers} workers",
        "load": f"wrk -t1 -c{connections} -d{max(1, round(duration))}s",
    }
    return {"config": config, "results": results}


def _fmt(res: dict[str, Any]) -> str:
    if "error" in res:
        return "FAIL " + res["error"]
    return f"{res['rps']:9.0f} req/s  p50 {res['p50_ms']} ms  p99 {res['p99_ms']} ms  errors {res['errors']}"


def asgi_loop() -> str:
    """The event loop the ASGI servers are told to use: uvloop when installed, else asyncio."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def fetch(
    url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    """One request (GET, or POST when there is a ``body``): status and body, any status.

    Raises OSError while nothing listens yet."""
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname or HOST, u.port, timeout=5)
    try:
        target = u.path + (f"?{u.query}" if u.query else "")
        conn.request("GET" if body is None else "POST", target, body, headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _tail(log: Any) -> str:
    log.seek(0)
    lines = log.read().decode(errors="replace").strip().splitlines()
    return lines[-1][-300:] if lines else ""


def _session_cpu(session: int) -> float | None:
    """CPU seconds (user + system) used so far by the live processes of ``session`` (the
    server and its workers); None where /proc cannot tell (not Linux)."""
    total = 0
    try:
        names = os.listdir("/proc")
    except OSError:
        return None
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile, or not ours to read
        if int(fields[3]) == session:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def serve_and_load(
    cmd: list[str],
    url: str,
    check: Callable[[str], str | None],
    seconds: int,
    script: str | None = None,
    connections: int = 32,
) -> dict[str, Any]:
    """Start the server ``cmd`` (it listens on ``url``'s port), load ``url`` with
    ``wrk -t1 -c<connections> -d<seconds>s --latency`` (``script``: a wrk Lua file, for a
    method or body), stop the server; ``parse_wrk``'s numbers, and ``server_cpu_us``: the
    server's CPU time per request during the load (its processes' user + system time; steadier
    than requests/s on a shared machine, where the server may not get a whole core).

    ``check(url)`` is the readiness probe and must also verify the answer: it returns None
    when the answer is right, else the problem (raised, never loaded); OSError means the
    server is not listening yet. RuntimeError when the server exits, does not answer within
    20 s, answers wrongly, or wrk fails."""
    with tempfile.TemporaryFile() as log:
        # Own session: the server's worker processes (granian's) go with it if it hangs.
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=log, stderr=log, start_new_session=True)
        try:
            deadline = time.monotonic() + 20
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"server exited ({proc.returncode}): {_tail(log)}")
                try:
                    problem = check(url)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"server did not answer in 20 s: {_tail(log)}") from None
                    time.sleep(0.1)
            if problem:
                raise RuntimeError(f"wrong answer over loopback: {problem}")
            wrk = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
            wrk += ["-s", script] if script else []
            cpu0 = _session_cpu(proc.pid)
            done = subprocess.run([*wrk, url], capture_output=True, text=True, timeout=seconds + 60)
            cpu1 = _session_cpu(proc.pid)
            res = parse_wrk(done.stdout, 200)
            if not res["requests"]:
                raise RuntimeError(f"wrk failed: {(done.stderr or done.stdout).strip()[:200]}")
            if cpu0 is not None and cpu1 is not None:
                res["server_cpu_us"] = round((cpu1 - cpu0) * 1e6 / res["requests"], 1)
            return res
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            try:  # a worker the server left behind (only our session's processes)
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
