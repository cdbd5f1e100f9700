"""erlen.forms.recaptcha: the widget's HTML (Flask-WTF's as the oracle) and verification
against a real verify server on loopback."""

from __future__ import annotations

import json
import logging
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import flask
import flask_wtf
import pytest
from markupsafe import Markup

import erlen
from erlen.forms import FlaskForm, Recaptcha, RecaptchaField


class CaptchaForm(FlaskForm):
    class Meta:
        csrf = False

    captcha = RecaptchaField()


def _app(**config: Any) -> erlen.Erlen:
    app = erlen.Erlen("test_recaptcha")
    app.config.update(
        {"SECRET_KEY": "k", "RECAPTCHA_PUBLIC_KEY": "site-key", "RECAPTCHA_PRIVATE_KEY": "secret"}
    )
    app.config.update(config)
    return app


# -- rendering --------------------------------------------------------------------------------


def test_widget_html_same_as_flask_wtf() -> None:
    config = {
        "RECAPTCHA_PUBLIC_KEY": "site-key",
        "RECAPTCHA_PARAMETERS": {"hl": "de"},
        "RECAPTCHA_DATA_ATTRS": {"theme": "dark"},
    }

    class FForm(flask_wtf.FlaskForm):
        class Meta:
            csrf = False

        captcha = flask_wtf.RecaptchaField(nonce="n1")

    class EForm(FlaskForm):
        class Meta:
            csrf = False

        captcha = RecaptchaField(nonce=lambda: "n1")

    fapp = flask.Flask("oracle")
    fapp.config.update(config)
    with fapp.test_request_context():
        want = str(FForm().captcha(style="margin: 0"))
    with _app(**config).test_request_context():
        got = EForm().captcha(style="margin: 0")
    assert isinstance(got, Markup)
    assert str(got) == want
    assert 'data-sitekey="site-key"' in got and "api.js?hl=de" in got


def test_widget_escapes_nonce_and_attributes() -> None:
    class F(FlaskForm):
        class Meta:
            csrf = False

        captcha = RecaptchaField(nonce='"><script>x()</script>')

    with _app().test_request_context():
        html = F().captcha(title='"><b>')
    assert "<script>x()" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;" in html


def test_widget_config() -> None:
    with _app(RECAPTCHA_ENABLED=False).test_request_context():
        assert CaptchaForm().captcha() == Markup("<!-- recaptcha disabled -->")
    with _app(RECAPTCHA_HTML="<div>own</div>").test_request_context():
        assert CaptchaForm().captcha() == Markup("<div>own</div>")
    app = _app(RECAPTCHA_SCRIPT="https://hcaptcha.com/1/api.js", RECAPTCHA_DIV_CLASS="h-captcha")
    with app.test_request_context():
        html = CaptchaForm().captcha()
    assert "https://hcaptcha.com/1/api.js" in html and 'class="h-captcha"' in html
    del app.config["RECAPTCHA_PUBLIC_KEY"]
    with app.test_request_context(), pytest.raises(RuntimeError, match="PUBLIC_KEY"):
        CaptchaForm().captcha()


# -- verification -----------------------------------------------------------------------------


class _Verifier(BaseHTTPRequestHandler):
    answers: list[tuple[int, bytes]] = []
    seen: list[dict[str, list[str]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append(urllib.parse.parse_qs(body.decode()))
        status, payload = self.answers.pop(0)
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def verifier() -> Iterator[str]:
    """A verify server on loopback; tests queue its answers in ``_Verifier.answers``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Verifier)
    _Verifier.answers, _Verifier.seen = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/siteverify"
    server.shutdown()
    server.server_close()


def _errors(app: erlen.Erlen, form_cls: type = CaptchaForm, **ctx: Any) -> list[str]:
    with app.test_request_context(method="POST", **ctx):
        form = form_cls()
        form.validate()
        return list(form.captcha.errors)


def _answer(status: int, **body: Any) -> tuple[int, bytes]:
    return status, json.dumps(body).encode()


def test_verified_by_the_server(verifier: str) -> None:
    app = _app(RECAPTCHA_VERIFY_SERVER=verifier)
    _Verifier.answers = [_answer(200, success=True)]
    data = {"g-recaptcha-response": "browser-says"}
    assert _errors(app, data=data, environ_base={"REMOTE_ADDR": "10.0.0.7"}) == []
    assert _Verifier.seen == [
        {"secret": ["secret"], "remoteip": ["10.0.0.7"], "response": ["browser-says"]}
    ]
    _Verifier.answers = [_answer(200, success=True)]
    assert _errors(app, json=data) == []  # a JSON body's field counts too


def test_refusals_and_their_messages(verifier: str) -> None:
    app = _app(RECAPTCHA_VERIFY_SERVER=verifier)
    data = {"g-recaptcha-response": "x"}
    assert _errors(app) == ["The response parameter is missing."]
    _Verifier.answers = [_answer(200, success=False, **{"error-codes": ["invalid-input-response"]})]
    assert _errors(app, data=data) == ["The response parameter is invalid or malformed."]

    class Custom(FlaskForm):
        class Meta:
            csrf = False

        captcha = RecaptchaField(validators=[Recaptcha("Try again.")])

    _Verifier.answers = [_answer(200, success=False, **{"error-codes": ["timeout-or-duplicate"]})]
    assert _errors(app, Custom, data=data) == ["Try again."]


def test_verify_server_trouble_is_a_failed_check_not_a_500(verifier: str, caplog) -> None:
    app = _app(RECAPTCHA_VERIFY_SERVER=verifier)
    data = {"g-recaptcha-response": "x"}
    _Verifier.answers = [(500, b"oops"), (200, b"not json")]
    with caplog.at_level(logging.WARNING, "erlen.forms"):
        assert _errors(app, data=data) == ["The response parameter is missing."]
        assert _errors(app, data=data) == ["The response parameter is missing."]
    assert [r.getMessage() for r in caplog.records] == [
        "reCAPTCHA verification failed: HTTPError",
        "reCAPTCHA verification failed: JSONDecodeError",
    ]


def test_verify_server_that_never_answers_times_out() -> None:
    import socket

    with socket.socket() as listener:  # accepts connections (backlog), never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
        app = _app(RECAPTCHA_VERIFY_SERVER=url, RECAPTCHA_TIMEOUT=0.2)
        assert _errors(app, data={"g-recaptcha-response": "x"}) == [
            "The response parameter is missing."
        ]


def test_skipped_when_testing_or_disabled_and_private_key_required() -> None:
    data = {"g-recaptcha-response": "x"}
    assert _errors(_app(TESTING=True), data=data) == []
    assert _errors(_app(RECAPTCHA_ENABLED=False), data=data) == []
    app = _app()
    del app.config["RECAPTCHA_PRIVATE_KEY"]
    with pytest.raises(RuntimeError, match="PRIVATE_KEY"):
        _errors(app, data=data)


def test_importing_erlen_forms_does_not_import_recaptcha() -> None:
    import subprocess
    import sys

    code = "import sys, erlen.forms; print('erlen.forms.recaptcha' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False"]
