"""The benchmark app written the way Bottle's docs do it."""

from __future__ import annotations

from typing import Any

import bottle

from bench.apps import common


def make_app(kind: str = "main") -> Any:
    """Bottle app for ``kind`` ``"main"``, ``"hooks"`` or ``"many"`` (see flasklike.make_flask_like_app)."""
    app = bottle.Bottle()
    request, response = bottle.request, bottle.response

    def user(id: int) -> Any:
        return {"id": id, "fields": common.split_fields(request.query.get("fields"))}

    if kind == "many":
        for i in range(common.MANY_ROUTES):
            app.route(f"/r{i}/<id:int>", "GET", user)
        return app

    @app.get("/hello")
    def hello() -> str:
        response.content_type = "text/plain; charset=utf-8"
        return "Hello, World!"

    for i in range(common.OTHER_ROUTES):
        app.route(f"/item{i}/<id:int>", "GET", user)
    app.route("/user/<id:int>", "GET", user)

    @app.get("/session")
    def counter() -> str:
        # Bottle 0.13 deprecates pickled objects in signed cookies: store a string.
        value = request.get_cookie(common.SESSION_COOKIE, secret=common.SECRET_KEY)
        count = str(int(value or 0) + 1)
        response.set_cookie(
            common.SESSION_COOKIE, count, secret=common.SECRET_KEY, path="/", httponly=True
        )
        return count

    @app.post("/form")
    def form() -> str:
        return request.forms.getunicode(common.FORM_ECHO_FIELD)

    @app.post("/upload")
    def upload() -> str:
        return common.upload_answer(request.files.get("file").file.read())

    env = common.make_jinja_env()

    @app.get("/page")
    def page() -> str:
        return env.get_template("page.html").render(**common.TEMPLATE_CONTEXT)

    if kind == "hooks":
        app.add_hook("before_request", lambda: None)
        app.add_hook("after_request", lambda: None)

    return app
