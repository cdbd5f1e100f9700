"""erlen.utils: safe_join and secure_filename, with Werkzeug as the oracle where they agree."""

from __future__ import annotations

import types
from unittest import mock

import pytest
import werkzeug.security
import werkzeug.utils

from erlen.utils import parse_host, safe_join, secure_filename

# -- safe_join ---------------------------------------------------------------------------

SAFE = [
    ("static", ("a.txt",), "static/a.txt"),
    ("static", ("css/app.css",), "static/css/app.css"),
    ("static", ("a//b",), "static/a/b"),
    ("static", ("./a/./b",), "static/a/b"),
    ("static", ("a", "b", "c.js"), "static/a/b/c.js"),
    ("static/", ("a.txt",), "static/a.txt"),
    ("", ("a.txt",), "./a.txt"),
    ("static", ("",), "static"),
    ("static", ("..foo",), "static/..foo"),  # a name, not a parent reference
    ("static", ("a..b.txt",), "static/a..b.txt"),
    ("static", (".hidden",), "static/.hidden"),
    ("static", ("..%2fsecret",), "static/..%2fsecret"),  # still-encoded: a plain name
    ("static", ("console.log",), "static/console.log"),  # CON prefix, not a device
    ("static", ("COM10",), "static/COM10"),
    ("static", ("auxiliary.txt",), "static/auxiliary.txt"),
    ("static", ("nullable",), "static/nullable"),
    ("static", ("caf\u00e9.txt",), "static/caf\u00e9.txt"),
    ("/srv/static", ("x y.txt",), "/srv/static/x y.txt"),
]

UNSAFE = [
    "..",
    "../secret",
    "a/../../secret",
    "a/../b",  # would stay inside, refused anyway: no ".." segments at all
    "a/..",
    "...",
    ".. ",
    "/etc/passwd",
    "//etc/passwd",
    "a\\..\\b",
    "\\secret",
    "..\\secret",
    "x\x00.txt",
    "C:secret",
    "c:foo",
    "C:",
    "C:/Windows/win.ini",
    "sub/C:x",
    "CON",
    "con",
    "Con.txt",
    "nul.txt",
    "NUL.tar.gz",
    "sub/NUL",
    "example/nul",
    "AUX",
    "PRN",
    "COM1",
    "com9.log",
    "LPT1",
    "lpt3.txt",
    "COM\u00b9",
    "CONIN$",
    "conout$",
    "NUL:",
    "NUL:stream",
    "CON .txt",
    "CON ",
    " CON",
    "a/ ",
]


@pytest.mark.parametrize(("directory", "pieces", "expected"), SAFE)
def test_safe_join_accepts(directory, pieces, expected):
    assert safe_join(directory, *pieces) == expected


@pytest.mark.parametrize("untrusted", UNSAFE)
def test_safe_join_refuses(untrusted):
    assert safe_join("static", untrusted) is None


@pytest.mark.parametrize("untrusted", UNSAFE)
def test_safe_join_refuses_in_later_pieces(untrusted):
    assert safe_join("static", "ok", untrusted) is None


def test_safe_join_no_pieces():
    assert safe_join("static") == "static"


@pytest.mark.parametrize(
    "untrusted",
    ["a.txt", "css/app.css", "a//b", "./a/./b", "..foo", "../secret", "/etc/passwd", ".."],
)
def test_safe_join_agrees_with_werkzeug_on_posix_cases(untrusted):
    # Werkzeug normalises; both must agree on safe vs unsafe and on the resulting file.
    ours = safe_join("static", untrusted)
    theirs = werkzeug.security.safe_join("static", untrusted)
    assert (ours is None) == (theirs is None)
    if ours is not None:
        assert ours == theirs


# -- secure_filename ---------------------------------------------------------------------

FILENAMES = [
    "My cool movie.mov",
    "../../../etc/passwd",
    "i contain cool \xfcml\xe4uts.txt",
    "\u2603 snowman.txt",
    "__filename__",
    "  spaces  .txt",
    "a/b/c.txt",
    "a\\b\\c.txt",
    "..\\..\\windows\\system32",
    "foo$&^*)bar",
    "...",
    "",
    "\u00c5ngstr\u00f6m.pdf",
    "CON",
    "con.txt",
    "nul.tar.gz",
    "lpt1",
    "COM\u00b9.txt",
    "aux",
    "console.log",
    "tab\there.txt",
    "new\nline.txt",
    ".htaccess",
    "x\x00.txt",
]


def _werkzeug_windows(filename: str) -> str:
    """Werkzeug's secure_filename as it behaves on Windows (device names, backslash)."""
    fake_os = types.SimpleNamespace(name="nt", sep="\\", path=types.SimpleNamespace(altsep="/"))
    with mock.patch.object(werkzeug.utils, "os", fake_os):
        return werkzeug.utils.secure_filename(filename)


@pytest.mark.parametrize("filename", FILENAMES)
def test_secure_filename_matches_werkzeug_windows_rules(filename):
    assert secure_filename(filename) == _werkzeug_windows(filename)


@pytest.mark.parametrize(
    "filename",
    [
        f
        for f in FILENAMES
        if "\\" not in f
        and f.split(".")[0].upper() not in {"CON", "NUL", "LPT1", "COM\u00b9", "AUX"}
    ],
)
def test_secure_filename_matches_werkzeug_here(filename):
    assert secure_filename(filename) == werkzeug.utils.secure_filename(filename)


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("My cool movie.mov", "My_cool_movie.mov"),
        ("../../../etc/passwd", "etc_passwd"),
        ("i contain cool \xfcml\xe4uts.txt", "i_contain_cool_umlauts.txt"),
        ("a\\b.txt", "a_b.txt"),
        ("CON", "_CON"),
        ("nul.txt", "_nul.txt"),
        ("...", ""),
        ("\u2603", ""),
    ],
)
def test_secure_filename_values(filename, expected):
    assert secure_filename(filename) == expected


# -- parse_host ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "parsed"),
    [
        ("example.com", ("example.com", None)),
        ("example.com:8080", ("example.com", "8080")),
        ("[::1]:5000", ("[::1]", "5000")),
        ("127.0.0.1", ("127.0.0.1", None)),
        ("a@evil.com", None),
        ("a b", None),
        ("x/y", None),
        ("h:0", None),
        ("h:65536", None),
        ("h:65535", ("h", "65535")),
        ("h:", None),
        ("", None),
        ("x" * 254, None),
        (".".join(["a" * 63] * 3), (".".join(["a" * 63] * 3), None)),
        ("a" * 64 + ".com", None),
        ("b\xfccher.de", None),
    ],
)
def test_parse_host(host, parsed):
    assert parse_host(host) == parsed
