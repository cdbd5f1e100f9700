"""URL building through the app: url_for, external URLs, anchors, errors, redirects."""

from __future__ import annotations

import pytest

import erlen
from erlen import redirect, url_for
from erlen.routing import BuildError


@pytest.fixture
def routed(app):
    @app.route("/user/<name>")
    def user(name):
        return name

    @app.route("/post/<int:id>", methods=["GET", "POST"])
    def post(id):
        return str(id)

    @app.route("/")
    def index():
        return "index"

    return app


def test_url_for_in_request(routed):
    with routed.test_request_context("/"):
        assert url_for("user", name="ann") == "/user/ann"
        assert url_for("user", name="a b/c") == "/user/a%20b%2Fc"
        assert url_for("post", id=3, q="x", tags=["a", "b"]) == "/post/3?q=x&tags=a&tags=b"
        assert url_for("index", _external=True) == "http://localhost/"
        assert url_for("index", _scheme="https", _external=True) == "https://localhost/"
        assert url_for("index", _anchor="top section") == "/#top%20section"
        assert url_for("post", id=1, _method="POST") == "/post/1"
        assert url_for("static", filename="app.css") == "/static/app.css"


def test_scheme_without_external_is_an_error(routed):
    with routed.test_request_context("/"), pytest.raises(ValueError, match="_external"):
        url_for("index", _scheme="https", _external=False)


def test_build_error_names_endpoint_and_values(routed):
    with routed.test_request_context("/"):
        with pytest.raises(BuildError) as exc:
            url_for("user")
        assert "user" in str(exc.value)
        assert "name" in str(exc.value)
        with pytest.raises(BuildError, match="nonexistent"):
            url_for("nonexistent")


def test_build_error_lists_only_the_values_given(routed):
    """As Flask: the message names missing values, not url_for's own ``_anchor``/... options."""
    with routed.test_request_context("/"):
        with pytest.raises(BuildError) as exc:
            url_for("user", _anchor="top")
        message = str(exc.value)
        assert message == (
            "Could not build url for endpoint 'user'. Did you forget to specify values ['name']?"
        )
        with pytest.raises(BuildError) as exc:
            url_for("nonexistent", x=1)
        assert "with values ['x']" in str(exc.value)
        assert "_external" not in str(exc.value)


def test_url_build_error_handlers(routed):
    def handler(error, endpoint, values):
        return f"/fallback/{endpoint}"

    routed.url_build_error_handlers.append(handler)
    with routed.test_request_context("/"):
        assert url_for("missing") == "/fallback/missing"


def test_url_for_outside_request_needs_server_name(routed):
    with routed.app_context(), pytest.raises(RuntimeError, match="SERVER_NAME"):
        url_for("index")
    routed.config.update(
        SERVER_NAME="example.org", PREFERRED_URL_SCHEME="https", APPLICATION_ROOT="/app"
    )
    with routed.app_context():
        assert url_for("user", name="x") == "https://example.org/app/user/x"
        assert url_for("user", name="x", _external=False) == "/app/user/x"


def test_script_root_is_prefixed(routed, client):
    @routed.route("/where")
    def where():
        return url_for("user", name="z")

    rv = client.get("/where", environ_overrides={"SCRIPT_NAME": "/mounted"})
    assert rv.data == b"/mounted/user/z"


def test_redirect(routed, client):
    @routed.route("/go")
    def go():
        return redirect(url_for("user", name="ann"))

    @routed.route("/go301")
    def go301():
        return redirect("/index", 301)

    @routed.route("/unicode")
    def uni():
        return redirect("/user/ü")

    rv = client.get("/go")
    assert rv.status_code == 302
    assert rv.headers["Location"] == "/user/ann"
    assert b'href="/user/ann"' in rv.data
    assert client.get("/go301").status_code == 301
    assert client.get("/unicode").headers["Location"] == "/user/%C3%BC"
    assert client.get("/go", follow_redirects=True).data == b"ann"


def test_redirect_outside_app_context():
    rv = redirect("/x", 307)
    assert rv.status_code == 307 and rv.headers["Location"] == "/x"


def test_host_matching(client):
    app = erlen.Erlen("hosts", host_matching=True, static_host="static.test")

    @app.route("/", host="<user>.example.test")
    def user_home(user):
        return f"home of {user}"

    @app.route("/", host="example.test")
    def main():
        return "main"

    c = app.test_client()
    assert c.get("/", base_url="http://ann.example.test").data == b"home of ann"
    assert c.get("/", base_url="http://example.test").data == b"main"
    assert c.get("/", base_url="http://other.test").status_code == 404
    with app.test_request_context("/", base_url="http://example.test"):
        assert url_for("user_home", user="bob") == "http://bob.example.test/"


