"""The benchmark app as a bare WSGI callable: the floor any framework is measured against.

Routing is a dict on the first path segment, parsing is done by hand with the stdlib,
sessions are itsdangerous-signed like Flask's. It does only what each scenario needs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from itsdangerous import BadSignature

from bench.apps import common

_Environ = dict[str, Any]
_StartResponse = Callable[..., Any]
_TEXT = "text/plain; charset=utf-8"
_NOT_FOUND = b"<!doctype html>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n"


def _reply(
    start_response: _StartResponse,
    body: bytes,
    content_type: str = _TEXT,
    status: str = "200 OK",
    extra: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    if extra:
        headers.extend(extra)
    start_response(status, headers)
    return [body]


def _read_body(environ: _Environ) -> bytes:
    length = environ.get("CONTENT_LENGTH")
    return environ["wsgi.input"].read(int(length)) if length else b""


def _user(environ: _Environ, start_response: _StartResponse, id: int) -> Iterable[bytes]:
    fields = parse_qs(environ.get("QUERY_STRING", "")).get("fields", [None])[0]
    body = json.dumps({"id": id, "fields": common.split_fields(fields)}).encode()
    return _reply(start_response, body, "application/json")


def make_app(kind: str = "main") -> Callable[[_Environ, _StartResponse], Iterable[bytes]]:
    """Bare WSGI app for ``kind`` ``"main"`` or ``"many"`` (``"hooks"``: a bare function has
    no hooks, so it is ``"main"``)."""
    dynamic: dict[str, Callable[..., Iterable[bytes]]] = {}
    static: dict[tuple[str, str], Callable[..., Iterable[bytes]]] = {}
    if kind == "many":
        for i in range(common.MANY_ROUTES):
            dynamic[f"r{i}"] = _user
    else:
        for i in range(common.OTHER_ROUTES):
            dynamic[f"item{i}"] = _user
        dynamic["user"] = _user
        serializer = common.make_serializer()
        env = common.make_jinja_env()

        def hello(environ: _Environ, start_response: _StartResponse) -> Iterable[bytes]:
            return _reply(start_response, b"Hello, World!")

        def session(environ: _Environ, start_response: _StartResponse) -> Iterable[bytes]:
            data: dict[str, Any] = {}
            prefix = common.SESSION_COOKIE + "="
            for item in environ.get("HTTP_COOKIE", "").split(";"):
                item = item.strip()
                if item.startswith(prefix):
                    try:
                        data = serializer.loads(item[len(prefix) :], max_age=common.SESSION_MAX_AGE)
                    except BadSignature:
                        data = {}
                    break
            data["counter"] = data.get("counter", 0) + 1
            cookie = f"{common.SESSION_COOKIE}={serializer.dumps(data)}; HttpOnly; Path=/"
            return _reply(
                start_response, str(data["counter"]).encode(), extra=[("Set-Cookie", cookie)]
            )

        def form(environ: _Environ, start_response: _StartResponse) -> Iterable[bytes]:
            fields = parse_qs(_read_body(environ).decode("latin-1"), encoding="utf-8")
            return _reply(start_response, fields[common.FORM_ECHO_FIELD][0].encode())

        def upload(environ: _Environ, start_response: _StartResponse) -> Iterable[bytes]:
            ctype = environ.get("CONTENT_TYPE", "")
            boundary = ctype.partition("boundary=")[2].strip('"').encode("latin-1")
            body = _read_body(environ)
            start = body.find(b'name="file"')
            if not boundary or start < 0:
                return _reply(start_response, b"bad upload", status="400 Bad Request")
            start = body.index(b"\r\n\r\n", start) + 4
            end = body.index(b"\r\n--" + boundary, start)
            return _reply(start_response, common.upload_answer(body[start:end]).encode())

        def page(environ: _Environ, start_response: _StartResponse) -> Iterable[bytes]:
            html = env.get_template("page.html").render(**common.TEMPLATE_CONTEXT)
            return _reply(start_response, html.encode(), "text/html; charset=utf-8")

        static = {
            ("GET", "/hello"): hello,
            ("GET", "/session"): session,
            ("POST", "/form"): form,
            ("POST", "/upload"): upload,
            ("GET", "/page"): page,
        }

    def app(environ: _Environ, start_response: _StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        handler = static.get((environ["REQUEST_METHOD"], path))
        if handler is not None:
            return handler(environ, start_response)
        _, first, rest = path.split("/", 2) if path.count("/") == 2 else ("", "", "")
        view = dynamic.get(first)
        if (
            view is not None
            and rest.isascii()
            and rest.isdigit()
            and environ["REQUEST_METHOD"] in ("GET", "HEAD")
        ):
            return view(environ, start_response, int(rest))
        return _reply(start_response, _NOT_FOUND, "text/html; charset=utf-8", "404 Not Found")

    return app
