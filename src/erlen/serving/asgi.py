"""``erlen serve --asgi``: the app under an ASGI server (uvicorn, else granian)."""

from __future__ import annotations

import typing as t
from collections.abc import Callable

from . import ServerError, bind_socket


def serve_asgi(
    load: Callable[[], t.Any],
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    access_log: bool = True,
    certfile: str | None = None,
    keyfile: str | None = None,
    server: str = "auto",
) -> t.NoReturn:
    """Run the app under an ASGI server (``erlen serve --asgi``): uvicorn, else granian.

    One process on the server's event loop (async views, WebSockets, lifespan); for more
    processes, run several behind a proxy, or the server's own command with ``--workers``
    (docs/asgi.md). Never returns.
    """
    chosen = server
    if chosen == "auto":
        import importlib.util

        chosen = "uvicorn" if importlib.util.find_spec("uvicorn") else "granian"
    app = load()
    bind_socket(host, port).close()  # one clear line for a busy port
    if chosen == "uvicorn":
        try:
            import uvicorn
        except ImportError:
            raise ServerError(
                "'erlen serve --asgi' needs uvicorn: pip install 'erlen[asgi]'"
            ) from None
        uvicorn.run(
            app.asgi_app,
            host=host,
            port=port,
            interface="asgi3",
            lifespan="on",
            access_log=access_log,
            ssl_certfile=certfile,
            ssl_keyfile=keyfile,
            log_level="info",
        )
        raise SystemExit(0)
    if chosen == "granian":
        try:
            from granian.server.embed import Server as GranianServer
        except ImportError:
            raise ServerError(
                "'erlen serve --asgi granian' needs granian: pip install granian"
            ) from None
        import asyncio

        from granian.constants import Interfaces

        granian_server = GranianServer(
            app.asgi_app, address=host, port=port, interface=Interfaces.ASGI
        )
        asyncio.run(granian_server.serve())
        raise SystemExit(0)
    raise ServerError(f"unknown ASGI server {server!r}: choose uvicorn or granian")
