"""Serving an app: the development server, and production serving through gunicorn.

Development (``app.run()``, ``erlen run``): waitress, a pure-Python threaded HTTP/1.1 server
(keep-alive, chunked request bodies, bounded request sizes), on a socket erlen binds itself
so "port in use" is one clear line and the reloader can keep the socket across restarts.
TLS (``--cert/--key``) uses the standard library's threaded server instead, as waitress
does not speak TLS (one request per connection; fine for trying HTTPS locally).
Production (``erlen serve``): gunicorn's pre-fork arbiter (optional extra ``erlen[serve]``).
See docs/decisions/006-servers.md.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import ssl
import sys
import time
import typing as t
from collections.abc import Callable, Iterable, Iterator

from ..helpers import get_debug_flag, get_load_dotenv, getenv
from ..logging import log_safe
from .reloader import (
    SERVER_FD_ENV,
    exit_with_parent,
    is_running_from_reloader,
    run_with_reloader,
)

if t.TYPE_CHECKING:
    from ..application import Erlen

__all__ = [
    "RequestLogger",
    "ServerError",
    "bind_socket",
    "is_running_from_reloader",
    "load_error_app",
    "make_ssl_context",
    "run_app",
    "run_simple",
    "serve_production",
]

WSGIApp = Callable[[dict[str, t.Any], Callable[..., t.Any]], Iterable[bytes]]
SSLContextArg = ssl.SSLContext | tuple[str, str | None] | str | None

_log = logging.getLogger("erlen.serving")

# Request limits of the development server: gunicorn's defaults and setting names, so an app
# meets the same limits under `erlen run` as under `erlen serve` (decision 010).
#: Longest request line (method, target, version): longer is 414 URI Too Long.
LIMIT_REQUEST_LINE = 4094
#: Most header fields in a request: more is 431 Request Header Fields Too Large.
LIMIT_REQUEST_FIELDS = 100
#: Longest header line (name and value): longer is 431.
LIMIT_REQUEST_FIELD_SIZE = 8190


class ServerError(Exception):
    """The server cannot start; the message is one line meant for the user."""


def _setup_logging() -> None:
    """Make erlen's serving messages visible when the user configured no logging."""
    logger = logging.getLogger("erlen")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)


def bind_socket(host: str, port: int, backlog: int = 1024) -> socket.socket:
    """A listening TCP socket on ``host:port``, or a :class:`ServerError` saying why not."""
    if not 0 <= port <= 65535:
        raise ServerError(f"port {port} is out of range (0-65535)")
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except (socket.gaierror, UnicodeError) as e:
        reason = getattr(e, "strerror", None) or str(e)
        raise ServerError(f"cannot use host {host!r}: {reason}") from None
    family, socktype, proto, _, address = infos[0]
    sock = socket.socket(family, socktype, proto)
    try:
        if os.name != "nt":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(backlog)
    except OSError as e:
        sock.close()
        where = f"{host}:{port}"
        if e.errno == errno.EADDRINUSE:
            msg = f"address {where} is already in use (another server running? try --port)"
        elif e.errno in (errno.EACCES, errno.EPERM):
            msg = f"permission denied to listen on {where} (ports below 1024 need privileges)"
        elif e.errno == errno.EADDRNOTAVAIL:
            msg = f"cannot listen on {where}: the address is not on this machine"
        else:
            msg = f"cannot listen on {where}: {e.strerror or e}"
        raise ServerError(msg) from None
    return sock


def _inherited_socket() -> socket.socket | None:
    fd = os.environ.get(SERVER_FD_ENV)
    if not fd or not is_running_from_reloader():
        return None
    return socket.socket(fileno=int(fd))


def make_ssl_context(ssl_context: SSLContextArg) -> ssl.SSLContext | None:
    """A server ``SSLContext`` from a context, a ``(cert, key)`` pair or a combined PEM path."""
    if ssl_context is None or isinstance(ssl_context, ssl.SSLContext):
        return ssl_context
    if ssl_context == "adhoc":
        raise ServerError(
            "ad-hoc certificates are not supported; make one with: openssl req -x509"
            " -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 30 -subj /CN=localhost"
        )
    cert, key = (ssl_context, None) if isinstance(ssl_context, str) else ssl_context
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        ctx.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as e:
        raise ServerError(f"cannot load certificate {cert!r}: {e}") from None
    return ctx


class _LoggedIterable:
    """The app's response iterable; logs the request line when the server closes it."""

    __slots__ = ("_it", "_done")

    def __init__(self, it: Iterable[bytes], done: Callable[[], None]) -> None:
        self._it = it
        self._done = done

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._it)

    def close(self) -> None:
        try:
            close = getattr(self._it, "close", None)
            if close is not None:
                close()
        finally:
            self._done()


class RequestLogger:
    """WSGI middleware writing one line per request: client, method, path, status, time."""

    def __init__(self, app: WSGIApp, logger: logging.Logger | None = None) -> None:
        self.app = app
        self.logger = logger or logging.getLogger("erlen.serving")

    def __call__(
        self, environ: dict[str, t.Any], start_response: Callable[..., t.Any]
    ) -> Iterable[bytes]:
        started = time.perf_counter()
        status = ["-"]

        def logging_start_response(
            status_line: str, headers: list[tuple[str, str]], exc_info: t.Any = None
        ) -> t.Any:
            status[0] = status_line.split(" ", 1)[0]
            return start_response(status_line, headers, exc_info)

        def done() -> None:
            path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
            if not path.isascii():  # WSGI gives the bytes as latin-1: show the UTF-8 text
                try:
                    path = path.encode("latin-1").decode("utf-8")
                except UnicodeError:
                    pass
            qs = environ.get("QUERY_STRING")
            # the decoded path may hold CR/LF/ESC (from %0d%0a, %1b): escaped, see log_safe
            self.logger.info(
                '%s "%s %s %s" %s %.1fms',
                environ.get("REMOTE_ADDR", "-"),
                log_safe(environ.get("REQUEST_METHOD", "-")),
                log_safe(path + (f"?{qs}" if qs else "")),
                log_safe(environ.get("SERVER_PROTOCOL", "-")),
                status[0],
                (time.perf_counter() - started) * 1000,
            )

        try:
            it = self.app(environ, logging_start_response)
        except BaseException:
            status[0] = "500"
            done()
            raise
        return _LoggedIterable(it, done)


