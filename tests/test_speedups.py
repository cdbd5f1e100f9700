"""Each fast function of ``erlen.http.speedups`` equals its plain reference, errors included.

Property tests over random strings, percent-escapes and JSON values compare the two
outcomes (value, or exception type and message); the reference path is then forced
(monkeypatched in-process, and by ``ERLEN_NO_SPEEDUPS=1`` in a subprocess that reruns the
parsing, request and hot-path test files) to show erlen still answers the same on it.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote_from_bytes, unquote_to_bytes

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import erlen
from erlen.exceptions import BadRequest
from erlen.http import parsing, speedups
from erlen.json import _default

settings.register_profile("erlen", deadline=None)  # no timing assertions on a shared VM
settings.load_profile("erlen")

ROOT = Path(__file__).resolve().parent.parent


def outcome(fn: Any, *args: Any) -> tuple[Any, ...]:
    """What calling ``fn`` gives: ``("ok", value)`` or ``("raised", type, message)``."""
    try:
        return ("ok", fn(*args))
    except Exception as e:  # compared, never swallowed: the test asserts on it
        return ("raised", type(e), str(e))


# -- percent_decode --------------------------------------------------------------------

# characters that matter to the decoders, so random strings hit escapes and backslashes
_ESCAPY = st.text(alphabet=st.sampled_from("%%%\\x0123456789abcdefABCDEFgG+=& é\u20ac\0"))
# strings of valid escapes of random bytes, in random hex case, between random text
_VALID_ESCAPES = st.tuples(st.binary(), st.booleans(), st.text()).map(
    lambda t: t[2].replace("%", "") + (quote_from_bytes(t[0], safe="") if t[1] else
                                       quote_from_bytes(t[0], safe="").lower())
)


@given(st.one_of(st.text(), _ESCAPY, _VALID_ESCAPES))
@example("\\x41%41")  # a literal backslash-escape is data, not an escape
@example("%")
@example("%4")
@example("%zz")
@example("%%41")
@example("ok%41%4g")
@example("\ud800%41")  # a lone surrogate cannot be encoded: both raise the same way
def test_percent_decode_fast_equals_reference(s: str) -> None:
    assert outcome(speedups.percent_decode_fast, s) == outcome(
        speedups.percent_decode_reference, s
    )


@given(st.binary(), st.booleans())
def test_percent_decode_inverts_quoting(data: bytes, lower: bool) -> None:
    quoted = quote_from_bytes(data, safe="")  # ASCII letters and digits stay as they are
    assert speedups.percent_decode_fast(quoted) == data
    assert speedups.percent_decode_reference(quoted) == data == unquote_to_bytes(quoted)
    every = "".join(f"%{b:02x}" if lower else f"%{b:02X}" for b in data)  # every byte escaped
    assert speedups.percent_decode_fast(every) == data == speedups.percent_decode_reference(every)


@pytest.mark.parametrize(
    ("s", "escape"),
    [("%", "%"), ("a%4", "%4"), ("%zz", "%zz"), ("%41%x1 ", "%x1"), ("%4g%zz", "%4g")],
)
@pytest.mark.parametrize(
    "impl", [speedups.percent_decode_fast, speedups.percent_decode_reference], ids=["fast", "ref"]
)
def test_percent_decode_names_the_first_malformed_escape(impl: Any, s: str, escape: str) -> None:
    with pytest.raises(speedups.PercentEscapeError) as info:
        impl(s)
    assert info.value.escape == escape
    assert isinstance(info.value, ValueError)


def _parse(impl: Any, qs: str) -> tuple[Any, ...]:
    """``parse_query_string(qs)`` with ``impl`` as the decoder: items or the 400's text."""
    saved = parsing.percent_decode
    parsing.percent_decode = impl
    try:
        return ("ok", list(parsing.parse_query_string(qs).items(multi=True)))
    except BadRequest as e:
        return ("400", e.description)
    finally:
        parsing.percent_decode = saved


@given(st.lists(st.tuples(_ESCAPY, st.one_of(_ESCAPY, _VALID_ESCAPES))))
@example([("a", "%ff")])  # invalid UTF-8
@example([("x", "%C3"), ("y", "%A9")])  # valid only if joined: must stay invalid
@example([("nul", "%00"), ("after", "%41")])
def test_query_parsing_same_on_both_decoders(pairs: list[tuple[str, str]]) -> None:
    qs = "&".join(f"{k}={v}" for k, v in pairs)
    assert _parse(speedups.percent_decode_fast, qs) == _parse(speedups.percent_decode_reference, qs)


# -- compact_json_dumps ----------------------------------------------------------------

_JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),  # incl. nan and inf, which json.dumps writes as NaN / Infinity
    st.text(),
    st.dates(),
    st.uuids(),
    st.decimals(allow_nan=False),
)
_JSON_VALUES = st.recursive(
    _JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.text(max_size=8), inner, max_size=5),
    ),
    max_leaves=20,
)


@given(_JSON_VALUES, st.booleans(), st.booleans())
def test_compact_json_fast_equals_reference_and_json_dumps(
    value: Any, ensure_ascii: bool, sort_keys: bool
) -> None:
    fast = speedups.compact_json_dumps_fast(_default, ensure_ascii, sort_keys)
    ref = speedups.compact_json_dumps_reference(_default, ensure_ascii, sort_keys)
    expected = json.dumps(
        value, default=_default, ensure_ascii=ensure_ascii, sort_keys=sort_keys,
        separators=(",", ":"),
    )
    assert fast(value) == ref(value) == expected
    assert fast(value) == expected  # again: the pooled encoder is reused


