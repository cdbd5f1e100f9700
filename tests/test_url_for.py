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
