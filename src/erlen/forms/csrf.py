"""CSRF tokens and app-wide protection: Flask-WTF's ``flask_wtf.csrf`` API on erlen.

A token is the session's raw random value signed with itsdangerous (``URLSafeTimedSerializer``,
salt ``"wtf-csrf-token"``, as Flask-WTF, so tokens look the same and carry a timestamp). The
raw value stays in the session; a request is valid when the token's signature and age check
out and its payload equals the session's value (``hmac.compare_digest``).
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from markupsafe import Markup, escape
from wtforms import HiddenField, ValidationError
from wtforms.csrf.core import CSRF, CSRFTokenField

from ..blueprints import Blueprint
from ..ctx import has_request_context
from ..exceptions import BadRequest
from ..globals import current_app, g, request, session
from ..http.accept import MIMEAccept
from ..http.parsing import parse_accept_header
from ..wrappers import Response

__all__ = [
    "CSRFError",
    "CSRFProtect",
    "generate_csrf",
    "rotate_csrf",
    "validate_csrf",
]

logger = logging.getLogger("erlen.forms")

SALT = "wtf-csrf-token"
DEFAULT_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_HEADERS = ("X-CSRFToken", "X-CSRF-Token")
_DEFAULT_PORTS = {"http": "80", "https": "443"}

#: itsdangerous serializers by key tuple: building one derives nothing, but keep it cheap.
_serializers: dict[tuple[Any, ...], URLSafeTimedSerializer] = {}


def _keys(app: Any, secret_key: Any) -> tuple[Any, ...]:
    """Signing keys, oldest first (itsdangerous signs with the last, verifies with all).

    The key is ``secret_key``, else ``WTF_CSRF_SECRET_KEY``, else the app's ``SECRET_KEY``;
    when it is the app's key, ``SECRET_KEY_FALLBACKS`` still verify (a form's default key is
    the app's key too), so rotating the app key does not void the forms users have open.
    """
    config = app.config
    if secret_key is None:
        secret_key = config.get("WTF_CSRF_SECRET_KEY")
        if secret_key is None:
            secret_key = app.secret_key
    if not secret_key:
        raise RuntimeError("A secret key is required to use CSRF.")
    if secret_key == app.secret_key:
        fallbacks = config.get("SECRET_KEY_FALLBACKS")
        if fallbacks:
            return (*fallbacks, secret_key)
    return (secret_key,)


def _serializer(keys: tuple[Any, ...]) -> URLSafeTimedSerializer:
    s = _serializers.get(keys)
    if s is None:
        s = URLSafeTimedSerializer(list(keys), salt=SALT)
        if len(_serializers) < 64:
            _serializers[keys] = s
    return s


def csrf_meta_tag(
    name: str | None = None, secret_key: Any = None, token_key: str | None = None
) -> Markup:
    """``<meta name="csrf-token" content="...">`` for pages whose scripts send the token in
    ``X-CSRFToken`` (Flask-WTF 1.3; the name defaults to ``WTF_CSRF_META_NAME``)."""
    if name is None:
        name = current_app.config.get("WTF_CSRF_META_NAME", "csrf-token")
    token = generate_csrf(secret_key=secret_key, token_key=token_key)
    return Markup(f'<meta name="{escape(name)}" content="{escape(token)}">')


def generate_csrf(secret_key: Any = None, token_key: str | None = None) -> str:
    """The signed CSRF token for this request (made once per request, cached in ``g`` under
    the field name: ``g.csrf_token``, as Flask-WTF).

    Puts a raw random value into the session under ``token_key`` (``WTF_CSRF_FIELD_NAME``,
    ``"csrf_token"``) the first time, and signs it; also the ``csrf_token()`` template global.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    name = token_key or app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    keys = _keys(app, secret_key)  # first, cached or not: no secret key is always an error
    ns = g._get_current_object()  # type: ignore[attr-defined]
    token: str | None = ns.__dict__.get(name)
    if token is None:
        sess = session._get_current_object()  # type: ignore[attr-defined]
        raw = sess.get(name)
        if not isinstance(raw, str):
            raw = sess[name] = secrets.token_hex(20)  # 40 hex digits, as Flask-WTF's
        token = _serializer(keys).dumps(raw)
        setattr(ns, name, token)  # g.csrf_token, as Flask-WTF
    return token


