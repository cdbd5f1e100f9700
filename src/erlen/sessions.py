"""Sessions: the interface the app calls, and the default signed-cookie implementation.

The app calls ``session_interface.open_session(app, request)`` the first time a request
touches ``session`` and ``save_session(app, session, response)`` after the view, only when
the session was opened. The cookie format is Flask's (itsdangerous ``URLSafeTimedSerializer``,
salt ``cookie-session``, HMAC key derivation, SHA-1, tagged JSON), so cookies signed by a
Flask app stay valid when the app moves to erlen, and the other way round.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, MutableMapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn

from itsdangerous import Signer, TimestampSigner, URLSafeTimedSerializer

from .json.tag import TaggedJSONSerializer

if TYPE_CHECKING:
    from collections.abc import ItemsView, KeysView, ValuesView

__all__ = [
    "NullSession",
    "SecureCookieSession",
    "SecureCookieSessionInterface",
    "SessionInterface",
    "SessionMixin",
    "session_json_serializer",
]

_log = logging.getLogger("erlen.sessions")
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


#: The serializer the cookie interface uses; apps may register extra tags on it.
session_json_serializer = TaggedJSONSerializer()


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


class _SessionSigner(TimestampSigner):
    """itsdangerous' ``TimestampSigner``, deriving each secret's key once instead of for every
    signature it makes or checks (the derived key depends only on the secret, the salt,
    the key derivation and the digest, all fixed when the signer is made)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        derived: dict[Any, bytes] = {}
        for key in self.secret_keys:
            derived[key] = super().derive_key(key)
        derived[None] = derived[self.secret_keys[-1]]  # the signing key
        self._derived = derived

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        derived = self._derived.get(secret_key)
        return derived if derived is not None else super().derive_key(secret_key)


class _SessionSerializer(URLSafeTimedSerializer):
    """itsdangerous' ``URLSafeTimedSerializer`` (same wire format, same checks), reusing its
    signer: the stock one builds a new signer, and derives its keys, on every ``dumps`` and
    ``loads``. Signers keep no state between calls, so threads may share one."""

    default_signer = _SessionSigner

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._made: dict[str | bytes | None, Signer] = {}

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        signer = self._made.get(salt)
        if signer is None:
            signer = super().make_signer(salt)
            if len(self._made) < 4:  # only this interface's salt in practice
                self._made[salt] = signer
        return signer