def load_error_app(error_text: str, debug: bool) -> WSGIApp:
    """Stand-in app while the real one fails to import: every request gets a 500 page."""
    body = (
        f"The application could not be loaded:\n\n{error_text}\nFix the error; the"
        " server reloads on the next change.\n"
        if debug
        else "Internal Server Error: the application could not be loaded (see the console).\n"
    ).encode("utf-8", "replace")

    def app(environ: dict[str, t.Any], start_response: Callable[..., t.Any]) -> list[bytes]:
        start_response(
            "500 Internal Server Error",
            [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
        )
        return [body]

    return app


def _url(host: str, port: int, scheme: str) -> str:
    shown = "127.0.0.1" if host in ("", "0.0.0.0") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"{scheme}://{shown}:{port}"


def _banner(name: str | None, host: str, port: int, scheme: str, debug: bool) -> None:
    if name:
        _log.info(" * Serving Erlen app '%s'", name)
    _log.info(" * Debug mode: %s", "on" if debug else "off")
    if debug and host not in ("127.0.0.1", "localhost", "::1"):
        _log.warning(" * WARNING: the debug page shows source and variables; keep it off networks")
    _log.info(" * Running on %s (press CTRL+C to quit)", _url(host, port, scheme))
    if host in ("0.0.0.0", "::"):
        _log.info(" * Listening on all addresses")
    _log.info(" * This is a development server. For production use 'erlen serve'.")


def _limited_channel(limits: tuple[int, int, int]) -> type:
    """A waitress channel class whose request parser enforces gunicorn-style limits (waitress
    has only a total header size) and logs one line for every request it refuses."""
    from waitress.channel import HTTPChannel
    from waitress.parser import HTTPRequestParser
    from waitress.utilities import BadRequest, RequestHeaderFieldsTooLarge

    line_limit, fields_limit, field_size_limit = limits

    class URITooLong(BadRequest):  # type: ignore[misc]
        code = 414
        reason = "URI Too Long"

    class Parser(HTTPRequestParser):  # type: ignore[misc]
        client = "-"
        _line_ok = False
        _logged = False

        def _refuse(self, error: t.Any) -> None:
            HTTPRequestParser.parse_header(self, b"GET / HTTP/1.0\r\n")  # as waitress does
            self.error = error
            self.completed = True

        def received(self, data: bytes) -> int:
            if not self._line_ok and self.body_rcv is None and not self.completed:
                # the request line alone, before waitress waits for the whole header
                head = (self.header_plus + data).lstrip(b"\r\n")
                end = head.find(b"\n")
                size = len(head) if end < 0 else len(head[:end].rstrip(b"\r"))
                if size > line_limit:
                    self._refuse(URITooLong(f"request line over limit_request_line {line_limit}"))
                    n = len(data)
                else:
                    self._line_ok = end >= 0
                    n = super().received(data)
            else:
                n = super().received(data)
            if self.error is not None and not self._logged:
                self._logged = True
                _log.warning(
                    "%s %s from %s: %s",
                    self.error.code,
                    self.error.reason,
                    self.client,
                    log_safe(str(self.error.body)),
                )
            return n

        def parse_header(self, header_plus: bytes) -> None:
            lines = header_plus.split(b"\r\n")
            fields = 0
            for line in lines[1:]:
                if len(line) > field_size_limit:
                    self._refuse(
                        RequestHeaderFieldsTooLarge(
                            f"a header line over limit_request_field_size {field_size_limit}"
                        )
                    )
                    return
                if line and line[:1] not in b" \t":
                    fields += 1
            if fields > fields_limit:
                self._refuse(
                    RequestHeaderFieldsTooLarge(
                        f"more header fields than limit_request_fields {fields_limit}"
                    )
                )
                return
            super().parse_header(header_plus)

    class Channel(HTTPChannel):  # type: ignore[misc]
        def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
            super().__init__(*args, **kwargs)
            client = str(self.addr[0]) if self.addr else "-"

            def parser(adj: t.Any) -> Parser:
                p = Parser(adj)
                p.client = client
                return p

            self.parser_class = parser

    return Channel


def _serve_waitress(
    app: WSGIApp,
    sock: socket.socket,
    threads: int,
    limits: tuple[int, int, int] = (
        LIMIT_REQUEST_LINE,
        LIMIT_REQUEST_FIELDS,
        LIMIT_REQUEST_FIELD_SIZE,
    ),
) -> None:
    from waitress.server import create_server

    server = create_server(app, sockets=[sock], threads=threads, ident="erlen")
    server.channel_class = _limited_channel(limits)  # type: ignore[union-attr]
    try:
        server.run()  # returns after Ctrl-C (waitress closes itself)
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


def _serve_tls(app: WSGIApp, sock: socket.socket, ctx: ssl.SSLContext) -> None:
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

    class Handler(WSGIRequestHandler):
        def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002
            pass  # RequestLogger logs

    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True

        def finish_request(self, request: t.Any, client_address: t.Any) -> None:
            try:  # TLS handshake in the connection's thread, not the accept loop
                request = ctx.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
            super().finish_request(request, client_address)

    server = Server(sock.getsockname()[:2], Handler, bind_and_activate=False)
    server.socket.close()
    server.socket = sock
    server.server_name = socket.getfqdn(sock.getsockname()[0])
    server.server_port = sock.getsockname()[1]
    server.setup_environ()
    server.base_environ["HTTPS"] = "on"
    server.set_app(app)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def serve(
    host: str,
    port: int,
    load: Callable[[], WSGIApp],
    *,
    use_reloader: bool = False,
    use_debugger: bool = False,
    extra_files: Iterable[str] | None = None,
    exclude_patterns: Iterable[str] | None = None,
    ssl_context: SSLContextArg = None,
    threads: int = 8,
    name: str | None = None,
    debug: bool | None = None,
    limit_request_line: int = LIMIT_REQUEST_LINE,
    limit_request_fields: int = LIMIT_REQUEST_FIELDS,
    limit_request_field_size: int = LIMIT_REQUEST_FIELD_SIZE,
    asgi: bool | None = None,
) -> None:
    """The development server; ``load`` gives the app, called in the serving process only.

    ``asgi``: serve under uvicorn instead of waitress (None: when the app has WebSocket
    routes and uvicorn is installed; see ``erlen.serving.asgi.serve_asgi_dev``).

    The ``limit_*`` arguments are gunicorn's request limits (same names, same defaults): a
    longer request line is 414, more or longer header lines 431 (not under TLS, where the
    standard library's server applies its own 65536-byte/100-field limits).
    Raises :class:`ServerError` when the socket or certificate cannot be set up.
    """
    _setup_logging()
    ctx = make_ssl_context(ssl_context)
    scheme = "https" if ctx else "http"
    shown_debug = use_debugger if debug is None else debug
    if use_reloader and not is_running_from_reloader():
        sock = bind_socket(host, port)
        _banner(name, host, port, scheme, shown_debug)
        run_with_reloader(extra_files, exclude_patterns, sock)
    inherited = _inherited_socket()
    if inherited is None:
        app = load()  # before binding: an app that fails to load leaves the port alone
        sock = bind_socket(host, port)
        _banner(name or getattr(app, "name", None), host, port, scheme, shown_debug)
    else:
        sock = inherited
        exit_with_parent()
        app = load()
    if asgi is not False:
        from .asgi import have_uvicorn, serve_asgi_dev, wants_asgi

        if asgi is None and wants_asgi(app):
            asgi = have_uvicorn()
            if asgi:
                _log.info(" * WebSocket routes: serving under ASGI (uvicorn)")
            else:
                _log.warning(
                    " * The app has WebSocket routes but uvicorn is not installed (pip install"
                    " 'erlen[asgi]'): serving WSGI, WebSocket upgrades get 426"
                )
        if asgi:
            files = ssl_context if isinstance(ssl_context, tuple) else None
            serve_asgi_dev(app, sock, use_debugger=use_debugger, ssl_files=files)
            return
    if use_debugger:
        from .debug import DebuggedApplication

        app = DebuggedApplication(app)
    app = RequestLogger(app)
    if ctx is not None:
        _serve_tls(app, sock, ctx)
    else:
        limits = (limit_request_line, limit_request_fields, limit_request_field_size)
        _serve_waitress(app, sock, threads, limits)


def run_simple(
    hostname: str,
    port: int,
    application: WSGIApp,
    use_reloader: bool = False,
    use_debugger: bool = False,
    use_evalex: bool = False,
    extra_files: Iterable[str] | None = None,
    exclude_patterns: Iterable[str] | None = None,
    reloader_interval: float = 1,
    reloader_type: str = "auto",
    threaded: bool = True,
    processes: int = 1,
    ssl_context: SSLContextArg = None,
    threads: int = 8,
    limit_request_line: int = LIMIT_REQUEST_LINE,
    limit_request_fields: int = LIMIT_REQUEST_FIELDS,
    limit_request_field_size: int = LIMIT_REQUEST_FIELD_SIZE,
    **_ignored: t.Any,
) -> None:
    """Werkzeug-style entry point: serve ``application`` with the development server.

    ``reloader_interval``/``reloader_type``/``threaded``/``processes`` are accepted for
    compatibility; the server is always threaded and the reloader always uses watchfiles.
    """
    serve(
        hostname,
        int(port),
        lambda: application,
        use_reloader=use_reloader,
        use_debugger=use_debugger,
        extra_files=extra_files,
        exclude_patterns=exclude_patterns,
        ssl_context=ssl_context,
        threads=threads,
        name=getattr(application, "name", None),
        limit_request_line=limit_request_line,
        limit_request_fields=limit_request_fields,
        limit_request_field_size=limit_request_field_size,
    )


def run_app(
    app: Erlen,
    host: str | None = None,
    port: int | None = None,
    debug: bool | None = None,
    load_dotenv: bool = True,
    **options: t.Any,
) -> None:
    """``app.run()``: the development server, reloader and debug page follow ``debug``."""
    if os.environ.get("ERLEN_RUN_FROM_CLI") == "true":
        if not is_running_from_reloader():
            logging.getLogger("erlen.serving").warning(
                " * Ignoring a call to 'app.run()' while 'erlen run' serves the app."
            )
        return
    if load_dotenv and get_load_dotenv():
        from ..cli.discovery import load_dotenv as _load_dotenv

        _load_dotenv()
        if getenv("DEBUG") is not None:  # ERLEN_DEBUG, else FLASK_DEBUG
            app.debug = get_debug_flag()
    if debug is not None:
        app.debug = bool(debug)
    server_name = app.config.get("SERVER_NAME")
    sn_host, _, sn_port = (server_name or "").partition(":")
    host = host or sn_host or "127.0.0.1"
    if port is None:  # port=0 is a real request (any free port), not "unset"
        port = int(sn_port or os.environ.get("ERLEN_RUN_PORT") or 5000)
    options.setdefault("use_reloader", app.debug)
    options.setdefault("use_debugger", app.debug)
    try:
        run_simple(host, port, app, **options)
    except ServerError as e:
        sys.stderr.write(f"Error: {e}\n")
        raise SystemExit(1) from None


def serve_production(
    load: Callable[[], WSGIApp],
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 2,
    threads: int = 1,
    timeout: int = 30,
    graceful_timeout: int = 30,
    access_log: bool = True,
    certfile: str | None = None,
    keyfile: str | None = None,
    preload: bool = False,
    control_socket: str | None = None,
    options: dict[str, t.Any] | None = None,
) -> t.NoReturn:
    """Run the app under gunicorn's pre-fork arbiter (``erlen serve``); never returns.

    ``load`` runs in each worker (or once in the master with ``preload``). SIGTERM stops
    gracefully: workers finish their requests within ``graceful_timeout`` seconds.
    gunicorn's control socket (``gunicornc``, gunicorn >= 25.1) is off unless
    ``control_socket`` names its path: its default, one shared ``~/.gunicorn/gunicorn.ctl``,
    is taken over by every further instance and left behind in the home folder.
    """
    try:
        from gunicorn.app.base import BaseApplication
        from gunicorn.config import Config
    except ImportError:
        raise ServerError(
            "'erlen serve' needs gunicorn (POSIX only): pip install 'erlen[serve]'"
        ) from None
    has_control = "control_socket_disable" in Config().settings
    if control_socket and not has_control:
        raise ServerError("a control socket needs gunicorn 25.1 or later")
    bind_socket(host, port).close()  # one clear line for a busy port, before gunicorn retries
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    settings: dict[str, t.Any] = {
        "bind": [bind],
        "workers": workers,
        "threads": threads,
        "timeout": timeout,
        "graceful_timeout": graceful_timeout,
        "preload_app": preload,
        "proc_name": "erlen",
        "accesslog": "-" if access_log else None,
        "access_log_format": '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"',
        "errorlog": "-",
    }
    if certfile:
        settings["certfile"] = certfile
        settings["keyfile"] = keyfile
    if control_socket:
        settings["control_socket"] = os.path.abspath(control_socket)
    elif has_control:
        settings["control_socket_disable"] = True
    settings.update(options or {})

    class _Gunicorn(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in settings.items():
                if value is not None:
                    self.cfg.set(key, value)

        def load(self) -> WSGIApp:
            return load()

    _Gunicorn().run()
    raise SystemExit(0)
