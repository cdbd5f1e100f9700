"""The debug error page: WSGI middleware the development server wraps around the app.

Why middleware and not a hook in the app: in debug mode the app lets unhandled exceptions
propagate out of ``wsgi_app`` (``PROPAGATE_EXCEPTIONS``), so the page renders at the edge,
where it can also catch errors raised while the response body is iterated. The request's
parsed data is captured through the ``got_request_exception`` signal while the request context
is still alive. The page is static HTML (no JavaScript, a CSP forbids scripts) and never runs
code sent from the browser. Never enable it in production: it shows source and local values.
"""

from __future__ import annotations

import html
import json
import linecache
import logging
import os
import reprlib
import sys
import sysconfig
import traceback
import typing as t
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType

from .http.accept import MIMEAccept
from .http.parsing import parse_accept_header
from .logs import log_safe
from .utils import parse_host

__all__ = ["DebuggedApplication", "render_debug_html", "render_debug_json"]

_log = logging.getLogger("erlen.debug")

_CONTEXT_LINES = 5
_MAX_LOCALS = 60
_MAX_REPR = 300
_MAX_FRAMES = 100
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
_SECRET_WORDS = ("pass", "secret", "token", "csrf", "api_key", "apikey")
_LIB_DIRS = tuple(
    {
        os.path.dirname(os.path.abspath(__file__)) + os.sep,
        *(
            os.path.abspath(p) + os.sep
            for p in {sysconfig.get_paths().get(k) for k in ("stdlib", "platstdlib", "purelib")}
            if p
        ),
    }
)

# the middleware's own frames say nothing about the error
_HIDDEN_FILES = frozenset({__file__, __file__.replace("debug.py", "serving.py")})

_repr = reprlib.Repr()
_repr.maxstring = _MAX_REPR
_repr.maxother = _MAX_REPR
_repr.maxlist = _repr.maxtuple = _repr.maxset = _repr.maxdict = 20
_repr.maxlevel = 3

WSGIApp = Callable[[dict[str, t.Any], Callable[..., t.Any]], Iterable[bytes]]


_SECRET_ENVIRON_KEYS = ("HTTP_AUTHORIZATION", "HTTP_PROXY_AUTHORIZATION", "HTTP_COOKIE")


def _safe_repr(value: object) -> str:
    if type(value) is dict and any(k in value for k in _SECRET_ENVIRON_KEYS):
        value = {  # a WSGI environ: keep credentials out of the page
            k: "[redacted]" if k in _SECRET_ENVIRON_KEYS else v for k, v in value.items()
        }
    try:
        text = _repr.repr(value)
    except Exception as e:  # a broken __repr__ must not break the error page
        text = f"<repr() failed: {type(e).__name__}>"
    return _truncate(text)


def _truncate(text: str) -> str:
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 3] + "..."


