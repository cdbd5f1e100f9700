"""Tests for erlen.http.parsing: security properties first, then Werkzeug parity."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import werkzeug.http as wh

from erlen.exceptions import BadRequest
from erlen.http import parsing as p

# -- query strings ---------------------------------------------------------------------------


def test_query_basic() -> None:
    d = p.parse_query_string("a=1&b=x+y&a=%C3%A9&flag&&=v")
    assert d.getlist("a") == ["1", "é"]
    assert d["b"] == "x y"
    assert d["flag"] == ""
    assert d[""] == "v"
    assert p.parse_query_string(b"q=%E2%82%AC")["q"] == "€"
    assert p.parse_query_string("") == {}


def test_query_semicolon_does_not_separate() -> None:
    d = p.parse_query_string("a=1;b=2&c=3")
    assert d["a"] == "1;b=2"
    assert "b" not in d
    assert d["c"] == "3"


def test_query_wsgi_latin1_str_is_utf8_bytes() -> None:
    raw = "q=€".encode().decode("latin-1")  # what a WSGI server puts in QUERY_STRING
    assert p.parse_query_string(raw)["q"] == "€"


@pytest.mark.parametrize(
    "qs",
    [
        "a", "a=", "=b", "=", "a=b=c", "a;b=c", "x=1,2", "fields=a,b", "q=a/b?c", "a=%41",
        "a+b=c+d", "a=1&a=2", "a=1&&b", "&a", "a&", "k=v&k", "a=%C3%A9&b=%2B",
    ],
)
def test_query_matches_the_stdlib(qs: str) -> None:
    from urllib.parse import parse_qsl

    expected = parse_qsl(qs, keep_blank_values=True, strict_parsing=False, separator="&")
    assert list(p.parse_query_string(qs).items(multi=True)) == expected


@pytest.mark.parametrize("qs", ["a=%zz", "a=%4", "a=%", "%zz=1", "a=%ff", "a=%C3", "a=\xff"])
def test_query_malformed_is_bad_request(qs: str) -> None:
    with pytest.raises(BadRequest) as info:
        p.parse_query_string(qs)
    assert info.value.code == 400
    desc = info.value.description or ""
    assert "percent-encoding" in desc or "UTF-8" in desc


def _timed(fn: object, arg: str) -> float:
    start = time.perf_counter()
    fn(arg)  # type: ignore[operator]
    return time.perf_counter() - start


@pytest.mark.parametrize("unit", ["&", ";", "a=&", "a=%41&", "=&"])
def test_query_pathological_inputs_linear(unit: str) -> None:
    big = unit * (1_000_000 // len(unit))
    small = unit * (100_000 // len(unit))
    d = p.parse_query_string(big)
    if unit == "&" or unit == "=&":
        assert len(d) == (0 if unit == "&" else 1)
    elif unit == ";":
        assert d[big] == ""
    else:
        assert len(d.getlist("a")) == len(big) // len(unit)
    t_small = min(_timed(p.parse_query_string, small) for _ in range(3))
    t_big = min(_timed(p.parse_query_string, big) for _ in range(3))
    assert t_big < 30 * t_small + 0.05


# -- cookies ---------------------------------------------------------------------------------


def test_cookie_basic_and_werkzeug_parity() -> None:
    header = 'a; b=1; c = " q " ; d="a\\"b\\054c"; e="x;y"; f=1=2; b=2'
    ours = p.parse_cookie_header(header)
    assert list(ours.items(multi=True)) == list(wh.parse_cookie(header).items(multi=True))
    assert ours.getlist("b") == ["1", "2"]
    assert ours["d"] == 'a"b,c'
    assert ours["e"] == "x;y"


@pytest.mark.parametrize("header", ["=__Host-x=bad", "=x", "  =x; =__Secure-y=1", ";=;="])
def test_cookie_nameless_pairs_ignored(header: str) -> None:
    d = p.parse_cookie_header(header)
    assert "__Host-x" not in d and "__Secure-y" not in d and "" not in d
    assert len(d) == 0


def test_cookie_nameless_does_not_shadow_real() -> None:
    d = p.parse_cookie_header("=__Host-sid=evil; __Host-sid=good")
    assert d.getlist("__Host-sid") == ["good"]


def test_cookie_octal_utf8_and_raw_utf8() -> None:
    assert p.parse_cookie_header('x="\\303\\251"')["x"] == "é"
    raw = "x=é".encode().decode("latin-1")
    assert p.parse_cookie_header(raw)["x"] == "é"


def test_cookie_unterminated_quote() -> None:
    d = p.parse_cookie_header('a="open; b=2')
    assert d["b"] == "2"


@pytest.mark.parametrize("unit", [";", "a=1;", '"', 'a=";', "a=\"\\\\';"])
def test_cookie_pathological_linear(unit: str) -> None:
    big = unit * (1_000_000 // len(unit))
    small = unit * (100_000 // len(unit))
    d = p.parse_cookie_header(big)
    if unit == "a=1;":
        assert len(d.getlist("a")) == len(big) // len(unit)
    t_small = min(_timed(p.parse_cookie_header, small) for _ in range(3))
    t_big = min(_timed(p.parse_cookie_header, big) for _ in range(3))
    assert t_big < 30 * t_small + 0.05


COOKIE_VALUES = ["v", "a b", 'a"b', "a\\b", "é", "a,b", "a=b", '{"x":1}', "a;b", "a\x7f", ""]


@pytest.mark.parametrize("value", COOKIE_VALUES)
def test_dump_cookie_quoting_matches_werkzeug_and_roundtrips(value: str) -> None:
    dumped = p.dump_cookie("k", value)
    assert dumped == wh.dump_cookie("k", value)
    pair = dumped.split("; Path=/")[0]
    assert p.parse_cookie_header(pair)["k"] == value


def test_dump_cookie_attributes() -> None:
    kw = dict(
        expires=datetime(2020, 1, 1),
        max_age=timedelta(hours=1),
        domain=".example.com",
        path="/x",
        secure=True,
        httponly=True,
        samesite="lax",
        partitioned=True,
    )
    ours = p.dump_cookie("k", "v", **kw)  # type: ignore[arg-type]
    assert ours == wh.dump_cookie("k", "v", **kw)  # type: ignore[arg-type]
    assert ours == (
        "k=v; Domain=example.com; Expires=Wed, 01 Jan 2020 00:00:00 GMT; Max-Age=3600;"
        " Secure; HttpOnly; Path=/x; SameSite=Lax; Partitioned"
    )
    assert "Secure" in p.dump_cookie("k", "v", partitioned=True)
    assert p.dump_cookie("k", "v", path=None) == "k=v"
    assert "Expires=Thu, 01 Jan 1970 00:00:00 GMT" in p.dump_cookie("k", expires=0)
    with_age = p.dump_cookie("k", "v", max_age=60)
    assert "Max-Age=60" in with_age and "Expires=" in with_age


def test_dump_cookie_validation() -> None:
    with pytest.raises(ValueError):
        p.dump_cookie("k", "v", samesite="bogus")
    for key in ("a b", "a;b", "", "é", "a\r\n"):
        with pytest.raises(ValueError):
            p.dump_cookie(key, "v")
    with pytest.raises(ValueError):
        p.dump_cookie("k", "v", domain="x.com; HttpOnly")
    with pytest.raises(ValueError):
        p.dump_cookie("k", "v", path="/\r\nX: y")


def test_dump_cookie_too_large_warns() -> None:
    with pytest.warns(UserWarning, match="too large"):
        p.dump_cookie("k", "v" * 5000)


# -- headers ---------------------------------------------------------------------------------

OPTION_HEADERS = [
    "text/html; charset=utf8",
    "form-data; name=\"a b\"; filename*=UTF-8''%e2%82%ac%20x.txt",
    'attachment; FILENAME="a\\"b"',
    "",
    "text/html;",
    "a; b; c=1",
    'a; t*0="foo"; t*1="bar"',
    'x; k="a;b"; z=2',
    "x; f*=iso-8859-1'en'%A3",
    "x;=y;q",
]


@pytest.mark.parametrize("value", OPTION_HEADERS)
def test_parse_options_header_matches_werkzeug(value: str) -> None:
    assert p.parse_options_header(value) == wh.parse_options_header(value)


def test_dump_options_and_lists() -> None:
    opts = {"filename": "a b.txt", "x": None, "y": "tok"}
    assert p.dump_options_header("attachment", opts) == wh.dump_options_header("attachment", opts)
    assert p.parse_list_header('a, "b, c", d ,, e') == ["a", "b, c", "d", "e"]
    hdr = "a=1, b=\"x y\", c, d*=UTF-8''%e2%82%ac"
    assert p.parse_dict_header(hdr) == wh.parse_dict_header(hdr)
    assert p.dump_header({"a": "1", "b": None, "c": "x y"}) == 'a=1, b, c="x y"'
    assert p.parse_set_header("Accept, Cookie").as_set() == {"accept", "cookie"}


def test_parse_accept_drops_invalid_quality() -> None:
    header = "text/html;q=0.5, text/*, application/json;q=abc, x/y;q=2, a/b;level=1;q=0.7"
    ours = p.parse_accept_header(header)
    assert list(ours) == list(wh.parse_accept_header(header))
    assert "x/y" not in [v for v, _ in ours]
    assert p.parse_accept_header(None).provided is False


# -- dates, etags, misc ----------------------------------------------------------------------


def test_http_date() -> None:
    assert p.http_date(datetime(2015, 10, 21, 7, 28)) == "Wed, 21 Oct 2015 07:28:00 GMT"
    tz = datetime(2015, 10, 21, 9, 28, tzinfo=UTC) + timedelta()
    assert p.http_date(tz) == "Wed, 21 Oct 2015 09:28:00 GMT"
    assert p.http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert p.http_date(1445412480.0) == wh.http_date(1445412480.0)
    assert p.http_date().endswith(" GMT")


@pytest.mark.parametrize(
    "value",
    ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"],
)
def test_parse_date_three_formats(value: str) -> None:
    assert p.parse_date(value) == datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
    assert p.parse_date(value).tzinfo is not None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "value", [None, "", "garbage", "Sun, 31 Feb 1994 08:49:37 GMT", "x" * 10_000, "\0"]
)
def test_parse_date_garbage_is_none(value: str | None) -> None:
    assert p.parse_date(value) is None


def test_parse_date_offset_converted_to_utc() -> None:
    assert p.parse_date("Sun, 06 Nov 1994 08:49:37 +0200") == datetime(
        1994, 11, 6, 6, 49, 37, tzinfo=UTC
    )


def test_etag_helpers() -> None:
    assert p.quote_etag("abc") == '"abc"'
    assert p.quote_etag("abc", weak=True) == 'W/"abc"'
    with pytest.raises(ValueError):
        p.quote_etag('a"b')
    assert p.unquote_etag('W/"abc"') == ("abc", True)
    assert p.unquote_etag('"abc"') == ("abc", False)
    assert p.unquote_etag(None) == (None, None)
    etags = p.parse_etags('"a", W/"b", c')
    assert etags.contains("a") and etags.contains("c") and etags.is_weak("b")
    assert p.parse_etags("*").star_tag
    assert p.generate_etag(b"hello") == wh.generate_etag(b"hello")


def test_ranges() -> None:
    r = p.parse_range_header("bytes=0-499")
    assert r is not None and r.ranges == [(0, 500)]
    assert r.range_for_length(1000) == (0, 500)
    assert r.to_content_range_header(1000) == "bytes 0-499/1000"
    suffix = p.parse_range_header("bytes=-500")
    assert suffix is not None and suffix.range_for_length(1000) == (500, 1000)
    for bad in ("bytes=5-1", "bytes=a-b", "bytes", "=0-1", "bytes=-1-2"):
        assert p.parse_range_header(bad) is None, bad
    cr = p.parse_content_range_header("bytes 0-99/200")
    assert cr is not None and (cr.start, cr.stop, cr.length) == (0, 100, 200)
    assert p.parse_if_range_header('"abc"').etag == "abc"


def test_url_helpers() -> None:
    assert p.url_quote("/a b/é") == "/a%20b/%C3%A9"
    assert p.url_encode({"a": [1, 2], "b": None, "c": "x y&"}) == "a=1&a=2&c=x+y%26"
    assert p.url_encode([("b", 1), ("a", 2)], sort=True) == "a=2&b=1"


def test_parse_content_length() -> None:
    assert p.parse_content_length(None) is None
    assert p.parse_content_length("") is None
    assert p.parse_content_length(" 42 ") == 42
    for bad in ("-1", "abc", "1.5", "+3", "²"):
        with pytest.raises(BadRequest):
            p.parse_content_length(bad)
