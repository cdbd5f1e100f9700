"""The reloader's pieces in process (the real restart is covered in test_serving.py)."""

from __future__ import annotations

import os
import sys

from watchfiles import Change

from erlen.serving.reloader import (
    RELOADER_ENV,
    _child_args,
    _ReloadFilter,
    _watch_paths,
    is_running_from_reloader,
)


def test_filter_accepts_code_templates_and_extra_files(tmp_path):
    extra = tmp_path / "settings.toml"
    f = _ReloadFilter([str(extra)], ["*/generated_*.py"])
    sep = os.sep
    assert f(Change.modified, str(tmp_path / "app.py"))
    assert f(Change.added, str(tmp_path / "templates" / "page.html"))
    assert f(Change.modified, str(tmp_path / "pkg" / "templates" / "mail.txt"))
    assert f(Change.modified, str(extra))  # --extra-files
    assert not f(Change.modified, str(tmp_path / "notes.txt"))  # not a template folder
    assert not f(Change.modified, str(tmp_path / "data.db"))
    assert not f(Change.modified, str(tmp_path / "generated_models.py"))  # --exclude-patterns
    assert not f(Change.modified, f"{tmp_path}{sep}__pycache__{sep}app.cpython-311.pyc")
    assert not f(Change.modified, f"{tmp_path}{sep}.git{sep}hooks{sep}x.py")


def test_watch_paths_cover_cwd_and_extra_folders(tmp_path, monkeypatch):
    outside = tmp_path / "conf"
    outside.mkdir()
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    monkeypatch.chdir(work)
    paths = _watch_paths([str(outside / "app.cfg"), str(work / "sub" / "x.py")])
    assert paths == [str(work), str(outside)] or paths == [str(outside), str(work)]


def test_child_args_rerun_the_same_program(monkeypatch, tmp_path):
    script = tmp_path / "app.py"
    script.write_text("")
    monkeypatch.setattr(sys, "argv", [str(script), "--flag"])
    main = type(sys)("__main__")
    main.__spec__ = None
    monkeypatch.setitem(sys.modules, "__main__", main)
    args = _child_args()
    assert args[0] == sys.executable and args[-2:] == [str(script), "--flag"]

    class Spec:
        name = "erlen.__main__"

    main.__spec__ = Spec()
    monkeypatch.setattr(sys, "argv", ["whatever", "run", "--debug"])
    assert _child_args()[-4:] == ["-m", "erlen", "run", "--debug"]  # python -m erlen


def test_is_running_from_reloader(monkeypatch):
    monkeypatch.delenv(RELOADER_ENV, raising=False)
    assert not is_running_from_reloader()
    monkeypatch.setenv(RELOADER_ENV, "true")
    assert is_running_from_reloader()
