"""reCAPTCHA (and hCaptcha-style) fields: Flask-WTF 1.3's ``flask_wtf.recaptcha`` API.

``RecaptchaField()`` renders the provider's script and ``<div>`` and, on submit, posts the
browser's ``g-recaptcha-response`` to the verify server. Same config keys as Flask-WTF:
``RECAPTCHA_PUBLIC_KEY``, ``RECAPTCHA_PRIVATE_KEY``, ``RECAPTCHA_ENABLED``,
``RECAPTCHA_VERIFY_SERVER``, ``RECAPTCHA_SCRIPT``, ``RECAPTCHA_PARAMETERS``,
``RECAPTCHA_DIV_CLASS``, ``RECAPTCHA_DATA_ATTRS``, ``RECAPTCHA_HTML``; plus
``RECAPTCHA_TIMEOUT`` (seconds, default 10): a verify server that does not answer fails the
check instead of holding a worker. Verification is skipped while ``app.testing`` is true or
``RECAPTCHA_ENABLED`` is false. Not imported by ``import erlen.forms`` until used.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from urllib import request as http  # Flask-WTF's name: tests patch ``http.urlopen``
from urllib.parse import urlencode

from markupsafe import Markup
from wtforms import Field, ValidationError
from wtforms.widgets import html_params

from ...globals import current_app, request

__all__ = ["Recaptcha", "RecaptchaField", "RecaptchaWidget"]

logger = logging.getLogger("erlen.forms")

RECAPTCHA_SCRIPT_DEFAULT = "https://www.google.com/recaptcha/api.js"
RECAPTCHA_DIV_CLASS_DEFAULT = "g-recaptcha"
RECAPTCHA_VERIFY_SERVER_DEFAULT = "https://www.google.com/recaptcha/api/siteverify"
RECAPTCHA_ERROR_CODES = {
    "missing-input-secret": "The secret parameter is missing.",
    "invalid-input-secret": "The secret parameter is invalid or malformed.",
    "missing-input-response": "The response parameter is missing.",
    "invalid-input-response": "The response parameter is invalid or malformed.",
}
RESPONSE_FIELD = "g-recaptcha-response"

#: ``urllib.request.urlopen`` as imported; a replacement (a test's mock, written for
#: Flask-WTF's two-argument call) is called without the timeout.
_URLOPEN = http.urlopen


class RecaptchaWidget:
    """The provider's ``<script>`` and ``<div class="g-recaptcha" data-sitekey=...>``."""

    def recaptcha_html(self, public_key: str, nonce: Any = None, **kwargs: Any) -> Markup:
        config = current_app.config
        html = config.get("RECAPTCHA_HTML")
        if html:
            return Markup(html)  # the app's own markup, from its config
        script = config.get("RECAPTCHA_SCRIPT") or RECAPTCHA_SCRIPT_DEFAULT
        params = config.get("RECAPTCHA_PARAMETERS")
        if params:
            script += "?" + urlencode(params)
        if callable(nonce):
            nonce = nonce()
        nonce_attr = Markup(' nonce="{}"').format(nonce) if nonce else ""
        kwargs.setdefault("class", config.get("RECAPTCHA_DIV_CLASS") or RECAPTCHA_DIV_CLASS_DEFAULT)
        data_attrs = {**(config.get("RECAPTCHA_DATA_ATTRS") or {}), "sitekey": public_key}
        for key, value in data_attrs.items():
            kwargs.setdefault(f"data-{key}", value)
        return Markup("\n<script src='{}' async defer{}></script>\n<div {}></div>\n").format(
            script, nonce_attr, Markup(html_params(**kwargs))
        )

    def __call__(self, field: Any, error: Any = None, **kwargs: Any) -> Markup:
        config = current_app.config
        if not config.get("RECAPTCHA_ENABLED", True):
            return Markup("<!-- recaptcha disabled -->")
        public_key = config.get("RECAPTCHA_PUBLIC_KEY")
        if public_key is None:
            raise RuntimeError("RECAPTCHA_PUBLIC_KEY config not set")
        kwargs.setdefault("id", field.id)
        return self.recaptcha_html(public_key, nonce=field.nonce, **kwargs)


class Recaptcha:
    """Validator: the submitted response must be confirmed by the verify server.

    ``message`` is the error when the response is missing or refused; an error code the
    server names (``invalid-input-response`` ...) gets its own message.
    """

    def __init__(self, message: str | None = None) -> None:
        self.message = message or RECAPTCHA_ERROR_CODES["missing-input-response"]

    def __call__(self, form: Any, field: Any) -> None:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        if app.testing or not app.config.get("RECAPTCHA_ENABLED", True):
            return
        req = request._get_current_object()  # type: ignore[attr-defined]
        if req.is_json:
            body = req.get_json(silent=True)
            response = body.get(RESPONSE_FIELD, "") if isinstance(body, dict) else ""
        else:
            response = req.form.get(RESPONSE_FIELD, "")
        if not response or not isinstance(response, str):
            raise ValidationError(field.gettext(self.message))
        if not self._validate_recaptcha(response, req.remote_addr):
            field.recaptcha_error = "incorrect-captcha-sol"
            raise ValidationError(field.gettext(self.message))

    def _validate_recaptcha(self, response: str, remote_addr: str | None) -> bool:
        """Ask the verify server; False when it refuses, cannot be reached or answers
        nonsense (logged at WARNING: the captcha is down, not the visitor wrong)."""
        config = current_app.config
        private_key = config.get("RECAPTCHA_PRIVATE_KEY")
        if private_key is None:
            raise RuntimeError("No RECAPTCHA_PRIVATE_KEY config set")
        verify_server = config.get("RECAPTCHA_VERIFY_SERVER") or RECAPTCHA_VERIFY_SERVER_DEFAULT
        data = urlencode(
            {"secret": private_key, "remoteip": remote_addr or "", "response": response}
        ).encode()
        urlopen: Callable[..., Any] = http.urlopen
        try:
            if urlopen is _URLOPEN:
                answer = urlopen(verify_server, data, timeout=config.get("RECAPTCHA_TIMEOUT", 10))
            else:
                answer = urlopen(verify_server, data)
            if answer.code != 200:
                logger.warning("reCAPTCHA verify server answered %s", answer.code)
                return False
            result = json.loads(answer.read())
        except (OSError, ValueError) as e:  # URLError, timeouts, bad JSON
            logger.warning("reCAPTCHA verification failed: %s", type(e).__name__)
            return False
        if not isinstance(result, dict):
            return False
        if result.get("success") is True:
            return True
        for code in result.get("error-codes") or ():
            if code in RECAPTCHA_ERROR_CODES:
                raise ValidationError(RECAPTCHA_ERROR_CODES[code])
        return False


class RecaptchaField(Field):
    """A reCAPTCHA on a form (validator ``Recaptcha()`` by default).

    ``nonce`` (a string, or a callable answering one at render time, e.g.
    ``lambda: g.csp_nonce``) goes on the ``<script>`` tag for a nonce-based CSP.
    """

    widget = RecaptchaWidget()
    recaptcha_error: str | None = None

    def __init__(
        self, label: str = "", validators: Any = None, nonce: Any = None, **kwargs: Any
    ) -> None:
        self.nonce = nonce
        super().__init__(label, validators or [Recaptcha()], **kwargs)