class SecureCookieSessionInterface(SessionInterface):
    """Sessions stored in a signed (not encrypted) cookie: the client can read the data but
    not change it. Signing needs ``SECRET_KEY``; ``SECRET_KEY_FALLBACKS`` lists older keys
    still accepted for reading, so keys can be rotated without logging everyone out."""

    #: itsdangerous salt; Flask's value, so Flask cookies verify.
    salt = "cookie-session"
    #: Hash used for the HMAC signature (Flask's default).
    digest_method = staticmethod(hashlib.sha1)
    #: How itsdangerous derives the signing key from the secret key.
    key_derivation = "hmac"
    #: Turns the session dict into text and back.
    serializer = session_json_serializer
    #: The session class ``open_session`` builds.
    session_class: type[SecureCookieSession] = SecureCookieSession
    #: ``(cookie name, Cookie header)`` pairs whose session is valid and not permanent, so
    #: an untouched request never refreshes it (see ``session_to_refresh``). Shared by all
    #: apps: the same header is valid under one key only, and then says the same.
    _nothing_to_refresh: dict[tuple[str, str], None] = {}

    def __init__(self) -> None:
        # Serializers are built once per (secret key, fallbacks) pair, not per request:
        # building one allocates several objects and derives keys.
        self._signers: dict[tuple[Any, tuple[Any, ...]], URLSafeTimedSerializer] = {}

    def get_signing_serializer(self, app: Any) -> URLSafeTimedSerializer | None:
        """The itsdangerous serializer for ``app``'s keys, or None without ``SECRET_KEY``.

        The current key signs; the fallbacks (and the current key) verify, newest first.
        """
        secret_key = app.secret_key
        if not secret_key:
            return None
        fallbacks = app.config.get("SECRET_KEY_FALLBACKS") or ()
        cache_key = (secret_key, tuple(fallbacks))
        # a subclass may not call __init__
        signers = self.__dict__.setdefault("_signers", {})
        signer: URLSafeTimedSerializer | None = signers.get(cache_key)
        if signer is None:
            # itsdangerous takes a list of keys, oldest first: it signs with the last one and
            # tries them newest first when verifying.
            signer = _SessionSerializer(
                [*fallbacks, secret_key],
                salt=self.salt,
                serializer=self.serializer,
                signer_kwargs={
                    "key_derivation": self.key_derivation,
                    "digest_method": self.digest_method,
                },
            )
            if len(signers) >= 8:  # keys rarely change; stay bounded if they do
                signers.clear()
            signers[cache_key] = signer
        return signer

    def open_session(self, app: Any, request: Any) -> SecureCookieSession | None:
        """Load and verify the cookie. Bad, tampered, expired or foreign cookies give an
        empty new session, never an error: the client just starts over."""
        signer = self.get_signing_serializer(app)
        if signer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data = signer.loads(value, max_age=max_age)
        except Exception as e:  # any failure means "no valid session", whatever the cause
            # Never log the cookie or the key: only the kind of failure.
            _log.debug("Ignoring invalid session cookie (%s).", type(e).__name__)
            return self.session_class()
        if not isinstance(data, dict):
            _log.debug("Ignoring session cookie whose payload is not an object.")
            return self.session_class()
        return self.session_class(data)

    def session_to_refresh(self, app: Any, request: Any) -> SessionMixin | None:
        """See ``SessionInterface.session_to_refresh``: here only a permanent session needs a
        refresh (the permanent flag is inside the signed value), and Cookie headers found to
        hold none are remembered (bounded), so repeat visits cost one dict lookup."""
        if not app.config["SESSION_REFRESH_EACH_REQUEST"]:
            return None
        cookie = request.environ.get("HTTP_COOKIE")
        if cookie is None:
            return None
        name = self.get_cookie_name(app)
        if name not in cookie:
            return None
        memo = self._nothing_to_refresh
        key = (name, cookie)
        if key in memo:
            return None
        session = self.open_session(app, request)
        if session is None:
            return None
        # dict.get: not a read of the session (no Vary: Cookie for an untouched request)
        if dict.get(session, "_permanent", False):
            return session
        if session:  # a valid, non-permanent session: the same header never needs a refresh
            # (an invalid value is not remembered: with another app's key it may be valid)
            if len(memo) >= 4096:
                memo.clear()
            memo[key] = None
        return None

    def save_session(self, app: Any, session: SessionMixin, response: Any) -> None:
        """Set, refresh or delete the cookie as the session's state requires."""
        accessed = session.accessed  # before the checks below, which may read the session
        if accessed:
            _add_vary_cookie(response)
        # Use dict's own methods on the default class so saving does not count as a read.
        plain: dict[str, Any] | None = session if isinstance(session, dict) else None
        empty = not (dict.__len__(plain) if plain is not None else len(session))
        if empty and not session.modified:
            return
        if not empty and not self.should_set_cookie(app, session):
            return
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        secure = self.get_cookie_secure(app)
        partitioned = self.get_cookie_partitioned(app)
        samesite = self.get_cookie_samesite(app)
        httponly = self.get_cookie_httponly(app)
        if empty:
            # The session was cleared: remove the cookie with the attributes that set it.
            response.delete_cookie(
                name,
                path=path,
                domain=domain,
                secure=secure,
                httponly=httponly,
                samesite=samesite,
                partitioned=partitioned,
            )
            if not accessed:  # else added above
                _add_vary_cookie(response)
            return
        signer = self.get_signing_serializer(app)
        if signer is None:  # a null session cannot hold data; nothing to store
            return
        expires = self.get_expiration_time(app, session)
        data = dict.copy(plain) if plain is not None else dict(session)
        response.set_cookie(
            name,
            signer.dumps(data),
            expires=expires,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
            partitioned=partitioned,
        )
        if not accessed:  # else added above
            _add_vary_cookie(response)