def rotate_csrf(token_key: str | None = None) -> None:
    """Forget the session's raw token so the next ``generate_csrf`` makes a new one.

    Called at a privilege change (``erlen.login.login_user`` calls it): a token an attacker
    obtained in the visitor's anonymous session stops working once they log in. Cheap: one
    session key and one ``g`` entry are dropped; nothing is signed until a token is needed.
    """
    name = token_key or current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    if name in session:
        del session[name]
    g.pop(name, None)


def validate_csrf(
    data: Any,
    secret_key: Any = None,
    time_limit: int | None = None,
    token_key: str | None = None,
) -> None:
    """Check a token against the session; raise ``wtforms.ValidationError`` with the reason.

    ``time_limit`` defaults to ``WTF_CSRF_TIME_LIMIT`` (3600 s; ``None`` there: no expiry).
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    config = app.config
    name = token_key or config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    if time_limit is None:
        time_limit = config.get("WTF_CSRF_TIME_LIMIT", 3600)
    if not data:
        raise ValidationError("The CSRF token is missing.")
    raw = session.get(name)
    if not isinstance(raw, str):
        raise ValidationError("The CSRF session token is missing.")
    if not isinstance(data, (str, bytes)):
        raise ValidationError("The CSRF token is invalid.")
    try:
        token = _serializer(_keys(app, secret_key)).loads(data, max_age=time_limit)
    except SignatureExpired:
        raise ValidationError("The CSRF token has expired.") from None
    except BadData:
        raise ValidationError("The CSRF token is invalid.") from None
    if not isinstance(token, str) or not hmac.compare_digest(raw.encode(), token.encode()):
        raise ValidationError("The CSRF tokens do not match.")


def _no_ambient_credentials(environ: dict[str, Any]) -> bool:
    """A bearer-authenticated request with no cookies at all cannot be forged cross-site.

    CSRF works because a browser attaches credentials (cookies) on its own; a page on another
    site cannot make it send an ``Authorization`` header it does not know.
    """
    if environ.get("HTTP_COOKIE"):
        return False
    auth: str = environ.get("HTTP_AUTHORIZATION") or ""
    return auth[:7].lower() == "bearer " and len(auth) > 7


def _origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of ``url`` lower-cased without a default port, or None."""
    try:
        parts = urlsplit(url)
        scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
    except ValueError:
        return None
    if not scheme or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is not None and str(port) != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    return f"{scheme}://{host}"


class CSRFError(BadRequest):
    """A failed CSRF check: a 400 whose ``description`` says why (handle it with
    ``@app.errorhandler(CSRFError)``). Unhandled, it answers JSON to clients that prefer
    JSON (``{"error": "..."}``) and the HTML error page otherwise."""

    description = "CSRF validation failed."

    def get_response(self, environ: Any = None, scope: Any = None) -> Any:
        if self.response is None and _prefers_json(environ):
            body = json.dumps({"error": self.description, "code": self.code})
            return Response(body, self.code, mimetype="application/json")
        return super().get_response(environ, scope)


def _prefers_json(environ: Any) -> bool:
    """True when the client's Accept ranks JSON above HTML (``*/*`` or none: HTML)."""
    if environ is None:
        if not has_request_context():
            return False
        environ = request.environ
    accept = environ.get("HTTP_ACCEPT")
    if not accept or "json" not in accept:
        return False
    best = parse_accept_header(accept, MIMEAccept).best_match(["text/html", "application/json"])
    return best == "application/json"


