"""Import + app-creation time and resident memory, each in a fresh subprocess.

A fresh interpreter per measurement is the only honest way to time imports (nothing
cached in ``sys.modules``). ``python -m bench.startup startup|rss PEER [N]`` is the child.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

from bench import REPO_ROOT


def _child(argv: list[str]) -> dict[str, Any]:
    what, peer = argv[0], argv[1]
    if what == "startup":
        import bench.apps.common  # noqa: F401  (shared by every peer: not counted)

        t0 = time.perf_counter()
        from bench.apps import load_peer

        load_peer(peer)("main")
        return {"seconds": time.perf_counter() - t0, "modules": len(sys.modules)}
    # rss: N hello requests in-process, then read the kernel's numbers
    requests = int(argv[2])
    from bench.inprocess import prepare

    if peer == "python":  # baseline: the harness alone, no framework
        return _rss()
    from bench.apps import load_peer
    from bench.inprocess import _loop_wsgi
    from bench.scenarios import SCENARIOS

    app = load_peer(peer)("main")
    template = prepare(app, SCENARIOS["hello"])
    _loop_wsgi(app, template, b"", requests)
    return _rss()


def _rss() -> dict[str, Any]:
    out: dict[str, Any] = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1]) / 1024  # MiB
    return {"rss_mib": out.get("VmRSS"), "peak_mib": out.get("VmHWM")}


def _run_child(*args: str) -> dict[str, Any]:
    # Bytecode caching on, whatever this shell says: the peers' .pyc files were written when
    # pip installed them, erlen's (an editable install) are written by the warm-up run. With
    # PYTHONDONTWRITEBYTECODE set, erlen alone would be compiled from source every time.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.run(
        [sys.executable, "-m", "bench.startup", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def measure_startup(peer: str, repeat: int = 5) -> dict[str, Any]:
    """Import + create the main app for ``peer``: best and median ms over fresh processes."""
    _run_child("startup", peer)  # warm the .pyc cache and the OS file cache
    runs = [_run_child("startup", peer) for _ in range(repeat)]
    secs = [r["seconds"] * 1000 for r in runs]
    return {"ms": min(secs), "median_ms": statistics.median(secs), "modules": runs[0]["modules"]}


def measure_rss(peer: str, requests: int = 10_000) -> dict[str, Any]:
    """RSS (MiB) of a process that served ``requests`` hello requests in-process."""
    return {**_run_child("rss", peer, str(requests)), "requests": requests}


if __name__ == "__main__":
    print(json.dumps(_child(sys.argv[1:])))
