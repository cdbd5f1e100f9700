"""Peer registry: each peer is a factory ``make_app(kind) -> WSGI app``.

Peers are imported lazily so a missing framework (erlen while its core is being written)
is reported as n/a instead of breaking the whole run.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

#: Peers in report order; erlen first, the bare WSGI floor last.
PEERS: tuple[str, ...] = ("erlen", "flask", "bottle", "falcon", "bare")

AppFactory = Callable[[str], Any]

#: Names a Flask-like module must export for the shared app source to work.
_FLASK_API = ("request", "session", "jsonify", "render_template")


def _flask_like(module_name: str) -> AppFactory:
    mod = importlib.import_module(module_name)
    missing = [n for n in _FLASK_API if not hasattr(mod, n)]
    if not (hasattr(mod, "Erlen") or hasattr(mod, "Flask")):
        missing.insert(0, "Erlen/Flask")
    if missing:
        raise ImportError(f"{module_name} lacks {', '.join(missing)}")
    from bench.apps.flasklike import make_flask_like_app

    def factory(kind: str = "main") -> Any:
        return make_flask_like_app(mod, kind)

    return factory


def load_peer(name: str) -> AppFactory:
    """The app factory for peer ``name``; ImportError when the framework is unavailable."""
    if name in ("erlen", "flask"):
        return _flask_like(name)
    if name in ("bottle", "falcon", "bare"):
        module = importlib.import_module(f"bench.apps.{name}_app")
        return module.make_app  # type: ignore[no-any-return]
    raise KeyError(f"unknown peer {name!r}")


def available_peers(names: tuple[str, ...] = PEERS) -> tuple[dict[str, AppFactory], dict[str, str]]:
    """Load ``names``: (factories of the available peers, reason for each unavailable one)."""
    ok: dict[str, AppFactory] = {}
    missing: dict[str, str] = {}
    for name in names:
        try:
            ok[name] = load_peer(name)
        except Exception as exc:  # ImportError, or an erlen half-written and crashing on import
            missing[name] = f"{type(exc).__name__}: {exc}"
    return ok, missing
