"""The app under an ASGI server: ``erlen serve --asgi`` (uvicorn, else granian) and the
development server's ASGI path (``erlen run`` for apps with WebSocket routes, or ``--asgi``)."""

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


def wants_asgi(app: t.Any) -> bool:
    """Whether the development server should serve ``app`` under ASGI: it has WebSocket routes
    (which a WSGI server can only answer 426)."""
    url_map = getattr(app, "url_map", None)
    if url_map is None or not hasattr(app, "asgi_app"):
        return False
    return any(getattr(rule, "websocket", False) for rule in url_map.iter_rules())


def have_uvicorn() -> bool:
    import importlib.util

    return importlib.util.find_spec("uvicorn") is not None


def serve_asgi_dev(
    app: t.Any,
    sock: t.Any,
    *,
    use_debugger: bool = False,
    ssl_files: tuple[str, str | None] | None = None,
) -> None:
    """``erlen run``'s ASGI path: uvicorn on the already bound (possibly inherited from the
    reloader) socket, lifespan on. The debug page wraps ``app.wsgi_app`` (the request path
    the ASGI adapter runs), so a failing view shows it as under WSGI; uvicorn logs requests."""
    try:
        import uvicorn
    except ImportError:
        raise ServerError(
            "serving WebSockets needs uvicorn: pip install 'erlen[asgi]'"
        ) from None
    if use_debugger:
        from .debug import DebuggedApplication

        app.wsgi_app = DebuggedApplication(app.wsgi_app)
    certfile, keyfile = ssl_files or (None, None)
    config = uvicorn.Config(
        app.asgi_app,
        interface="asgi3",
        lifespan="on",
        log_level="info",
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
    )
    uvicorn.Server(config).run(sockets=[sock])
