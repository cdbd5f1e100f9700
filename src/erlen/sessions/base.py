"""Sessions: the interface the app calls, the mapping it hands to views, the null stand-in.

The app calls ``session_interface.open_session(app, request)`` the first time a request
touches ``session`` and ``save_session(app, session, response)`` after the view, only when
the session was opened (or a cookie may hold one to refresh: ``session_to_refresh``).
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from collections.abc import ItemsView, KeysView, ValuesView

__all__ = ["NullSession", "SecureCookieSession", "SessionInterface", "SessionMixin"]

_missing: Any = object()


class SessionMixin(MutableMapping[str, Any]):
    """Session attributes on top of a mapping: ``permanent``, ``new``, ``modified``, ``accessed``.

    A mapping that mixes this in but does not track changes reports itself as modified and
    accessed, so it is always saved and always varies on ``Cookie``: the safe default.
    """

    __slots__ = ()

    @property
    def permanent(self) -> bool:
        """Whether the cookie outlives the browser session (stored under ``_permanent``)."""
        return bool(self.get("_permanent", False))

    @permanent.setter
    def permanent(self, value: bool) -> None:
        self["_permanent"] = bool(value)

    #: True for a session the backend just created (server-side backends set it).
    new = False
    #: True when the data changed and must be saved.
    modified = True
    #: True when the data was read, so the response depends on the ``Cookie`` header.
    accessed = True


class SecureCookieSession(dict[str, Any], SessionMixin):  # type: ignore[misc]
    """The default session: a dict that records writes (``modified``) and reads (``accessed``).

    ``accessed`` covers every read, including ``in``, iteration and ``len``, because any of
    them makes the response depend on the cookie and so needs ``Vary: Cookie``.
    """

    modified = False
    accessed = False

    def __init__(self, initial: Any = None) -> None:
        if initial:
            dict.__init__(self, initial)

    # -- reads ---------------------------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        self.accessed = True
        return dict.__getitem__(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        self.accessed = True
        return dict.get(self, key, default)

    def __contains__(self, key: object) -> bool:
        self.accessed = True
        return dict.__contains__(self, key)

    def __iter__(self) -> Iterator[str]:
        self.accessed = True
        return dict.__iter__(self)

    def __reversed__(self) -> Iterator[str]:
        self.accessed = True
        return dict.__reversed__(self)

    def __len__(self) -> int:
        self.accessed = True
        return dict.__len__(self)

    def keys(self) -> KeysView[str]:  # type: ignore[override]
        self.accessed = True
        return dict.keys(self)

    def values(self) -> ValuesView[Any]:  # type: ignore[override]
        self.accessed = True
        return dict.values(self)

    def items(self) -> ItemsView[str, Any]:  # type: ignore[override]
        self.accessed = True
        return dict.items(self)

    def copy(self) -> dict[str, Any]:
        self.accessed = True
        return dict.copy(self)

    def __eq__(self, other: object) -> bool:
        self.accessed = True
        return dict.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        self.accessed = True
        return dict.__ne__(self, other)

    __hash__ = None  # type: ignore[assignment]

    # -- writes --------------------------------------------------------------------------
    def __setitem__(self, key: str, value: Any) -> None:
        dict.__setitem__(self, key, value)
        self.modified = True

    def __delitem__(self, key: str) -> None:
        dict.__delitem__(self, key)
        self.modified = True

    def update(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        dict.update(self, *args, **kwargs)
        self.modified = True

    def __ior__(self, other: Any) -> SecureCookieSession:  # type: ignore[override,misc]
        dict.update(self, other)
        self.modified = True
        return self

    def clear(self) -> None:
        dict.clear(self)
        self.modified = True

    def pop(self, key: str, default: Any = _missing) -> Any:
        self.accessed = True
        if dict.__contains__(self, key):
            self.modified = True
            return dict.pop(self, key)
        if default is _missing:
            raise KeyError(key)
        return default

    def popitem(self) -> tuple[str, Any]:
        item = dict.popitem(self)
        self.accessed = True
        self.modified = True
        return item

    def setdefault(self, key: str, default: Any = None) -> Any:
        self.accessed = True
        if not dict.__contains__(self, key):
            self.modified = True
        return dict.setdefault(self, key, default)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {dict.__repr__(self)}>"


class NullSession(SecureCookieSession):
    """The session used when none can be stored: reading works, writing explains why not."""

    def _fail(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise RuntimeError(
            "The session is unavailable because no secret key was set. Set SECRET_KEY in "
            "the app config (app.secret_key) to something unique and secret."
        )

    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = __ior__ = _fail  # type: ignore[assignment]


class SessionInterface:
    """Where sessions come from and go to; subclass it to store sessions elsewhere.

    ``open_session`` returns a session object (a :class:`SessionMixin` mapping) or None
    when no session can be stored, in which case the app uses ``make_null_session``.
    """

    #: The class ``make_null_session`` builds.
    null_session_class: type[SessionMixin] = NullSession
    #: Kept for Flask compatibility; erlen's sessions never use pickle.
    pickle_based = False

    def make_null_session(self, app: Any) -> SessionMixin:
        """Build the stand-in session used when ``open_session`` returned None."""
        return self.null_session_class()

    def is_null_session(self, obj: object) -> bool:
        """Tell whether ``obj`` is the null stand-in rather than a real session."""
        return isinstance(obj, self.null_session_class)

    def get_cookie_name(self, app: Any) -> str:
        """``SESSION_COOKIE_NAME``."""
        return app.config.get("SESSION_COOKIE_NAME", "session")  # type: ignore[no-any-return]

    def get_cookie_domain(self, app: Any) -> str | None:
        """``SESSION_COOKIE_DOMAIN``; None means a host-only cookie."""
        return app.config.get("SESSION_COOKIE_DOMAIN") or None

    def get_cookie_path(self, app: Any) -> str:
        """``SESSION_COOKIE_PATH``, falling back to ``APPLICATION_ROOT`` (``/``)."""
        config = app.config
        return config.get("SESSION_COOKIE_PATH") or config.get("APPLICATION_ROOT") or "/"  # type: ignore[no-any-return]

    def get_cookie_httponly(self, app: Any) -> bool:
        """``SESSION_COOKIE_HTTPONLY``: keep the cookie away from JavaScript."""
        return bool(app.config.get("SESSION_COOKIE_HTTPONLY", True))

    def get_cookie_secure(self, app: Any) -> bool:
        """``SESSION_COOKIE_SECURE``: send the cookie over HTTPS only."""
        return bool(app.config.get("SESSION_COOKIE_SECURE", False))

    def get_cookie_samesite(self, app: Any) -> str | None:
        """``SESSION_COOKIE_SAMESITE``: ``"Strict"``, ``"Lax"``, ``"None"`` or None."""
        return app.config.get("SESSION_COOKIE_SAMESITE")  # type: ignore[no-any-return]

    def get_cookie_partitioned(self, app: Any) -> bool:
        """``SESSION_COOKIE_PARTITIONED`` (CHIPS); implies ``Secure``."""
        return bool(app.config.get("SESSION_COOKIE_PARTITIONED", False))

    def get_expiration_time(self, app: Any, session: SessionMixin) -> datetime | None:
        """Now plus ``permanent_session_lifetime`` for a permanent session, else None
        (the cookie then ends with the browser session)."""
        if session.permanent:
            return datetime.now(UTC) + app.permanent_session_lifetime  # type: ignore[no-any-return]
        return None

    def should_set_cookie(self, app: Any, session: SessionMixin) -> bool:
        """Set the cookie when the session changed, or on every request for a permanent
        session when ``SESSION_REFRESH_EACH_REQUEST`` is true (sliding expiry)."""
        return session.modified or (
            session.permanent and bool(app.config.get("SESSION_REFRESH_EACH_REQUEST", True))
        )

    def open_session(self, app: Any, request: Any) -> SessionMixin | None:
        """Load the session for ``request``; None when sessions are unavailable."""
        raise NotImplementedError()

    def save_session(self, app: Any, session: SessionMixin, response: Any) -> None:
        """Persist ``session`` and set the cookie on ``response`` as needed."""
        raise NotImplementedError()

    def session_to_refresh(self, app: Any, request: Any) -> SessionMixin | None:
        """The session to save for a request that never touched ``session`` (None: none).

        Flask opens the session on every request, so a permanent session's cookie is
        refreshed (``SESSION_REFRESH_EACH_REQUEST``) even when the view ignores it. erlen
        opens it lazily and asks this at the end instead: when the request carries the
        session cookie and refreshing is on, the session is opened here so ``save_session``
        can refresh it.
        """
        if not app.config["SESSION_REFRESH_EACH_REQUEST"]:
            return None
        cookie = request.environ.get("HTTP_COOKIE")
        if cookie is None or self.get_cookie_name(app) not in cookie:
            return None
        return self.open_session(app, request) or self.make_null_session(app)


def _add_vary_cookie(response: Any) -> None:
    """Add ``Cookie`` to the response's ``Vary`` header, keeping what is there, no duplicates."""
    headers = response.headers
    current = headers.get("Vary")
    if not current:
        headers["Vary"] = "Cookie"
        return
    parts = [p.strip() for p in current.split(",")]
    for part in parts:
        if part == "*" or part.lower() == "cookie":
            return
    headers["Vary"] = ", ".join([p for p in parts if p] + ["Cookie"])