def _circular() -> list[Any]:
    loop: list[Any] = []
    loop.append(loop)
    return loop


@pytest.mark.parametrize(
    "value",
    [
        object(),  # not serialisable: TypeError
        {"a": [1, object()]},
        _circular(),  # ValueError: Circular reference detected
        {"b": 1, 2: 3},  # sort_keys over str and int keys: TypeError
        {(1, 2): 3},  # a key JSON cannot have: TypeError
    ],
    ids=["object", "nested-object", "circular", "mixed-keys", "tuple-key"],
)
def test_compact_json_errors_are_the_same(value: Any) -> None:
    fast = speedups.compact_json_dumps_fast(_default, True, True)
    ref = speedups.compact_json_dumps_reference(_default, True, True)
    got = outcome(fast, value)
    assert got[0] == "raised"
    assert got == outcome(ref, value)
    assert outcome(fast, {"after": [1]}) == ("ok", '{"after":[1]}')  # no stale marker


# -- cached_property -------------------------------------------------------------------


@pytest.mark.parametrize(
    "prop", [speedups.cached_property_fast, speedups.cached_property_reference], ids=["fast", "ref"]
)
def test_cached_property_behaves_as_functools(prop: Any) -> None:
    calls: list[int] = []

    class C:
        @prop
        def value(self) -> int:
            """The doc."""
            calls.append(1)
            return len(calls)

    c = C()
    assert (c.value, c.value) == (1, 1)  # computed once
    c.value = 10  # type: ignore[misc]
    assert c.value == 10
    del c.value  # type: ignore[misc]
    assert c.value == 2  # computed again after deletion
    assert C().value == 3  # per instance
    assert isinstance(C.__dict__["value"], prop)
    assert C.value.__doc__ == "The doc."  # type: ignore[attr-defined]
    with pytest.raises(ZeroDivisionError):  # an error is raised, and nothing cached

        class D:
            @prop
            def bad(self) -> float:
                return 1 / 0

        D().bad  # noqa: B018


# -- selection -------------------------------------------------------------------------


def test_fast_versions_are_chosen_on_cpython_311() -> None:
    if not speedups.ENABLED:
        pytest.skip("ERLEN_NO_SPEEDUPS is set")
    if sys.implementation.name == "cpython":
        assert speedups.percent_decode is speedups.percent_decode_fast
        assert speedups.compact_json_dumps is speedups.compact_json_dumps_fast
    want = speedups.cached_property_fast if sys.version_info < (3, 12) else functools.cached_property
    assert speedups.cached_property is want
    assert parsing.percent_decode is speedups.percent_decode


@pytest.fixture
def reference_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reference decoder and JSON encoder, as on an interpreter without the tricks."""
    monkeypatch.setattr(parsing, "percent_decode", speedups.percent_decode_reference)
    monkeypatch.setattr(speedups, "compact_json_dumps", speedups.compact_json_dumps_reference)


@pytest.mark.usefixtures("reference_path")
def test_app_answers_the_same_on_the_reference_path() -> None:
    app = erlen.Erlen(__name__)

    @app.route("/q", methods=["GET", "POST"])
    def q() -> Any:
        return {"args": erlen.request.args.to_dict(flat=False), "form": erlen.request.form}

    @app.route("/j")
    def j() -> Any:
        return erlen.jsonify(b=1, a="é", when=datetime.date(2024, 1, 2),
                             id=uuid.UUID(int=1), n=decimal.Decimal("1.5"))

    c = app.test_client()
    r = c.get("/q?a=x%26y+z&%C3%A9=1&a=%2B")
    assert r.status_code == 200
    assert r.get_json()["args"] == {"a": ["x&y z", "+"], "é": ["1"]}
    r = c.post("/q", data={"field": "value 1 & more", "k": "é"})
    assert r.get_json()["form"] == {"field": "value 1 & more", "k": "é"}
    assert c.get("/q?a=%zz").status_code == 400
    assert c.get("/q?a=%ff").status_code == 400
    assert c.get("/j").data == (
        b'{"a":"\\u00e9","b":1,"id":"00000000-0000-0000-0000-000000000001",'
        b'"n":"1.5","when":"Tue, 02 Jan 2024 00:00:00 GMT"}\n'
    )


def test_whole_parsing_and_json_tests_pass_without_speedups() -> None:
    """``ERLEN_NO_SPEEDUPS=1``: every binding is the reference (also cached_property, which
    is applied when the classes are made), and the existing tests of what the tricks
    speed up pass on it."""
    env = {**os.environ, "ERLEN_NO_SPEEDUPS": "1"}
    check = (
        "import functools, erlen, erlen.http.speedups as s, erlen.http.parsing as p;"
        "import erlen.http.request as r;"
        "assert not s.ENABLED;"
        "assert p.percent_decode is s.percent_decode_reference;"
        "assert s.compact_json_dumps is s.compact_json_dumps_reference;"
        "assert type(r.Request.__dict__['args']) is functools.cached_property"
    )
    subprocess.run([sys.executable, "-c", check], env=env, check=True, cwd=ROOT)
    files = ["tests/test_parsing.py", "tests/test_hot_path.py", "tests/test_request.py"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *files],
        env=env, cwd=ROOT, capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout
