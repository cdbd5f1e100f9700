"""erlen.login: Flask-Login 0.6's API (``from erlen.login import ...`` for ``flask_login``).

Beyond Flask-Login, for safety (docs/login.md, docs/decisions/020-login.md): the session is
rotated at login and logout (no fixation), ``safe_next`` refuses open redirects, API requests
get a JSON 401 instead of a redirect, the user id is stored as a string, and the remember
cookie is ``SameSite=Lax``. Importing ``erlen`` does not import this package.
"""

from __future__ import annotations

from .config import (
    AUTH_HEADER_NAME,
    COOKIE_DURATION,
    COOKIE_HTTPONLY,
    COOKIE_NAME,
    COOKIE_SAMESITE,
    COOKIE_SECURE,
    ID_ATTRIBUTE,
    LOGIN_MESSAGE,
    LOGIN_MESSAGE_CATEGORY,
    REFRESH_MESSAGE,
    REFRESH_MESSAGE_CATEGORY,
)
from .manager import LoginManager, wants_json
from .mixins import AnonymousUserMixin, UserMixin
from .signals import (
    session_protected,
    user_accessed,
    user_loaded_from_cookie,
    user_loaded_from_request,
    user_logged_in,
    user_logged_out,
    user_login_confirmed,
    user_needs_refresh,
    user_unauthorized,
)
from .test_client import FlaskLoginClient
from .utils import (
    confirm_login,
    current_user,
    decode_cookie,
    encode_cookie,
    fresh_login_required,
    is_safe_next_url,
    login_fresh,
    login_remembered,
    login_required,
    login_url,
    login_user,
    logout_user,
    make_next_param,
    safe_next,
    set_login_view,
)

__version__ = "0.6.3"

__all__ = [
    "AUTH_HEADER_NAME",
    "COOKIE_DURATION",
    "COOKIE_HTTPONLY",
    "COOKIE_NAME",
    "COOKIE_SAMESITE",
    "COOKIE_SECURE",
    "ID_ATTRIBUTE",
    "LOGIN_MESSAGE",
    "LOGIN_MESSAGE_CATEGORY",
    "REFRESH_MESSAGE",
    "REFRESH_MESSAGE_CATEGORY",
    "AnonymousUserMixin",
    "FlaskLoginClient",
    "LoginManager",
    "UserMixin",
    "confirm_login",
    "current_user",
    "decode_cookie",
    "encode_cookie",
    "fresh_login_required",
    "is_safe_next_url",
    "login_fresh",
    "login_remembered",
    "login_required",
    "login_url",
    "login_user",
    "logout_user",
    "make_next_param",
    "safe_next",
    "session_protected",
    "set_login_view",
    "user_accessed",
    "user_loaded_from_cookie",
    "user_loaded_from_request",
    "user_logged_in",
    "user_logged_out",
    "user_login_confirmed",
    "user_needs_refresh",
    "user_unauthorized",
    "wants_json",
]