class CSRFProtect:
    """App-wide CSRF protection: every POST/PUT/PATCH/DELETE (``WTF_CSRF_METHODS``) needs a
    valid token in the form field ``csrf_token`` or an ``X-CSRFToken``/``X-CSRF-Token``
    header, unless its view or blueprint is ``exempt``.

    One ``before_request`` hook; whether an endpoint is exempt is computed once per endpoint.
    """

    def __init__(self, app: Any = None) -> None:
        self._exempt_views: set[str] = set()
        self._exempt_blueprints: set[Blueprint] = set()
        self._exempt_caches: list[dict[str, bool]] = []
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Any) -> None:
        app.extensions["csrf"] = self
        config = app.config
        config.setdefault("WTF_CSRF_ENABLED", True)
        config.setdefault("WTF_CSRF_CHECK_DEFAULT", True)
        config["WTF_CSRF_METHODS"] = frozenset(
            m.upper() for m in config.get("WTF_CSRF_METHODS", DEFAULT_METHODS)
        )
        config.setdefault("WTF_CSRF_FIELD_NAME", "csrf_token")
        config.setdefault("WTF_CSRF_HEADERS", list(DEFAULT_HEADERS))
        config.setdefault("WTF_CSRF_TIME_LIMIT", 3600)
        config.setdefault("WTF_CSRF_SSL_STRICT", True)
        config.setdefault("WTF_CSRF_TRUSTED_ORIGINS", [])
        app.add_template_global(generate_csrf, "csrf_token")
        app.add_template_global(csrf_meta_tag, "csrf_meta_tag")

        exempt: dict[str, bool] = {}
        self._exempt_caches.append(exempt)
        protect = self.protect
        is_exempt = self._is_exempt

        def csrf_protect() -> None:
            if not config["WTF_CSRF_ENABLED"] or not config["WTF_CSRF_CHECK_DEFAULT"]:
                return
            req = request._get_current_object()  # type: ignore[attr-defined]
            if req.method not in config["WTF_CSRF_METHODS"]:
                return
            rule = req.url_rule
            if rule is None:  # no route matched: the 404/405 follows
                return
            endpoint = rule.endpoint
            skip = exempt.get(endpoint)
            if skip is None:
                skip = exempt[endpoint] = is_exempt(app, endpoint)
            if not skip:
                protect()

        app.before_request(csrf_protect)

    def exempt(self, view: Callable[..., Any] | Blueprint | str) -> Any:
        """Exclude a view (function, its endpoint or ``"module.name"``) or a whole blueprint
        (and its nested blueprints) from the app-wide check; usable as a decorator."""
        if isinstance(view, Blueprint):
            self._exempt_blueprints.add(view)
        elif isinstance(view, str):
            self._exempt_views.add(view)
        else:
            self._exempt_views.add(f"{view.__module__}.{view.__name__}")
        for cache in self._exempt_caches:
            cache.clear()
        return view

    def _is_exempt(self, app: Any, endpoint: str) -> bool:
        """Whether ``endpoint``'s view, or a blueprint it is in (nesting included), is exempt."""
        view = app.view_functions.get(endpoint)
        dest = f"{view.__module__}.{view.__name__}" if view is not None else None
        names = self._exempt_views
        if endpoint in names or dest in names:
            return True
        blueprints = app.blueprints
        parts = endpoint.split(".")[:-1]
        for i in range(len(parts), 0, -1):
            if blueprints.get(".".join(parts[:i])) in self._exempt_blueprints:
                return True
        return False

    def protect(self, apply_exemptions: bool = False) -> None:
        """Check this request now (for ``WTF_CSRF_CHECK_DEFAULT = False`` apps): raises
        ``CSRFError`` unless the token (and, over HTTPS, the origin) is right.

        ``apply_exemptions=True`` (Flask-WTF 1.3) skips views and blueprints marked
        ``exempt`` and requests that matched no route (their 404/405 follows), for a custom
        ``before_request`` hook that calls this instead of the app-wide check.
        """
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        config = app.config
        req = request._get_current_object()  # type: ignore[attr-defined]
        if apply_exemptions:
            rule = req.url_rule
            if rule is None or self._is_exempt(app, rule.endpoint):
                return
        if req.method not in config.get("WTF_CSRF_METHODS", DEFAULT_METHODS):
            return
        if _no_ambient_credentials(req.environ):
            g.csrf_valid = True
            return
        try:
            validate_csrf(self._get_csrf_token(req, config))
        except ValidationError as e:
            raise CSRFError(e.args[0]) from None
        if req.is_secure and config.get("WTF_CSRF_SSL_STRICT", True):
            _check_origin(req, config.get("WTF_CSRF_TRUSTED_ORIGINS") or ())
        g.csrf_valid = True

    @staticmethod
    def _get_csrf_token(req: Any, config: Any) -> str | None:
        name = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
        form = req.form
        token = form.get(name)
        if token:
            return token  # type: ignore[no-any-return]
        for key in form:  # a prefixed form: "<prefix>-csrf_token"
            if key.endswith(name):
                token = form[key]
                if token:
                    return token  # type: ignore[no-any-return]
        headers = req.headers
        for header in config.get("WTF_CSRF_HEADERS", DEFAULT_HEADERS):
            token = headers.get(header)
            if token:
                return token  # type: ignore[no-any-return]
        return None


