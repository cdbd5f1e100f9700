"""Sessions: the interface the app calls, the signed-cookie default, server-side sessions.

- :mod:`.base`: ``SessionInterface``, ``SessionMixin``, ``SecureCookieSession``,
  ``NullSession`` (what the core uses);
- :mod:`.cookie`: ``SecureCookieSessionInterface``, the default (Flask's cookie format);
- :mod:`.server`, :mod:`.backends`, :mod:`.extension`: server-side sessions (Flask-Session's
  API): ``Session(app)`` installs the interface ``SESSION_TYPE`` names. The backends import their
  client libraries (redis, cachelib, SQLAlchemy) only when chosen.
"""

from __future__ import annotations

from .base import NullSession, SecureCookieSession, SessionInterface, SessionMixin
from .cookie import SecureCookieSessionInterface, session_json_serializer
from .extension import Session
from .server import (
    ServerSideSession,
    ServerSideSessionInterface,
    SessionSerializer,
    SessionStoreUnavailable,
)

__all__ = [
    "NullSession",
    "SecureCookieSession",
    "SecureCookieSessionInterface",
    "ServerSideSession",
    "ServerSideSessionInterface",
    "Session",
    "SessionInterface",
    "SessionMixin",
    "SessionSerializer",
    "SessionStoreUnavailable",
    "session_json_serializer",
]
