"""One app source for Flask and erlen: the same code, parametrised by the framework module.

erlen promises that a Flask app runs with only its imports changed, so the erlen app *is*
the Flask app; any difference in the numbers is the framework, never the app.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from bench.apps import common


def _app_class(mod: ModuleType) -> Any:
    return getattr(mod, "Erlen", None) or mod.Flask


def make_flask_like_app(mod: ModuleType, kind: str = "main") -> Any:
    """Build the benchmark app with ``mod`` (``flask`` or ``erlen``) as the framework.

    ``kind`` is ``"main"`` (every scenario, ``/user/<int:id>`` after 50 other dynamic
    routes), ``"hooks"`` (main plus one no-op ``before_request`` and one ``after_request``
    hook, as every app with a battery has) or ``"many"`` (1,000 ``/r{i}/<int:id>`` routes).
    """
    request = mod.request
    jsonify = mod.jsonify
    app = _app_class(mod)(__name__, template_folder=common.TEMPLATE_DIR)
    app.config["SECRET_KEY"] = common.SECRET_KEY

    def user(id: int) -> Any:
        return jsonify(id=id, fields=common.split_fields(request.args.get("fields")))

    if kind == "many":
        for i in range(common.MANY_ROUTES):
            app.add_url_rule(f"/r{i}/<int:id>", f"r{i}", user)
        return app

    @app.route("/hello")
    def hello() -> Any:
        return "Hello, World!", 200, {"Content-Type": "text/plain; charset=utf-8"}

    for i in range(common.OTHER_ROUTES):
        app.add_url_rule(f"/item{i}/<int:id>", f"item{i}", user)
    app.add_url_rule("/user/<int:id>", "user", user)

    @app.route("/session")
    def counter() -> Any:
        session = mod.session
        session["counter"] = session.get("counter", 0) + 1
        return str(session["counter"])

    @app.route("/form", methods=["POST"])
    def form() -> Any:
        return request.form[common.FORM_ECHO_FIELD]

    @app.route("/upload", methods=["POST"])
    def upload() -> Any:
        return common.upload_answer(request.files["file"].read())

    @app.route("/page")
    def page() -> Any:
        return mod.render_template("page.html", **common.TEMPLATE_CONTEXT)

    if kind == "hooks":

        @app.before_request
        def before() -> None:
            return None

        @app.after_request
        def after(response: Any) -> Any:
            return response

    return app
