"""Instructions per request, counted by valgrind's callgrind: a deterministic cost measure.

The in-process timings drift on a shared VM; instruction counts do not (same binary, same
inputs, same count, whatever else the machine does). Each (scenario, peer) runs twice under
callgrind, with N and 6N requests; the difference divided by 5N is the cost of one request,
free of interpreter start-up and imports.

    .venv/bin/python -m bench.icount hello json-param --peers erlen,falcon
    .venv/bin/python -m bench.icount hooks --peers erlen --n 2000
    .venv/bin/python -m bench.icount db-row --peers erlen,flask,bare --n 300

Battery scenarios (``bench.batteries``: db-row, jwt-required, csrf-form, login-required) take
their columns' first word as the peer: ``erlen``, ``flask``, ``bare``.

Needs Debian's valgrind. Not part of ``python -m bench`` (it takes ~20 s per cell).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile

_TOTAL = re.compile(r"^summary:\s+(\d+)", re.MULTILINE)


def _child(scenario: str, peer: str, n: int) -> None:
    """Run ``n`` requests of ``scenario`` on ``peer`` (inside callgrind)."""
    from bench import batteries
    from bench.apps import load_peer
    from bench.inprocess import _loop_wsgi, prepare, wsgi_loop
    from bench.scenarios import SCENARIOS

    if scenario in batteries.SCENARIOS:
        import tempfile

        sc = batteries.SCENARIOS[scenario]
        tmp = tempfile.mkdtemp(prefix="erlen-icount-")
        columns = batteries._columns(scenario, tmp, None)
        (build,) = [b for label, b in columns.items() if label.split()[0] == peer]
        app = build()
        page = batteries.TOKEN_PAGES.get(scenario)
        loop = (
            batteries._token_loop(app, sc, page)
            if page
            else batteries.LOOPS[scenario](app, sc)
            if scenario in batteries.LOOPS
            else wsgi_loop(app, sc)
        )
        loop(50)
        loop(n)
        return
    sc = SCENARIOS[scenario]
    app = load_peer(peer)(sc.kind)
    template = prepare(app, sc)
    _loop_wsgi(app, template, sc.body, 50)  # warm caches, specialise bytecode
    _loop_wsgi(app, template, sc.body, n)


def count(scenario: str, peer: str, n: int) -> float:
    """Instructions per request of ``scenario`` on ``peer``."""
    totals = []
    for k in (n, 6 * n):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "cg.out")
            cmd = [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                "-m",
                "bench.icount",
                "--child",
                scenario,
                peer,
                str(k),
            ]
            env = dict(os.environ, PYTHONHASHSEED="0")
            subprocess.run(cmd, check=True, capture_output=True, env=env)
            with open(out, encoding="utf-8") as f:
                m = _TOTAL.search(f.read())
            if m is None:
                raise RuntimeError("no callgrind summary")
            totals.append(int(m.group(1)))
    return (totals[1] - totals[0]) / (5 * n)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        _child(argv[1], argv[2], int(argv[3]))
        return 0
    p = argparse.ArgumentParser(prog="python -m bench.icount", description=__doc__)
    p.add_argument("scenarios", nargs="+")
    p.add_argument("--peers", default="erlen,falcon")
    p.add_argument("--n", type=int, default=1000, help="requests of the short run (1000)")
    args = p.parse_args(argv)
    peers = args.peers.split(",")
    print(f"{'scenario':16}" + "".join(f"{peer:>12}" for peer in peers))
    for sc in args.scenarios:
        row = [count(sc, peer, args.n) for peer in peers]
        print(f"{sc:16}" + "".join(f"{v / 1000:11.1f}k" for v in row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
