"""Each speed-up of ``erlen.http.speedups`` against its reference, on the benchmark's inputs.

``python -m bench.speedups``: best of 9 ``timeit`` rounds per case (a few seconds). The
numbers in ``erlen/http/speedups.py``'s docstrings and docs/decisions/011-speedups.md come
from here; run it again on a new interpreter before keeping or dropping a trick.
"""

from __future__ import annotations

import timeit
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from bench.apps import common
from erlen.http import parsing, speedups
from erlen.http.request import Request
from erlen.json import _default

QUERIES = {
    "1-pair query (fields=a,b)": "fields=a,b",
    "1-pair escaped query": "q=caf%C3%A9+au+lait",
    "10-pair query": urlencode([(f"key{i}", f"value {i}/é") for i in range(10)]),
    "10-field form": urlencode(common.FORM_FIELDS),
}
JSON_VALUE = {"id": 42, "fields": ["a", "b"]}  # the json-param answer


def best_us(fn: Callable[[], Any], number: int = 20000) -> float:
    """Best per-call time of ``fn`` in µs over 9 rounds."""
    return min(timeit.repeat(fn, number=number, repeat=9)) / number * 1e6


def row(name: str, fast: float, ref: float) -> None:
    print(f"{name:45} fast {fast:6.2f} µs   reference {ref:6.2f} µs   gain {1 - fast / ref:4.0%}")


def main() -> None:
    for name, qs in QUERIES.items():
        times = []
        for impl in (speedups.percent_decode_fast, speedups.percent_decode_reference):
            parsing.percent_decode = impl  # type: ignore[assignment]
            times.append(best_us(lambda qs=qs: parsing.parse_query_string(qs)))
        parsing.percent_decode = speedups.percent_decode
        row(f"parse_query_string, {name}", *times)

    fast = speedups.compact_json_dumps_fast(_default, True, True)
    ref = speedups.compact_json_dumps_reference(_default, True, True)
    assert fast(JSON_VALUE) == ref(JSON_VALUE)
    row("compact JSON, small dict", best_us(lambda: fast(JSON_VALUE)), best_us(lambda: ref(JSON_VALUE)))

    env = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "QUERY_STRING": "fields=a,b"}
    times = []
    for prop in (speedups.cached_property_fast, speedups.cached_property_reference):

        class R(Request):
            args = prop(Request.args.func)  # type: ignore[attr-defined]

        times.append(best_us(lambda r=R: r(env).args) - best_us(lambda r=R: r(env)))
    row("cached_property, request.args (less __init__)", *times)


if __name__ == "__main__":
    main()
