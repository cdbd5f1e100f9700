"""Tests for erlen.http.datastructures (Werkzeug's datastructures as the oracle)."""

from __future__ import annotations

import copy
import io
import json
import pickle

import pytest
import werkzeug.datastructures as wd
from werkzeug.http import parse_accept_header as w_parse_accept

from erlen.exceptions import BadRequestKeyError
from erlen.http.datastructures import (
    Accept,
    Authorization,
    CharsetAccept,
    CombinedMultiDict,
    EnvironHeaders,
    ETags,
    FileMultiDict,
    FileStorage,
    Headers,
    HeaderSet,
    ImmutableMultiDict,
    LanguageAccept,
    MIMEAccept,
    MultiDict,
    UserAgent,
)
from erlen.http.parsing import parse_accept_header

# -- MultiDict -------------------------------------------------------------------------------


def test_multidict_basics() -> None:
    md = MultiDict([("a", "1"), ("a", "2"), ("b", "x")])
    assert md["a"] == "1"
    assert md.getlist("a") == ["1", "2"]
    assert md.get("a", type=int) == 1
    assert md.get("b", type=int) is None
    assert md.get("b", -1, type=int) == -1
    assert md.getlist("a", type=int) == [1, 2]
    assert md.getlist("missing") == []
    assert list(md.items(multi=True)) == [("a", "1"), ("a", "2"), ("b", "x")]
    assert list(md.items()) == [("a", "1"), ("b", "x")]
    assert md.to_dict() == {"a": "1", "b": "x"}
    assert md.to_dict(flat=False) == {"a": ["1", "2"], "b": ["x"]}
    assert list(md.values()) == ["1", "x"]
    assert list(md.listvalues()) == [["1", "2"], ["x"]]


def test_multidict_missing_key_is_bad_request() -> None:
    md = MultiDict()
    with pytest.raises(BadRequestKeyError) as info:
        md["x"]
    assert info.value.code == 400
    with pytest.raises(KeyError):
        md.pop("x")


def test_multidict_mutation() -> None:
    md = MultiDict({"a": [1, 2], "b": 3, "empty": []})
    assert "empty" not in md
    md.add("a", 4)
    assert md.getlist("a") == [1, 2, 4]
    md["a"] = 9
    assert md.getlist("a") == [9]
    md.setlist("c", [5, 6])
    assert md.poplist("c") == [5, 6]
    assert md.setdefault("d", 7) == 7
    assert md.setlistdefault("e", [1]) == [1]
    md.update({"b": 4})
    assert md.getlist("b") == [3, 4]
    assert md.pop("b") == 3
    assert md.pop("nope", "dflt") == "dflt"
    key, value = md.popitem()
    assert key in ("a", "d", "e")


def test_multidict_copy_pickle_equal_werkzeug() -> None:
    pairs = [("a", "1"), ("a", "2"), ("b", "3")]
    md = MultiDict(pairs)
    assert md.copy() == md
    assert copy.deepcopy(md).getlist("a") == ["1", "2"]
    restored = pickle.loads(pickle.dumps(md))
    assert list(restored.items(multi=True)) == pairs
    assert repr(md) == repr(wd.MultiDict(pairs))


def test_immutable_multidict() -> None:
    imd = ImmutableMultiDict([("a", "1")])
    for op in (
        lambda: imd.__setitem__("a", "2"),
        lambda: imd.add("a", "2"),
        lambda: imd.setlist("a", []),
        lambda: imd.pop("a"),
        lambda: imd.update({"x": 1}),
        lambda: imd.clear(),
    ):
        with pytest.raises(TypeError):
            op()
    assert hash(imd) == hash(ImmutableMultiDict([("a", "1")]))
    mutable = imd.copy()
    mutable.add("b", "2")
    assert mutable["b"] == "2"
    assert copy.copy(imd) is imd


def test_combined_multidict() -> None:
    c = CombinedMultiDict([MultiDict([("a", "1"), ("b", "2")]), MultiDict([("a", "3")])])
    assert c["a"] == "1"
    assert c.getlist("a") == ["1", "3"]
    assert sorted(c) == ["a", "b"]
    assert len(c) == 2
    assert "b" in c
    assert c.to_dict() == {"a": "1", "b": "2"}
    with pytest.raises(BadRequestKeyError):
        c["zz"]
    with pytest.raises(TypeError):
        c["x"] = "1"


def _kwargs(**kw: object) -> dict[str, object]:
    return kw


