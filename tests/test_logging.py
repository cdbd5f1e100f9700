"""erlen.logging: log_safe (client text in log lines)."""

from __future__ import annotations

import pytest

from erlen.logging import log_safe


@pytest.mark.parametrize(
    ("text", "logged"),
    [
        ("/plain/path?a=1", "/plain/path?a=1"),
        ("/caf\u00e9 und so", "/caf\u00e9 und so"),  # printable non-ASCII stays readable
        ("/x\r\n127.0.0.1 forged", "/x\\x0d\\x0a127.0.0.1 forged"),
        ("/\x1b[31mred\x1b[0m", "/\\x1b[31mred\\x1b[0m"),
        ("/\x00\x7f\x85", "/\\x00\\x7f\\x85"),  # NUL, DEL, NEL (a C1 line break)
        ("/a\u2028b\u202e", "/a\\u2028b\\u202e"),  # line separator, bidi override
        ('/"quoted" \\x1b', '/\\"quoted\\" \\\\x1b'),  # no way to fake an escape
    ],
)
def test_log_safe(text: str, logged: str) -> None:
    assert log_safe(text) == logged
    assert log_safe(text).isprintable()
