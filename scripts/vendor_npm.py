"""Vendor front-end assets from the npm registry at build time, to be served locally.

The one way erlen takes JavaScript/CSS from npm: no node, no CDN at run time. Each entry of
``scripts/vendor_npm.toml`` names a package, an exact version, the registry's
``dist.integrity`` (sha512, checked against the downloaded tarball before anything is
written), the files to take from the tarball and a destination directory (git-ignored).
``make install`` runs this; a second run does nothing when the files are already there
(a ``.vendor-npm.json`` stamp in each destination records what was extracted, with sha256s).

    python scripts/vendor_npm.py                 # every entry of the manifest
    python scripts/vendor_npm.py --only chart.js # one entry
    python scripts/vendor_npm.py --entry chart.js@4.4.1 --files dist/chart.umd.js \\
        --dest examples/charts/static/vendor     # print a manifest line (asks the registry)
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import io
import json
import os
import re
import sys
import tarfile
import tempfile
import time
import tomllib
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

REGISTRY = "https://registry.npmjs.org"
ROOT = Path(__file__).resolve().parent.parent
MANIFEST = Path(__file__).resolve().with_suffix(".toml")
STAMP = ".vendor-npm.json"

_NAME = re.compile(r"^(@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*$")
_VERSION = re.compile(r"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")  # exact: no ranges, no tags

Fetch = Callable[[str], bytes]


class VendorError(Exception):
    """A manifest entry that cannot be vendored (bad entry, integrity mismatch, missing file)."""


@dataclass(frozen=True)
class Entry:
    name: str
    version: str
    integrity: str
    files: tuple[str, ...]
    dest: str

    @property
    def tarball_url(self) -> str:
        base = self.name.rsplit("/", 1)[-1]
        return f"{REGISTRY}/{self.name}/-/{base}-{self.version}.tgz"

    def check(self) -> None:
        """Refuse entries that could float (ranges) or write outside their destination."""
        if not _NAME.match(self.name):
            raise VendorError(f"{self.name!r}: not an npm package name")
        if not _VERSION.match(self.version):
            raise VendorError(f"{self.name}: version {self.version!r} is not exact")
        if not self.integrity.startswith("sha512-"):
            raise VendorError(f"{self.name}: integrity must be the registry's sha512-... value")
        if not self.files:
            raise VendorError(f"{self.name}: no files listed")
        names = [PurePosixPath(f).name for f in self.files]
        if len(set(names)) != len(names):
            raise VendorError(f"{self.name}: two files share a name in {self.dest}")
        for path in (*self.files, self.dest):
            p = PurePosixPath(path)
            if p.is_absolute() or ".." in p.parts or not p.parts:
                raise VendorError(f"{self.name}: {path!r} must be a relative path without '..'")


def load_manifest(path: Path = MANIFEST) -> list[Entry]:
    with open(path, "rb") as f:
        data = tomllib.load(f)
    entries = []
    for raw in data.get("packages", []):
        try:
            entry = Entry(
                name=raw["name"],
                version=raw["version"],
                integrity=raw["integrity"],
                files=tuple(raw["files"]),
                dest=raw["dest"],
            )
        except KeyError as e:
            raise VendorError(f"{path}: entry {raw!r} lacks {e.args[0]!r}") from None
        entry.check()
        entries.append(entry)
    return entries


def fetch_url(url: str, attempts: int = 3) -> bytes:
    """GET ``url`` (the registry), retrying transient network errors."""
    for attempt in range(attempts):
        try:
            req = urllib.request.Request(url, headers={"User-Agent": "erlen-vendor-npm"})
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.read()
        except OSError:
            if attempt == attempts - 1:
                raise
            time.sleep(1 + attempt)
    raise AssertionError("unreachable")


def check_integrity(data: bytes, integrity: str) -> None:
    """Raise unless ``data`` has the Subresource-Integrity-style sha512 ``integrity``."""
    algo, _, expected = integrity.partition("-")
    if algo != "sha512":
        raise VendorError(f"unsupported integrity algorithm {algo!r}")
    actual = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if not hmac.compare_digest(actual, expected):
        raise VendorError(f"integrity mismatch: expected sha512-{expected}, got sha512-{actual}")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_stamp(dest: Path) -> dict:
    try:
        return json.loads((dest / STAMP).read_text())
    except (OSError, ValueError):
        return {}


def is_current(entry: Entry, root: Path = ROOT) -> bool:
    """True when the stamp records this exact entry and every file is there, unchanged."""
    dest = root / entry.dest
    rec = _read_stamp(dest).get(entry.name)
    if not rec or rec.get("version") != entry.version or rec.get("integrity") != entry.integrity:
        return False
    files = rec.get("files", {})
    for f in entry.files:
        name = PurePosixPath(f).name
        target = dest / name
        if name not in files or not target.is_file() or _sha256(target) != files[name]:
            return False
    return True


def _members(data: bytes, entry: Entry) -> dict[str, bytes]:
    """The requested files' bytes; npm tarballs put the package under one top directory
    (usually ``package/``)."""
    wanted = {PurePosixPath(f).as_posix(): f for f in entry.files}
    found: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar:
            parts = PurePosixPath(member.name).parts
            inner = PurePosixPath(*parts[1:]).as_posix() if len(parts) > 1 else ""
            if inner in wanted and member.isfile() and inner not in found:
                fobj = tar.extractfile(member)
                assert fobj is not None
                found[inner] = fobj.read()
    missing = sorted(set(wanted) - set(found))
    if missing:
        raise VendorError(f"{entry.name}@{entry.version}: not in the tarball: {missing}")
    return found


def vendor(entry: Entry, root: Path = ROOT, fetch: Fetch = fetch_url) -> bool:
    """Download, verify and extract one entry; False (no work) when already current."""
    entry.check()
    if is_current(entry, root):
        return False
    data = fetch(entry.tarball_url)
    check_integrity(data, entry.integrity)  # before anything is written
    contents = _members(data, entry)
    dest = root / entry.dest
    dest.mkdir(parents=True, exist_ok=True)
    stamp = _read_stamp(dest)
    old = set(stamp.get(entry.name, {}).get("files", {}))
    hashes = {}
    for inner, body in contents.items():
        name = PurePosixPath(inner).name
        fd, tmp = tempfile.mkstemp(dir=dest, prefix=f".{name}.")
        with os.fdopen(fd, "wb") as f:
            f.write(body)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest / name)
        hashes[name] = hashlib.sha256(body).hexdigest()
    for stale in old - set(hashes):  # files an older version of the entry took
        (dest / stale).unlink(missing_ok=True)
    stamp[entry.name] = {"version": entry.version, "integrity": entry.integrity, "files": hashes}
    (dest / STAMP).write_text(json.dumps(stamp, indent=2, sort_keys=True) + "\n")
    return True


def manifest_line(spec: str, files: Sequence[str], dest: str, fetch: Fetch = fetch_url) -> str:
    """A manifest line for ``name@version`` with ``dist.integrity`` from the registry."""
    name, sep, version = spec.rpartition("@")
    if not sep or not name:
        raise VendorError(f"{spec!r}: expected NAME@VERSION")
    meta = json.loads(fetch(f"{REGISTRY}/{name}/{version}"))
    entry = Entry(name, meta["version"], meta["dist"]["integrity"], tuple(files), dest)
    entry.check()

    def q(s: str) -> str:
        return json.dumps(s)

    return (
        f"  {{ name = {q(entry.name)}, version = {q(entry.version)}, integrity = "
        f"{q(entry.integrity)}, files = [{', '.join(map(q, entry.files))}], dest = {q(dest)} }},"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", type=Path, default=MANIFEST)
    parser.add_argument("--root", type=Path, default=ROOT, help="destinations are relative to it")
    parser.add_argument("--only", action="append", help="vendor only this package (repeatable)")
    parser.add_argument("--quiet", "-q", action="store_true")
    parser.add_argument("--entry", metavar="NAME@VERSION", help="print a manifest line")
    parser.add_argument("--files", nargs="+", default=[])
    parser.add_argument("--dest", default="")
    args = parser.parse_args(argv)
    try:
        if args.entry:
            print(manifest_line(args.entry, args.files, args.dest, fetch=fetch_url))
            return 0
        for entry in load_manifest(args.manifest):
            if args.only and entry.name not in args.only:
                continue
            did = vendor(entry, args.root, fetch=fetch_url)
            if not args.quiet or did:
                state = "vendored" if did else "up to date"
                print(f"vendor_npm: {entry.name}@{entry.version} -> {entry.dest} ({state})")
    except (VendorError, OSError) as e:
        print(f"vendor_npm: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
