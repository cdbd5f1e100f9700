"""The debug error page: WSGI middleware the development server wraps around the app.

Why middleware and not a hook in the app: in debug mode the app lets unhandled exceptions
propagate out of ``wsgi_app`` (``PROPAGATE_EXCEPTIONS``), so the page renders at the edge,
where it can also catch errors raised while the response body is iterated. The request's
parsed data is captured through the ``got_request_exception`` signal while the request context
is still alive. The page is static HTML (no JavaScript, a CSP forbids scripts) and never runs
code sent from the browser. Never enable it in production: it shows source and local values.
"""

from __future__ import annotations

import datetime
import html
import itertools
import json
import linecache
import logging
import os
import re
import reprlib
import sys
import sysconfig
import traceback
import typing as t
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import TracebackType
from urllib.parse import parse_qsl, unquote_plus

from ..http.accept import MIMEAccept
from ..http.parsing import parse_accept_header
from ..logging import log_safe
from ..utils import parse_host

__all__ = ["DebuggedApplication", "render_debug_html", "render_debug_json"]

_log = logging.getLogger("erlen.debug")

_CONTEXT_LINES = 5
_MAX_LOCALS = 60
_MAX_REPR = 300
_MAX_FRAMES = 100
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


# -- redaction -------------------------------------------------------------------------------
# The page is for the developer's browser, but it is also copied into bug reports and chats
# and shown on screens: secrets are replaced by a placeholder, their names stay visible.
REDACTED = "[redacted]"
# a name containing one of these is secret (checked without separators: api_key -> apikey)
_SECRET_PARTS = (
    "password", "passwd", "passphrase", "secret", "token", "credential", "apikey", "csrf",
    "privatekey",
)  # fmt: skip
# ... or having one of these as a word (SECRET_KEY, X-Auth-Token, HTTP_COOKIE, session_id;
# not monkey, author, JSON_SORT_KEYS)
_SECRET_WORDS = frozenset(
    {"key", "pass", "pwd", "auth", "authorization", "cookie", "cookies", "session", "sessionid",
     "sid", "jwt", "bearer", "signature", "dsn"}
)  # fmt: skip
# words that make a *value* worth hunting for elsewhere on the page (a session cookie's name
# is secret-looking, its value "session" is not a secret to erase everywhere)
_STRONG_WORDS = frozenset({"key", "pass", "pwd", "jwt", "signature", "dsn"})
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})
_PLAIN_TYPES = (bool, int, float, type(None), datetime.timedelta)
#: Values shorter than this are redacted where they are named, not searched for elsewhere.
_MIN_SCRUB = 6
_CAMEL_RE = re.compile(r"([a-z0-9])([A-Z])")
_WORD_RE = re.compile(r"[a-z0-9]+")
_URL_PASSWORD_RE = re.compile(r"(//[^/\s:@'\"]*:)[^/\s@'\"]+@")


def _name_words(name: str) -> tuple[str, list[str]]:
    lowered = _CAMEL_RE.sub(r"\1_\2", name).lower()
    words = _WORD_RE.findall(lowered)
    return "".join(words), words


def _is_secret(name: object) -> bool:
    """Whether a config key, variable, form field, query argument or header name is secret."""
    if not isinstance(name, str):
        return False
    compact, words = _name_words(name)
    return any(part in compact for part in _SECRET_PARTS) or any(w in _SECRET_WORDS for w in words)


def _hides(name: object, value: object) -> bool:
    """Whether the value of ``name`` is shown as ``[redacted]``: any value of a strongly
    secret name (SECRET_KEY); for the others (MAX_COOKIE_SIZE, a ``session`` local) all but
    numbers, booleans, None and durations, which say how, not what."""
    if not _is_secret(name):
        return False
    return _is_strong_secret(name) or not isinstance(value, _PLAIN_TYPES)  # type: ignore[arg-type]


def _is_strong_secret(name: str) -> bool:
    compact, words = _name_words(name)
    return any(part in compact for part in _SECRET_PARTS) or any(w in _STRONG_WORDS for w in words)


