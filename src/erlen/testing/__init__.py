"""Testing tools: the test client, the environ builder and the CLI runner.

``app.test_client()`` returns an ``ErlenClient``; ``app.test_cli_runner()`` an
``ErlenCliRunner``. Both behave as Flask's, so existing Flask tests run unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from click.testing import CliRunner, Result

from .client import Client, ClientRedirectError, ErlenClient, TestResponse, run_wsgi_app
from .cookies import Cookie
from .environ import EnvironBuilder, encode_multipart, stream_encode_multipart

if TYPE_CHECKING:
    from .asgi import WebSocketClosed, WebSocketDenied, WebSocketTestSession
    from .asgi_client import ASGIClient

__all__ = [
    "ASGIClient",
    "Client",
    "ClientRedirectError",
    "Cookie",
    "EnvironBuilder",
    "ErlenCliRunner",
    "ErlenClient",
    "FlaskCliRunner",
    "FlaskClient",
    "TestResponse",
    "WebSocketClosed",
    "WebSocketDenied",
    "WebSocketTestSession",
    "encode_multipart",
    "run_wsgi_app",
    "stream_encode_multipart",
]


def __getattr__(name: str) -> Any:
    # the ASGI test tools import asyncio: loaded when asked for (WSGI tests never pay it)
    if name == "ASGIClient":
        from .asgi_client import ASGIClient

        return ASGIClient
    if name in ("WebSocketClosed", "WebSocketDenied", "WebSocketTestSession"):
        from . import asgi

        return getattr(asgi, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class ErlenCliRunner(CliRunner):
    """A click ``CliRunner`` that runs the app's commands (Flask's ``FlaskCliRunner``)."""

    def __init__(self, app: Any, **kwargs: Any) -> None:
        self.app = app
        super().__init__(**kwargs)

    def invoke(self, cli: Any = None, args: Any = None, **kwargs: Any) -> Result:  # type: ignore[override]
        """Invoke ``cli`` (default ``app.cli``) with a ScriptInfo loading this app."""
        if cli is None:
            cli = self.app.cli
        if "obj" not in kwargs:
            from ..cli import ScriptInfo

            kwargs["obj"] = ScriptInfo(create_app=lambda: self.app)
        return super().invoke(cli, args, **kwargs)


# Flask's names, so ``from flask.testing import FlaskClient`` ports by changing the package only.
FlaskClient = ErlenClient
FlaskCliRunner = ErlenCliRunner
