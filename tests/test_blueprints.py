"""Blueprints: prefixes, nesting, names, scoped hooks and handlers, url_for."""

from __future__ import annotations

import pytest

import erlen
from erlen import Blueprint, request, url_for


def test_url_prefix_and_endpoints(app, client):
    bp = Blueprint("admin", __name__, url_prefix="/admin")

    @bp.route("/")
    def index():
        return f"{request.endpoint} {request.blueprint} {url_for('.index')} {url_for('home')}"

    @app.route("/")
    def home():
        return "home"

    app.register_blueprint(bp)
    assert client.get("/admin/").data == b"admin.index admin /admin/ /"
    assert "admin.index" in app.view_functions
    assert app.blueprints["admin"] is bp


def test_register_twice_needs_a_new_name(app, client):
    bp = Blueprint("bp", __name__)

    @bp.route("/x")
    def x():
        return request.endpoint

    app.register_blueprint(bp, url_prefix="/one")
    with pytest.raises(ValueError, match="already registered"):
        app.register_blueprint(bp, url_prefix="/two")
    app.register_blueprint(bp, url_prefix="/two", name="bp2")
    assert client.get("/one/x").data == b"bp.x"
    assert client.get("/two/x").data == b"bp2.x"


def test_nested_blueprints(app, client):
    parent = Blueprint("parent", __name__, url_prefix="/p")
    child = Blueprint("child", __name__, url_prefix="/c")
    grandchild = Blueprint("gc", __name__, url_prefix="/g")
    calls = []

    @parent.before_request
    def pb():
        calls.append("parent")

    @child.before_request
    def cb():
        calls.append("child")

    @app.before_request
    def ab():
        calls.append("app")

    @grandchild.route("/view")
    def view():
        return f"{request.endpoint}|{request.blueprints}|{url_for('.view')}"

    child.register_blueprint(grandchild)
    parent.register_blueprint(child)
    app.register_blueprint(parent)
    rv = client.get("/p/c/g/view")
    assert (
        rv.data == b"parent.child.gc.view|['parent.child.gc', 'parent.child', 'parent']|/p/c/g/view"
    )
    assert calls == ["app", "parent", "child"]


def test_blueprint_cannot_register_itself():
    bp = Blueprint("bp", __name__)
    with pytest.raises(ValueError):
        bp.register_blueprint(bp)


def test_invalid_names():
    with pytest.raises(ValueError, match="dot"):
        Blueprint("a.b", __name__)
    with pytest.raises(ValueError, match="empty"):
        Blueprint("", __name__)
    bp = Blueprint("bp", __name__)
    with pytest.raises(ValueError, match="dot"):
        bp.add_url_rule("/", "a.b", lambda: "x")


def test_scoped_hooks_and_app_wide_hooks(app, client):
    bp = Blueprint("bp", __name__, url_prefix="/bp")
    calls = []

    @bp.before_request
    def only_bp():
        calls.append("bp-before")

    @bp.before_app_request
    def everywhere():
        calls.append("app-before")

    @bp.after_request
    def bp_after(resp):
        resp.headers["X-BP"] = "1"
        return resp

    @bp.after_app_request
    def app_after(resp):
        resp.headers["X-App"] = "1"
        return resp

    @bp.teardown_app_request
    def td(exc):
        calls.append("teardown")

    @bp.route("/")
    def bp_index():
        return "bp"

    @app.route("/")
    def index():
        return "app"

    app.register_blueprint(bp)
    rv = client.get("/bp/")
    assert calls == ["app-before", "bp-before", "teardown"]
    assert rv.headers["X-BP"] == "1" and rv.headers["X-App"] == "1"
    calls.clear()
    rv = client.get("/")
    assert calls == ["app-before", "teardown"]
    assert "X-BP" not in rv.headers and rv.headers["X-App"] == "1"


def test_blueprint_error_handlers_first(app, client):
    bp = Blueprint("bp", __name__, url_prefix="/bp")

    @bp.errorhandler(403)
    def bp_403(e):
        return "bp 403", 403

    @bp.app_errorhandler(410)
    def app_410(e):
        return "app-wide 410", 410

    @app.errorhandler(403)
    def app_403(e):
        return "app 403", 403

    @bp.route("/forbid")
    def forbid():
        erlen.abort(403)

    @app.route("/forbid")
    def app_forbid():
        erlen.abort(403)

    @app.route("/gone")
    def gone():
        erlen.abort(410)

    app.register_blueprint(bp)
    assert client.get("/bp/forbid").data == b"bp 403"
    assert client.get("/forbid").data == b"app 403"
    assert client.get("/gone").data == b"app-wide 410"


def test_blueprint_url_defaults_and_subdomain(app, client):
    app.config["SERVER_NAME"] = "example.test"
    bp = Blueprint("bp", __name__, url_defaults={"kind": "all"}, subdomain="api")

    @bp.route("/list/<int:page>")
    def listing(page, kind):
        return f"page {page} of {kind}"

    app.subdomain_matching = True
    app.register_blueprint(bp)
    rv = client.get("/list/2", base_url="http://api.example.test")
    assert rv.data == b"page 2 of all"
    assert client.get("/list/2", base_url="http://example.test").status_code == 404
    with app.app_context():
        assert url_for("bp.listing", page=5) == "http://api.example.test/list/5"


