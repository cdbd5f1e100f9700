"""pytest plugin for scripts/extension_suite.py: a Flask extension's own tests against erlen.

Loaded with ``-p extension_suite_shim`` (this folder on PYTHONPATH). Before any test module is
imported it puts an import finder first on ``sys.meta_path`` that answers the extension's and
Flask's module names with erlen's modules (``ERLEN_SUITE_ALIASES``, JSON: ``{"flask": "erlen",
"flask_sqlalchemy": "erlen.db", ...}``): ``flask_sqlalchemy.model`` is ``erlen.db.model`` when
that module exists, else its deepest existing parent (here ``erlen.db``: a battery re-exports
its public names at the top; where the extension's tests reach into a private submodule, the
test fails with a missing name rather than silently using the real extension). Real Flask and
the real extension are never imported in this process: a name that cannot be aliased raises
ImportError.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import json
import os
import sys
import types
from typing import Any

_ALIASES: dict[str, str] = json.loads(os.environ.get("ERLEN_SUITE_ALIASES", "{}"))


def _target(name: str) -> str | None:
    """erlen's module for ``name``, or None when ``name`` is not aliased."""
    for prefix in sorted(_ALIASES, key=len, reverse=True):
        if name == prefix or name.startswith(prefix + "."):
            base = _ALIASES[prefix]
            rest = name[len(prefix) :]
            if not rest:
                return base
            # the deepest of erlen's modules that exists: ``flask_wtf.recaptcha.validators``
            # is ``erlen.forms.recaptcha`` when erlen has no ``validators`` below it
            parts = rest.split(".")[1:]
            while parts:
                candidate = ".".join([base, *parts])
                try:
                    importlib.import_module(candidate)
                except ImportError:
                    # a module the parent imported (``flask_restful.sys``, which tests patch
                    # as ``flask_restful.sys.exc_info``) is that module
                    parent = sys.modules.get(".".join([base, *parts[:-1]]))
                    attr = getattr(parent, parts[-1], None)
                    if isinstance(attr, types.ModuleType):
                        return attr.__name__
                    parts.pop()
                else:
                    return candidate
            return base
    return None


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = importlib.import_module(self.target)
        self.own_spec = module.__spec__
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        # importlib set the alias spec on erlen's module in between: give it its own back
        # (importlib.resources and Jinja's PackageLoader read it)
        module.__spec__ = self.own_spec


class _AboutLoader(importlib.abc.Loader):
    """``<extension>.__about__``: package metadata, which a battery has no reason to copy;
    erlen's own values, so the metadata test fails alone instead of the whole test file."""

    def exec_module(self, module: types.ModuleType) -> None:
        from importlib.metadata import version

        for name in ("title", "description", "url", "author", "author_email", "maintainer"):
            setattr(module, f"__{name}__", "erlen")
        module.__license__ = "BSD-3-Clause"
        module.__copyright__ = "erlen"
        module.__version__ = version("erlen")
        module.__version_info__ = tuple(module.__version__.split("."))


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname.endswith(".__about__") and _target(fullname) is not None:
            return importlib.machinery.ModuleSpec(fullname, _AboutLoader())
        erlen_name = _target(fullname)
        if erlen_name is None:
            return None
        spec = importlib.machinery.ModuleSpec(fullname, _AliasLoader(erlen_name))
        module = importlib.import_module(erlen_name)
        if hasattr(module, "__path__"):
            spec.submodule_search_locations = []
        return spec


def _legacy_test_modules() -> None:
    """Flask-RESTful's tests import ``nose`` (``SkipTest``, ``nose.tools.assert_*``) and
    ``mock``: nose has no release that imports on Python 3.11, and ``mock`` is the stdlib's
    ``unittest.mock`` now. Stand-ins when they are missing, for the real run and erlen's."""
    import importlib.util
    import unittest
    import unittest.mock

    try:
        import nose  # noqa: F401
    except ImportError:
        case = unittest.TestCase()
        nose_mod = types.ModuleType("nose")
        nose_mod.SkipTest = unittest.SkipTest  # type: ignore[attr-defined]
        tools = types.ModuleType("nose.tools")
        for name in ("equal", "equals", "true", "false", "raises", "in", "is_none", "is_not_none"):
            camel = "assert" + "".join(part.capitalize() for part in name.split("_"))
            camel = {"assertEquals": "assertEqual", "assertIn": "assertIn"}.get(camel, camel)
            setattr(tools, "assert_" + name, getattr(case, camel))
        nose_mod.tools = tools  # type: ignore[attr-defined]
        sys.modules["nose"] = nose_mod
        sys.modules["nose.tools"] = tools
    if importlib.util.find_spec("mock") is None:
        sys.modules["mock"] = unittest.mock


def install() -> None:
    """Answer the aliased names with erlen's modules from now on (also used by the `flask`
    script the runner puts on PATH for tests that run the CLI in a subprocess)."""
    for name in list(sys.modules):
        if _target(name) is not None and not sys.modules[name].__name__.startswith("erlen"):
            raise RuntimeError(f"{name} was imported before the shim: the run would test it")
    sys.meta_path.insert(0, _AliasFinder())


def pytest_pycollect_makeitem(collector: Any, name: str, obj: Any) -> Any:
    """A nose-style ``yield`` test function (``yield check, *args``; pytest 8 refuses the
    whole file) as one test that runs each yielded check."""
    import inspect

    import pytest

    if not (
        isinstance(obj, types.FunctionType)
        and inspect.isgeneratorfunction(obj)
        and collector.funcnamefilter(name)
        and isinstance(collector, pytest.Module)
        and not inspect.signature(obj).parameters
    ):
        return None

    def run_checks() -> None:
        for check, *args in obj():
            check(*args)

    return pytest.Function.from_parent(collector, name=name, callobj=run_checks)


def _signals_available() -> None:
    """``flask.signals.signals_available`` (Flask < 2.3: "blinker is installed"), which
    Flask-RESTful's tests import: True on the real Flask and on erlen alike."""
    module = importlib.import_module("flask.signals")
    if not hasattr(module, "signals_available"):
        module.signals_available = True  # type: ignore[attr-defined]


def pytest_load_initial_conftests(early_config: Any, parser: Any, args: Any) -> None:
    _legacy_test_modules()
    install()
    if os.environ.get("ERLEN_SUITE_LEGACY_FLASK"):
        _signals_available()