# Every way Python code turns a MultiDict into a plain dict or a list: Werkzeug gives first
# values everywhere except the explicit multi-value APIs.
_FLATTENERS = {
    "dict()": lambda md: dict(md),
    "{**md}": lambda md: {**md},
    "f(**md)": lambda md: _kwargs(**md),
    "{}.update(md)": lambda md: (d := {}, d.update(md), d)[2],
    "dict | md": lambda md: {} | md,
    "list(items())": lambda md: list(md.items()),
    "list(values())": lambda md: list(md.values()),
    "list(md)": lambda md: list(md),
    "list(keys())": lambda md: list(md.keys()),
    "len": len,
    "json.dumps": lambda md: json.dumps(md),
    "to_dict": lambda md: md.to_dict(),
    "to_dict(flat=False)": lambda md: md.to_dict(flat=False),
    "items(multi=True)": lambda md: list(md.items(multi=True)),
    "lists": lambda md: list(md.lists()),
    "== first values": lambda md: md == {"a": "1", "b": "3"},
    "== lists": lambda md: md == {"a": ["1", "2"], "b": ["3"]},
    "repr": repr,
    "copy": lambda md: repr(md.copy()),
}
_PAIRS = [("a", "1"), ("a", "2"), ("b", "3")]


@pytest.mark.parametrize("how", sorted(_FLATTENERS))
@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (MultiDict, wd.MultiDict),
        (ImmutableMultiDict, wd.ImmutableMultiDict),
        (FileMultiDict, wd.FileMultiDict),
    ],
    ids=["MultiDict", "ImmutableMultiDict", "FileMultiDict"],
)
def test_multidict_flattening_matches_werkzeug(ours: type, theirs: type, how: str) -> None:
    """dict(request.args) and friends give first values (str), never the value lists."""
    fn = _FLATTENERS[how]
    got, want = fn(ours(_PAIRS)), fn(theirs(_PAIRS))
    if how == "repr" or how == "copy":  # same text, module aside
        got, want = got.replace("erlen", "werkzeug"), want.replace("erlen", "werkzeug")
    assert got == want
    if how in ("dict()", "{**md}", "f(**md)", "{}.update(md)", "dict | md"):
        assert got == {"a": "1", "b": "3"}


@pytest.mark.parametrize(
    "how", sorted(k for k in _FLATTENERS if k not in ("repr", "copy") and not k.startswith("=="))
)
def test_combined_multidict_flattening_matches_werkzeug(how: str) -> None:
    """Also json.dumps: "{}" in both, the C encoder sees the (empty) dict storage. Equality
    differs on purpose: Werkzeug compares that empty storage, erlen the values."""
    fn = _FLATTENERS[how]
    ours = CombinedMultiDict([MultiDict(_PAIRS[:1]), MultiDict(_PAIRS[1:])])
    theirs = wd.CombinedMultiDict([wd.MultiDict(_PAIRS[:1]), wd.MultiDict(_PAIRS[1:])])
    got, want = fn(ours), fn(theirs)
    if isinstance(want, list) and how != "items(multi=True)":
        # Werkzeug collects CombinedMultiDict keys in a set (arbitrary order); erlen keeps
        # first-seen order
        got, want = sorted(got), sorted(want)
    assert got == want


def test_request_args_form_cookies_flatten_to_first_values() -> None:
    from erlen.testing import EnvironBuilder

    env = EnvironBuilder(
        "/?q=1&q=2&p=x",
        method="POST",
        data={"f": ["a", "b"], "g": "c"},
        headers={"Cookie": "c=1; c=2; d=3"},
    ).get_environ()
    from erlen.wrappers import Request

    req = Request(env)
    assert dict(req.args) == {"q": "1", "p": "x"}
    assert dict(req.form) == {"f": "a", "g": "c"}
    assert dict(req.cookies) == {"c": "1", "d": "3"}
    assert dict(req.values) == {"q": "1", "p": "x", "f": "a", "g": "c"}
    assert json.loads(json.dumps(req.args)) == {"q": "1", "p": "x"}
    assert req.args.getlist("q") == ["1", "2"]


# -- Headers ---------------------------------------------------------------------------------


