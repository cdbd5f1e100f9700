"""erlen.login's functions: Flask-Login 0.6's ``flask_login.utils`` API, plus safe ``next`` URLs.

Beyond Flask-Login (docs/decisions/020-login.md): ``login_user`` and ``logout_user`` rotate the
session against fixation (and drop the CSRF token when erlen.forms is in use), the remember
cookie accepts ``SECRET_KEY_FALLBACKS``, and ``is_safe_next_url``/``safe_next`` give the login
view a ``next`` it can redirect to without becoming an open redirect.
"""

from __future__ import annotations

import hmac
import sys
from collections.abc import Callable
from functools import wraps
from hashlib import sha512
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from ..ctx import has_request_context
from ..globals import LocalProxy, current_app, g, request, session
from ..helpers import url_for
from .config import COOKIE_NAME, EXEMPT_METHODS, SESSION_KEEP_KEYS
from .signals import user_logged_in, user_logged_out, user_login_confirmed

__all__ = [
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
    "set_login_view",
]

F = TypeVar("F", bound=Callable[..., Any])

#: The user of this request (an anonymous user when nobody is logged in; None outside a
#: request). Loaded on first use, once per request.
current_user: Any = LocalProxy(lambda: _get_user(), unbound_message="no request context")

_MAX_COOKIE = 4096
_MAX_NEXT = 2048


# -- the remember cookie: Flask-Login's format "<user id>|<HMAC-SHA512 hex>" ----------------
def _keys(key: Any = None) -> list[bytes]:
    """Signing keys, newest first: ``key``, or SECRET_KEY then SECRET_KEY_FALLBACKS."""
    if key is not None:
        keys = [key]
    else:
        config = current_app.config
        keys = [config.get("SECRET_KEY"), *(config.get("SECRET_KEY_FALLBACKS") or ())]
    out = [k.encode("latin1") if isinstance(k, str) else k for k in keys if k]
    if not out:
        raise RuntimeError("The remember cookie needs a SECRET_KEY in the app config.")
    return out


def _secret_key(key: Any = None) -> bytes:
    """Flask-Login's name for the signing key as bytes (apps and its tests import it)."""
    return _keys(key)[0]


def _digest(payload: str, key: bytes) -> str:
    return hmac.new(key, payload.encode("utf-8"), sha512).hexdigest()


def encode_cookie(payload: str, key: Any = None) -> str:
    """``payload`` signed for the remember cookie (with ``key`` or the app's SECRET_KEY)."""
    return f"{payload}|{_digest(payload, _keys(key)[0])}"


def decode_cookie(cookie: Any, key: Any = None) -> str | None:
    """The payload of a cookie made by ``encode_cookie``; None when it is not genuine (any
    malformed or forged value: never raises). Constant-time comparison."""
    if not isinstance(cookie, str) or len(cookie) > _MAX_COOKIE:
        return None
    payload, sep, digest = cookie.rpartition("|")
    if not sep or len(digest) != 128 or not digest.isascii():
        return None
    try:
        keys = _keys(key)
        payload.encode("utf-8")
    except (RuntimeError, UnicodeError):
        return None
    ok = False
    for k in keys:  # every key is tried: the time taken does not say which one matched
        ok |= hmac.compare_digest(_digest(payload, k), digest)
    return payload if ok else None


# -- next URLs ------------------------------------------------------------------------------
def make_next_param(login_url: str, current_url: str) -> str:
    """``current_url`` reduced to path and query when the login page is on the same host."""
    l_url = urlsplit(login_url)
    c_url = urlsplit(current_url)
    if (not l_url.scheme or l_url.scheme == c_url.scheme) and (
        not l_url.netloc or l_url.netloc == c_url.netloc
    ):
        return urlunsplit(("", "", c_url.path, c_url.query, ""))
    return current_url


def expand_login_view(login_view: str) -> str:
    """A URL for ``login_view``: itself when it is a URL, else ``url_for(login_view)``."""
    if login_view.startswith(("https://", "http://", "/")):
        return login_view
    return url_for(login_view)


def login_url(login_view: str, next_url: str | None = None, next_field: str = "next") -> str:
    """The URL of ``login_view`` (an endpoint or a URL), with ``next_field=next_url`` added
    to its query. ``FORCE_HOST_FOR_REDIRECTS`` forces the host, as in Flask-Login."""
    base = expand_login_view(login_view)
    if next_url is None:
        return base
    parts = urlsplit(base)
    query = parse_qs(parts.query, keep_blank_values=True)
    query[next_field] = [make_next_param(base, next_url)]
    netloc = current_app.config.get("FORCE_HOST_FOR_REDIRECTS") or parts.netloc
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query, doseq=True)))