def test_subdomain_routes(app):
    app.config["SERVER_NAME"] = "example.test"
    app.subdomain_matching = True

    @app.route("/", subdomain="<user>")
    def user(user):
        return f"user {user}"

    @app.route("/")
    def index():
        return "index"

    c = app.test_client()
    assert c.get("/", base_url="http://ann.example.test").data == b"user ann"
    assert c.get("/", base_url="http://example.test").data == b"index"
    with app.app_context():
        assert url_for("user", user="bob") == "http://bob.example.test/"


# -- the Host header: validated before any URL is built from it -----------------------------
BAD_HOSTS = [
    "a@evil.com",  # userinfo: http://a@evil.com/ goes to evil.com
    "a b",
    "x/y",
    "evil.com\\x",
    "h:99999",
    "h:abc",
    "h:",
    "x" * 5000,
    "a." + "b" * 64 + ".com",  # a label longer than DNS allows
]


@pytest.fixture
def host_app():
    app = erlen.Erlen("host_app")  # not TESTING: errors become responses

    @app.route("/dir/")
    def directory():
        return url_for("directory", _external=True)

    @app.route("/old", redirect_to="/dir/")
    def old():
        return ""

    @app.route("/rel")
    def rel():
        return redirect("/dir/")

    @app.route("/url")
    def url():
        return erlen.request.url

    return app


@pytest.mark.parametrize("host", BAD_HOSTS, ids=lambda h: repr(h[:12]))
@pytest.mark.parametrize(
    "path", ["/dir", "/dir/", "/old"], ids=["slash", "external", "redirect_to"]
)
def test_invalid_host_is_400_and_never_copied(host_app, caplog, host, path):
    with caplog.at_level("WARNING", logger="erlen"):
        resp = host_app.test_client().get(path, headers={"Host": host})
    assert resp.status_code == 400
    assert "Location" not in resp.headers
    assert b"Host header is invalid" in resp.data and host.encode() not in resp.data
    lines = [r.getMessage() for r in caplog.records if r.name == "erlen"]
    assert lines == [f"400 GET {path!r}: The request's Host header is invalid."]


def test_valid_hosts_still_build_urls(host_app):
    client = host_app.test_client()
    for host, base in [
        ("example.com:8080", "http://example.com:8080"),
        ("Example.COM:80", "http://example.com"),
        ("[::1]:5000", "http://[::1]:5000"),
        ("127.0.0.1", "http://127.0.0.1"),
        ("a." + "b" * 63 + ".com", "http://a." + "b" * 63 + ".com"),
    ]:
        resp = client.get("/dir", headers={"Host": host})
        assert (resp.status_code, resp.headers["Location"]) == (308, f"{base}/dir/")
        assert client.get("/old", headers={"Host": host}).headers["Location"] == f"{base}/dir/"
        assert client.get("/dir/", headers={"Host": host}).text == f"{base}/dir/"


def test_relative_redirect_and_request_url_never_carry_a_bad_host(host_app):
    client = host_app.test_client()
    resp = client.get("/rel", headers={"Host": "a@evil.com"})
    assert (resp.status_code, resp.headers["Location"]) == (302, "/dir/")  # stays relative
    # request.url as Werkzeug: an invalid Host is no host at all
    assert client.get("/url", headers={"Host": "a@evil.com"}).text == "http:///url"


def test_untrusted_valid_host_is_400_as_flask(host_app):
    host_app.config["TRUSTED_HOSTS"] = ["example.com"]
    client = host_app.test_client()
    assert client.get("/dir/", headers={"Host": "example.com"}).status_code == 200
    for host in ("evil.com", "a@evil.com", "x" * 5000):
        assert client.get("/dir/", headers={"Host": host}).status_code == 400


def test_server_name_configured_invalid_host_is_400(host_app):
    host_app.config["SERVER_NAME"] = "example.com"
    client = host_app.test_client()
    assert client.get("/dir", headers={"Host": "a@evil.com"}).status_code == 400
    resp = client.get("/dir", headers={"Host": "example.com"})
    assert resp.headers["Location"] == "http://example.com/dir/"