def test_headers_case_insensitive_and_ordered() -> None:
    h = Headers([("Content-Type", "text/html"), ("X-A", "1")])
    h.add("x-a", 2)
    assert h["content-type"] == "text/html"
    assert h.getlist("X-A") == ["1", "2"]
    assert h.get("X-A", type=int) == 1
    assert h.get("missing", "d") == "d"
    assert "x-A" in h and "nope" not in h
    h.set("X-A", "3")
    assert h.to_wsgi_list() == [("Content-Type", "text/html"), ("X-A", "3")]
    assert list(h.keys(lower=True)) == ["content-type", "x-a"]
    del h["x-a"]
    assert len(h) == 1
    with pytest.raises(BadRequestKeyError):
        h["x-a"]


def test_headers_options_and_str_match_werkzeug() -> None:
    ours, theirs = Headers(), wd.Headers()
    for h in (ours, theirs):
        h.add("Content-Disposition", "attachment", filename="a b.txt")
        h.add("X-Num", 5)
    assert ours.to_wsgi_list() == theirs.to_wsgi_list()
    assert str(ours) == str(theirs)


@pytest.mark.parametrize("bad", ["a\r\nSet-Cookie: x=1", "a\nb", "a\rb", "a\0b"])
def test_headers_reject_control_chars(bad: str) -> None:
    h = Headers()
    with pytest.raises(ValueError):
        h.add("X", bad)
    with pytest.raises(ValueError):
        h.set("X", bad)
    with pytest.raises(ValueError):
        h["X"] = bad
    with pytest.raises(ValueError):
        h.extend({"X": bad})
    with pytest.raises(ValueError):
        h.setlist("X", ["ok", bad])
    with pytest.raises(ValueError):
        Headers([("X", bad)])
    assert len(h) == 0


@pytest.mark.parametrize("name", ["X Y", "X:Y", "X\r\nY", "", "Ümlaut"])
def test_headers_reject_bad_names(name: str) -> None:
    with pytest.raises(ValueError):
        Headers().add(name, "v")


def test_headers_update_pop_setdefault_copy() -> None:
    h = Headers([("A", "1"), ("A", "2"), ("B", "3")])
    h.update({"A": "9", "C": ["x", "y"]})
    assert h.getlist("A") == ["9"]
    assert h.getlist("C") == ["x", "y"]
    assert h.pop("B") == "3"
    assert h.pop("B", None) is None
    assert h.setdefault("D", "4") == "4"
    c = h.copy()
    c.add("E", "5")
    assert "E" not in h
    assert h == Headers(list(h))
    h.clear()
    assert not h


def test_headers_from_list_no_copy() -> None:
    lst = [("A", "1")]
    h = Headers._from_list(lst)
    h.add("B", "2")
    assert lst == [("A", "1"), ("B", "2")]
    assert h.to_wsgi_list() is lst


def test_environ_headers() -> None:
    environ = {
        "HTTP_X_FOO": "bar",
        "HTTP_HOST": "example.com",
        "CONTENT_TYPE": "text/plain",
        "CONTENT_LENGTH": "",
        "wsgi.input": None,
    }
    h = EnvironHeaders(environ)
    assert h["X-Foo"] == "bar"
    assert h["x-foo"] == "bar"
    assert h["Content-Type"] == "text/plain"
    assert h.get("Missing") is None
    assert h.getlist("Host") == ["example.com"]
    assert "host" in h
    assert sorted(h) == sorted(wd.EnvironHeaders(environ))
    assert len(h) == 3
    with pytest.raises(BadRequestKeyError):
        h["Missing"]
    with pytest.raises(TypeError):
        h.add("X", "1")
    with pytest.raises(TypeError):
        h["X"] = "1"
    assert h.copy()["x-foo"] == "bar"


# -- Accept ----------------------------------------------------------------------------------

ACCEPTS = [
    "text/html, application/xhtml+xml;q=0.9, */*;q=0.8",
    "text/*;q=0.5, c/d;q=0.4, */*",
    "a/b;q=0.5, c/d;x=1;q=0.5, e/f;q=0.5",
    "application/json",
    "text/plain;format=flowed, text/plain;q=0.5",
]
OFFERS = [
    "text/html",
    "application/json",
    "text/plain",
    "image/png",
    "c/d",
    "text/plain;format=flowed",
]


@pytest.mark.parametrize("header", ACCEPTS)
def test_mime_accept_matches_werkzeug(header: str) -> None:
    ours = parse_accept_header(header, MIMEAccept)
    theirs = w_parse_accept(header, wd.MIMEAccept)
    assert list(ours) == list(theirs)
    assert ours.to_header() == theirs.to_header()
    for offer in OFFERS:
        assert ours.quality(offer) == theirs.quality(offer), offer
        assert (offer in ours) == (offer in theirs), offer
    for i in range(len(OFFERS)):
        offers = OFFERS[i:] + OFFERS[:i]
        assert ours.best_match(offers) == theirs.best_match(offers), offers
    assert ours.accept_html == theirs.accept_html
    assert ours.accept_json == theirs.accept_json


