"""Benchmark entry point: ``python -m bench`` or ``python bench/run.py`` (see README.md)."""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
from importlib import metadata
from typing import Any

if __package__ in (None, ""):  # run as a script: make ``bench`` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import bench  # noqa: E402
from bench import inprocess, report, startup  # noqa: E402
from bench.apps import PEERS, available_peers  # noqa: E402
from bench.scenarios import SCENARIOS  # noqa: E402

RESULTS_DIR = os.path.join(bench.REPO_ROOT, "bench", "results")


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo (platform's guess elsewhere)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _versions(peers: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for dist in ("flask", "bottle", "falcon", "jinja2", "gunicorn"):
        if dist in peers or dist in ("jinja2", "gunicorn"):
            try:
                out[dist] = metadata.version(dist)
            except metadata.PackageNotFoundError:
                out[dist] = "missing"
    if "erlen" in peers:
        import importlib

        try:
            out["erlen"] = getattr(importlib.import_module("erlen"), "__version__", "src")
        except ImportError:
            out["erlen"] = "missing"
    return out


def _split(values: list[str] | None) -> list[str]:
    return [v for item in values or [] for v in item.split(",") if v]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="few iterations (smoke test, CI)")
    p.add_argument("--only", action="append", metavar="SCENARIO", help="scenario(s) to run")
    p.add_argument("--peers", action="append", metavar="PEER", help=f"subset of {PEERS}")
    p.add_argument("--loopback", action="store_true", help="also run gunicorn + wrk on 127.0.0.1")
    p.add_argument("--duration", type=int, default=None, help="wrk seconds per scenario (3)")
    p.add_argument("--no-startup", action="store_true", help="skip startup time and RSS")
    p.add_argument("--no-inprocess", action="store_true", help="skip the in-process layer")
    p.add_argument("--out", default=RESULTS_DIR, help="output directory (bench/results)")
    p.add_argument(
        "--readme", action="store_true", help="also rewrite the benchmark block of README.md"
    )
    args = p.parse_args(argv)
    args.only = _split(args.only) or list(SCENARIOS)
    args.peers = _split(args.peers) or list(PEERS)
    for name in args.only:
        if name not in SCENARIOS:
            p.error(f"unknown scenario {name!r}; choose from {', '.join(SCENARIOS)}")
    for name in args.peers:
        if name not in PEERS:
            p.error(f"unknown peer {name!r}; choose from {', '.join(PEERS)}")
    return args


def run_inprocess(
    factories: dict[str, Any], scenarios: list[str], round_s: float, rounds: int
) -> dict[str, dict[str, Any]]:
    """Scenario × peer in-process timings, rounds interleaved across the peers (and the
    scenario's reference column) so the machine's drift hits all alike."""
    apps: dict[tuple[str, str], Any] = {}
    out: dict[str, dict[str, Any]] = {}
    for name in scenarios:
        sc = SCENARIOS[name]
        out[name] = {}
        loops: dict[str, inprocess.Loop] = {}
        for peer, factory in factories.items():
            try:
                if (peer, sc.kind) not in apps:
                    apps[peer, sc.kind] = factory(sc.kind)
                loops[peer] = inprocess.wsgi_loop(apps[peer, sc.kind], sc)
            except Exception as exc:
                out[name][peer] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
        if name == "template":
            loops[report.JINJA_DIRECT] = inprocess.jinja_direct_loop()
        if name == "many-routes" and "erlen" in loops:
            few = SCENARIOS["json-param"]
            if ("erlen", few.kind) not in apps:
                apps["erlen", few.kind] = factories["erlen"](few.kind)
            loops[report.ERLEN_50_ROUTES] = inprocess.wsgi_loop(apps["erlen", few.kind], few)
        if name == "upload":
            loops[report.MULTIPART_DIRECT] = inprocess.multipart_direct_loop(sc)
            loops[report.MULTIPART_LIBRARY] = inprocess.multipart_library_loop(sc)
        out[name].update(inprocess.measure_interleaved(loops, round_s, rounds))
        for peer, res in out[name].items():
            _log(
                f"  {name:15} {peer:17} "
                + (f"{res['us']:10.2f} µs" if "us" in res else "FAIL " + res["error"])
            )
    return out


def run_startup(peers: list[str], quick: bool) -> dict[str, Any]:
    """Startup time and RSS per peer, plus the framework-less RSS baseline."""
    out: dict[str, Any] = {}
    requests = 200 if quick else 10_000
    for peer in peers:
        try:
            out[peer] = {
                **startup.measure_startup(peer, 1 if quick else 5),
                **startup.measure_rss(peer, requests),
            }
        except Exception as exc:
            out[peer] = {"error": str(exc)[:200]}
        _log(f"  startup {peer:8} {out[peer]}")
    out["python"] = startup.measure_rss("python", 0)
    return out


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the selected layers, write results; exit status 1 if any response was wrong."""
    args = parse_args(argv)
    factories, unavailable = available_peers(tuple(args.peers))
    for peer, why in unavailable.items():
        _log(f"{peer}: n/a ({why})")
    # many short rounds, interleaved across peers: best-of is robust to the machine's drift
    # (60 rounds of 10 ms gave steadier ratios here than 15 of 40 ms, same time per peer)
    round_s, rounds = (0.005, 1) if args.quick else (0.01, 60)
    results: dict[str, Any] = {
        "meta": {
            "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "python": f"{platform.python_implementation()} {platform.python_version()}",
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "platform": platform.platform(terse=True),
            "versions": _versions(args.peers),
            "mode": "quick" if args.quick else "full",
            "rounds": rounds,
            "peers": args.peers,
            "scenarios": args.only,
            "unavailable": unavailable,
        },
        "inprocess": {},
    }
    if not args.no_inprocess:
        _log("in-process (µs per request):")
        harness = inprocess.measure_interleaved(
            {"harness": inprocess.harness_loop()}, round_s, rounds
        )
        results["meta"]["harness_us"] = harness["harness"]["us"]
        results["inprocess"] = run_inprocess(factories, args.only, round_s, rounds)
    if not args.no_startup:
        _log("startup and memory:")
        results["startup"] = run_startup(list(factories), args.quick)
    if args.loopback:
        from bench import loopback

        missing = loopback.tools_missing()
        if missing:
            _log(f"loopback skipped: {missing}")
            results["meta"]["loopback"] = missing
        else:
            _log("loopback:")
            duration = args.duration or (1 if args.quick else 3)
            scenarios = [SCENARIOS[n] for n in args.only]
            results["loopback"] = loopback.run_loopback(
                list(factories), scenarios, duration, log=_log
            )
    paths = report.write_all(results, args.out)
    if args.readme:
        readme = os.path.join(bench.REPO_ROOT, "README.md")
        rel = os.path.relpath(os.path.abspath(args.out), bench.REPO_ROOT)
        if report.update_readme(readme, report.readme_section(results, rel)):
            paths.append(readme)
        else:
            _log("README.md has no bench markers: not updated")
    print(report.markdown(results))
    _log("wrote " + ", ".join(paths))
    failed = [
        (s, p)
        for s, cells in results["inprocess"].items()
        for p, c in cells.items()
        if "error" in c
    ]
    failed += [
        (s, p)
        for s, cells in results.get("loopback", {}).get("results", {}).items()
        for p, c in cells.items()
        if "error" in c or c.get("errors")
    ]
    if failed:
        _log("FAILED: " + ", ".join(f"{s}/{p}" for s, p in failed))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
