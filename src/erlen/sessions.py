"""Sessions: the interface the app calls, and the default signed-cookie implementation.

The app calls ``session_interface.open_session(app, request)`` the first time a request
touches ``session`` and ``save_session(app, session, response)`` after the view, only when
the session was opened. The cookie format is Flask's (itsdangerous ``URLSafeTimedSerializer``,
salt ``cookie-session``, HMAC key derivation, SHA-1, tagged JSON), so cookies signed by a
Flask app stay valid when the app moves to erlen, and the other way round.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
import zlib
from binascii import a2b_base64, b2a_base64
from collections.abc import Iterator, MutableMapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn

from itsdangerous import URLSafeTimedSerializer

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

    def __init__(self) -> None:
        # Serializers and codecs are built once per (secret key, fallbacks) pair, not per
        # request: building one allocates several objects and derives keys.
        self._signers: dict[tuple[Any, tuple[Any, ...]], URLSafeTimedSerializer] = {}
        self._codecs: dict[tuple[Any, tuple[Any, ...]], _CookieCodec] = {}

    def get_signing_serializer(self, app: Any) -> URLSafeTimedSerializer | None:
        """The itsdangerous serializer for ``app``'s keys, or None without ``SECRET_KEY``.

        The current key signs; the fallbacks (and the current key) verify, newest first.
        """
        secret_key = app.secret_key
        if not secret_key:
            return None
        fallbacks = app.config.get("SECRET_KEY_FALLBACKS") or ()
        cache_key = (secret_key, tuple(fallbacks))
        signers = self.__dict__.setdefault("_signers", {})
        signer: URLSafeTimedSerializer | None = signers.get(cache_key)
        if signer is None:
            # itsdangerous takes a list of keys, oldest first: it signs with the last one and
            # tries them newest first when verifying.
            signer = URLSafeTimedSerializer(
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

    def _get_codec(self, app: Any) -> _CookieCodec | URLSafeTimedSerializer | None:
        """The fast codec (same wire format) unless a subclass customised signing, in which
        case its ``get_signing_serializer`` is honoured."""
        if (
            type(self).get_signing_serializer is not _BASE_GET_SIGNER
            or self.key_derivation != "hmac"
        ):
            return self.get_signing_serializer(app)
        secret_key = app.secret_key
        if not secret_key:
            return None
        fallbacks = app.config.get("SECRET_KEY_FALLBACKS") or ()
        cache_key = (secret_key, tuple(fallbacks))
        codecs = self.__dict__.setdefault("_codecs", {})
        codec: _CookieCodec | None = codecs.get(cache_key)
        if codec is None:
            codec = _CookieCodec(
                [*fallbacks, secret_key], self.salt, self.digest_method, self.serializer
            )
            if len(codecs) >= 8:
                codecs.clear()
            codecs[cache_key] = codec
        return codec

    def open_session(self, app: Any, request: Any) -> SecureCookieSession | None:
        """Load and verify the cookie. Bad, tampered, expired or foreign cookies give an
        empty new session, never an error: the client just starts over."""
        codec = self._get_codec(app)
        if codec is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data = codec.loads(value, max_age=max_age)
        except Exception as e:  # any failure means "no valid session", whatever the cause
            # Never log the cookie or the key: only the kind of failure.
            _log.debug("Ignoring invalid session cookie (%s).", type(e).__name__)
            return self.session_class()
        if not isinstance(data, dict):
            _log.debug("Ignoring session cookie whose payload is not an object.")
            return self.session_class()
        return self.session_class(data)

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
        codec = self._get_codec(app)
        if codec is None:  # a null session cannot hold data; nothing to store
            return
        expires = self.get_expiration_time(app, session)
        data = dict.copy(plain) if plain is not None else dict(session)
        response.set_cookie(
            name,
            codec.dumps(data),
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


_BASE_GET_SIGNER = SecureCookieSessionInterface.get_signing_serializer


class _CookieSignatureError(ValueError):
    """The cookie is malformed, forged, signed with an unknown key, or expired."""


class _CookieCodec:
    """itsdangerous ``URLSafeTimedSerializer`` wire format with HMAC key derivation, done
    in a few C-level calls with the derived keys computed once (about 3x faster).

    Format: ``[.]base64(payload) "." base64(timestamp) "." base64(hmac)``; a leading dot
    marks a zlib-compressed payload; the MAC covers everything before the last dot.
    """

    __slots__ = ("_sign_key", "_verify_keys", "_digest", "_serializer")

    def __init__(self, secret_keys: list[Any], salt: str, digest: Any, serializer: Any) -> None:
        salt_bytes = salt.encode("utf-8")
        derived = [hmac.new(_to_bytes(key), salt_bytes, digest).digest() for key in secret_keys]
        self._sign_key = derived[-1]
        self._verify_keys = derived[::-1]  # newest first
        self._digest = digest
        self._serializer = serializer

    def loads(self, value: str, max_age: int | None = None) -> Any:
        """Verify and decode ``value``; raise ``ValueError`` if it is not valid."""
        raw = value.encode("ascii")
        cut = raw.rfind(b".")
        signed, sig = raw[:cut], raw[cut + 1 :]
        if cut <= 0 or not sig:
            raise _CookieSignatureError("no signature")
        digest = self._digest
        for key in self._verify_keys:
            if hmac.compare_digest(_b64encode(hmac.digest(key, signed, digest)), sig):
                break
        else:
            raise _CookieSignatureError("signature does not match")
        cut = signed.rfind(b".")
        if cut < 0:
            raise _CookieSignatureError("timestamp missing")
        payload, ts_raw = signed[:cut], _b64decode(signed[cut + 1 :])
        if not 0 < len(ts_raw) <= 8:
            raise _CookieSignatureError("bad timestamp")
        if max_age is not None:
            age = int(time.time()) - int.from_bytes(ts_raw, "big")
            if age > max_age or age < 0:
                raise _CookieSignatureError("signature expired")
        if payload[:1] == b".":
            text = zlib.decompress(_b64decode(payload[1:]))
        else:
            text = _b64decode(payload)
        return self._serializer.loads(text)

    def dumps(self, obj: Any) -> str:
        """Serialize, compress when that helps, timestamp and sign ``obj``."""
        text = self._serializer.dumps(obj).encode("utf-8")
        compressed = zlib.compress(text)
        if len(compressed) < len(text) - 1:
            payload = b"." + _b64encode(compressed)
        else:
            payload = _b64encode(text)
        now = int(time.time())
        stamp = _b64encode(now.to_bytes((now.bit_length() + 7) // 8 or 1, "big"))
        signed = payload + b"." + stamp
        sig = _b64encode(hmac.digest(self._sign_key, signed, self._digest))
        return (signed + b"." + sig).decode("ascii")


def _to_bytes(key: str | bytes) -> bytes:
    return key.encode("utf-8") if isinstance(key, str) else key


_TO_STD = bytes.maketrans(b"-_", b"+/")
_TO_URL = bytes.maketrans(b"+/", b"-_")


def _b64encode(data: bytes) -> bytes:
    """URL-safe base64 without padding (itsdangerous' encoding)."""
    return b2a_base64(data, newline=False).translate(_TO_URL).rstrip(b"=")


def _b64decode(data: bytes) -> bytes:
    """Inverse of ``_b64encode``; raises ``binascii.Error`` (a ValueError) on bad input."""
    return a2b_base64(data.translate(_TO_STD) + b"=" * (-len(data) % 4))