def is_safe_next_url(url: Any, host: str | None = None) -> bool:
    """Whether ``url`` is a same-site address a login view may redirect to.

    Accepted: a path starting with one ``/`` (``/account?tab=2``), or an ``http(s)`` URL whose
    host is ``host`` (default: this request's host). Refused: other hosts, scheme-relative
    ``//host``, any backslash (browsers read ``/\\host`` as ``//host``), any control
    character or space (browsers drop tab/CR/LF, so ``/\\t/evil.com`` is ``//evil.com``),
    other schemes (``javascript:``), and anything over 2048 characters.
    """
    if not isinstance(url, str) or not url or len(url) > _MAX_NEXT:
        return False
    if "\\" in url or any(c <= " " or c == "\x7f" for c in url):
        return False
    if url.startswith("/"):
        return not url.startswith("//")
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    if host is None:
        if not has_request_context():
            return False
        host = request.host
    if "@" in parts.netloc:  # user info: "http://good@evil"; never needed in a next URL
        return False
    return parts.netloc.lower() == host.lower()


def safe_next(default: str = "/", next_url: Any = None) -> str:
    """The page to go to after logging in: ``next_url`` (default: the ``next`` form or
    query value, else the session's ``next`` with ``USE_SESSION_FOR_NEXT``) when
    ``is_safe_next_url`` accepts it, else ``default``. Use it instead of reading ``next``."""
    if next_url is None:
        next_url = request.values.get("next")
        if next_url is None and current_app.config.get("USE_SESSION_FOR_NEXT"):
            next_url = session.pop("next", None)
    return next_url if is_safe_next_url(next_url) else default  # type: ignore[no-any-return]


# -- session rotation (against fixation) ----------------------------------------------------
def _rotate_session(app: Any, clear: str) -> None:
    """Give the session a new identity at a privilege change (against session fixation).

    A server-side session (its interface has ``regenerate``) gets a new id and the old one
    stops working. A signed-cookie session has no id: its contents are the session. So
    ``clear`` says when the old contents go: ``"cookie"`` (login: only a signed-cookie
    session is cleared), ``"always"`` (logout) or ``"never"`` (a login restored from the
    remember cookie). Cleared means all but ``SESSION_KEEP_KEYS`` (flashed messages, the
    permanent flag), ``LOGIN_SESSION_KEEP_KEYS`` and, with ``USE_SESSION_FOR_NEXT``, ``next``.
    The CSRF token is dropped when erlen.forms is in use. ``LOGIN_ROTATE_SESSION = False``
    keeps Flask-Login's behaviour (nothing rotates).
    """
    config = app.config
    if not config.get("LOGIN_ROTATE_SESSION", True):
        return
    sess = session._get_current_object()  # type: ignore[attr-defined]
    interface = app.session_interface
    regenerated = False
    regenerate = getattr(interface, "regenerate", None)
    if regenerate is not None and not interface.is_null_session(sess):
        try:
            regenerate(sess)
            regenerated = True
        except TypeError:  # not a session this interface made (e.g. set by a test)
            pass
    if clear == "always" or (clear == "cookie" and not regenerated):
        keep = {*SESSION_KEEP_KEYS, *(config.get("LOGIN_SESSION_KEEP_KEYS") or ())}
        if config.get("USE_SESSION_FOR_NEXT"):
            keep.add("next")
        kept = {k: sess[k] for k in keep if k in sess}
        if len(kept) != len(sess):
            sess.clear()
            sess.update(kept)
    forms = sys.modules.get("erlen.forms")  # loaded only if the app uses it: no import here
    rotate = getattr(forms, "rotate_csrf", None)
    if rotate is not None:
        rotate()


def _mark_remember(operation: str) -> None:
    """Ask the after-request hook to set or clear the remember cookie."""
    session["_remember"] = operation
    g._erlen_login_remember = True


