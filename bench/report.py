"""Write a run's results as Markdown, JSON and a PNG bar chart."""

from __future__ import annotations

import json
import os
import statistics
from typing import Any

Results = dict[str, Any]

#: Extra in-process column shown for the template scenario only.
JINJA_DIRECT = "jinja2 direct"
#: Extra in-process column for the upload scenario only: the multipart library's own parse of
#: the same body (in memory) plus the same answer, i.e. the floor for a parsing framework.
MULTIPART_DIRECT = "multipart direct"
#: The same body through the library's own high-level parser with its defaults (large parts
#: spool to disk, as in erlen): what the library alone costs a user.
MULTIPART_LIBRARY = "multipart library"
#: Extra column for many-routes only: erlen on json-param's request (50 routes), timed in the
#: same interleaved rounds as the 1,000-route case, so the routing target compares like with
#: like (two scenarios timed minutes apart drift apart on a shared VM).
ERLEN_50_ROUTES = "erlen, 50 routes"


def _us(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return "n/a"
    return f"{value:,.1f}" if value < 1000 else f"{value:,.0f}"


def _cell(results: Results, scenario: str, peer: str) -> Any:
    cell = results["inprocess"].get(scenario, {}).get(peer)
    if cell is None:
        return None
    return cell.get("us", "FAIL")


def _ratio(peer_time: Any, erlen_time: Any) -> str:
    if isinstance(peer_time, float) and isinstance(erlen_time, float) and erlen_time > 0:
        return f"{peer_time / erlen_time:.2f}×"
    return "n/a"


def _paired_median(results: Results, scenario: str, peer: str) -> float | None:
    """Median over the interleaved rounds of (peer's round time / erlen's same round): on a
    machine whose speed drifts between rounds, a steadier comparison than the two best
    rounds taken separately (shown beside the best-of ratio; targets are judged on best-of)."""
    cells = results.get("inprocess", {}).get(scenario, {})
    mine = cells.get("erlen", {}).get("all_us") if isinstance(cells.get("erlen"), dict) else None
    theirs = cells.get(peer, {}).get("all_us") if isinstance(cells.get(peer), dict) else None
    if not mine or not theirs or len(mine) != len(theirs):
        return None
    return statistics.median(b / a for a, b in zip(mine, theirs, strict=True) if a > 0)


def _targets(results: Results, heading: str = "##") -> list[str]:
    """Issue 5's and 11's in-process targets, judged on this run's numbers (rows whose inputs
    were not measured are left out)."""

    def t(scenario: str, peer: str) -> float | None:
        v = _cell(results, scenario, peer)
        return v if isinstance(v, float) else None

    rows: list[tuple[str, str, bool]] = []
    for sc in ("hello", "json-param"):
        e, falcon, flask = t(sc, "erlen"), t(sc, "falcon"), t(sc, "flask")
        if e and falcon:
            paired = _paired_median(results, sc, "falcon")
            note = f"; paired rounds: {paired:.2f}×" if paired else ""
            rows.append(
                (f"{sc}: faster than falcon", f"{falcon / e:.2f}× (need > 1{note})", falcon > e)
            )
        if e and flask:
            rows.append((f"{sc}: ≥ 8× flask", f"{flask / e:.1f}×", flask / e >= 8))
    hooks, hello = t("hooks", "erlen"), t("hello", "erlen")
    if hooks and hello:
        rows.append(
            (
                "hooks (one before-, one after-request hook): ≤ 1.3 × hello",
                f"{hooks / hello:.2f}×",
                hooks <= 1.3 * hello,
            )
        )
    e, jinja, hello = t("template", "erlen"), t("template", JINJA_DIRECT), t("hello", "erlen")
    if e and jinja and hello:
        limit = 1.1 * (jinja + hello)
        paired = _paired_median(results, "template", JINJA_DIRECT)
        note = f"; paired rounds: erlen {1 / paired:.2f} × jinja2 direct" if paired else ""
        rows.append(
            (
                "template: ≤ 1.1 × (jinja2 direct + hello)",
                f"{e:.0f} vs {limit:.0f} µs{note}",
                e <= limit,
            )
        )
    many = t("many-routes", "erlen")
    fifty = t("many-routes", ERLEN_50_ROUTES) or t("json-param", "erlen")
    if many and fifty:
        rows.append(("many-routes: ≤ 1.5 × 50 routes", f"{many / fifty:.2f}×", many <= 1.5 * fifty))
    e = t("upload", "erlen")
    for col in (MULTIPART_LIBRARY, MULTIPART_DIRECT):
        ref = t("upload", col)
        if e and ref:
            rows.append((f"upload: ≤ 1.3 × {col}", f"{e / ref:.2f}×", e <= 1.3 * ref))
    if not rows:
        return []
    out = ["", f"{heading} Targets (issues 5 and 11), judged on this run", "", "| target | this run | met |"]
    out.append("|---|---:|:---:|")
    out += [f"| {name} | {value} | {'yes' if ok else '**no**'} |" for name, value, ok in rows]
    return out


def markdown(results: Results) -> str:
    """The report: environment, in-process µs and erlen ratios, startup/RSS, loopback."""
    meta = results["meta"]
    peers: list[str] = meta["peers"]
    scenarios: list[str] = meta["scenarios"]
    out = [
        "# erlen benchmark results",
        "",
        f"- date: {meta['date']}",
        f"- python: {meta['python']}",
        f"- CPU: {meta['cpu']} ({meta['cores']} cores), {meta['platform']}",
        f"- versions: {', '.join(f'{k} {v}' for k, v in meta['versions'].items())}",
        f"- mode: {meta['mode']}; harness overhead (no-op WSGI app): "
        f"{_us(meta.get('harness_us'))} µs/request (included in every number below)",
    ]
    if meta["unavailable"]:
        out.append(
            "- not measured: " + "; ".join(f"{p} ({why})" for p, why in meta["unavailable"].items())
        )
    out += [
        "",
        "## In-process: µs per request (lower is better)",
        "",
        "Each WSGI app is called directly with a fresh environ; best of "
        f"{meta['rounds']} rounds, the rounds interleaved across the peers of a scenario. "
        "FAIL = wrong response (never timed), n/a = peer unavailable.",
        "",
    ]
    refs = [
        (JINJA_DIRECT, "template"),
        (MULTIPART_DIRECT, "upload"),
        (MULTIPART_LIBRARY, "upload"),
        (ERLEN_50_ROUTES, "many-routes"),
    ]
    refs = [(col, sc) for col, sc in refs if sc in scenarios]
    cols = peers + [col for col, _ in refs]
    out.append("| scenario | " + " | ".join(cols) + " |")
    out.append("|---|" + "---:|" * len(cols))
    for name in scenarios:
        row = [_us(_cell(results, name, p)) for p in peers]
        for col, sc in refs:
            row.append(_us(_cell(results, name, col)) if name == sc else "")
        out.append(f"| {name} | " + " | ".join(row) + " |")

    others = [p for p in peers if p != "erlen"]
    out += [
        "",
        "## erlen's ratio to each peer (peer time / erlen time: >1 means erlen is faster)",
        "",
        "| scenario | " + " | ".join(f"vs {p}" for p in others) + " |",
        "|---|" + "---:|" * len(others),
    ]
    for name in scenarios:
        erlen = _cell(results, name, "erlen")
        out.append(
            f"| {name} | "
            + " | ".join(_ratio(_cell(results, name, p), erlen) for p in others)
            + " |"
        )

    if "json-param" in scenarios and "many-routes" in scenarios:
        out += [
            "",
            "## Routing: 1,000 routes vs 50 (many-routes − json-param, µs; same view and JSON)",
            "",
            "| " + " | ".join(peers) + " |",
            "|" + "---:|" * len(peers),
        ]
        deltas = []
        for p in peers:
            a, b = _cell(results, "many-routes", p), _cell(results, "json-param", p)
            deltas.append(
                f"{a - b:+.1f}" if isinstance(a, float) and isinstance(b, float) else "n/a"
            )
        out.append("| " + " | ".join(deltas) + " |")

    out += _targets(results)

    if results.get("startup"):
        out += [
            "",
            "## Startup and memory (fresh subprocess each)",
            "",
            "import + create the main app: best (median) ms and modules loaded; RSS after "
            "N hello requests in-process (baseline `python` = harness without a framework).",
            "",
            "| peer | startup ms | modules | RSS MiB | requests |",
            "|---|---:|---:|---:|---:|",
        ]
        for peer, s in results["startup"].items():
            if "error" in s:
                out.append(f"| {peer} | FAIL: {s['error']} | | | |")
                continue
            st = f"{s['ms']:.1f} ({s['median_ms']:.1f})" if "ms" in s else ""
            rss = f"{s['rss_mib']:.1f}" if s.get("rss_mib") else ""
            out.append(
                f"| {peer} | {st} | {s.get('modules', '')} | {rss} | {s.get('requests', '')} |"
            )

    loop = results.get("loopback")
    if loop:
        cfg = loop["config"]
        out += [
            "",
            f"## Loopback: {cfg['server']}, {cfg['load']} on 127.0.0.1",
            "",
            "requests/s (p50 ms / p99 ms) [errors]; the server and wrk share the machine's cores.",
            "",
            "| scenario | " + " | ".join(peers) + " | erlen rps / best peer rps |",
            "|---|" + "---:|" * (len(peers) + 1),
        ]
        for name, cells in loop["results"].items():
            row = []
            for p in peers:
                c = cells.get(p)
                if c is None:
                    row.append("n/a")
                elif "error" in c:
                    row.append("FAIL")
                else:
                    row.append(f"{c['rps']:,.0f} ({c['p50_ms']} / {c['p99_ms']}) [{c['errors']}]")
            rates = {p: c["rps"] for p, c in cells.items() if c and "rps" in c}
            best = max((v for p, v in rates.items() if p not in ("erlen", "bare")), default=0)
            rel = f"{rates['erlen'] / best:.2f}×" if "erlen" in rates and best else "n/a"
            out.append(f"| {name} | " + " | ".join(row) + f" | {rel} |")
    out.append("")
    return "\n".join(out)


def chart(results: Results, path: str) -> str | None:
    """Grouped bar chart of in-process µs (log scale); returns why not drawn, or None."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib not installed: no PNG (pip install matplotlib)"
    peers: list[str] = results["meta"]["peers"]
    scenarios: list[str] = results["meta"]["scenarios"]
    width = 0.8 / len(peers)
    fig, ax = plt.subplots(figsize=(11, 5.5))
    for i, peer in enumerate(peers):
        xs, ys = [], []
        for j, name in enumerate(scenarios):
            v = _cell(results, name, peer)
            if isinstance(v, float):
                xs.append(j + (i - (len(peers) - 1) / 2) * width)
                ys.append(v)
        ax.bar(xs, ys, width, label=peer)
    ax.set_yscale("log")
    ax.set_xticks(range(len(scenarios)), scenarios, rotation=20)
    ax.set_ylabel("µs per request (log scale, lower is better)")
    ax.set_title(f"erlen bench, in-process ({results['meta']['date']}, {results['meta']['cpu']})")
    ax.grid(axis="y", which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


README_START = "<!-- bench:start (written by `python -m bench --readme`; edits here are lost) -->"
README_END = "<!-- bench:end -->"


def readme_section(results: Results, report_dir: str) -> str:
    """The README's benchmark block: machine and date, erlen's ratios, the targets, the chart.

    ``report_dir`` is where latest.md/latest.png are, relative to the README."""
    meta = results["meta"]
    peers = [p for p in meta["peers"] if p != "erlen"]
    out = [
        README_START,
        f"Measured {meta['date']} on {meta['cpu']} ({meta['cores']} cores), {meta['python']},"
        f" {meta['mode']} run of `python -m bench`; full tables (absolute µs, startup, memory,"
        f" loopback) in [{report_dir}/latest.md]({report_dir}/latest.md).",
        "",
        "In-process µs per request (lower is better) and erlen's speed-up over each peer"
        " (peer time / erlen time; > 1× means erlen is faster):",
        "",
        "| scenario | erlen µs | " + " | ".join(f"vs {p}" for p in peers) + " |",
        "|---|---:|" + "---:|" * len(peers),
    ]
    for name in meta["scenarios"]:
        erlen = _cell(results, name, "erlen")
        out.append(
            f"| {name} | {_us(erlen)} | "
            + " | ".join(_ratio(_cell(results, name, p), erlen) for p in peers)
            + " |"
        )
    loop = results.get("loopback")
    if loop:
        cfg = loop["config"]
        rows = []
        for name, cells in loop["results"].items():
            rates = {p: c["rps"] for p, c in cells.items() if c and "rps" in c}
            best = max((v for p, v in rates.items() if p not in ("erlen", "bare")), default=0)
            if "erlen" in rates and best:
                rows.append(f"{name} {rates['erlen'] / best:.2f}×")
        out += [
            "",
            f"Over loopback ({cfg['server']}, {cfg['load']}), erlen's requests/s relative to"
            " the best framework peer: " + ", ".join(rows) + ".",
        ]
    out += _targets(results, heading="###")
    out += ["", f"![erlen benchmark chart]({report_dir}/latest.png)", README_END]
    return "\n".join(out)


def update_readme(readme: str, section: str) -> bool:
    """Replace the block between the bench markers in ``readme``; False if it has none."""
    with open(readme, encoding="utf-8") as f:
        text = f.read()
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        return False
    with open(readme, "w", encoding="utf-8") as f:
        f.write(text[:start] + section + text[end + len(README_END) :])
    return True


def write_all(results: Results, out_dir: str) -> list[str]:
    """Write latest.md, latest.json and latest.png into ``out_dir``; returns the paths."""
    os.makedirs(out_dir, exist_ok=True)
    paths = [os.path.join(out_dir, f"latest.{ext}") for ext in ("md", "json", "png")]
    with open(paths[0], "w") as f:
        f.write(markdown(results))
    with open(paths[1], "w") as f:
        json.dump(results, f, indent=1)
    why = chart(results, paths[2])
    if why:
        results["meta"]["png"] = why
        return paths[:2]
    return paths
