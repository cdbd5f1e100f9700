"""Smoke test of the benchmark suite: every peer answers every scenario, and alike.

No timing here: each scenario runs once per peer in-process; bodies are compared after
normalisation (parsed JSON, status only for the 404). erlen is skipped until it imports,
and then must answer exactly like Flask.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import run  # noqa: E402
from bench.apps import load_peer  # noqa: E402
from bench.inprocess import BenchError, call, make_environ, prepare  # noqa: E402
from bench.loopback import parse_wrk  # noqa: E402
from bench.scenarios import SCENARIOS, Reply, Scenario  # noqa: E402

PEERS = ("flask", "bottle", "falcon", "bare")
_apps: dict[tuple[str, str], Any] = {}


def reply_of(peer: str, scenario: Scenario) -> Reply:
    """One verified request (prepare raises BenchError if the reply is wrong)."""
    if peer != "bare":
        pytest.importorskip(peer)
    key = (peer, scenario.kind)
    if key not in _apps:
        _apps[key] = load_peer(peer)(scenario.kind)
    template = prepare(_apps[key], scenario)
    return call(_apps[key], template, scenario.body)


@pytest.mark.parametrize("name", list(SCENARIOS))
@pytest.mark.parametrize("peer", PEERS)
def test_peer_answers_like_bare(peer: str, name: str) -> None:
    scenario = SCENARIOS[name]
    reply = reply_of(peer, scenario)
    assert reply.status == scenario.expect_status
    assert scenario.check(reply) is None
    assert scenario.normalise(reply) == scenario.normalise(reply_of("bare", scenario))


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_erlen_answers_like_flask(name: str) -> None:
    try:
        load_peer("erlen")
    except ImportError as exc:
        pytest.skip(f"erlen not importable yet: {exc}")
    scenario = SCENARIOS[name]
    reply = reply_of("erlen", scenario)  # raises BenchError on a wrong answer
    assert scenario.check(reply) is None
    assert scenario.normalise(reply) == scenario.normalise(reply_of("flask", scenario))


def test_expected_values() -> None:
    assert SCENARIOS["form"].expect_body == b"value 3 & more"
    assert SCENARIOS["upload"].expect_body is not None
    assert SCENARIOS["upload"].expect_body.startswith(b"1048576 ")
    page = SCENARIOS["template"].expect_body or b""
    assert page.count(b"<tr class=") == 100
    assert (
        b"row &lt;7&gt; &amp; co" in page and b"<title>Scores &amp; &lt;ranks&gt; - bench" in page
    )


def test_check_rejects_wrong_replies() -> None:
    hello = SCENARIOS["hello"]
    ok = Reply(200, [("Content-Type", "text/plain; charset=utf-8")], b"Hello, World!")
    assert hello.check(ok) is None
    assert "status" in (hello.check(Reply(500, ok.headers, ok.body)) or "")
    assert "content-type" in (
        hello.check(Reply(200, [("Content-Type", "text/html")], ok.body)) or ""
    )
    assert "body" in (hello.check(Reply(200, ok.headers, b"Hello")) or "")
    js = SCENARIOS["json-param"]
    good = Reply(200, [("Content-Type", "application/json")], b'{"fields":["a","b"],"id":42}')
    assert js.check(good) is None
    assert js.check(Reply(200, good.headers, b'{"id": 42, "fields": ["a"]}')) is not None
    assert js.check(Reply(200, good.headers, b"not json")) is not None


def test_broken_app_is_never_timed() -> None:
    def wrong(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"Hello"]

    with pytest.raises(BenchError):
        prepare(wrong, SCENARIOS["hello"])
    with pytest.raises(BenchError):  # no session cookie set
        prepare(wrong, SCENARIOS["cookie-session"])


def test_environ_is_fresh_per_request() -> None:
    seen: list[Any] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append((environ["wsgi.input"].read(), environ))
        environ["MUTATED"] = True
        start_response("200 OK", [])
        return [b""]

    template = make_environ(SCENARIOS["form"])
    call(app, template, SCENARIOS["form"].body)
    call(app, template, SCENARIOS["form"].body)
    assert seen[0][0] == seen[1][0] == SCENARIOS["form"].body
    assert seen[0][1] is not seen[1][1] and "MUTATED" not in template
    assert template["CONTENT_LENGTH"] == str(len(SCENARIOS["form"].body))


def test_parse_wrk_output() -> None:
    out = """Running 3s test @ http://127.0.0.1:8000/hello
  Latency Distribution
     50%  539.00us
     75%  598.00us
     90%  668.00us
     99%    1.24ms
  20330 requests in 3.00s, 3.24MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 5
