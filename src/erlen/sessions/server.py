"""Server-side sessions: the cookie holds only a random id, the data lives in a store.

The shared part of every backend (:mod:`.backends`): ids, the optional id signature, the
serialization (msgpack or JSON, never pickle), when to write, delete or refresh, id
regeneration, and what a store outage becomes (a 503 with ``Retry-After``, one log line).
A backend implements four store operations on bytes. See docs/decisions/016.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from datetime import timedelta
from typing import Any

from ..exceptions import ServiceUnavailable
from ..http.headers import Headers
from .base import SecureCookieSession, SessionInterface, SessionMixin, _add_vary_cookie

__all__ = [
    "ServerSideSession",
    "ServerSideSessionInterface",
    "SessionSerializer",
    "SessionStoreUnavailable",
]

_log = logging.getLogger("erlen.sessions")
#: What ``secrets.token_urlsafe`` produces; anything else in the cookie is not an id of ours.
_SID = re.compile(r"[A-Za-z0-9_-]{16,256}")
_NO_FLAG: Any = object()


class SessionStoreUnavailable(Exception):
    """The store could not be reached (raised by backends, answered as a 503)."""


class ServerSideSession(SecureCookieSession):
    """The session a view sees: a dict that tracks reads and writes, plus its id.

    ``sid`` is the random id the cookie carries; ``new`` is true for a session created by
    this request (no stored data behind it yet). ``_permanent`` alone does not count as
    data: such a session is empty, so it is neither stored nor given a cookie.
    """

    def __init__(
        self, initial: Any = None, sid: str = "", permanent: bool | None = None, new: bool = False
    ) -> None:
        super().__init__(initial)
        self.sid = sid
        self.new = new
        #: The store failed during this request (the 503 is on its way): don't save.
        self.store_failed = False
        if permanent is not None and not dict.__contains__(self, "_permanent"):
            dict.__setitem__(self, "_permanent", bool(permanent))

    def is_empty(self) -> bool:
        """No data besides the permanent flag (not a read of the session)."""
        return all(key == "_permanent" for key in dict.keys(self))

    def __bool__(self) -> bool:
        self.accessed = True
        return not self.is_empty()

    def clear(self) -> None:
        """Remove the data, keeping the permanent flag (as Flask-Session): data set after a
        ``clear()`` in the same request is stored under the same lifetime rules."""
        permanent = dict.get(self, "_permanent", _NO_FLAG)
        super().clear()
        if permanent is not _NO_FLAG:
            dict.__setitem__(self, "_permanent", permanent)


class SessionSerializer:
    """msgpack (Flask-Session 0.8's default) or JSON. Decoding also tries the other format,
    so switching ``SESSION_SERIALIZATION_FORMAT`` keeps sessions; anything else (a pickled
    value of an old Flask-Session, garbage) decodes to None: an empty session, never code."""

    def __init__(self, format: str = "msgpack") -> None:
        if format not in ("msgpack", "json"):
            raise ValueError(
                f"SESSION_SERIALIZATION_FORMAT must be 'msgpack' or 'json', not {format!r}"
            )
        self.format = format

    def dumps(self, data: dict[str, Any]) -> bytes:
        if self.format == "json":
            return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
        import msgpack

        return msgpack.packb(data, use_bin_type=True, datetime=True)  # type: ignore[no-any-return]

    def loads(self, value: bytes | None) -> dict[str, Any] | None:
        if not value:
            return None
        order = ("json", "msgpack") if self.format == "json" else ("msgpack", "json")
        for fmt in order:
            try:
                data = self._decode(fmt, value)
            except Exception:  # not this format; never a reason to fail the request
                continue
            if isinstance(data, dict) and all(isinstance(k, str) for k in data):
                return data
            return None
        return None

    @staticmethod
    def _decode(fmt: str, value: bytes) -> Any:
        if fmt == "json":
            return json.loads(value)
        import msgpack

        return msgpack.unpackb(value, raw=False, timestamp=3, strict_map_key=True)


def _answer_503(response: Any, retry_after: int) -> None:
    """Turn ``response`` (already built by the view) into the 503 page, in place: the
    session could not be saved, so what the view answered did not really happen."""
    error = ServiceUnavailable(
        "The session store is temporarily unavailable. Please try again shortly.",
        retry_after=retry_after,
    )
    body = getattr(response, "response", None)
    close = getattr(body, "close", None)
    if close is not None and not isinstance(body, list | tuple):
        close()
    response.status_code = 503
    response.direct_passthrough = False
    response.headers = Headers(error.get_headers())
    response.set_data(error.get_body())


class ServerSideSessionInterface(SessionInterface):
    """The common part of the server-side backends; subclasses implement the store.

    Store operations (bytes in, bytes out; raise :class:`SessionStoreUnavailable` or one of
    ``store_errors`` when the store cannot be reached): ``_load``, ``_save``, ``_touch``,
    ``_delete``.
    """

    session_class: type[ServerSideSession] = ServerSideSession
    #: Exceptions of the store's client that mean "unreachable" (a 503, not a 500).
    store_errors: tuple[type[BaseException], ...] = (SessionStoreUnavailable,)
    #: Salt of the optional id signature (``SESSION_USE_SIGNER``); Flask-Session's value.
    signer_salt = "flask-session"

    def __init__(
        self,
        app: Any = None,
        key_prefix: str = "session:",
        use_signer: bool = False,
        permanent: bool = True,
        sid_length: int = 32,
        serialization_format: str = "msgpack",
        retry_after: int = 5,
    ) -> None:
        self.app = app
        self.key_prefix = key_prefix
        self.use_signer = use_signer
        self.permanent = permanent
        if sid_length < 16:
            raise ValueError("SESSION_ID_LENGTH must be at least 16 (bytes of randomness)")
        self.sid_length = sid_length
        self.serializer = SessionSerializer(serialization_format)
        self.retry_after = retry_after

    # -- store operations (backends) ---------------------------------------------------
    def _load(self, store_id: str) -> bytes | None:
        raise NotImplementedError

    def _save(self, store_id: str, value: bytes, lifetime: timedelta) -> None:
        raise NotImplementedError

    def _touch(self, store_id: str, value: bytes, lifetime: timedelta) -> None:
        """Extend the stored session's lifetime (default: write it again)."""
        self._save(store_id, value, lifetime)

    def _delete(self, store_id: str) -> None:
        raise NotImplementedError

    # -- ids ---------------------------------------------------------------------------
    def _generate_sid(self) -> str:
        return secrets.token_urlsafe(self.sid_length)

    def _get_store_id(self, sid: str) -> str:
        return self.key_prefix + sid

    def _signer(self, app: Any) -> Any:
        from itsdangerous import Signer

        if not app.secret_key:
            raise RuntimeError("SESSION_USE_SIGNER needs SECRET_KEY to be set.")
        return Signer(app.secret_key, salt=self.signer_salt, key_derivation="hmac")

    def _cookie_value(self, app: Any, sid: str) -> str:
        if self.use_signer:
            return self._signer(app).sign(sid.encode()).decode()  # type: ignore[no-any-return]
        return sid

    def _sid_from_cookie(self, app: Any, value: str | None) -> str | None:
        """The id the cookie names, or None for no cookie, a bad signature or a value that
        is not an id of ours (never passed to the store)."""
        if not value:
            return None
        if self.use_signer:
            from itsdangerous import BadSignature

            try:
                value = self._signer(app).unsign(value).decode()
            except (BadSignature, UnicodeDecodeError):
                _log.debug("Ignoring session id with a bad signature.")
                return None
        if value is None or not _SID.fullmatch(value):
            _log.debug("Ignoring session cookie that is not a session id.")
            return None
        return value

    def _new_session(self) -> ServerSideSession:
        return self.session_class(sid=self._generate_sid(), permanent=self.permanent, new=True)

    # -- outages -------------------------------------------------------------------------
    def _unavailable(self, error: BaseException, action: str) -> ServiceUnavailable:
        """Log one line (the error's kind and first line; never the id) and build the 503."""
        detail = str(getattr(error, "orig", None) or error).strip().splitlines()
        _log.error(
            "Session store unavailable (%s while %s the session: %s); answering 503.",
            type(error).__name__, action, detail[0][:200] if detail else "",
        )  # fmt: skip
        return ServiceUnavailable(
            "The session store is temporarily unavailable. Please try again shortly.",
            retry_after=self.retry_after,
        )

    # -- the interface the app calls ------------------------------------------------------
    def open_session(self, app: Any, request: Any) -> ServerSideSession:
        """The stored session the cookie names, else a new empty one with a NEW id (a
        client never chooses its id). A store outage raises ``ServiceUnavailable``: the
        session is opened when the view first touches it, so that becomes a 503."""
        sid = self._sid_from_cookie(app, request.cookies.get(self.get_cookie_name(app)))
        if sid is None:
            return self._new_session()
        try:
            value = self._load(self._get_store_id(sid))
        except self.store_errors as e:
            raise self._unavailable(e, "loading") from None
        data = self.serializer.loads(value)
        if data is None:  # unknown, expired or unreadable: start over under a fresh id
            if value is not None:
                _log.warning("Ignoring stored session data that is neither msgpack nor JSON.")
            return self._new_session()
        return self.session_class(data, sid=sid)

    def session_to_refresh(self, app: Any, request: Any) -> SessionMixin | None:
        """None: a request that never touches the session reads and writes nothing (the
        store's expiry and the cookie are refreshed by requests that use the session)."""
        return None

    def regenerate(self, session: SessionMixin) -> None:
        """Give ``session`` a new id, keeping its data (call it at login, against session
        fixation): the old id stops working, the new one is stored and sent on save."""
        target = getattr(session, "_get_current_object", lambda: session)()
        if not isinstance(target, ServerSideSession):
            raise TypeError("regenerate() needs a server-side session")
        if not target.new:
            try:
                self._delete(self._get_store_id(target.sid))
            except self.store_errors as e:
                target.store_failed = True
                raise self._unavailable(e, "regenerating") from None
        target.sid = self._generate_sid()
        target.new = True
        target.modified = True

    def save_session(self, app: Any, session: SessionMixin, response: Any) -> None:
        """Write, refresh or delete the stored session and set or delete the cookie. A
        store outage turns the response into a 503 (one log line), never an error."""
        if not isinstance(session, ServerSideSession) or session.store_failed:
            return  # not ours (e.g. set by a test), or the store already failed (logged)
        if session.accessed:
            _add_vary_cookie(response)
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        secure = self.get_cookie_secure(app)
        samesite = self.get_cookie_samesite(app)
        httponly = self.get_cookie_httponly(app)
        partitioned = self.get_cookie_partitioned(app)
        lifetime = app.permanent_session_lifetime
        try:
            if session.is_empty():
                if not session.modified:
                    return  # an untouched empty session: no store write, no cookie
                if not session.new:
                    self._delete(self._get_store_id(session.sid))
                response.delete_cookie(
                    name, path=path, domain=domain, secure=secure, httponly=httponly,
                    samesite=samesite, partitioned=partitioned,
                )  # fmt: skip
                _add_vary_cookie(response)
                return
            refresh = bool(app.config.get("SESSION_REFRESH_EACH_REQUEST", True))
            if session.modified:
                value = self.serializer.dumps(dict(dict.items(session)))
                self._save(self._get_store_id(session.sid), value, lifetime)
            elif refresh:
                value = self.serializer.dumps(dict(dict.items(session)))
                self._touch(self._get_store_id(session.sid), value, lifetime)
            else:
                return
        except self.store_errors as e:
            _answer_503(response, self._unavailable(e, "saving").retry_after)  # type: ignore[arg-type]
            return
        if not self.should_set_cookie(app, session):
            return
        response.set_cookie(
            name, self._cookie_value(app, session.sid),
            expires=self.get_expiration_time(app, session), path=path, domain=domain,
            secure=secure, httponly=httponly, samesite=samesite, partitioned=partitioned,
        )  # fmt: skip
        _add_vary_cookie(response)
