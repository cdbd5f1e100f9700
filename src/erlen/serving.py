"""Serving an app during development.

Interim: a threaded stdlib server so ``app.run()`` and the demo work; the development and
production servers proper (reloader, keep-alive, workers) arrive with the serving issue.
"""

from __future__ import annotations

import logging
import os
import sys
import typing as t
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

if t.TYPE_CHECKING:
    from .app import Erlen

_log = logging.getLogger("erlen.serving")


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002
        _log.info("%s - %s", self.address_string(), format % args)


def run_app(
    app: Erlen,
    host: str | None = None,
    port: int | None = None,
    debug: bool | None = None,
    load_dotenv: bool = True,
    **options: t.Any,
) -> None:
    """Serve ``app`` until interrupted (Ctrl-C)."""
    if debug is not None:
        app.debug = bool(debug)
    host = host or "127.0.0.1"
    port = int(port or os.environ.get("ERLEN_RUN_PORT") or 5000)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        server = make_server(
            host, port, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
        )
    except OSError as e:
        print(f"Error: could not listen on {host}:{port}: {e.strerror}", file=sys.stderr)
        raise SystemExit(1) from None
    print(
        f" * Serving Erlen app '{app.name}' on http://{host}:{port}/ (Ctrl-C to quit)",
        file=sys.stderr,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