def _check_origin(req: Any, trusted: Iterable[str]) -> None:
    """Over HTTPS the request must come from a page of this host (or a trusted origin):
    ``Origin`` when the browser sends it, else ``Referer``, which must then be present."""
    own = "https://" + req.host.lower()
    allowed = {own, *(_origin_of(o) for o in trusted)}
    origin = req.environ.get("HTTP_ORIGIN")
    if origin:
        if _origin_of(origin) not in allowed:  # "null" included
            raise CSRFError("The origin does not match the host.")
        return
    referrer = req.referrer
    if not referrer:
        raise CSRFError("The referrer header is missing.")
    if _origin_of(referrer) not in allowed:
        raise CSRFError("The referrer does not match the host.")


class _LazyCSRFTokenField(CSRFTokenField):
    """The hidden token field, signing its token only when it is read (rendered): a form
    that is submitted and validated, and not shown again, signs nothing."""

    def process(self, *args: Any, **kwargs: Any) -> None:
        HiddenField.process(self, *args, **kwargs)  # not CSRFTokenField's: no token yet

    @property  # type: ignore[override]
    def current_token(self) -> str:
        token = self.__dict__.get("_current_token")
        if token is None:
            token = self._current_token = self.csrf_impl.generate_csrf_token(self)
        return token  # type: ignore[no-any-return]

    @current_token.setter
    def current_token(self, value: str) -> None:
        self._current_token = value


class _FlaskFormCSRF(CSRF):
    """WTForms' CSRF hook for ``FlaskForm``: the same tokens as ``generate_csrf``."""

    field_class = _LazyCSRFTokenField

    def setup_form(self, form: Any) -> Any:
        self.meta = form.meta
        return super().setup_form(form)

    def generate_csrf_token(self, csrf_token_field: Any) -> str:
        return generate_csrf(secret_key=self.meta.csrf_secret, token_key=self.meta.csrf_field_name)

    def validate_csrf_token(self, form: Any, field: Any) -> None:
        if g.get("csrf_valid", False):  # CSRFProtect already checked this request
            return
        if _no_ambient_credentials(request.environ):  # see CSRFProtect.protect
            return
        try:
            validate_csrf(
                field.data,
                self.meta.csrf_secret,
                self.meta.csrf_time_limit,
                self.meta.csrf_field_name,
            )
        except ValidationError as e:
            logger.info(e.args[0])  # one of validate_csrf's fixed messages (no input in it)
            raise
