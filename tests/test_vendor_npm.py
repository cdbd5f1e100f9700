"""scripts/vendor_npm.py: integrity checked before writing, only listed files, idempotent.

A fake tarball stands in for the registry (no network here)."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import json
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("vendor_npm", ROOT / "scripts" / "vendor_npm.py")
assert _spec and _spec.loader
vendor_npm = importlib.util.module_from_spec(_spec)
sys.modules["vendor_npm"] = vendor_npm
_spec.loader.exec_module(vendor_npm)


def make_tarball(files: dict[str, bytes], top: str = "package") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, body in files.items():
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return buf.getvalue()


def sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


TARBALL = make_tarball(
    {
        "dist/lib.min.js": b"console.log('lib');\n",
        "dist/lib.css": b"body{}\n",
        "README.md": b"not wanted\n",
        "package.json": b"{}",
    }
)


class Registry:
    """Serves the fake tarball; counts downloads."""

    def __init__(self, data: bytes = TARBALL) -> None:
        self.data = data
        self.urls: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        return self.data


def entry(**kw):
    fields = dict(
        name="fake-lib",
        version="1.2.3",
        integrity=sri(TARBALL),
        files=("dist/lib.min.js", "dist/lib.css"),
        dest="static/vendor",
    )
    fields.update(kw)
    return vendor_npm.Entry(**fields)


def test_vendor_extracts_only_listed_files(tmp_path):
    reg = Registry()
    assert vendor_npm.vendor(entry(), tmp_path, fetch=reg) is True
    assert reg.urls == ["https://registry.npmjs.org/fake-lib/-/fake-lib-1.2.3.tgz"]
    dest = tmp_path / "static" / "vendor"
    assert sorted(p.name for p in dest.iterdir()) == [".vendor-npm.json", "lib.css", "lib.min.js"]
    assert (dest / "lib.min.js").read_bytes() == b"console.log('lib');\n"
    stamp = json.loads((dest / ".vendor-npm.json").read_text())
    assert stamp["fake-lib"]["version"] == "1.2.3"
    assert stamp["fake-lib"]["files"]["lib.css"] == hashlib.sha256(b"body{}\n").hexdigest()


def test_second_run_does_no_work(tmp_path):
    reg = Registry()
    assert vendor_npm.vendor(entry(), tmp_path, fetch=reg) is True
    mtime = (tmp_path / "static/vendor/lib.css").stat().st_mtime_ns
    assert vendor_npm.vendor(entry(), tmp_path, fetch=reg) is False
    assert len(reg.urls) == 1
    assert (tmp_path / "static/vendor/lib.css").stat().st_mtime_ns == mtime


def test_changed_or_missing_file_is_fetched_again(tmp_path):
    reg = Registry()
    vendor_npm.vendor(entry(), tmp_path, fetch=reg)
    (tmp_path / "static/vendor/lib.css").write_bytes(b"tampered")
    assert vendor_npm.vendor(entry(), tmp_path, fetch=reg) is True
    assert (tmp_path / "static/vendor/lib.css").read_bytes() == b"body{}\n"
    (tmp_path / "static/vendor/lib.min.js").unlink()
    assert vendor_npm.vendor(entry(), tmp_path, fetch=reg) is True
    assert len(reg.urls) == 3


def test_integrity_mismatch_is_refused_before_writing(tmp_path):
    other = make_tarball({"dist/lib.min.js": b"evil()", "dist/lib.css": b""})
    with pytest.raises(vendor_npm.VendorError, match="integrity mismatch"):
        vendor_npm.vendor(entry(), tmp_path, fetch=Registry(other))
    assert not (tmp_path / "static").exists()


def test_integrity_mismatch_keeps_existing_files(tmp_path):
    vendor_npm.vendor(entry(), tmp_path, fetch=Registry())
    bumped = entry(version="1.2.4")  # same pinned integrity, different tarball
    other = make_tarball({"dist/lib.min.js": b"evil()", "dist/lib.css": b""})
    with pytest.raises(vendor_npm.VendorError, match="integrity mismatch"):
        vendor_npm.vendor(bumped, tmp_path, fetch=Registry(other))
    assert (tmp_path / "static/vendor/lib.min.js").read_bytes() == b"console.log('lib');\n"


def test_new_version_replaces_files_and_drops_stale_ones(tmp_path):
    vendor_npm.vendor(entry(), tmp_path, fetch=Registry())
    v2 = make_tarball({"dist/lib.min.js": b"v2", "dist/lib.esm.js": b"esm"})
    e2 = entry(version="2.0.0", integrity=sri(v2), files=("dist/lib.min.js", "dist/lib.esm.js"))
    assert vendor_npm.vendor(e2, tmp_path, fetch=Registry(v2)) is True
    dest = tmp_path / "static/vendor"
    assert sorted(p.name for p in dest.iterdir()) == [
        ".vendor-npm.json",
        "lib.esm.js",
        "lib.min.js",
    ]
    assert (dest / "lib.min.js").read_bytes() == b"v2"


def test_two_packages_share_a_destination(tmp_path):
    other = make_tarball({"other.js": b"other"}, top="node")  # not every tarball says package/
    vendor_npm.vendor(entry(), tmp_path, fetch=Registry())
    e2 = entry(name="@scope/other", version="0.1.0", integrity=sri(other), files=("other.js",))
    reg = Registry(other)
    assert vendor_npm.vendor(e2, tmp_path, fetch=reg) is True
    assert reg.urls == ["https://registry.npmjs.org/@scope/other/-/other-0.1.0.tgz"]
    assert vendor_npm.vendor(entry(), tmp_path, fetch=Registry()) is False
    assert vendor_npm.vendor(e2, tmp_path, fetch=reg) is False


def test_missing_file_in_tarball_is_an_error(tmp_path):
    with pytest.raises(vendor_npm.VendorError, match="not in the tarball"):
        vendor_npm.vendor(entry(files=("dist/nope.js",)), tmp_path, fetch=Registry())


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"version": "^1.2.3"}, "not exact"),
        ({"version": "latest"}, "not exact"),
        ({"integrity": "sha1-abc"}, "sha512"),
        ({"files": ("../../etc/passwd",)}, "without '..'"),
        ({"dest": "/tmp/x"}, "relative path"),
        ({"name": "Bad Name"}, "not an npm package name"),
        ({"files": ("a/x.js", "b/x.js")}, "share a name"),
    ],
)
def test_bad_entries_are_refused(tmp_path, kw, message):
    with pytest.raises(vendor_npm.VendorError, match=message):
        vendor_npm.vendor(entry(**kw), tmp_path, fetch=Registry())


def test_main_reads_a_manifest(tmp_path, monkeypatch, capsys):
    manifest = tmp_path / "m.toml"
    e = entry()
    manifest.write_text(
        "packages = [\n"
        f'  {{ name = "{e.name}", version = "{e.version}", integrity = "{e.integrity}", '
        f'files = ["dist/lib.css"], dest = "out" }},\n]\n'
    )
    reg = Registry()
    monkeypatch.setattr(vendor_npm, "fetch_url", reg)
    args = ["--manifest", str(manifest), "--root", str(tmp_path)]
    assert vendor_npm.main(args) == 0
    assert vendor_npm.main(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "vendor_npm: fake-lib@1.2.3 -> out (vendored)",
        "vendor_npm: fake-lib@1.2.3 -> out (up to date)",
    ]
    assert len(reg.urls) == 1
    manifest.write_text(manifest.read_text().replace(e.integrity, sri(b"x")))
    (tmp_path / "out/lib.css").unlink()
    assert vendor_npm.main(args) == 1
    assert "integrity mismatch" in capsys.readouterr().err


def test_project_manifest_is_valid_and_vendored():
    """make install ran the real manifest: every entry is current in this checkout."""
    entries = vendor_npm.load_manifest()
    assert any(e.name == "swagger-ui-dist" for e in entries)
    for e in entries:
        assert vendor_npm.is_current(e), f"{e.name}: run `make install`"