# -- logging in and out ---------------------------------------------------------------------
def login_user(
    user: Any,
    remember: bool = False,
    duration: Any = None,
    force: bool = False,
    fresh: bool = True,
) -> bool:
    """Log ``user`` in for this session; False (nothing done) when the user is inactive and
    not ``force``. ``remember`` also sets the remember cookie, for ``duration`` (a
    ``timedelta``; default ``REMEMBER_COOKIE_DURATION``). The session is rotated first."""
    if not force and not user.is_active:
        return False
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    manager = app.login_manager
    user_id = getattr(user, manager.id_attribute)()
    if duration is not None:
        try:
            seconds = duration.total_seconds()
        except AttributeError as e:
            raise TypeError(
                f"duration must be a datetime.timedelta, instead got: {duration}"
            ) from e
    _rotate_session(app, clear="cookie")
    session["_user_id"] = None if user_id is None else str(user_id)
    session["_fresh"] = fresh
    session["_id"] = manager._session_identifier_generator()
    if remember:
        _mark_remember("set")
        if duration is not None:
            session["_remember_seconds"] = seconds
    manager._update_request_context_with_user(user)
    if user_logged_in.receivers:
        user_logged_in.send(app, user=_get_user())
    return True


def logout_user() -> bool:
    """Log the current user out: the session is rotated (its contents dropped but for
    flashed messages and the permanent flag) and the remember cookie deleted."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    user = _get_user()
    for key in ("_user_id", "_fresh", "_id", "_remember_seconds"):
        if key in session:
            session.pop(key)
    _rotate_session(app, clear="always")
    cookie_name = app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME)
    if cookie_name in request.cookies:
        _mark_remember("clear")
    if user_logged_out.receivers:
        user_logged_out.send(app, user=user)
    app.login_manager._update_request_context_with_user()
    return True


def confirm_login() -> None:
    """Mark the login fresh again (after the user re-entered their password)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    session["_fresh"] = True
    session["_id"] = app.login_manager._session_identifier_generator()
    if user_login_confirmed.receivers:
        user_login_confirmed.send(app)


def login_fresh() -> bool:
    """True when the user logged in during this session (not restored from the cookie)."""
    return bool(session.get("_fresh", False))


def login_remembered() -> bool:
    """True when the request carries a genuine remember cookie that is not being cleared."""
    cookie_name = current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME)
    cookie = request.cookies.get(cookie_name)
    if cookie is None or session.get("_remember") == "clear":
        return False
    return decode_cookie(cookie) is not None


# -- decorators -----------------------------------------------------------------------------
def login_required(func: F) -> F:
    """Call the view only for a logged-in user; others get ``login_manager.unauthorized()``
    (a redirect to the login view, a JSON 401 for API requests, or 401). ``OPTIONS`` and
    ``LOGIN_DISABLED`` pass."""

    @wraps(func)
    def decorated_view(*args: Any, **kwargs: Any) -> Any:
        if (
            request.method not in EXEMPT_METHODS
            and not current_app.config.get("LOGIN_DISABLED")
            and not current_user.is_authenticated
        ):
            return _manager().unauthorized()
        return current_app.ensure_sync(func)(*args, **kwargs)

    decorated_view._erlen_login_required = "login"  # type: ignore[attr-defined]  # erlen.openapi
    return decorated_view  # type: ignore[return-value]


def fresh_login_required(func: F) -> F:
    """As ``login_required``, and a login restored from the remember cookie (not fresh) gets
    ``login_manager.needs_refresh()``: for password or e-mail changes."""

    @wraps(func)
    def decorated_view(*args: Any, **kwargs: Any) -> Any:
        if request.method not in EXEMPT_METHODS and not current_app.config.get("LOGIN_DISABLED"):
            if not current_user.is_authenticated:
                return _manager().unauthorized()
            if not login_fresh():
                return _manager().needs_refresh()
        return current_app.ensure_sync(func)(*args, **kwargs)

    decorated_view._erlen_login_required = "fresh"  # type: ignore[attr-defined]  # erlen.openapi
    return decorated_view  # type: ignore[return-value]


# as decorators in a list (Flask-RESTful's ``method_decorators``), for erlen.openapi
login_required._erlen_login_required = "login"  # type: ignore[attr-defined]
fresh_login_required._erlen_login_required = "fresh"  # type: ignore[attr-defined]


def set_login_view(login_view: str, blueprint: Any = None) -> None:
    """Set the login view of the app, or of ``blueprint`` (Flask-Login's function)."""
    manager = _manager()
    views = manager.blueprint_login_views
    if blueprint is not None or views:
        views[blueprint.name if blueprint is not None else None] = login_view
        if manager.login_view is not None and None not in views:
            views[None] = manager.login_view
        manager.login_view = None
    else:
        manager.login_view = login_view


def _manager() -> Any:
    app: Any = current_app
    return app.login_manager


def _get_user() -> Any:
    if not has_request_context():
        return None
    user = g.get("_login_user")
    if user is None:
        _manager()._load_user()
        user = g._login_user
    return user


def _user_context_processor() -> dict[str, Any]:
    return {"current_user": _get_user()}
