"""``LoginManager``: Flask-Login 0.6's settings object, on erlen's public extension API.

The user is loaded lazily, on the first use of ``current_user`` in a request (never for a
request that does not ask). The after-request hook only looks at ``g`` unless a remember
cookie must be set or cleared (or ``REMEMBER_COOKIE_REFRESH_EACH_REQUEST`` is on), so an app
with a LoginManager pays one ``g`` lookup on requests that do not log anyone in or out.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from hashlib import sha512
from typing import Any

from ..globals import current_app, g, request, session
from ..helpers import abort, flash, redirect
from . import utils
from .config import (
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
    SESSION_KEYS,
    USE_SESSION_FOR_NEXT,
)
from .mixins import AnonymousUserMixin
from .signals import (
    session_protected,
    user_accessed,
    user_loaded_from_cookie,
    user_loaded_from_request,
    user_needs_refresh,
    user_unauthorized,
)

__all__ = ["LoginManager"]

_log = logging.getLogger("erlen.login")


def _create_identifier() -> str:
    """What session protection compares: a hash of the client address and User-Agent.

    The address is ``request.remote_addr`` (behind a proxy, apply ``ProxyFix`` so it is the
    client's), not the client-chosen ``X-Forwarded-For`` Flask-Login trusts.
    """
    agent = request.headers.get("User-Agent") or ""
    base = f"{request.remote_addr}|{agent}"
    return sha512(base.encode("utf-8", "surrogateescape")).hexdigest()


def wants_json() -> bool:
    """Whether this request is an API call: a JSON body, or an ``Accept`` header that
    prefers ``application/json`` over ``text/html``."""
    if request.is_json:
        return True
    accept = request.accept_mimetypes
    return accept.best_match(("text/html", "application/json")) == "application/json"


class LoginManager:
    """Holds the login settings for one or more apps (``LoginManager(app)`` or ``init_app``)."""

    def __init__(self, app: Any = None, add_context_processor: bool = True) -> None:
        #: Class or factory of the user object when nobody is logged in.
        self.anonymous_user: Callable[[], Any] = AnonymousUserMixin
        #: Endpoint (or URL) of the login page; None: plain 401.
        self.login_view: str | None = None
        #: Login views by blueprint name (``None``: the app's own views).
        self.blueprint_login_views: dict[str | None, str] = {}
        self.login_message: str | None = LOGIN_MESSAGE
        self.login_message_category = LOGIN_MESSAGE_CATEGORY
        #: Endpoint (or URL) for re-authentication (``fresh_login_required``).
        self.refresh_view: str | None = None
        self.needs_refresh_message: str | None = REFRESH_MESSAGE
        self.needs_refresh_message_category = REFRESH_MESSAGE_CATEGORY
        #: ``"basic"`` (a new client marks the login non-fresh), ``"strong"`` (it logs the
        #: user out) or None. ``SESSION_PROTECTION`` in the config overrides it.
        self.session_protection: str | None = "basic"
        #: Translates the flashed messages when set (e.g. ``gettext``).
        self.localize_callback: Callable[[str], str] | None = None
        self.unauthorized_callback: Callable[[], Any] | None = None
        self.needs_refresh_callback: Callable[[], Any] | None = None
        self.id_attribute = ID_ATTRIBUTE
        self._user_callback: Callable[[str], Any] | None = None
        self._request_callback: Callable[[Any], Any] | None = None
        self._session_identifier_generator: Callable[[], str] = _create_identifier
        if app is not None:
            self.init_app(app, add_context_processor)

    def init_app(self, app: Any, add_context_processor: bool = True) -> None:
        """Attach to ``app`` (``app.login_manager``), add the remember-cookie hook and the
        ``current_user`` template variable."""
        app.login_manager = self
        app.extensions["login_manager"] = self
        app.after_request(self._update_remember_cookie)
        if add_context_processor:
            app.context_processor(utils._user_context_processor)

    # -- callbacks --------------------------------------------------------------------------
    def user_loader(self, callback: Callable[[str], Any]) -> Callable[[str], Any]:
        """Set the function that loads a user from the id (a ``str``) the session stores."""
        self._user_callback = callback
        return callback

    @property
    def user_callback(self) -> Callable[[str], Any] | None:
        return self._user_callback

    def request_loader(self, callback: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """Set the function that loads a user from the request (API keys, tokens)."""
        self._request_callback = callback
        return callback

    @property
    def request_callback(self) -> Callable[[Any], Any] | None:
        return self._request_callback

    def unauthorized_handler(self, callback: Callable[[], Any]) -> Callable[[], Any]:
        """Set what ``unauthorized()`` returns instead of the default redirect."""
        self.unauthorized_callback = callback
        return callback

    def needs_refresh_handler(self, callback: Callable[[], Any]) -> Callable[[], Any]:
        """Set what ``needs_refresh()`` returns instead of the default redirect."""
        self.needs_refresh_callback = callback
        return callback

    # -- responses for users who may not pass ------------------------------------------------
    def unauthorized(self) -> Any:
        """The response for a user who must log in: the ``unauthorized_handler``'s, else a
        JSON 401 for API requests, else a redirect to the login view with ``next`` (and the
        login message flashed), else 401."""
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        if user_unauthorized.receivers:
            user_unauthorized.send(app)
        if self.unauthorized_callback:
            return self.unauthorized_callback()
        if wants_json():
            return self._json_401("unauthorized", self.login_message or LOGIN_MESSAGE)
        login_view: str | None
        if request.blueprint in self.blueprint_login_views:
            login_view = self.blueprint_login_views[request.blueprint]
        else:
            login_view = self.login_view
        if not login_view:
            abort(401)
        self._flash(self.login_message, self.login_message_category)
        return redirect(self._redirect_url(login_view))

    def needs_refresh(self) -> Any:
        """The response for a user whose login is not fresh: the ``needs_refresh_handler``'s,
        else a JSON 401 for API requests, else a redirect to ``refresh_view``, else 401."""
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        if user_needs_refresh.receivers:
            user_needs_refresh.send(app)
        if self.needs_refresh_callback:
            return self.needs_refresh_callback()
        if wants_json():
            return self._json_401(
                "reauthentication required", self.needs_refresh_message or REFRESH_MESSAGE
            )
        if not self.refresh_view:
            abort(401)
        self._flash(self.needs_refresh_message, self.needs_refresh_message_category)
        return redirect(self._redirect_url(self.refresh_view))

    def _flash(self, message: str | None, category: str) -> None:
        if message:
            if self.localize_callback is not None:
                message = self.localize_callback(message)
            flash(message, category=category)

    def _redirect_url(self, view: str) -> str:
        if current_app.config.get("USE_SESSION_FOR_NEXT", USE_SESSION_FOR_NEXT):
            session["_id"] = self._session_identifier_generator()
            session["next"] = utils.make_next_param(utils.expand_login_view(view), request.url)
            return utils.login_url(view)
        return utils.login_url(view, next_url=request.url)

    def _json_401(self, error: str, message: str) -> Any:
        if self.localize_callback is not None:
            message = self.localize_callback(message)
        _log.info("401 for %s %s: %s (JSON request)", request.method, request.path, error)
        body = json.dumps({"error": error, "message": message})
        return current_app.response_class(body, status=401, mimetype="application/json")

    # -- loading the user ---------------------------------------------------------------------
    def _update_request_context_with_user(self, user: Any = None) -> None:
        g._login_user = self.anonymous_user() if user is None else user

    def _load_user(self) -> None:
        """Find this request's user: session, then remember cookie, then request loader."""
        if self._user_callback is None and self._request_callback is None:
            raise RuntimeError(
                "Missing user_loader or request_loader: set one with "
                "@login_manager.user_loader (see docs/login.md)."
            )
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        if user_accessed.receivers:
            user_accessed.send(app)
        if self._session_protection_failed(app):
            return self._update_request_context_with_user()
        user = None
        user_id = session.get("_user_id")
        if user_id is not None and self._user_callback is not None:
            user = self._user_callback(user_id)
        if user is None:
            cookie_name = app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME)
            cookie = request.cookies.get(cookie_name)
            if cookie is not None and session.get("_remember") != "clear":
                user = self._load_user_from_remember_cookie(app, cookie)
            elif self._request_callback is not None:
                user = self._request_callback(request._get_current_object())  # type: ignore[attr-defined]
                if user is not None and user_loaded_from_request.receivers:
                    user_loaded_from_request.send(app, user=user)
        return self._update_request_context_with_user(user)

    def _session_protection_failed(self, app: Any) -> bool:
        mode = app.config.get("SESSION_PROTECTION", self.session_protection)
        if mode not in ("basic", "strong"):
            return False
        sess = session._get_current_object()  # type: ignore[attr-defined]
        # an empty session is an anonymous user or one who just logged out: nothing to guard
        if not sess or self._session_identifier_generator() == sess.get("_id"):
            return False
        if mode == "basic" or sess.permanent:
            if sess.get("_fresh") is not False:
                sess["_fresh"] = False
            if session_protected.receivers:
                session_protected.send(app)
            return False
        for key in SESSION_KEYS:
            sess.pop(key, None)
        utils._mark_remember("clear")
        _log.info("Session protection (strong): a new client for this session; logged out.")
        if session_protected.receivers:
            session_protected.send(app)
        return True

    def _load_user_from_remember_cookie(self, app: Any, cookie: str) -> Any:
        user_id = utils.decode_cookie(cookie)
        if user_id is None:
            _log.info("Ignoring a remember cookie whose signature does not verify.")
            return None
        user = self._user_callback(user_id) if self._user_callback else None
        if user is None:
            return None
        utils._rotate_session(app, clear="never")  # a planted session id must not log in
        session["_user_id"] = user_id
        session["_fresh"] = False
        session["_id"] = self._session_identifier_generator()
        if user_loaded_from_cookie.receivers:
            user_loaded_from_cookie.send(app, user=user)
        return user

    # -- the remember cookie ------------------------------------------------------------------
    def _update_remember_cookie(self, response: Any) -> Any:
        config = current_app.config
        if not g.get("_erlen_login_remember"):
            if not config.get("REMEMBER_COOKIE_REFRESH_EACH_REQUEST"):
                return response
            if "_remember" not in session:
                session["_remember"] = "set"
        operation = session.pop("_remember", None)
        if operation == "set" and "_user_id" in session:
            self._set_cookie(response)
        elif operation == "clear":
            self._clear_cookie(response)
        return response

    def _set_cookie(self, response: Any) -> None:
        config = current_app.config
        if "_remember_seconds" in session:
            duration: Any = timedelta(seconds=session["_remember_seconds"])
        else:
            duration = config.get("REMEMBER_COOKIE_DURATION", COOKIE_DURATION)
        if isinstance(duration, int | float):
            duration = timedelta(seconds=duration)
        if not isinstance(duration, timedelta):
            raise TypeError(  # Flask-Login's words
                f"REMEMBER_COOKIE_DURATION must be a datetime.timedelta, instead got: {duration}"
            )
        response.set_cookie(
            config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME),
            value=utils.encode_cookie(str(session["_user_id"])),
            expires=datetime.now(UTC) + duration,
            domain=config.get("REMEMBER_COOKIE_DOMAIN"),
            path=config.get("REMEMBER_COOKIE_PATH", "/"),
            secure=config.get("REMEMBER_COOKIE_SECURE", COOKIE_SECURE),
            httponly=config.get("REMEMBER_COOKIE_HTTPONLY", COOKIE_HTTPONLY),
            samesite=config.get("REMEMBER_COOKIE_SAMESITE", COOKIE_SAMESITE),
        )

    def _clear_cookie(self, response: Any) -> None:
        config = current_app.config
        response.delete_cookie(
            config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME),
            domain=config.get("REMEMBER_COOKIE_DOMAIN"),
            path=config.get("REMEMBER_COOKIE_PATH", "/"),
            secure=config.get("REMEMBER_COOKIE_SECURE", COOKIE_SECURE),
            httponly=config.get("REMEMBER_COOKIE_HTTPONLY", COOKIE_HTTPONLY),
            samesite=config.get("REMEMBER_COOKIE_SAMESITE", COOKIE_SAMESITE),
        )
