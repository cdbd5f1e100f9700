"""ProxyFix: trusted hop counts, compared with Werkzeug's ProxyFix as the oracle."""

from __future__ import annotations

import itertools

import pytest
from werkzeug.middleware.proxy_fix import ProxyFix as WerkzeugProxyFix

from erlen.wsgi import ProxyFix

KEYS = ("REMOTE_ADDR", "wsgi.url_scheme", "HTTP_HOST", "SERVER_NAME", "SERVER_PORT", "SCRIPT_NAME")


def base_environ(**headers: str) -> dict:
    env = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/x",
        "SCRIPT_NAME": "",
        "REMOTE_ADDR": "10.0.0.9",
        "wsgi.url_scheme": "http",
        "HTTP_HOST": "internal:8080",
        "SERVER_NAME": "internal",
        "SERVER_PORT": "8080",
    }
    env.update(headers)
    return env


def seen(middleware_cls, environ: dict, **counts: int) -> dict:
    captured: dict = {}

    def app(env, start_response):
        captured.update({k: env.get(k) for k in KEYS})
        return [b""]

    middleware_cls(app, **counts)(dict(environ), lambda *a: None)
    return captured


HEADER_SETS = [
    {},
    {"HTTP_X_FORWARDED_FOR": "203.0.113.5"},
    {"HTTP_X_FORWARDED_FOR": "1.1.1.1, 203.0.113.5, 10.0.0.1"},
    {"HTTP_X_FORWARDED_FOR": "spoofed, 203.0.113.5", "HTTP_X_FORWARDED_PROTO": "https"},
    {"HTTP_X_FORWARDED_PROTO": "http, https"},
    {"HTTP_X_FORWARDED_HOST": "example.com"},
    {"HTTP_X_FORWARDED_HOST": "evil.com, example.com:8443"},
    {"HTTP_X_FORWARDED_HOST": "[::1]"},
    {"HTTP_X_FORWARDED_PORT": "443"},
    {"HTTP_X_FORWARDED_HOST": "example.com:81", "HTTP_X_FORWARDED_PORT": "8443"},
    {"HTTP_X_FORWARDED_PREFIX": "/app"},
    {"HTTP_X_FORWARDED_PREFIX": "/evil, /app", "HTTP_X_FORWARDED_FOR": ""},
]


@pytest.mark.parametrize("headers", HEADER_SETS)
@pytest.mark.parametrize("counts", list(itertools.product((0, 1, 2), repeat=2)))
def test_matches_werkzeug(headers, counts):
    n_for, n_other = counts
    kwargs = dict(x_for=n_for, x_proto=n_other, x_host=n_other, x_port=n_other, x_prefix=n_other)
    env = base_environ(**headers)
    assert seen(ProxyFix, env, **kwargs) == seen(WerkzeugProxyFix, env, **kwargs)


def test_defaults_trust_one_hop_for_and_proto_only():
    env = base_environ(
        HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.5",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_HOST="evil.example",
        HTTP_X_FORWARDED_PREFIX="/evil",
    )
    got = seen(ProxyFix, env)
    assert got["REMOTE_ADDR"] == "203.0.113.5"  # the client-supplied 6.6.6.6 is ignored
    assert got["wsgi.url_scheme"] == "https"
    assert got["HTTP_HOST"] == "internal:8080"  # x_host=0: untrusted
    assert got["SCRIPT_NAME"] == ""


def test_fewer_values_than_trusted_hops_are_ignored():
    env = base_environ(HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert seen(ProxyFix, env, x_for=2)["REMOTE_ADDR"] == "10.0.0.9"


def test_original_values_kept_and_url_built_by_app():
    from erlen import Erlen, request

    app = Erlen(__name__)

    @app.route("/where")
    def where():
        orig = request.environ["erlen.proxy_fix.orig"]
        return {"url": request.url, "remote": request.remote_addr, "orig": orig["REMOTE_ADDR"]}

    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1)
    resp = app.test_client().get(
        "/where",
        headers={
            "X-Forwarded-For": "203.0.113.5",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "example.com",
            "X-Forwarded-Prefix": "/shop",
        },
    )
    assert resp.status_code == 200
    assert resp.get_json() == {
        "url": "https://example.com/shop/where",
        "remote": "203.0.113.5",
        "orig": "127.0.0.1",
    }


@pytest.mark.parametrize("bad", [-1, "1", 1.5])
def test_invalid_counts_rejected(bad):
    with pytest.raises(ValueError, match="non-negative int"):
        ProxyFix(lambda e, s: [], x_for=bad)