class _Redactor:
    """Collects the secret values seen (config, locals, form, query, headers, cookies) and
    erases them wherever else they appear: source lines, reprs, messages, URLs."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self.values: set[str] = set(values)

    def note(self, value: object) -> None:
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        if isinstance(value, str):
            if len(value) >= _MIN_SCRUB:
                self.values.add(value)
        elif isinstance(value, (list, tuple, set, frozenset)):
            for item in list(value)[:20]:
                self.note(item)

    def note_named(self, name: str, value: object) -> None:
        if _is_strong_secret(name):
            self.note(value)

    def note_config(self, config: t.Any) -> None:
        try:
            for key, value in list(config.items()):
                if isinstance(key, str) and _is_strong_secret(key):
                    self.note(value)
        except Exception:  # a broken mapping must not break the error page
            pass

    def note_environ(self, environ: dict[str, t.Any]) -> None:
        for name, value in _environ_headers(environ):
            if name.lower() in _SECRET_HEADERS or _is_secret(name):
                self.note(value)
                self.note(value.split())  # "Bearer <token>": the token alone too
        for part in str(environ.get("HTTP_COOKIE", "")).split(";"):
            self.note(part.partition("=")[2].strip().strip('"'))
        for name, value in parse_qsl(str(environ.get("QUERY_STRING", ""))):
            if _is_secret(name):
                self.note(value)

    def _forms(self) -> list[str]:
        forms: set[str] = set()
        for value in self.values:
            for text in (value, repr(value)[1:-1], json.dumps(value)[1:-1]):
                forms.add(text)
                forms.add(html.escape(text, quote=True))
                if len(text) > 48:  # a long secret may be cut short in a repr: its ends too
                    forms.update((text[:24], text[-24:]))
        return sorted(forms, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for form in self._forms():
            if form in text:
                text = text.replace(form, REDACTED)
        return _URL_PASSWORD_RE.sub(r"\1" + REDACTED + "@", text)

    def scrub_data(self, data: t.Any) -> t.Any:
        """``scrub`` on every string of a JSON-able structure (the JSON text itself is left
        alone: a replacement there could cut an escape in two)."""
        if isinstance(data, str):
            return self.scrub(data)
        if isinstance(data, dict):
            return {k: self.scrub_data(v) for k, v in data.items()}
        if isinstance(data, (list, tuple)):
            return [self.scrub_data(v) for v in data]
        return data


def _redact_mapping(value: t.Any, redactor: _Redactor | None, depth: int = 0) -> t.Any:
    """A mapping (a config, an environ, a session...) as a dict with secret keys' values
    replaced, nested mappings too (two levels); anything else unchanged."""
    if depth > 2 or not isinstance(value, Mapping):
        return value
    try:
        items = list(itertools.islice(value.items(), 200))
    except Exception:
        return value
    out = {}
    for k, v in items:
        if _hides(k, v):
            if redactor is not None:
                redactor.note_named(str(k), v)
            out[k] = REDACTED
        else:
            out[k] = _redact_mapping(v, redactor, depth + 1)
    return out


def _safe_repr(value: object, redactor: _Redactor | None = None) -> str:
    shown = _redact_mapping(value, redactor)
    try:
        text = _repr.repr(shown)
        if shown is not value and type(value) is not dict:
            text = f"{type(value).__name__}({text})"
    except Exception as e:  # a broken __repr__ must not break the error page
        text = f"<repr() failed: {type(e).__name__}>"
    return _truncate(text)


def _truncate(text: str) -> str:
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 3] + "..."


def _redact_query(qs: str) -> str:
    """The query string with secret-named arguments' values replaced (names kept)."""
    if not qs:
        return qs
    parts = []
    for part in qs.split("&"):
        name, eq, _ = part.partition("=")
        parts.append(f"{name}={REDACTED}" if eq and _is_secret(unquote_plus(name)) else part)
    return "&".join(parts)


def _redact_url(url: str) -> str:
    base, q, qs = url.partition("?")
    return base + q + _redact_query(qs)


class _Frame:
    __slots__ = ("filename", "lineno", "function", "lines", "first_line", "locals", "is_lib")

    def __init__(self, frame: t.Any, lineno: int, redactor: _Redactor) -> None:
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
        self.locals = []
        for k, v in items:
            name = str(k)
            if _hides(name, v):
                redactor.note_named(name, v)
                self.locals.append((name, REDACTED))
            else:
                self.locals.append((name, _safe_repr(v, redactor)))

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


