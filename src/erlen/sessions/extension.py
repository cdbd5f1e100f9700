"""``Session(app)``: Flask-Session 0.8's extension, installing a server-side session interface."""

from __future__ import annotations

import os
from typing import Any

from .server import ServerSideSessionInterface

__all__ = ["Session"]

#: Flask-Session 0.8's defaults for the keys ``init_app`` reads (``SESSION_RETRY_AFTER`` is
#: erlen's: the ``Retry-After`` seconds of the 503 a store outage gives).
DEFAULTS: dict[str, Any] = {
    "SESSION_TYPE": "null",
    "SESSION_KEY_PREFIX": "session:",
    "SESSION_USE_SIGNER": False,
    "SESSION_PERMANENT": True,
    "SESSION_ID_LENGTH": 32,
    "SESSION_SERIALIZATION_FORMAT": "msgpack",
    "SESSION_RETRY_AFTER": 5,
    "SESSION_CLEANUP_N_REQUESTS": None,
    "SESSION_REDIS": None,
    "SESSION_CACHELIB": None,
    "SESSION_FILE_DIR": None,  # ./flask_session, resolved at init_app
    "SESSION_FILE_THRESHOLD": 500,
    "SESSION_FILE_MODE": 0o600,
    "SESSION_SQLALCHEMY": None,
    "SESSION_SQLALCHEMY_TABLE": "sessions",
    "SESSION_SQLALCHEMY_SEQUENCE": None,
    "SESSION_SQLALCHEMY_SCHEMA": None,
    "SESSION_SQLALCHEMY_BIND_KEY": None,
}
_TYPES = ("redis", "cachelib", "filesystem", "sqlalchemy")


class Session:
    """Server-side sessions for one or more apps: ``Session(app)`` or ``init_app(app)``
    replaces ``app.session_interface`` with the backend ``SESSION_TYPE`` names. Views keep
    using ``erlen.session``; the config is read once, at ``init_app``."""

    def __init__(self, app: Any = None) -> None:
        self.app = app
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Any) -> None:
        interface = self._get_interface(app)
        app.session_interface = interface
        app.extensions["session"] = self

    def _get_interface(self, app: Any) -> ServerSideSessionInterface:
        from . import backends

        config = {key: app.config.get(key, default) for key, default in DEFAULTS.items()}
        kind = str(config["SESSION_TYPE"]).lower()
        common: dict[str, Any] = {
            "key_prefix": config["SESSION_KEY_PREFIX"],
            "use_signer": bool(config["SESSION_USE_SIGNER"]),
            "permanent": bool(config["SESSION_PERMANENT"]),
            "sid_length": int(config["SESSION_ID_LENGTH"]),
            "serialization_format": config["SESSION_SERIALIZATION_FORMAT"],
            "retry_after": int(config["SESSION_RETRY_AFTER"]),
        }
        if kind == "redis":
            return backends.RedisSessionInterface(app, client=config["SESSION_REDIS"], **common)
        if kind == "cachelib":
            return backends.CacheLibSessionInterface(
                app, client=config["SESSION_CACHELIB"], **common
            )
        if kind == "filesystem":
            return backends.FileSystemSessionInterface(
                app,
                cache_dir=config["SESSION_FILE_DIR"] or os.path.join(os.getcwd(), "flask_session"),
                threshold=config["SESSION_FILE_THRESHOLD"],
                mode=config["SESSION_FILE_MODE"],
                **common,
            )
        if kind == "sqlalchemy":
            return backends.SqlAlchemySessionInterface(
                app,
                client=config["SESSION_SQLALCHEMY"],
                table=config["SESSION_SQLALCHEMY_TABLE"],
                sequence=config["SESSION_SQLALCHEMY_SEQUENCE"],
                schema=config["SESSION_SQLALCHEMY_SCHEMA"],
                bind_key=config["SESSION_SQLALCHEMY_BIND_KEY"],
                cleanup_n_requests=config["SESSION_CLEANUP_N_REQUESTS"],
                **common,
            )
        raise ValueError(
            f"Unrecognized value for SESSION_TYPE: {config['SESSION_TYPE']!r}; erlen supports "
            f"{', '.join(_TYPES)}."
        )