def test_blueprint_context_processor_and_template_filter(app):
    bp = Blueprint("bp", __name__)

    @bp.app_template_filter("shout")
    def shout(s):
        return s.upper() + "!"

    @bp.app_context_processor
    def inject():
        return {"site": "erlen"}

    @bp.route("/")
    def index():
        return erlen.render_template_string("{{ 'hi'|shout }} {{ site }}")

    app.register_blueprint(bp)
    assert app.test_client().get("/").data == b"HI! erlen"


def test_blueprint_url_value_preprocessor(app, client):
    bp = Blueprint("bp", __name__, url_prefix="/<lang>")

    @bp.url_value_preprocessor
    def pull(endpoint, values):
        erlen.g.lang = values.pop("lang")

    @bp.url_defaults
    def push(endpoint, values):
        values.setdefault("lang", erlen.g.lang)

    @bp.route("/about")
    def about():
        return f"{erlen.g.lang} {url_for('.about')}"

    app.register_blueprint(bp)
    assert client.get("/fr/about").data == b"fr /fr/about"


def test_setup_after_registration_is_refused(app):
    bp = Blueprint("bp", __name__)
    app.register_blueprint(bp)
    with pytest.raises(AssertionError, match="already been registered"):
        bp.route("/late")(lambda: "x")


def test_blueprint_endpoint_decorator_registers_unprefixed_app_endpoint(app, client):
    from erlen.routing import Rule

    app.url_map.add(Rule("/foo", endpoint="bar"))
    bp = Blueprint("bp", __name__)

    @bp.endpoint("bar")
    def foobar():
        return request.endpoint

    assert "bar" not in app.view_functions
    app.register_blueprint(bp, url_prefix="/bp")
    assert app.view_functions["bar"] is foobar
    assert client.get("/foo").data == b"bar"
    assert client.get("/bp/bar").status_code == 404


def _static_app(mod, tmp_path):
    """Blueprints with static folders (one under a prefix, one with its own URL path), built
    the same way on erlen and on Flask (the oracle)."""
    (tmp_path / "app" / "static").mkdir(parents=True, exist_ok=True)
    (tmp_path / "app" / "static" / "a.css").write_text("app{}")
    (tmp_path / "bp" / "static").mkdir(parents=True, exist_ok=True)
    (tmp_path / "bp" / "static" / "b.css").write_text("bp{}")
    (tmp_path / "bp" / "static" / "CON").write_text("secret")
    (tmp_path / "bp" / "secret.txt").write_text("secret")
    app = mod.Flask("x", root_path=str(tmp_path / "app"))
    root = str(tmp_path / "bp")
    app.register_blueprint(
        mod.Blueprint("bp", "y", root_path=root, static_folder="static", url_prefix="/bp")
    )
    app.register_blueprint(
        mod.Blueprint("bp2", "y", root_path=root, static_folder="static", static_url_path="/assets")
    )
    app.register_blueprint(mod.Blueprint("nostatic", "y", root_path=root, url_prefix="/n"))
    return app


BP_STATIC_PATHS = [
    "/static/a.css",
    "/bp/static/b.css",
    "/assets/b.css",
    "/bp/static/a.css",
    "/n/static/b.css",
    "/bp/static/%2e%2e/secret.txt",
    "/bp/static/..%2fsecret.txt",
]
# refused everywhere by erlen; Flask serves a file named CON on POSIX (docs/decisions/005)
BP_STATIC_REFUSED = ["/assets/CON", "/assets/..%5csecret.txt", "/assets/%00", "/assets/C:x"]


def test_blueprint_static_folder(tmp_path):
    flask = pytest.importorskip("flask")
    app = _static_app(erlen, tmp_path)
    fapp = _static_app(flask, tmp_path)
    c, fc = app.test_client(), fapp.test_client()
    assert c.get("/bp/static/b.css").data == b"bp{}"
    assert c.get("/assets/b.css").headers["Content-Type"] == "text/css; charset=utf-8"
    for path in BP_STATIC_PATHS:
        rv, frv = c.get(path), fc.get(path)
        assert rv.status_code == frv.status_code, path
        assert b"secret" not in rv.data, path
        if rv.status_code == 200:
            assert rv.data == frv.data, path
    for path in BP_STATIC_REFUSED:
        rv = c.get(path)
        assert rv.status_code == 404, path
        assert b"secret" not in rv.data, path
    with app.test_request_context():
        assert url_for("bp.static", filename="b.css") == "/bp/static/b.css"
        assert url_for("bp2.static", filename="b.css") == "/assets/b.css"
        assert url_for("static", filename="a.css") == "/static/a.css"
    with app.test_request_context("/bp/static/b.css"):
        assert url_for(".static", filename="x.js") == "/bp/static/x.js"
