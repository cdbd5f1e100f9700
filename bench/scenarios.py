"""The benchmark scenarios: the request to send and how to judge the response.

A scenario's ``check`` returns an error message or None, and ``normalise`` gives the value
that must be equal across peers (parsed JSON where frameworks may differ in whitespace or
key order, the status alone for a 404).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.apps import common


@dataclass(slots=True)
class Reply:
    """A response as collected from a WSGI app or an HTTP server."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """First value of header ``name`` (case-insensitive), or None."""
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None

    def header_all(self, name: str) -> list[str]:
        """Every value of header ``name`` (case-insensitive)."""
        lname = name.lower()
        return [value for key, value in self.headers if key.lower() == lname]


@dataclass(frozen=True, slots=True)
class Scenario:
    """One benchmark case; ``kind`` chooses the app (``main`` or ``many``)."""

    name: str
    description: str
    method: str
    path: str
    query: str = ""
    body: bytes = b""
    content_type: str | None = None
    kind: str = "main"
    #: Needs a session cookie: the first response's Set-Cookie is sent with every request.
    session: bool = False
    #: Extra request headers, ``(name, value)`` pairs (in-process: ``HTTP_*`` environ keys).
    headers: tuple[tuple[str, str], ...] = ()
    expect_status: int = 200
    expect_body: bytes | None = None
    expect_json: Any = None
    expect_type: str | None = None
    normalise: Callable[[Reply], Any] = field(default=lambda r: (r.status, r.body))

    def check(self, reply: Reply) -> str | None:
        """Why ``reply`` is wrong for this scenario, or None when it is right."""
        if reply.status != self.expect_status:
            return f"status {reply.status} != {self.expect_status}"
        if self.expect_type is not None:
            ctype = (reply.header("Content-Type") or "").split(";")[0].strip()
            if ctype != self.expect_type:
                return f"content-type {ctype!r} != {self.expect_type!r}"
        if self.expect_body is not None and reply.body != self.expect_body:
            return f"body {reply.body[:80]!r} != {self.expect_body[:80]!r}"
        if self.expect_json is not None:
            try:
                data = json.loads(reply.body)
            except ValueError:
                return f"body is not JSON: {reply.body[:80]!r}"
            if data != self.expect_json:
                return f"json {data!r} != {self.expect_json!r}"
        if self.session and not any(
            v.startswith(common.SESSION_COOKIE + "=") for v in reply.header_all("Set-Cookie")
        ):
            return "no session Set-Cookie"
        return None

    @property
    def target(self) -> str:
        """Request target (path and query) as sent on the wire."""
        return self.path + ("?" + self.query if self.query else "")


def _json_norm(reply: Reply) -> Any:
    return reply.status, json.loads(reply.body)


def _status_norm(reply: Reply) -> Any:
    return reply.status


def _multipart_body() -> bytes:
    b = common.UPLOAD_BOUNDARY.encode()
    return b"".join(
        [
            b"--" + b + b"\r\n",
            b'Content-Disposition: form-data; name="title"\r\n\r\nmy file\r\n',
            b"--" + b + b"\r\n",
            b'Content-Disposition: form-data; name="file"; filename="data.bin"\r\n',
            b"Content-Type: application/octet-stream\r\n\r\n",
            common.UPLOAD_DATA,
            b"\r\n--" + b + b"--\r\n",
        ]
    )


def render_reference_page() -> bytes:
    """The template page rendered by Jinja2 alone: every peer must send exactly this."""
    env = common.make_jinja_env()
    return env.get_template("page.html").render(**common.TEMPLATE_CONTEXT).encode()


_JSON_EXPECT = {"id": 42, "fields": ["a", "b"]}


def _build() -> dict[str, Scenario]:
    from urllib.parse import urlencode

    scenarios = [
        Scenario(
            "hello",
            "GET /hello → text/plain",
            "GET",
            "/hello",
            expect_body=b"Hello, World!",
            expect_type="text/plain",
        ),
        Scenario(
            "hooks",
            "GET /hello on an app with one no-op before- and one after-request hook",
            "GET",
            "/hello",
            kind="hooks",
            expect_body=b"Hello, World!",
            expect_type="text/plain",
        ),
        Scenario(
            "json-param",
            f"GET /user/<int:id>?fields=a,b, after {common.OTHER_ROUTES} other dynamic routes → JSON",
            "GET",
            "/user/42",
            query="fields=a,b",
            expect_json=_JSON_EXPECT,
            expect_type="application/json",
            normalise=_json_norm,
        ),
        Scenario(
            "cookie-session",
            "signed session cookie: read, increment, write back",
            "GET",
            "/session",
            session=True,
            expect_body=b"2",
        ),
        Scenario(
            "form",
            "POST urlencoded form, 10 fields → echo one",
            "POST",
            "/form",
            body=urlencode(common.FORM_FIELDS).encode(),
            content_type="application/x-www-form-urlencoded",
            expect_body=dict(common.FORM_FIELDS)[common.FORM_ECHO_FIELD].encode(),
        ),
        Scenario(
            "upload",
            "POST multipart, 1 MB file → size + sha256",
            "POST",
            "/upload",
            body=_multipart_body(),
            content_type=f"multipart/form-data; boundary={common.UPLOAD_BOUNDARY}",
            expect_body=common.upload_answer(common.UPLOAD_DATA).encode(),
        ),
        Scenario(
            "template",
            "Jinja2 page extending base.html, 100-row loop",
            "GET",
            "/page",
            expect_body=render_reference_page(),
            expect_type="text/html",
        ),
        Scenario(
            "not-found",
            "GET /nope → 404",
            "GET",
            "/nope",
            expect_status=404,
            normalise=_status_norm,
        ),
        Scenario(
            "many-routes",
            f"GET the last of {common.MANY_ROUTES} dynamic routes → same JSON as json-param",
            "GET",
            f"/r{common.MANY_ROUTES - 1}/42",
            query="fields=a,b",
            kind="many",
            expect_json=_JSON_EXPECT,
            expect_type="application/json",
            normalise=_json_norm,
        ),
    ]
    return {s.name: s for s in scenarios}


SCENARIOS: dict[str, Scenario] = _build()