def test_accept_basics() -> None:
    a = Accept([("a", 0.5), ("b", 1), ("c", 0)])
    assert list(a.values()) == ["b", "a", "c"]
    assert a["a"] == 0.5
    assert a.best == "b"
    assert a.best_match(["c"]) is None
    assert a.best_match(["c"], default="z") == "z"
    assert a.find("a") == 1 and a.find("zz") == -1
    assert Accept(None).provided is False
    assert Accept(None).best_match(["x"]) is None


def test_language_and_charset_accept() -> None:
    lang = parse_accept_header("de-AT, en;q=0.5", LanguageAccept)
    theirs = w_parse_accept("de-AT, en;q=0.5", wd.LanguageAccept)
    for offers in (["de", "en"], ["en-US", "fr"], ["de_AT"], ["fr"]):
        assert lang.best_match(offers) == theirs.best_match(offers)
    assert lang["de_at"] == 1
    cs = parse_accept_header("utf-8, iso-8859-1;q=0.5", CharsetAccept)
    assert cs.best_match(["latin1", "UTF8"]) == "UTF8"


# -- Authorization, ETags, misc -------------------------------------------------------------


def test_authorization_basic_bearer_params() -> None:
    a = Authorization.from_header("Basic dXNlcjpwYTpzcw==")
    assert a is not None
    assert (a.type, a.username, a.password) == ("basic", "user", "pa:ss")
    assert a.to_header() == "Basic dXNlcjpwYTpzcw=="
    b = Authorization.from_header("Bearer abc.def-ghi=")
    assert b is not None and b.type == "bearer" and b.token == "abc.def-ghi="
    assert b.to_header() == "Bearer abc.def-ghi="
    d = Authorization.from_header('Digest username="u", realm="r", nc=1')
    assert d is not None and d.username == "u" and d.realm == "r" and d.get("nc") == "1"
    for bad in (None, "", "Basic !!!notbase64", "Basic //79"):
        assert Authorization.from_header(bad) is None
    w = wd.Authorization.from_header("Basic dXNlcjpwYTpzcw==")
    assert w is not None and w.password == a.password


def test_etags() -> None:
    e = ETags(["a"], ["b"])
    assert "a" in e and "b" not in e
    assert e.contains_weak("b")
    assert e.is_weak("b")
    assert e.contains_raw('W/"b"') and e.contains_raw('"a"') and not e.contains_raw('"b"')
    assert e.to_header() == '"a", W/"b"'
    star = ETags(star_tag=True)
    assert "anything" in star and star.to_header() == "*"
    assert not ETags()


def test_headerset_and_useragent() -> None:
    updates: list[str] = []
    hs = HeaderSet(["Accept"], on_update=lambda s: updates.append(s.to_header()))
    hs.add("cookie")
    hs.add("COOKIE")
    assert "Cookie" in hs and len(hs) == 2
    hs.discard("accept")
    assert hs.to_header() == "cookie"
    assert updates == ["Accept, cookie", "cookie"]
    ua = UserAgent("Mozilla/5.0")
    assert str(ua) == "Mozilla/5.0" and ua.string == "Mozilla/5.0" and ua.browser is None


def test_filestorage(tmp_path: object) -> None:
    import pathlib

    assert isinstance(tmp_path, pathlib.Path)
    fs = FileStorage(io.BytesIO(b"hello"), "a.txt", "file", "text/plain; charset=utf-8", 5)
    assert fs and fs.filename == "a.txt" and fs.name == "file"
    assert fs.mimetype == "text/plain"
    assert fs.mimetype_params == {"charset": "utf-8"}
    assert fs.content_length == 5
    assert fs.read(2) == b"he"
    fs.seek(0)
    dst = tmp_path / "out.bin"
    fs.save(dst)
    assert dst.read_bytes() == b"hello"
    buf = io.BytesIO()
    fs.seek(0)
    fs.save(buf)
    assert buf.getvalue() == b"hello"
    fs.close()
    assert fs.stream.closed
    assert not FileStorage()
    named = io.BytesIO(b"")
    named.name = "<stdin>"  # type: ignore[attr-defined]
    assert FileStorage(named).filename is None
