"""The repository's own files: what a new user reads and what packaging reads."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_license_is_an_spdx_string() -> None:
    """setuptools deprecates the ``license = {text = ...}`` table (removal 2027-02-18)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "BSD-3-Clause"


def test_docs_name_no_path_of_a_particular_machine() -> None:
    texts = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").rglob("*.md"))]
    found = [
        f"{p.relative_to(ROOT)}: {m.group(0)}"
        for p in texts
        for m in re.finditer(r"(?<![\w.])/(?:work|root|home/\w+)/[\w./-]+", p.read_text())
    ]
    assert found == []


def test_readme_links_the_differences_page_and_it_exists() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "docs/differences-from-flask.md" in readme
    page = (ROOT / "docs" / "differences-from-flask.md").read_text()
    for topic in ("SESSION_COOKIE_SAMESITE", "send_from_directory", "Range", "filename"):
        assert topic in page
