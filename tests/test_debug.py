"""The debug page middleware, in process (the real server is covered in test_serving.py)."""

from __future__ import annotations

import logging

import pytest
from werkzeug.test import Client

from erlen import Erlen, request
from erlen.serving.debug import DebuggedApplication


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


@pytest.fixture
def debug_app():
    app = Erlen("debug_test_app")
    app.debug = True

    @app.route("/boom", methods=["GET", "POST"])
    def boom():
        weird = BadRepr()  # noqa: F841
        huge = "x" * 10_000  # noqa: F841
        markup = "<img src=x onerror=alert(1)>"  # noqa: F841
        raise KeyError("missing & <key>")

    @app.route("/chain")
    def chain():
        try:
            {}["a"]
        except KeyError as e:
            raise ValueError("wrapped") from e

    @app.route("/stream")
    def stream():
        def gen():
            yield b"partial"
            raise RuntimeError("mid-stream")

        return app.response_class(gen())

    @app.route("/ok")
    def ok():
        return "fine"

    return app


def client(app):
    return Client(DebuggedApplication(app))


def test_html_page_content(debug_app):
    resp = client(debug_app).post(
        "/boom?x=1",
        data={"user": "ann<1>", "password": "hunter2"},
        headers={"Authorization": "Bearer topsecret", "X-Test": "t&t"},
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 500
    assert resp.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "script-src" not in resp.headers["Content-Security-Policy"]
    assert resp.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "<h1>KeyError</h1>" in page
    assert "missing &amp; &lt;key&gt;" in page
    assert "raise KeyError(&quot;missing &amp; &lt;key&gt;&quot;)" in page  # source line
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img" not in page
    assert "BadRepr instance at" in page  # a failing __repr__ does not break the page
    assert "x" * 400 not in page and "xxx..." in page  # long values truncated
    assert "http://localhost/boom?x=1" in page
    assert "t&amp;t" in page
    assert "topsecret" not in page and "<th>Authorization</th><td>[redacted]</td>" in page
    assert "ann&lt;1&gt;" in page and "hunter2" not in page
    assert "<script" not in page.lower()
    assert "in <b>DebuggedApplication.__call__</b>" not in page  # middleware frame hidden


def test_json_when_accepted(debug_app):
    resp = client(debug_app).get("/boom", headers={"Accept": "application/json"})
    data = resp.get_json()
    assert resp.status_code == 500
    assert data["error"]["type"] == "KeyError"
    frame = data["error"]["traceback"][-1]
    assert frame["function"].endswith("boom")
    assert frame["locals"]["markup"] == "'<img src=x onerror=alert(1)>'"
    assert frame["library"] is False
    assert data["request"]["method"] == "GET"
    assert "Traceback (most recent call last)" in data["error"]["text"]


def test_browser_accept_prefers_html(debug_app):
    resp = client(debug_app).get(
        "/boom", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    )
    assert resp.headers["Content-Type"].startswith("text/html")


def test_exception_chain_shown(debug_app):
    page = client(debug_app).get("/chain").get_data(as_text=True)
    assert page.index("<h2>Traceback: KeyError") < page.index("<h2>Traceback: ValueError")
    assert "direct cause" in page


def test_error_after_headers_sent_does_not_crash(debug_app, caplog):
    with caplog.at_level(logging.ERROR, logger="erlen.debug"):
        resp = client(debug_app).get("/stream")
        assert resp.status_code == 200
        assert resp.get_data() == b"partial"  # truncated, nothing appended
    assert "mid-stream" in caplog.text


def test_success_passes_through(debug_app):
    resp = client(debug_app).get("/ok")
    assert (resp.status_code, resp.get_data()) == (200, b"fine")


def test_debug_off_app_handles_500_itself(debug_app, caplog):
    debug_app.debug = False
    with caplog.at_level(logging.ERROR):
        resp = client(debug_app).get("/boom")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 500
    assert "Internal Server Error" in body
    assert "KeyError" not in body and "markup" not in body
    assert "KeyError" in caplog.text  # logged, not shown


def test_plain_wsgi_app_without_request_context():
    def app(environ, start_response):
        raise OSError("disk on fire")

    resp = Client(DebuggedApplication(app)).get(
        "/p?q=1", headers={"Proxy-Authorization": "Basic abc"}
    )
    page = resp.get_data(as_text=True)
    assert resp.status_code == 500
    assert "disk on fire" in page and "http://localhost/p?q=1" in page
    assert "<th>Proxy-Authorization</th><td>[redacted]</td>" in page
    assert "(not parsed)" in page


def test_evalex_refused():
    with pytest.raises(ValueError, match="never executes code"):
        DebuggedApplication(lambda e, s: [], evalex=True)


def test_request_snapshot_only_for_debugged_requests(debug_app):
    debug_app.config["PROPAGATE_EXCEPTIONS"] = False
    seen = {}

    @debug_app.route("/plain")
    def plain():
        seen["env"] = request.environ
        raise RuntimeError("x")

    DebuggedApplication(debug_app)  # connects the signal receiver
    resp = debug_app.test_client().get("/plain")
    assert resp.status_code == 500
    assert "erlen.debug.request" not in seen["env"]


def test_invalid_host_is_not_shown_as_part_of_a_url(debug_app):
    resp = client(debug_app).get("/boom?x=1", headers={"Host": "a@evil.com"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 500
    assert "<th>URL</th><td>http://(invalid-host)/boom?x=1</td>" in page
    assert "GET http://(invalid-host)/boom?x=1 &middot;" in page
    assert "<th>Host</th><td>a@evil.com</td>" in page  # the header itself, as data


def test_error_log_line_escapes_the_path(debug_app, caplog):
    @debug_app.before_request
    def fail():  # for any path, even one no rule matches
        raise RuntimeError("x")

    with caplog.at_level(logging.ERROR, logger="erlen.debug"):
        client(debug_app).get("/fail/a%0d%0aforged%1b[31m")
    messages = [r.getMessage() for r in caplog.records if r.name == "erlen.debug"]
    assert messages == ["Exception on GET /fail/a\\x0d\\x0aforged\\x1b[31m"]


# -- redaction ------------------------------------------------------------------------------
@pytest.fixture
def secret_app():
    app = Erlen("secret_app")
    app.debug = True
    app.config.update(
        SECRET_KEY="s3cr3t",
        SECRET_KEY_FALLBACKS=["old-s3cr3t"],
        STRIPE_API_KEY="sk_live_abcdef",
        DATABASE_URL="postgres://app:dbpa55word@db/app",
        SESSION_COOKIE_NAME="session",
    )

    @app.route("/leak", methods=["GET", "POST"])
    def leak():
        password = "hunter2"
        auth_token = request.args.get("token")
        config = app.config
        settings = {"SECRET_KEY": config["SECRET_KEY"], "MAX_COOKIE_SIZE": 4093, "page": 2}  # noqa: F841
        author = "Ann Author"  # noqa: F841 (not a secret: 'author' is not 'auth')
        raise RuntimeError(f"failed for {password} with {auth_token} and {config['SECRET_KEY']}")

    return app


SECRETS = (
    "hunter2", "s3cr3t", "sk_live_abcdef", "dbpa55word", "qu3rytok3n", "b34r3rtok3n",
    "c00kiesess10n", "f0rmpassw0rd", "h3adertok3n",
)  # fmt: skip


def _leak(app, accept="text/html"):
    c = client(app)
    c.set_cookie("session", "c00kiesess10n")
    c.set_cookie("theme", "dark")
    return c.post(
        "/leak?token=qu3rytok3n&page=2",
        data={"user": "ann", "pass_word": "f0rmpassw0rd"},
        headers={
            "Authorization": "Bearer b34r3rtok3n",
            "X-Api-Key": "h3adertok3n",
            "Accept": accept,
        },
    )


def test_debug_page_redacts_secrets_and_keeps_names(secret_app):
    resp = _leak(secret_app)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 500
    for secret in SECRETS:
        assert secret not in page, secret
    # still useful: the names, the other values and the code are there
    assert "<th>password</th><td>[redacted]</td>" in page
    assert "<th>auth_token</th><td>[redacted]</td>" in page
    q = "&#x27;"
    assert f"{q}DATABASE_URL{q}: {q}postgres://app:[redacted]@db/app{q}" in page  # config
    assert f"{{{q}MAX_COOKIE_SIZE{q}: 4093, {q}SECRET_KEY{q}: {q}[redacted]{q}, {q}page" in page
    assert "Ann Author" in page and "<th>user</th><td>ann</td>" in page
    assert "<th>pass_word</th><td>[redacted]</td>" in page
    assert "/leak?token=[redacted]&amp;page=2" in page
    assert "<th>X-Api-Key</th><td>[redacted]</td>" in page
    assert "<th>Cookie</th><td>[redacted]</td>" in page
    assert "password = &quot;[redacted]&quot;" in page  # the source line, scrubbed
    assert "failed for [redacted] with [redacted] and [redacted]" in page  # the message
    assert "RuntimeError" in page


def test_debug_json_redacts_secrets(secret_app):
    resp = _leak(secret_app, accept="application/json")
    text = resp.get_data(as_text=True)
    for secret in SECRETS:
        assert secret not in text, secret
    data = resp.get_json()
    frame = data["error"]["traceback"][-1]
    assert frame["locals"]["password"] == "[redacted]"
    assert frame["code"].startswith("raise RuntimeError(")
    assert data["request"]["headers"]["Authorization"] == "[redacted]"
    assert data["request"]["form"] == [["user", "ann"], ["pass_word", "[redacted]"]]


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("SECRET_KEY", True), ("password", True), ("db_passwd", True), ("apiKey", True),
        ("api_key", True), ("X-Auth-Token", True), ("HTTP_AUTHORIZATION", True),
        ("HTTP_COOKIE", True), ("session_id", True), ("aws_credentials", True),
        ("csrf_token", True), ("user", False), ("author", False), ("monkey", False),
        ("JSON_SORT_KEYS", False), ("markup", False),
    ],
)  # fmt: skip
def test_secret_names(name, secret):
    from erlen.serving.debug import _is_secret

    assert _is_secret(name) is secret