Requests/sec:   6769.32
"""
    res = parse_wrk(out, 200)
    assert res["rps"] == 6769.32 and res["requests"] == 20330
    assert res["p50_ms"] == pytest.approx(0.539) and res["p99_ms"] == pytest.approx(1.24)
    assert res["errors"] == 8
    assert parse_wrk(out, 404)["errors"] == 3  # 404s are the expected answer there


def test_run_quick_writes_results(tmp_path: Any) -> None:
    status = run.main(
        ["--quick", "--only", "hello,not-found", "--no-startup", "--peers", "bare,erlen",
         "--out", str(tmp_path)]
    )  # fmt: skip
    data = json.loads((tmp_path / "latest.json").read_text())
    assert data["meta"]["scenarios"] == ["hello", "not-found"]
    assert data["inprocess"]["hello"]["bare"]["us"] > 0
    md = (tmp_path / "latest.md").read_text()
    assert "| hello |" in md and "python:" in md and "CPU:" in md
    if "erlen" in data["meta"]["unavailable"]:
        assert "| hello | n/a |" in md
    assert status == 0


def test_readme_block_is_rewritten_between_the_markers(tmp_path) -> None:
    from bench import report

    meta = {
        "date": "2026-01-02 03:04 UTC",
        "cpu": "Test CPU",
        "cores": 2,
        "python": "CPython 3.11",
        "mode": "full",
        "peers": ["erlen", "flask", "falcon"],
        "scenarios": ["hello", "json-param"],
    }
    cell = lambda us: {"us": us}  # noqa: E731
    results = {
        "meta": meta,
        "inprocess": {
            "hello": {"erlen": cell(4.0), "flask": cell(40.0), "falcon": cell(5.0)},
            "json-param": {"erlen": cell(8.0), "flask": cell(60.0), "falcon": cell(6.0)},
        },
    }
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\nbefore\n{report.README_START}\nold\n{report.README_END}\nafter\n")
    assert report.update_readme(str(readme), report.readme_section(results, "bench/results"))
    text = readme.read_text()
    assert text.startswith("# x\n\nbefore\n") and text.endswith("\nafter\n")
    assert "old" not in text
    assert "Measured 2026-01-02 03:04 UTC on Test CPU (2 cores)" in text
    assert "| hello | 4.0 | 10.00× | 1.25× |" in text
    assert "| json-param: faster than falcon | 0.75× (need > 1) | **no** |" in text
    assert "| hello: ≥ 8× flask | 10.0× | yes |" in text
    assert "![erlen benchmark chart](bench/results/latest.png)" in text
    # a README without markers is left alone
    other = tmp_path / "OTHER.md"
    other.write_text("no markers\n")
    assert not report.update_readme(str(other), "x")
    assert other.read_text() == "no markers\n"


def test_targets_show_the_paired_round_ratio_beside_best_of() -> None:
    from bench import report

    def cell(rounds: list[float]) -> dict[str, Any]:
        return {"us": min(rounds), "all_us": rounds}

    # falcon's best round beats erlen's best, but erlen wins 2 of 3 paired rounds
    results = {
        "inprocess": {
            "hello": {
                "erlen": cell([5.0, 6.0, 9.0]),
                "falcon": cell([4.9, 9.0, 18.0]),
            }
        }
    }
    rows = "\n".join(report._targets(results))
    assert "| hello: faster than falcon | 0.98× (need > 1; paired rounds: 1.50×) | **no** |" in rows


def test_template_target_shows_the_paired_round_ratio() -> None:
    from bench import report

    def cell(rounds: list[float]) -> dict[str, Any]:
        return {"us": min(rounds), "all_us": rounds}

    # one lucky round of the reference decides best-of; paired rounds say erlen ≈ jinja2
    results = {
        "inprocess": {
            "hello": {"erlen": cell([4.0])},
            "template": {
                "erlen": cell([1000.0, 1100.0, 1200.0]),
                report.JINJA_DIRECT: cell([800.0, 1000.0, 1200.0]),
            },
        }
    }
    rows = "\n".join(report._targets(results))
    assert (
        "| template: ≤ 1.1 × (jinja2 direct + hello) | 1000 vs 884 µs;"
        " paired rounds: erlen 1.10 × jinja2 direct | **no** |"
    ) in rows


def test_rounds_are_interleaved_in_alternating_order() -> None:
    from bench import inprocess

    calls: list[str] = []

    def loop(name: str, ns_per_call: int) -> inprocess.Loop:
        def run(n: int) -> int:
            calls.append(name)
            return n * ns_per_call

        return run

    res = inprocess.measure_interleaved(
        {"a": loop("a", 2000), "b": loop("b", 3000), "c": loop("c", 4000)}, 0.0, 4
    )
    # one calibration call each (a round of 0 s is reached at once), then the rounds
    assert calls == ["a", "b", "c"] + ["a", "b", "c", "c", "b", "a"] * 2
    assert {name: (r["us"], r["rounds"], len(r["all_us"])) for name, r in res.items()} == {
        "a": (2.0, 4, 4),
        "b": (3.0, 4, 4),
        "c": (4.0, 4, 4),
    }


@pytest.mark.parametrize(("hooks_us", "met"), [(5.2, "yes"), (5.3, "**no**")])
def test_hooks_target_is_judged_against_hello(hooks_us: float, met: str) -> None:
    from bench import report

    results = {
        "inprocess": {
            "hello": {"erlen": {"us": 4.0, "all_us": [4.0]}},
            "hooks": {"erlen": {"us": hooks_us, "all_us": [hooks_us]}},
        }
    }
    rows = "\n".join(report._targets(results))
    ratio = f"{hooks_us / 4.0:.2f}×"
    assert f"| hooks (one before-, one after-request hook): ≤ 1.3 × hello | {ratio} | {met} |" in rows


@pytest.mark.parametrize("column", ["erlen + erlen.forms", "flask + flask-wtf"])
def test_csrf_form_battery_scenario_runs(column: str) -> None:
    """The csrf-form loop is built (the POST with cookie and token passes, a wrong token is
    refused) and runs, for both columns."""
    from bench import batteries

    build = batteries._columns("csrf-form", "", None)[column]
    loop = batteries._token_loop(build(), batteries.SCENARIOS["csrf-form"], "/form")
    assert loop(2) > 0


@pytest.mark.parametrize("column", ["erlen + erlen.login", "flask + flask-login"])
def test_login_required_battery_scenario_runs(column: str) -> None:
    """The login-required loop is built (the GET with a logged-in session passes, an anonymous
    one is redirected) and runs, for both columns."""
    from bench import batteries

    build = batteries._columns("login-required", "", None)[column]
    loop = batteries.LOOPS["login-required"](build(), batteries.SCENARIOS["login-required"])
    assert loop(2) > 0


@pytest.mark.parametrize("peer", ["erlen", "starlette", "litestar", "quart"])
def test_asgi_factories_answer_both_scenarios(peer: str) -> None:
    """The objects the loopback run hands uvicorn/granian answer the two requests (called as
    a server would: ``app(scope, receive, send)``, erlen's ``Erlen`` itself)."""
    import asyncio

    if peer != "erlen":
        pytest.importorskip(peer)
    from bench import asgi

    app = getattr(asgi, f"asgi_{peer}")()
    for scenario, (path, query, expect) in asgi.REQUESTS.items():
        status, body = asyncio.run(asgi._one(app, asgi._scope(path, query)))
        assert status == 200, scenario
        assert (json.loads(body) if isinstance(expect, dict) else body) == expect


def test_asgi_report_shows_loopback_ratios_and_targets() -> None:
    from bench import asgi

    def row(*values: Any) -> dict[str, Any]:
        return dict(zip(("erlen", "starlette", "litestar", "quart"), values, strict=True))

    def wrk(rps: float, cpu: float = 60.0) -> dict[str, Any]:
        res = {"rps": rps, "requests": int(rps * 5), "p50_ms": 1.5, "p99_ms": 4.0, "errors": 0}
        return {**res, "server_cpu_us": cpu}

    us = [{"us": u} for u in (20.0, 10.0, 25.0, 150.0, 30.0, 50.0, 35.0, 180.0)]
    config = {"servers": {"uvicorn": "uvicorn 1 worker"}, "load": "wrk -t1 -c32 -d5s --latency"}
    hello = row(wrk(9000), wrk(10000), wrk(6000), wrk(3000, 210.0))
    json_param = row(wrk(8000), {"error": "server exited"}, wrk(8000), wrk(2000))
    results: dict[str, Any] = {
        "hello": row(*us[:4]),
        "json-param": row(*us[4:]),
        "loopback": {
            "config": config,
            "results": {"uvicorn": {"hello": hello, "json-param": json_param}},
        },
    }
    text = asgi.report(results)
    assert "| hello | 20.0 | 0.50× | 1.25× | 7.50× |" in text
    assert "| uvicorn | hello | erlen | 9,000 | 1.50 | 0 | 60.0 | 1.00× |" in text
    assert "| uvicorn | hello | starlette | 10,000 | 1.50 | 0 | 60.0 | 0.90× |" in text
    assert "| uvicorn | json-param | starlette | FAIL | | | | server exited |" in text
    assert "| in-process | hello | above Starlette | 0.50× |  | **no** |" in text
    assert "| in-process | hello | ≥ 3× Quart | 7.50× |  | yes |" in text
    assert "| uvicorn | hello | above Litestar | 1.50× | 1.00× | yes |" in text
    # ≥: exactly 3× is met; the server-CPU ratio (210 / 60 µs) is shown beside, not judged
    assert "| uvicorn | hello | ≥ 3× Quart | 3.00× | 3.50× | yes |" in text
    assert "| uvicorn | json-param | above Litestar | 1.00× | 1.00× | **no** |" in text  # >: a tie
    assert "| uvicorn | json-param | above Starlette | n/a |  | **no** |" in text


def test_serve_and_load_never_loads_a_wrong_or_dead_server() -> None:
    """The readiness probe's verdict stops the run before wrk (so no wrk needed here)."""
    from bench.loopback import HOST, fetch, free_port, serve_and_load

    port = free_port()
    cmd = [sys.executable, "-m", "http.server", str(port), "--bind", HOST]
    url = f"http://{HOST}:{port}/nope"
    seen: list[int] = []

    def check(url: str) -> str | None:
        status, _ = fetch(url)
        seen.append(status)
        return None if status == 200 else f"status {status}"

    with pytest.raises(RuntimeError, match="wrong answer over loopback: status 404"):
        serve_and_load(cmd, url, check, 1)
    assert seen == [404]
    with pytest.raises(RuntimeError, match="server exited"):
        serve_and_load([sys.executable, "-c", "raise SystemExit(3)"], url, check, 1)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_session_cpu_counts_this_session() -> None:
    from bench.loopback import _session_cpu

    used = _session_cpu(os.getsid(0))
    assert used is not None and used >= 0
