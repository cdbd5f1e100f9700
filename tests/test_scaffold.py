"""erlen.scaffold: where an app's instance folder goes (Flask's find_package rules, with Flask
as the oracle)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from flask.sansio.scaffold import find_package as flask_find_package

import erlen
from erlen.scaffold import find_instance_path, find_package

APP = "import erlen\napp = erlen.Erlen(__name__)\n"


@pytest.fixture
def modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A folder on sys.path; modules imported from it are forgotten afterwards."""
    root = tmp_path / "modules"
    root.mkdir()
    monkeypatch.syspath_prepend(os.fspath(root))
    before = set(sys.modules)
    yield root
    for name in set(sys.modules) - before:
        del sys.modules[name]


def _site_packages(base: Path, monkeypatch: pytest.MonkeyPatch, *parts: str) -> Path:
    site = base.joinpath(*parts)
    site.mkdir(parents=True)
    monkeypatch.syspath_prepend(os.fspath(site))
    return site


def _check(import_name: str, prefix: Path | None, folder: Path) -> None:
    want = (os.fspath(prefix) if prefix is not None else None, os.fspath(folder))
    assert find_package(import_name) == want
    assert flask_find_package(import_name) == want  # the oracle agrees


def test_uninstalled_module_and_package(modules: Path) -> None:
    (modules / "plain_mod.py").write_text(APP)
    (modules / "plain_pkg").mkdir()
    (modules / "plain_pkg" / "__init__.py").write_text(APP)
    (modules / "plain_pkg" / "views.py").write_text(APP)
    _check("plain_mod", None, modules)
    _check("plain_pkg", None, modules)
    _check("plain_pkg.views", None, modules)  # the top-level package decides
    from plain_pkg.views import app

    assert app.instance_path == os.fspath(modules / "instance")


def test_namespace_package_picks_the_folder_holding_the_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, modules: Path
) -> None:
    projects = []
    for name in ("part1", "part2"):
        project = tmp_path / f"project-{name}"
        (project / "ns_pkg" / name).mkdir(parents=True)
        (project / "ns_pkg" / name / "__init__.py").write_text(APP)
        monkeypatch.syspath_prepend(os.fspath(project))
        projects.append(project)
    _check("ns_pkg.part1", None, projects[0])
    _check("ns_pkg.part2", None, projects[1])
    from ns_pkg.part1 import app

    assert app.instance_path == os.fspath(projects[0] / "instance")


@pytest.mark.parametrize(
    "site_parts",
    [
        ("lib", f"python{sys.version_info[0]}.{sys.version_info[1]}", "site-packages"),
        ("Lib", "site-packages"),
    ],
    ids=["posix", "windows-layout"],
)
def test_installed_in_site_packages_under_the_prefix(
    modules: Path, monkeypatch: pytest.MonkeyPatch, site_parts: tuple[str, ...]
) -> None:
    monkeypatch.setattr(sys, "prefix", os.fspath(modules))
    site = _site_packages(modules, monkeypatch, *site_parts)
    (site / "site_mod.py").write_text(APP)
    (site / "site_pkg").mkdir()
    (site / "site_pkg" / "__init__.py").write_text(APP)
    _check("site_mod", modules, site)
    _check("site_pkg", modules, site)
    import site_pkg

    assert site_pkg.app.instance_path == os.fspath(modules / "var" / "site_pkg-instance")


def test_installed_anywhere_under_the_prefix(
    modules: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "prefix", os.fspath(modules))
    path = _site_packages(modules, monkeypatch, "path")
    (path / "prefixed_pkg").mkdir()
    (path / "prefixed_pkg" / "__init__.py").write_text(APP)
    _check("prefixed_pkg", modules, path)


def test_user_site_packages_outside_the_prefix(
    tmp_path: Path, modules: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """~/.local/lib/pythonX.Y/site-packages: the prefix is ~/.local."""
    home = tmp_path / "home" / ".local"
    site = _site_packages(home, monkeypatch, "lib", "python3.11", "site-packages")
    (site / "user_mod.py").write_text(APP)
    _check("user_mod", home, site)
    assert find_instance_path("user_mod", "user_mod") == os.fspath(home / "var/user_mod-instance")
    other = _site_packages(tmp_path, monkeypatch, "odd", "site-packages")
    (other / "odd_mod.py").write_text(APP)
    _check("odd_mod", tmp_path / "odd", other)


def test_a_sibling_of_the_prefix_is_not_installed(
    tmp_path: Path, modules: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Folders are compared, not strings: ``/opt/py2`` is not under the prefix ``/opt/py``."""
    monkeypatch.setattr(sys, "prefix", os.fspath(tmp_path / "py"))
    folder = _site_packages(tmp_path, monkeypatch, "py2")
    (folder / "sibling_mod.py").write_text(APP)
    _check("sibling_mod", None, folder)


def test_unknown_names_use_the_working_folder(modules: Path) -> None:
    _check("no_such_module_xyz", None, Path.cwd())
    assert erlen.Erlen("no_such_module_xyz").instance_path == os.fspath(Path.cwd() / "instance")


def test_script_run_as_main_uses_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``python app.py`` has no __main__ spec; erlen uses the script's folder (Flask: the
    working folder, which differs when the script is started from elsewhere)."""
    import types

    script = tmp_path / "scripts" / "app.py"
    main = types.ModuleType("__main__")
    main.__file__ = os.fspath(script)
    main.__spec__ = None
    monkeypatch.setitem(sys.modules, "__main__", main)
    assert find_package("__main__") == (None, os.fspath(script.parent))
