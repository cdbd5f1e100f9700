"""Run a Flask extension's own test suite against erlen's battery that replaces it.

The extension's sdist (PyPI) ships its tests; they are extracted into a temp dir (deleted
afterwards, never stored in this repository) and run with an import shim
(``extension_suite_shim.py``) that answers ``flask`` with ``erlen`` and the extension's
module with the battery's, so the tests exercise erlen with only their imports renamed —
the promise erlen makes to ported apps. Not part of ``make test``: it measures how much of
the extension's tested behaviour erlen reproduces (a compatibility number, like
``make flask-suite``), and the failures are a work list.

    .venv/bin/python scripts/extension_suite.py flask-sqlalchemy   [pytest args...]
    .venv/bin/python scripts/extension_suite.py --list
    .venv/bin/python scripts/extension_suite.py --all --baseline   # real Flask + extensions
    make extension-suites            # all of them: what erlen passes of what the real one passes
    ERLEN_SUITE_SHOW=20 ... flask-login   # also list up to 20 tests erlen fails
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".venv" / "extension-suite-cache"

_WERKZEUG = {"werkzeug.exceptions": "erlen.exceptions"}

#: extension → (pinned version on PyPI, its modules → erlen's). Versions are the ones whose
#: API the batteries mirror (the issues name them).
SUITES: dict[str, tuple[str, dict[str, str]]] = {
    "flask-sqlalchemy": ("3.1.1", {"flask_sqlalchemy": "erlen.db"}),
    "flask-migrate": ("4.1.0", {"flask_migrate": "erlen.db", "flask_sqlalchemy": "erlen.db"}),
    "flask-login": ("0.6.3", {"flask_login": "erlen.login"}),
    "flask-wtf": ("1.3.0", {"flask_wtf": "erlen.forms"}),
    "flask-jwt-extended": ("4.7.4", {"flask_jwt_extended": "erlen.jwt"}),
    "flask-restful": ("0.3.10", {"flask_restful": "erlen.rest"}),
}

#: Suites whose tests import names Flask 3 removed (``flask.signals.signals_available``):
#: the shim adds them, on the real Flask and on erlen alike.
LEGACY_FLASK = {"flask-restful"}

#: Extra pytest arguments per suite. Flask-RESTful's tests include nose-style ``yield``
#: tests, which schemathesis' collection hook turns into a collection error of the file.
PYTEST_ARGS: dict[str, list[str]] = {"flask-restful": ["-p", "no:schemathesis"]}


def _sdist(name: str, version: str, downloaded: bool = False) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    project = "[-_]".join(re.escape(part) for part in name.split("-"))
    stem = re.compile(rf"^{project}-{re.escape(version)}\.tar\.gz$", re.I)
    for path in CACHE.iterdir():
        if stem.match(path.name):
            return path
    if downloaded:
        raise FileNotFoundError(f"pip downloaded no sdist of {name}=={version} into {CACHE}")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--no-binary",
            ":all:",
            "-d",
            str(CACHE),
            f"{name}=={version}",
        ],
        check=True,
    )
    return _sdist(name, version, downloaded=True)


def _extract_tests(sdist: Path, into: Path) -> Path:
    with tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers() if "/tests/" in m.name and m.isfile()]
        tar.extractall(into, members=members, filter="data")
    (top,) = {m.name.split("/", 1)[0] for m in members}
    return into / top


def run(name: str, extra: list[str], baseline: bool = False) -> dict[str, str]:
    """Counts of the suite's outcomes; ``baseline`` runs it on real Flask and the extension."""
    version, aliases = SUITES[name]
    with tempfile.TemporaryDirectory(prefix="erlen-ext-suite-") as tmp:
        project = _extract_tests(_sdist(name, version), Path(tmp))
        report = Path(tmp) / "report.json"
        # Tests that run `flask ...` in a subprocess (Flask-Migrate's) get this run's framework
        bin_dir = Path(tmp) / "bin"
        bin_dir.mkdir()
        flask = bin_dir / "flask"
        flask.write_text(
            f"#!{sys.executable}\n"
            + (
                "from flask.cli import main\n"
                if baseline
                else "import extension_suite_shim\nextension_suite_shim.install()\n"
                "from erlen.cli import main\n"
            )
            + "main()\n"
        )
        flask.chmod(0o755)
        env = {
            **os.environ,
            "PATH": os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")]),
            "ERLEN_SUITE_ALIASES": "{}"
            if baseline
            else json.dumps({"flask": "erlen", **_WERKZEUG, **aliases}),
            "PYTHONPATH": os.pathsep.join([str(ROOT / "scripts"), str(project)]),
        }
        if name in LEGACY_FLASK:
            env["ERLEN_SUITE_LEGACY_FLASK"] = "1"
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "extension_suite_shim",
            "-q",
            "-rfE",
            "--tb=line",
            "-o",
            "addopts=",
            "-o",
            "filterwarnings=",
            "-p",
            "no:cacheprovider",
            "--continue-on-collection-errors",
            "--rootdir",
            str(project),
            "--junit-xml",
            str(report.with_suffix(".xml")),
            *PYTEST_ARGS.get(name, []),
            "tests",
            *extra,
        ]
        done = subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True)
        if os.environ.get("ERLEN_SUITE_VERBOSE"):
            sys.stderr.write(done.stdout[-20000:] + done.stderr[-4000:])
        outcomes = _outcomes(report.with_suffix(".xml"))
        if not outcomes:
            sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        return outcomes


def _outcomes(xml: Path) -> dict[str, str]:
    """Test id → passed/failed/error/skipped from pytest's JUnit XML."""
    import xml.etree.ElementTree as ET

    if not xml.exists():
        return {}
    out: dict[str, str] = {}
    for case in ET.parse(xml).getroot().iter("testcase"):
        key = f"{case.get('classname')}::{case.get('name')}"
        kinds = {child.tag for child in case}
        out[key] = (
            "failed"
            if "failure" in kinds
            else "error"
            if "error" in kinds
            else "skipped"
            if "skipped" in kinds
            else "passed"
        )
    return out


def _count(outcomes: dict[str, str], kind: str) -> int:
    return sum(1 for v in outcomes.values() if v == kind)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    baseline = "--baseline" in argv
    argv = [a for a in argv if a != "--baseline"]
    names = list(SUITES) if argv[0] in ("--all", "--list") else [argv[0]]
    if argv[0] == "--list":
        for name, (version, aliases) in SUITES.items():
            print(f"{name}=={version}: " + ", ".join(f"{k} → {v}" for k, v in aliases.items()))
        return 0
    lines = []
    for name in names:
        real = run(name, argv[1:], baseline=True)
        if baseline:
            lines.append(
                f"{name:20} real: {_count(real, 'passed'):4} passed of {len(real):4} "
                f"({_count(real, 'failed') + _count(real, 'error')} fail on this machine)"
            )
            continue
        ours = run(name, argv[1:])
        judged = [t for t, v in real.items() if v == "passed"]
        ok = [t for t in judged if ours.get(t) == "passed"]
        lines.append(
            f"{name:20} erlen passes {len(ok):4} of the {len(judged):4} tests the real "
            f"extension passes here ({100 * len(ok) / max(len(judged), 1):5.1f} %)"
        )
        for test in sorted(set(judged) - set(ok))[: int(os.environ.get("ERLEN_SUITE_SHOW", "0"))]:
            lines.append(f"    {ours.get(test, 'not collected'):13} {test}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
