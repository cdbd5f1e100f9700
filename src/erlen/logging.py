"""``app.logger``: a standard logger named after the app, with a default handler."""

from __future__ import annotations

import logging
import sys
import typing as t

from .globals import _get_request_ctx

if t.TYPE_CHECKING:
    from .app import App


class _WSGIErrorsStream:
    """Write to the current request's ``wsgi.errors`` stream, or stderr outside requests."""

    def write(self, data: str) -> int:
        ctx = _get_request_ctx(None)
        stream = ctx.request.environ.get("wsgi.errors") if ctx is not None else None
        return (stream or sys.stderr).write(data)  # type: ignore[no-any-return]

    def _get_current_object(self) -> t.TextIO:
        """The stream writes go to right now (Flask's ``wsgi_errors_stream`` is a proxy)."""
        ctx = _get_request_ctx(None)
        stream = ctx.request.environ.get("wsgi.errors") if ctx is not None else None
        return stream or sys.stderr  # type: ignore[no-any-return]

    def flush(self) -> None:
        ctx = _get_request_ctx(None)
        stream = ctx.request.environ.get("wsgi.errors") if ctx is not None else None
        (stream or sys.stderr).flush()


wsgi_errors_stream = _WSGIErrorsStream()
default_handler = logging.StreamHandler(wsgi_errors_stream)  # type: ignore[arg-type]
default_handler.setFormatter(
    logging.Formatter("[%(asctime)s] %(levelname)s in %(module)s: %(message)s")
)


def log_safe(text: str) -> str:
    """``text`` fit for one log line: what the client sent (a decoded path, a method) must not
    start a forged line (CR, LF) or reach the terminal as an escape sequence (ESC).

    Non-printable characters (controls, line separators, bidi overrides) become ``\\xHH`` /
    ``\\uHHHH``; backslash and ``"`` are escaped so the result stays unambiguous inside
    the quoted request of an access log line.
    """
    if text.isprintable() and '"' not in text and "\\" not in text:
        return text
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        else:
            n = ord(ch)
            out.append(
                f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}" if n < 0x10000 else f"\\U{n:08x}"
            )
    return "".join(out)


def has_level_handler(logger: logging.Logger) -> bool:
    level = logger.getEffectiveLevel()
    current: logging.Logger | None = logger
    while current:
        if any(handler.level <= level for handler in current.handlers):
            return True
        if not current.propagate:
            break
        current = current.parent
    return False


def create_logger(app: App) -> logging.Logger:
    """The app's logger; DEBUG level when the app is in debug mode and no level is set."""
    logger = logging.getLogger(app.name)
    if app.debug and not logger.level:
        logger.setLevel(logging.DEBUG)
    if not has_level_handler(logger):
        logger.addHandler(default_handler)
    return logger
