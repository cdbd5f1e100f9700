"""The default session interface: the session in a signed cookie.

The cookie format is Flask's (itsdangerous ``URLSafeTimedSerializer``, salt
``cookie-session``, HMAC key derivation, SHA-1, tagged JSON), so cookies signed by a Flask app
stay valid when the app moves to erlen, and the other way round.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from itsdangerous import Signer, TimestampSigner, URLSafeTimedSerializer

from ..json.tag import TaggedJSONSerializer
from .base import SecureCookieSession, SessionInterface, SessionMixin, _add_vary_cookie

__all__ = ["SecureCookieSessionInterface", "session_json_serializer"]

_log = logging.getLogger("erlen.sessions")


#: The serializer the cookie interface uses; apps may register extra tags on it.
session_json_serializer = TaggedJSONSerializer()


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