def _frames(tb: TracebackType | None, redactor: _Redactor) -> list[_Frame]:
    frames = [
        _Frame(frame, lineno, redactor)
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
    return f"{scheme}://{host}{path}" + (f"?{_redact_query(qs)}" if qs else "")


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
    if name.lower() in _SECRET_HEADERS or _is_secret(name):
        return REDACTED
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
        "secrets": [],
    }


def _capture_request(sender: t.Any, exception: BaseException | None = None, **extra: t.Any) -> None:
    """``got_request_exception`` receiver: snapshot the request while its context is alive."""
    from ..globals import _cv_request

    ctx = _cv_request.get(None)
    if ctx is None:
        return
    req = ctx.request
    environ = req.environ
    if not environ.get("erlen.debug"):
        return
    info = _request_info(environ)
    info = dict(info)
    redactor = _Redactor()
    redactor.note_config(getattr(sender, "config", {}))
    try:
        if req.host:  # "" for an invalid Host: keep "(invalid-host)" from _request_url
            info["url"] = _redact_url(req.url)
    except Exception:
        pass
    try:
        form = []
        for k, v in req.form.items(multi=True):
            if _is_secret(k):
                redactor.note(v)
                form.append((k, REDACTED))
            else:
                form.append((k, _truncate(str(v))))
        info["form"] = form
    except Exception as e:
        info["form"] = [("(form could not be parsed)", f"{type(e).__name__}: {e}")]
    try:
        info["files"] = [
            (k, f"{f.filename!r} ({f.content_type or 'unknown type'})")
            for k, f in req.files.items(multi=True)
        ]
    except Exception:
        info["files"] = None
    info["secrets"] = sorted(redactor.values)
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


def _redactor_for(environ: dict[str, t.Any], config: t.Any) -> _Redactor:
    redactor = _Redactor(_request_info(environ).get("secrets") or ())
    redactor.note_environ(environ)
    if config is not None:
        redactor.note_config(config)
    return redactor


def render_debug_html(
    exc: BaseException, environ: dict[str, t.Any], config: Mapping[str, t.Any] | None = None
) -> str:
    """The debug page for ``exc`` raised while handling the request in ``environ``.

    Secret-looking values (``config`` keys, locals, form, query, headers, cookies named like
    password/secret/token/key...) are shown as ``[redacted]``, and erased wherever else they
    appear (source lines, reprs, messages).
    """
    redactor = _redactor_for(environ, config)
    parts = []
    for i, link in enumerate(_exception_chain(exc)):
        if i:
            parts.append(
                '<p class="note">The above exception was the direct cause of'
                " (or occurred while handling) the following exception:</p>"
            )
        message = "".join(traceback.format_exception_only(type(link), link)).strip()
        parts.append(f"<h2>Traceback: {_e(message)}</h2>")
        parts.extend(_render_frame(f) for f in _frames(link.__traceback__, redactor))
    info = _request_info(environ)
    form = info.get("form")
    files = info.get("files")
    title = f"{type(exc).__name__}: {exc}"
    plain = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    page = (
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
    return redactor.scrub(page)


def render_debug_json(
    exc: BaseException, environ: dict[str, t.Any], config: Mapping[str, t.Any] | None = None
) -> dict[str, t.Any]:
    """The same information as :func:`render_debug_html` (redacted alike), for API clients."""
    info = _request_info(environ)
    redactor = _redactor_for(environ, config)
    frames = [f.as_dict() for f in _frames(exc.__traceback__, redactor)]
    data = {
        "error": {
            "type": type(exc).__name__,
            "message": str(exc),
            "traceback": frames,
            "text": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
        },
        "request": {
            "method": info.get("method"),
            "url": info.get("url"),
            "headers": dict(info.get("headers") or []),
            "form": info.get("form"),
        },
    }
    return redactor.scrub_data(data)  # type: ignore[no-any-return]


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
            from ..signals import got_request_exception

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
            config = getattr(self.app, "config", None)
            if _wants_json(environ):
                body = json.dumps(render_debug_json(exc, environ, config), indent=2, default=str)
                content_type = "application/json"
            else:
                body = render_debug_html(exc, environ, config)
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
