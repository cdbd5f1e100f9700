"""Restart the development server when code or templates change.

A watcher process (the one the user started) keeps the listening socket and runs the server
in a child process (same command line, ``ERLEN_RUN_MAIN=true``, the socket passed by file
descriptor). On a change it stops the child and starts a new one; the socket stays open, so
requests made during a restart wait in the backlog instead of failing. If the child dies
(a syntax error at import, say) the watcher stays alive and restarts it on the next change.
File events come from watchfiles (OS notifications, Rust core); no polling of mtimes.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import typing as t
from collections.abc import Iterable

__all__ = ["RELOADER_ENV", "SERVER_FD_ENV", "is_running_from_reloader", "run_with_reloader"]

RELOADER_ENV = "ERLEN_RUN_MAIN"
SERVER_FD_ENV = "ERLEN_SERVER_FD"
CODE_SUFFIXES = (".py", ".pyw")
TEMPLATE_SUFFIXES = (".html", ".htm", ".jinja", ".jinja2", ".j2", ".xml", ".txt", ".svg")

_TEMPLATES_DIR = f"{os.sep}templates{os.sep}"

_log = logging.getLogger("erlen.reloader")


def is_running_from_reloader() -> bool:
    """True in the server process that a reloader started."""
    return os.environ.get(RELOADER_ENV) == "true"


def _child_args() -> list[str]:
    """The command line that runs this program again (script, ``-m module`` or entry point)."""
    args = [sys.executable, *(f"-W{o}" for o in sys.warnoptions)]
    for key, value in getattr(sys, "_xoptions", {}).items():
        args.append(f"-X{key}" if value is True else f"-X{key}={value}")
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name not in ("__main__", "__mp_main__"):
        name = spec.name.removesuffix(".__main__")
        return [*args, "-m", name, *sys.argv[1:]]
    script = sys.argv[0]
    if not os.path.exists(script) and os.path.exists(script + ".exe"):  # Windows entry point
        return [script + ".exe", *sys.argv[1:]]
    if os.name == "nt" and script.endswith(".exe"):
        return [script, *sys.argv[1:]]
    return [*args, os.path.abspath(script), *sys.argv[1:]]


def _watch_paths(extra_files: Iterable[str]) -> list[str]:
    """Folders to watch: the working folder, the script's folder, those of extra files."""
    candidates = [os.getcwd()]
    script = sys.argv[0] if sys.argv else ""
    prefixes = {os.path.abspath(p) + os.sep for p in (sys.prefix, sys.base_prefix)}
    if (
        script
        and os.path.isfile(script)
        and not os.path.abspath(script).startswith(tuple(prefixes))  # not an entry point
    ):
        candidates.append(os.path.dirname(os.path.abspath(script)))
    for f in extra_files:
        path = os.path.abspath(f)
        candidates.append(path if os.path.isdir(path) else os.path.dirname(path))
    paths: list[str] = []
    for path in sorted(set(candidates), key=len):
        if os.path.isdir(path) and not any(
            path == p or path.startswith(p.rstrip(os.sep) + os.sep) for p in paths
        ):
            paths.append(path)
    return paths


class _ReloadFilter:
    """Accept Python files, files under a ``templates`` folder and the extra files.

    Caches, VCS and virtualenv folders are ignored (watchfiles' default filter).
    """

    def __init__(self, extra_files: Iterable[str], exclude_patterns: Iterable[str]) -> None:
        from watchfiles import DefaultFilter

        self._default = DefaultFilter()
        self.extra = {os.path.abspath(f) for f in extra_files}
        self.exclude = tuple(exclude_patterns)

    def __call__(self, change: t.Any, path: str) -> bool:
        if path in self.extra:
            return True
        if not self._default(change, path):
            return False
        if not path.endswith(CODE_SUFFIXES) and not (
            path.endswith(TEMPLATE_SUFFIXES) and _TEMPLATES_DIR in path
        ):
            return False
        return not any(fnmatch.fnmatch(path, pattern) for pattern in self.exclude)


def _stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _raise_interrupt(signum: int, frame: t.Any) -> None:
    raise KeyboardInterrupt


def run_with_reloader(
    extra_files: Iterable[str] | None = None,
    exclude_patterns: Iterable[str] | None = None,
    sock: socket.socket | None = None,
) -> t.NoReturn:
    """Run this program again as a child and restart it on changes; never returns."""
    from watchfiles import watch

    extra = list(extra_files or ())
    env = dict(os.environ)
    env[RELOADER_ENV] = "true"
    pass_fds: tuple[int, ...] = ()
    if sock is not None and os.name != "nt":
        env[SERVER_FD_ENV] = str(sock.fileno())
        pass_fds = (sock.fileno(),)
    args = _child_args()
    watch_filter = _ReloadFilter(extra, exclude_patterns or ())
    paths = _watch_paths(extra)
    signal.signal(signal.SIGTERM, _raise_interrupt)

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(args, env=env, pass_fds=pass_fds)

    _log.info(" * Restarting on changes (watchfiles) in %s", ", ".join(paths))
    proc: subprocess.Popen[bytes] | None = None
    reported = False
    try:
        proc = start()
        for changes in watch(
            *paths,
            watch_filter=watch_filter,
            yield_on_timeout=True,
            rust_timeout=500,
            debounce=800,
            step=50,
            raise_interrupt=True,
        ):
            if changes:
                names = sorted({os.path.relpath(p) for _, p in changes})
                _log.info(" * Detected change in %s, reloading", ", ".join(map(repr, names)))
                _stop(proc)
                proc = start()
                reported = False
            elif proc.poll() is not None and not reported:
                _log.warning(
                    " * Server process exited with code %s; fix the error, the server"
                    " restarts on the next change",
                    proc.returncode,
                )
                reported = True
    except KeyboardInterrupt:
        pass
    finally:
        _stop(proc)
    sys.exit(0)


def exit_with_parent() -> None:
    """In the child: exit if the watcher process goes away (never outlive it as an orphan)."""
    parent = os.getppid()

    def check() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=check, name="erlen-reloader-parent", daemon=True).start()
