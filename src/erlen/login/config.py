"""Defaults of erlen.login: Flask-Login 0.6's names and values, except where safety differs.

The one deliberate difference: ``COOKIE_SAMESITE`` is ``"Lax"`` (Flask-Login: None), so the
remember cookie is not sent on cross-site subrequests (docs/decisions/020-login.md).
"""

from __future__ import annotations

from datetime import timedelta

#: The name of the "remember me" cookie.
COOKIE_NAME = "remember_token"
#: How long the "remember me" cookie lasts (``REMEMBER_COOKIE_DURATION``).
COOKIE_DURATION = timedelta(days=365)
#: Whether the "remember me" cookie requires HTTPS (``REMEMBER_COOKIE_SECURE``).
COOKIE_SECURE = False
#: Whether scripts cannot read the "remember me" cookie (``REMEMBER_COOKIE_HTTPONLY``).
COOKIE_HTTPONLY = True
#: ``REMEMBER_COOKIE_SAMESITE``: "Lax" (Flask-Login: None), for safety.
COOKIE_SAMESITE = "Lax"
#: Flashed when a user must log in.
LOGIN_MESSAGE = "Please log in to access this page."
LOGIN_MESSAGE_CATEGORY = "message"
#: Flashed when a user must log in again (``fresh_login_required``).
REFRESH_MESSAGE = "Please reauthenticate to access this page."
REFRESH_MESSAGE_CATEGORY = "message"
#: The user method that gives the id stored in the session.
ID_ATTRIBUTE = "get_id"
AUTH_HEADER_NAME = "Authorization"
#: The session keys erlen.login writes (purged when strong session protection trips).
SESSION_KEYS = frozenset({"_user_id", "_remember", "_remember_seconds", "_id", "_fresh", "next"})
#: Methods ``login_required`` lets through (CORS preflight).
EXEMPT_METHODS = frozenset({"OPTIONS"})
#: Store the page to return to in the session instead of the ``next`` query argument.
USE_SESSION_FOR_NEXT = False
#: Session keys that survive the session rotation at login and logout (beyond
#: ``LOGIN_SESSION_KEEP_KEYS``): the user's pending flashed messages and the permanent flag.
SESSION_KEEP_KEYS = ("_flashes", "_permanent")
