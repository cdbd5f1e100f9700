"""Roles: Flask-Security-Too's ``Security``, ``UserMixin``/``RoleMixin`` and the
``roles_required``/``roles_accepted``/``auth_required`` decorators, on erlen.login.

erlen.security is in the core layer, erlen.login a battery above it: this module imports
erlen.login only inside functions (when a decorated view runs or ``Security`` is set up), and
the mixins are duck-typed (they do not subclass erlen.login's).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from ..globals import current_app, g, request
from ..helpers import abort, redirect, url_for
from .datastore import UserDatastore, hash_password

__all__ = [
    "RoleMixin",
    "Security",
    "UserMixin",
    "auth_required",
    "hash_password",
    "roles_accepted",
    "roles_required",
    "verify_and_update_password",
    "verify_password",
]

F = TypeVar("F", bound=Callable[..., Any])
_log = logging.getLogger("erlen.security")


class RoleMixin:
    """Roles compare equal to their name (``role == "admin"``) and to roles of that name."""

    name: Any

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return bool(self.name == other)
        return bool(self.name == getattr(other, "name", None))

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(self.name)


class UserMixin:
    """What erlen.login needs from a user (``is_active`` from the ``active`` column, ``get_id``
    the ``fs_uniquifier`` when the model has one, else the id), and ``has_role``."""

    __hash__ = object.__hash__

    @property
    def is_active(self) -> bool:
        return bool(getattr(self, "active", True))

    @property
    def is_authenticated(self) -> bool:
        return self.is_active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """``fs_uniquifier`` (changing it logs the user out everywhere), else the id."""
        value = getattr(self, "fs_uniquifier", None)
        if value is None:
            value = getattr(self, "id", None)
        if value is None:
            raise NotImplementedError("No `fs_uniquifier` or `id` attribute - override `get_id`")
        return str(value)

    def has_role(self, role: Any) -> bool:
        """Whether the user has ``role`` (a name or a Role)."""
        name = role if isinstance(role, str) else getattr(role, "name", None)
        return any(getattr(r, "name", None) == name for r in getattr(self, "roles", ()) or ())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, UserMixin):
            return self.get_id() == other.get_id()
        return NotImplemented


# -- passwords ------------------------------------------------------------------------------
def verify_password(password: str, password_hash: str) -> bool:
    """``erlen.security.check_password_hash`` with Flask-Security's argument order."""
    from . import check_password_hash

    return check_password_hash(password_hash, password)


def verify_and_update_password(password: str, user: Any) -> bool:
    """Check ``password`` against ``user.password``; when it matches and the hash is old
    (bcrypt, scrypt, pbkdf2, weaker argon2), store a fresh argon2id hash (commit is yours)."""
    from . import needs_rehash

    stored = getattr(user, "password", None)
    if not isinstance(stored, str) or not verify_password(password, stored):
        return False
    if needs_rehash(stored):
        user.password = hash_password(password)
    return True


# -- decorators -----------------------------------------------------------------------------
def _current_user() -> Any:
    """This request's user through the app's login manager (erlen.login's or Flask-Login's
    protocol: ``g._login_user``, loaded by ``_load_user``), without importing erlen.login."""
    user = g.get("_login_user")
    if user is None:
        manager = getattr(current_app, "login_manager", None)
        if manager is None:
            raise RuntimeError("roles_required needs a LoginManager: use Security(app, datastore).")
        manager._load_user()
        user = g._login_user
    return user


def _wants_json() -> bool:
    """An API request: JSON body, or ``Accept`` preferring JSON (as erlen.login decides)."""
    if request.is_json:
        return True
    best = request.accept_mimetypes.best_match(("text/html", "application/json"))
    return best == "application/json"


def _unauthenticated() -> Any:
    """erlen.login's path for anonymous users: login redirect, JSON 401 or 401."""
    manager = getattr(current_app, "login_manager", None)
    if manager is None:
        abort(401)
    return manager.unauthorized()


def _forbidden(roles: tuple[Any, ...]) -> Any:
    """403 for a logged-in user without the role: JSON for API requests, else the
    ``SECURITY_UNAUTHORIZED_VIEW`` (an endpoint or URL) when set, else plain 403."""
    _log.info("403 for %s %s: the user lacks the required role.", request.method, request.path)
    if _wants_json():
        body = json.dumps({"error": "forbidden", "message": "You do not have the required role."})
        return current_app.response_class(body, status=403, mimetype="application/json")
    view = current_app.config.get("SECURITY_UNAUTHORIZED_VIEW")
    if view:
        return redirect(view if view.startswith("/") else url_for(view))
    abort(403)


def _guard(check: Callable[[Any], bool], roles: tuple[Any, ...]) -> Callable[[F], F]:
    def decorator(func: F) -> F:
        @wraps(func)
        def decorated_view(*args: Any, **kwargs: Any) -> Any:
            user = _current_user()
            if not user.is_authenticated:
                return _unauthenticated()
            if not check(user):
                return _forbidden(roles)
            return current_app.ensure_sync(func)(*args, **kwargs)

        return decorated_view  # type: ignore[return-value]

    return decorator


def roles_required(*roles: Any) -> Callable[[F], F]:
    """The view needs a logged-in user with every one of ``roles`` (names); anonymous users
    get the login path, others without them 403."""
    return _guard(lambda user: all(user.has_role(r) for r in roles), roles)


def roles_accepted(*roles: Any) -> Callable[[F], F]:
    """The view needs a logged-in user with at least one of ``roles``."""
    return _guard(lambda user: any(user.has_role(r) for r in roles), roles)


def auth_required(*auth_methods: Any, **kwargs: Any) -> Callable[[F], F]:
    """The view needs a logged-in user (session or ``request_loader``; Flask-Security's
    ``auth_methods``/``within``/``grace`` are accepted and not used: see docs/security.md)."""
    if len(auth_methods) == 1 and callable(auth_methods[0]):  # used without parentheses
        return _guard(lambda user: True, ())(auth_methods[0])  # type: ignore[no-any-return]
    return _guard(lambda user: True, ())


# -- the extension --------------------------------------------------------------------------
class Security:
    """``Security(app, datastore)``: roles and users on erlen.login. Sets up a
    ``LoginManager`` when the app has none, loading users by ``fs_uniquifier`` (or id);
    inactive users are not loaded (deactivating logs them out)."""

    def __init__(self, app: Any = None, datastore: UserDatastore | None = None, **kwargs: Any) -> None:
        self.app = app
        self.datastore = datastore
        if app is not None and datastore is not None:
            self.init_app(app, datastore, **kwargs)

    def init_app(self, app: Any, datastore: UserDatastore | None = None, **kwargs: Any) -> None:
        """Attach to ``app`` (``app.security``, ``app.extensions["security"]``)."""
        if datastore is not None:
            self.datastore = datastore
        if self.datastore is None:
            raise ValueError("Security needs a datastore (SQLAlchemyUserDatastore(db, User, Role)).")
        app.security = self
        app.extensions["security"] = self
        manager = getattr(app, "login_manager", None)
        if manager is None:
            from erlen.login import LoginManager

            manager = LoginManager(app)
            manager.login_view = app.config.get("SECURITY_LOGIN_VIEW")
        if manager.user_callback is None:
            manager.user_loader(self._load_user)

    def _load_user(self, user_id: str) -> Any:
        datastore = self.datastore
        assert datastore is not None
        if hasattr(datastore.user_model, "fs_uniquifier"):
            user = datastore.find_user(fs_uniquifier=str(user_id))
        else:
            user = datastore.get_user_by_id(user_id)
        if user is not None and not getattr(user, "active", True):
            return None
        return user