def _is_secret(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


class _Frame:
    __slots__ = ("filename", "lineno", "function", "lines", "first_line", "locals", "is_lib")

    def __init__(self, frame: t.Any, lineno: int) -> None:
        code = frame.f_code
        self.filename: str = code.co_filename
        self.lineno = lineno
        self.function: str = code.co_qualname if hasattr(code, "co_qualname") else code.co_name
        self.is_lib = os.path.abspath(self.filename).startswith(_LIB_DIRS)
        start = max(lineno - _CONTEXT_LINES, 1)
        lines = [
            linecache.getline(self.filename, n, frame.f_globals).rstrip("\n")
            for n in range(start, lineno + _CONTEXT_LINES + 1)
        ]
        while lines and not lines[-1]:
            lines.pop()
        self.first_line = start
        self.lines = lines
        items = list(frame.f_locals.items())[:_MAX_LOCALS]
        self.locals = [(str(k), _safe_repr(v)) for k, v in items]

    def as_dict(self) -> dict[str, t.Any]:
        line = ""
        if self.first_line <= self.lineno < self.first_line + len(self.lines):
            line = self.lines[self.lineno - self.first_line].strip()
        return {
            "file": self.filename,
            "line": self.lineno,
            "function": self.function,
            "code": line,
            "library": self.is_lib,
            "locals": dict(self.locals),
        }


def _exception_chain(exc: BaseException) -> list[BaseException]:
    """The exception and its causes, oldest first (as Python prints them)."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(chain) < 10:
        chain.append(current)
        seen.add(id(current))
        if current.__cause__ is not None:
            current = current.__cause__
        elif current.__context__ is not None and not current.__suppress_context__:
            current = current.__context__
        else:
            current = None
    chain.reverse()
    return chain


def _frames(tb: TracebackType | None) -> list[_Frame]:
    frames = [
        _Frame(frame, lineno)
        for frame, lineno in traceback.walk_tb(tb)
        if frame.f_code.co_filename not in _HIDDEN_FILES
    ]
    return frames[-_MAX_FRAMES:]


# -- request data --------------------------------------------------------------------------
def _request_url(environ: dict[str, t.Any]) -> str:
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST") or (
        f"{environ.get('SERVER_NAME', '')}:{environ.get('SERVER_PORT', '')}"
    )
    if parse_host(host) is None:  # shown, never a link: still, no forged host in a URL
        host = "(invalid-host)"
    path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    qs = environ.get("QUERY_STRING", "")
    path = path.encode("latin-1", "replace").decode("utf-8", "replace")
    return f"{scheme}://{host}{path}" + (f"?{qs}" if qs else "")


def _environ_headers(environ: dict[str, t.Any]) -> list[tuple[str, str]]:
    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").title()
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            name = key.replace("_", "-").title()
        else:
            continue
        headers.append((name, str(value)))
    return headers


def _redact_header(name: str, value: str) -> str:
    if name.lower() in _SECRET_HEADERS:
        return f"[redacted, {len(value)} characters]"
    return value


def _request_info(environ: dict[str, t.Any]) -> dict[str, t.Any]:
    captured = environ.get("erlen.debug.request")
    if captured is not None:
        return t.cast(dict[str, t.Any], captured)
    return {
        "method": environ.get("REQUEST_METHOD", "GET"),
        "url": _request_url(environ),
        "headers": [(k, _redact_header(k, v)) for k, v in _environ_headers(environ)],
        "form": None,
        "files": None,
    }


def _capture_request(sender: t.Any, exception: BaseException | None = None, **extra: t.Any) -> None:
    """``got_request_exception`` receiver: snapshot the request while its context is alive."""
    from .globals import _cv_request

    ctx = _cv_request.get(None)
    if ctx is None:
        return
    req = ctx.request
    environ = req.environ
    if not environ.get("erlen.debug"):
        return
    info = _request_info(environ)
    info = dict(info)
    try:
        if req.host:  # "" for an invalid Host: keep "(invalid-host)" from _request_url
            info["url"] = req.url
    except Exception:
        pass
    try:
        info["form"] = [
            (k, "[redacted]" if _is_secret(k) else _truncate(str(v)))
            for k, v in req.form.items(multi=True)
        ]
    except Exception as e:
        info["form"] = [("(form could not be parsed)", f"{type(e).__name__}: {e}")]
    try:
        info["files"] = [
            (k, f"{f.filename!r} ({f.content_type or 'unknown type'})")
            for k, f in req.files.items(multi=True)
        ]
    except Exception:
        info["files"] = None
    environ["erlen.debug.request"] = info


# -- rendering -----------------------------------------------------------------------------
_CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#b3261e;color:#fff;padding:1em 1.5em}
header h1{margin:0;font-size:1.4em}header p{margin:.4em 0 0;font-family:monospace;
white-space:pre-wrap;word-break:break-word}
main{padding:1em 1.5em}h2{font-size:1.1em;margin:1.4em 0 .5em}
details{background:#fff;border:1px solid #ddd;border-radius:4px;margin:.4em 0}
details.lib{opacity:.75}summary{padding:.4em .6em;cursor:pointer;font-family:monospace}
pre{margin:0;padding:.4em .6em;overflow-x:auto;background:#f4f4f4}
pre .cur{background:#ffe08a;display:block}
table{border-collapse:collapse;margin:.4em .6em;font-family:monospace;font-size:.9em}
td,th{border-top:1px solid #eee;padding:.15em .6em;text-align:left;vertical-align:top;
word-break:break-all}th{white-space:nowrap;font-weight:600}
.note{color:#666;font-size:.9em}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _table(rows: Iterable[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>" if body else '<p class="note">(none)</p>'


def _render_frame(frame: _Frame) -> str:
    code_lines = []
    for offset, line in enumerate(frame.lines):
        n = frame.first_line + offset
        text = f"{n:>5} {_e(line)}"
        code_lines.append(f'<span class="cur">{text}</span>' if n == frame.lineno else text + "\n")
    source = "".join(code_lines) or "(source not available)"
    attrs = ' class="lib"' if frame.is_lib else " open"
    return (
        f"<details{attrs}><summary>{_e(frame.filename)}, line {frame.lineno},"
        f" in <b>{_e(frame.function)}</b></summary><pre>{source}</pre>"
        f"{_table(frame.locals)}</details>"
    )


def render_debug_html(exc: BaseException, environ: dict[str, t.Any]) -> str:
    """The debug page for ``exc`` raised while handling the request in ``environ``."""
    parts = []
    for i, link in enumerate(_exception_chain(exc)):
        if i:
            parts.append(
                '<p class="note">The above exception was the direct cause of'
                " (or occurred while handling) the following exception:</p>"
            )
        message = "".join(traceback.format_exception_only(type(link), link)).strip()
        parts.append(f"<h2>Traceback: {_e(message)}</h2>")
        parts.extend(_render_frame(f) for f in _frames(link.__traceback__))
    info = _request_info(environ)
    form = info.get("form")
    files = info.get("files")
    title = f"{type(exc).__name__}: {exc}"
    plain = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return (
        "<!doctype html>\n<html lang=en>\n<meta charset=utf-8>\n"
        f"<title>{_e(title[:200])} // Erlen debug page</title>\n<style>{_CSS}</style>\n"
        f"<header><h1>{_e(type(exc).__name__)}</h1><p>{_e(exc)}</p></header>\n<main>\n"
        f"<p class=note>{_e(info.get('method'))} {_e(info.get('url'))} &middot; "
        "library frames are collapsed; this page appears only in debug mode.</p>\n"
        + "\n".join(parts)
        + "\n<h2>Request</h2>"
        + _table([("Method", str(info.get("method"))), ("URL", str(info.get("url")))])
        + "<h2>Headers</h2>"
        + _table(info.get("headers") or [])
        + "<h2>Form</h2>"
        + (_table(form) if form is not None else '<p class="note">(not parsed)</p>')
        + ("<h2>Files</h2>" + _table(files) if files else "")
        + "<h2>Plain traceback</h2><details><summary>show</summary><pre>"
        + _e(plain)
        + "</pre></details>\n</main>\n"
    )


def render_debug_json(exc: BaseException, environ: dict[str, t.Any]) -> dict[str, t.Any]:
    """The same information as :func:`render_debug_html`, for API clients."""
    info = _request_info(environ)
    return {
        "error": {
            "type": type(exc).__name__,
            "message": str(exc),
            "traceback": [f.as_dict() for f in _frames(exc.__traceback__)],
            "text": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
        },
        "request": {
            "method": info.get("method"),
            "url": info.get("url"),
            "headers": dict(info.get("headers") or []),
            "form": info.get("form"),
        },
    }


def _wants_json(environ: dict[str, t.Any]) -> bool:
    accept = parse_accept_header(environ.get("HTTP_ACCEPT"), MIMEAccept)
    return accept.best_match(["text/html", "application/json"]) == "application/json"


_connected = False


class DebuggedApplication:
    """Wrap a WSGI app: an exception escaping it becomes the debug page (500).

    ``evalex`` is accepted for Werkzeug compatibility; erlen never executes code from the
    browser, so a true value is refused.
    """

    def __init__(self, app: WSGIApp, evalex: bool = False, **_ignored: t.Any) -> None:
        global _connected
        if evalex:
            raise ValueError("erlen's debug page never executes code; evalex is not supported")
        self.app = app
        if not _connected:
            from .signals import got_request_exception

            got_request_exception.connect(_capture_request, weak=False)
            _connected = True

    def __call__(
        self, environ: dict[str, t.Any], start_response: Callable[..., t.Any]
    ) -> Iterator[bytes]:
        environ["erlen.debug"] = True
        app_iter: Iterable[bytes] | None = None
        started = sent = False

        def tracking_start_response(status: str, headers: t.Any, exc_info: t.Any = None) -> t.Any:
            nonlocal started
            started = True
            return start_response(status, headers, exc_info)

        try:
            app_iter = self.app(environ, tracking_start_response)
            for chunk in app_iter:
                sent = sent or bool(chunk)
                yield chunk
        except Exception as exc:
            exc_info = sys.exc_info()
            _log.error(
                "Exception on %s %s",
                log_safe(str(environ.get("REQUEST_METHOD"))),
                log_safe(str(environ.get("PATH_INFO"))),
                exc_info=exc_info,
            )
            if sent:  # headers and part of the body are out: the log is all we can do
                return
            if _wants_json(environ):
                body = json.dumps(render_debug_json(exc, environ), indent=2, default=str)
                content_type = "application/json"
            else:
                body = render_debug_html(exc, environ)
                content_type = "text/html; charset=utf-8"
            data = body.encode("utf-8", "replace")
            headers = [
                ("Content-Type", content_type),
                ("Content-Length", str(len(data))),
                ("Cache-Control", "no-store"),
                ("X-Content-Type-Options", "nosniff"),
                ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'"),
            ]
            try:
                # exc_info only if the app already called start_response (PEP 3333)
                start_response("500 Internal Server Error", headers, exc_info if started else None)
            except Exception:
                return
            finally:
                del exc_info
            yield data
        finally:
            close = getattr(app_iter, "close", None)
            if close is not None:
                close()
