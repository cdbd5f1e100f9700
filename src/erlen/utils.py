"""Untrusted names made safe: paths (:func:`safe_join`, :func:`secure_filename`) and the
``Host`` header (:func:`parse_host`, shared by ``request.host`` and URL building).

Both apply the Windows rules (backslash separator, drive letters, device names such as ``CON``
or ``nul.txt``) on every platform, not only on Windows as Werkzeug does: an app developed on
Linux and deployed on Windows (or files copied there later) must not change behaviour, and a
name that is dangerous anywhere is never needed by a web app.
"""

from __future__ import annotations

import os
import re
import unicodedata

__all__ = ["MAX_HOST_NAME_LENGTH", "parse_host", "safe_join", "secure_filename"]

# Names Windows maps to devices whatever the extension, trailing spaces or ADS marker
# (https://chrisdenton.github.io/omnipath/Special%20Dos%20Device%20Names.html).
_DEVICE_NAMES = frozenset(
    {
        "AUX",
        "CON",
        "CONIN$",
        "CONOUT$",
        "NUL",
        "PRN",
        *(f"COM{c}" for c in "0123456789\u00b9\u00b2\u00b3"),
        *(f"LPT{c}" for c in "0123456789\u00b9\u00b2\u00b3"),
    }
)
# A cheap first filter: only segments starting like a device name get the full check.
_DEVICE_PREFIXES = frozenset({"AUX", "CON", "NUL", "PRN", "COM", "LPT"})
_IS_WINDOWS = os.name == "nt"
_FILENAME_STRIP_RE = re.compile(r"[^A-Za-z0-9_.-]")


def _is_device_name(name: str) -> bool:
    """True for ``CON``, ``nul.txt``, ``Com1 .log``, ``AUX:stream`` and the like."""
    if name[:3].upper() not in _DEVICE_PREFIXES:
        return False
    stem = name.partition(":")[0].partition(".")[0].strip().upper()
    return stem in _DEVICE_NAMES


def _unsafe_segment(seg: str) -> bool:
    """Whether one ``/``-separated, non-empty segment other than ``.`` is unsafe."""
    last = seg[-1]
    if (last == "." or last == " ") and not seg.rstrip(". "):
        # "..", "...", ".. " (Windows strips trailing dots and spaces: ".. " is "..")
        return True
    if len(seg) > 1 and seg[1] == ":":
        return True  # drive letter: "C:", "c:foo"
    if _IS_WINDOWS and ":" in seg:
        return True  # NTFS alternate data stream
    head = seg[0]
    if head == " ":
        seg = seg.lstrip(" ")
        if not seg:
            return True
        head = seg[0]
    return head in "ACLNPacnlp" and _is_device_name(seg)


def safe_join(directory: str, *untrusted: str) -> str | None:
    """Join untrusted, URL-style path pieces to a trusted directory; None if unsafe.

    Refused (None): ``..`` segments anywhere (even ones that would stay inside), absolute
    paths, backslashes, NUL bytes, drive letters, Windows device names in any segment. Empty
    and ``.`` segments are dropped (``a//./b`` is ``a/b``). Does not touch the filesystem:
    whether the result exists, or is a symlink, is the caller's business.
    """
    if not directory:
        directory = "."  # so the first untrusted piece can never become the root
    segs: list[str] = []
    for piece in untrusted:
        if not piece:
            continue
        if "\\" in piece or "\x00" in piece or piece[0] == "/":
            return None
        for seg in piece.split("/"):
            if not seg or seg == ".":
                continue
            if _unsafe_segment(seg):
                return None
            segs.append(seg)
    if not segs:
        return directory
    if directory[-1] == "/" or directory[-1] == os.sep:
        return directory + "/".join(segs)
    return directory + "/" + "/".join(segs)


def secure_filename(filename: str) -> str:
    """A version of an uploaded file's name that is safe to store on any filesystem.

    ASCII only (accents decomposed, other characters dropped), whitespace and path
    separators (``/`` and ``\\``) become ``_``, only ``A-Za-z0-9_.-`` kept, leading and
    trailing ``._`` stripped, Windows device names prefixed with ``_``. May return ``""``:
    callers must then pick a name themselves.
    """
    filename = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    filename = filename.replace("/", " ").replace("\\", " ")
    filename = _FILENAME_STRIP_RE.sub("", "_".join(filename.split())).strip("._")
    if filename and filename.partition(".")[0].strip().upper() in _DEVICE_NAMES:
        filename = "_" + filename
    return filename


# host[:port] as Werkzeug 3.1 accepts it: a name or IPv4 address, or a bracketed IPv6 one
_HOST_RE = re.compile(
    r"([a-z0-9.-]+|\[[a-f0-9]*:[a-f0-9.:]+\])(?::([1-9][0-9]{0,4}))?",
    re.ASCII | re.IGNORECASE,
)
#: The longest host name accepted (DNS: 253 characters in labels of at most 63).
MAX_HOST_NAME_LENGTH = 253


def parse_host(host: str) -> tuple[str, str | None] | None:
    """``(name, port)`` of a ``host[:port]`` value, or None when it is no valid host.

    Valid: letters, digits, ``-`` and ``.`` (or a bracketed IPv6 address), DNS lengths, an
    optional port 1-65535. Anything else (userinfo ``@``, spaces, slashes, a bad port) must
    never be copied into a URL: ``Location: http://a@evil.com/`` would send the browser away.
    """
    m = _HOST_RE.fullmatch(host)
    if m is None:
        return None
    name, port = m.groups()
    if port and int(port) > 65535:
        return None
    if name[0] != "[" and (
        len(name) > MAX_HOST_NAME_LENGTH or max(map(len, name.split("."))) > 63
    ):
        return None
    return name, port
