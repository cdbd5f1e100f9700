"""The benchmark app written the way Falcon's docs do it (resources with on_get/on_post)."""

from __future__ import annotations

from typing import Any

import falcon
from itsdangerous import BadSignature

from bench.apps import common


class _User:
    def on_get(self, req: falcon.Request, resp: falcon.Response, id: int) -> None:
        resp.media = {"id": id, "fields": common.split_fields(req.get_param("fields"))}


class _Hello:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = "Hello, World!"


class _Session:
    def __init__(self) -> None:
        self.serializer = common.make_serializer()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        data: dict[str, Any] = {}
        raw = req.get_cookie_values(common.SESSION_COOKIE)
        if raw:
            try:
                data = self.serializer.loads(raw[0], max_age=common.SESSION_MAX_AGE)
            except BadSignature:
                data = {}
        data["counter"] = data.get("counter", 0) + 1
        resp.set_cookie(
            common.SESSION_COOKIE,
            self.serializer.dumps(data),
            path="/",
            secure=False,
            http_only=True,
        )
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = str(data["counter"])


class _Form:
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = req.get_media()[common.FORM_ECHO_FIELD]


class _Upload:
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        for part in req.get_media():
            if part.name == "file":
                resp.content_type = falcon.MEDIA_TEXT
                resp.text = common.upload_answer(part.stream.read())
                return
        raise falcon.HTTPBadRequest(description="no file")


class _Page:
    def __init__(self) -> None:
        self.env = common.make_jinja_env()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.text = self.env.get_template("page.html").render(**common.TEMPLATE_CONTEXT)


class _NoOpMiddleware:
    """Falcon's counterpart of one before_request and one after_request hook."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        return None

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, req_succeeded: bool
    ) -> None:
        return None


def make_app(kind: str = "main") -> Any:
    """Falcon app for ``kind`` ``"main"``, ``"hooks"`` (with a no-op middleware) or ``"many"``
    (see flasklike.make_flask_like_app)."""
    app = falcon.App(middleware=[_NoOpMiddleware()] if kind == "hooks" else None)
    user = _User()
    if kind == "many":
        for i in range(common.MANY_ROUTES):
            app.add_route(f"/r{i}/{{id:int}}", user)
        return app
    app.add_route("/hello", _Hello())
    for i in range(common.OTHER_ROUTES):
        app.add_route(f"/item{i}/{{id:int}}", user)
    app.add_route("/user/{id:int}", user)
    app.add_route("/session", _Session())
    app.add_route("/form", _Form())
    app.add_route("/upload", _Upload())
    app.add_route("/page", _Page())
    return app
