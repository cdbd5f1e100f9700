"""Tests for erlen.status and erlen.exceptions (Werkzeug as the oracle for output format)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import werkzeug.exceptions as wz

from erlen import exceptions as ex
from erlen.status import HTTP_STATUS_CODES, status_line


def test_status_line_known_and_unknown() -> None:
    assert status_line(404) == "404 Not Found"
    assert status_line(200) == "200 OK"
    assert status_line(599) == "599 UNKNOWN"
    assert HTTP_STATUS_CODES[418] == "I'm a teapot"


def test_status_codes_match_werkzeug() -> None:
    from werkzeug.http import HTTP_STATUS_CODES as WZ

    assert HTTP_STATUS_CODES == WZ


@pytest.mark.parametrize("code", sorted(wz.default_exceptions))
def test_body_matches_werkzeug(code: int) -> None:
    ours = ex.default_exceptions[code]()
    theirs = wz.default_exceptions[code]()
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.code == theirs.code
    assert ours.name == theirs.name
    assert ours.get_body() == theirs.get_body()
    assert str(ours) == str(theirs)
    assert repr(ours) == repr(theirs)


def test_description_escaped_with_br() -> None:
    e = ex.NotFound('a\nb <"x">')
    assert e.get_description() == "<p>a<br>b &lt;&#34;x&#34;&gt;</p>"
    assert e.get_body() == wz.NotFound('a\nb <"x">').get_body()


def test_get_headers_default() -> None:
    assert ex.NotFound().get_headers() == [("Content-Type", "text/html; charset=utf-8")]


def test_abort_raises_mapped_exception() -> None:
    with pytest.raises(ex.NotFound) as info:
        ex.abort(404)
    assert info.value.code == 404
    with pytest.raises(ex.BadRequest) as info2:
        ex.abort(400, "custom")
    assert info2.value.description == "custom"


def test_abort_unknown_code_is_lookup_error() -> None:
    with pytest.raises(LookupError):
        ex.abort(999)


def test_abort_with_response_object() -> None:
    sentinel = object()
    with pytest.raises(ex.HTTPException) as info:
        ex.abort(sentinel)  # type: ignore[arg-type]
    assert info.value.response is sentinel
    assert info.value.get_response() is sentinel


def test_aborter_extra_mapping() -> None:
    class Custom(ex.HTTPException):
        code = 599
        description = "custom"

    aborter = ex.Aborter(extra={599: Custom})
    with pytest.raises(Custom):
        aborter(599)
    with pytest.raises(ex.Forbidden):
        aborter(403)


def test_method_not_allowed_allow_header() -> None:
    e = ex.MethodNotAllowed(valid_methods=["GET", "POST"])
    assert ("Allow", "GET, POST") in e.get_headers()
    assert e.get_headers() == wz.MethodNotAllowed(["GET", "POST"]).get_headers()
    assert all(k != "Allow" for k, _ in ex.MethodNotAllowed().get_headers())


def test_unauthorized_www_authenticate() -> None:
    e = ex.Unauthorized(www_authenticate='Basic realm="x"')
    assert ("WWW-Authenticate", 'Basic realm="x"') in e.get_headers()
    e2 = ex.Unauthorized(www_authenticate=["Basic realm=a", "Bearer"])
    values = [v for k, v in e2.get_headers() if k == "WWW-Authenticate"]
    assert values == ["Basic realm=a", "Bearer"]


def test_retry_after_int_and_datetime() -> None:
    assert ("Retry-After", "5") in ex.TooManyRequests(retry_after=5).get_headers()
    when = datetime(2020, 1, 1, tzinfo=UTC)
    headers = ex.ServiceUnavailable(retry_after=when).get_headers()
    assert ("Retry-After", "Wed, 01 Jan 2020 00:00:00 GMT") in headers
    assert headers == wz.ServiceUnavailable(retry_after=when).get_headers()


def test_range_not_satisfiable_content_range() -> None:
    e = ex.RequestedRangeNotSatisfiable(length=10)
    assert ("Content-Range", "bytes */10") in e.get_headers()


def test_bad_request_key_error() -> None:
    e = ex.BadRequestKeyError("name")
    assert isinstance(e, KeyError)
    assert isinstance(e, ex.BadRequest)
    assert e.code == 400
    assert "name" not in e.get_body()
    try:
        ex.BadRequestKeyError.show_exception = True
        assert "KeyError: 'name'" in e.description
    finally:
        ex.BadRequestKeyError.show_exception = False
    assert e.description == ex.BadRequest.description


def test_internal_server_error_original() -> None:
    orig = ValueError("boom")
    assert ex.InternalServerError(original_exception=orig).original_exception is orig


def test_subclasses_of_bad_request() -> None:
    for cls in (ex.ClientDisconnected, ex.SecurityError, ex.BadHost):
        assert issubclass(cls, ex.BadRequest)
        assert cls().code == 400
    assert ex.default_exceptions[400] is ex.BadRequest


def test_get_response_and_wsgi_call() -> None:
    e = ex.NotFound()
    response = e.get_response()
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")
    assert b"<h1>Not Found</h1>" in response.get_data()

    captured: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: object = None
    ) -> None:
        captured.append((status, headers))

    body = b"".join(e({"REQUEST_METHOD": "GET"}, start_response))
    assert captured[0][0].startswith("404")
    assert b"Not Found" in body


# -- the default page of a class is rendered once; anything that shapes a page per instance
# -- (a custom description, overridden methods, a description property) still renders it


def _wsgi(exc: ex.HTTPException) -> tuple[str, list[tuple[str, str]], bytes]:
    got: list = []
    body = b"".join(exc(_ENV, lambda status, headers: got.extend((status, headers))))
    return got[0], got[1], body


_ENV = {"REQUEST_METHOD": "GET"}


@pytest.mark.parametrize("code", [400, 404, 405, 413, 429, 500])
def test_default_pages_match_werkzeug_every_time(code: int) -> None:
    for _ in range(2):  # the first call renders and caches, the second uses the cache
        rv = ex.default_exceptions[code]().get_response()
        wz_rv = wz.default_exceptions[code]().get_response()
        assert rv.status_code == code
        assert rv.get_data() == wz_rv.get_data()
        assert rv.headers["Content-Type"] == "text/html; charset=utf-8"
        assert rv.headers["Content-Length"] == str(len(wz_rv.get_data()))
        assert [k for k, _ in rv.headers] == [k for k, _ in wz_rv.headers]


def test_custom_description_is_not_the_cached_page() -> None:
    ex.NotFound().get_response()
    status, _, body = _wsgi(ex.NotFound("No <such> user"))
    assert status.startswith("404 ")
    assert b"<p>No &lt;such&gt; user</p>" in body
    assert b"<p>No &lt;such&gt; user</p>" not in ex.NotFound().get_response().get_data()


def test_subclasses_that_shape_their_page_are_rendered_per_instance() -> None:
    class Teapot(ex.NotFound):
        def get_body(self, environ=None, scope=None):
            return f"teapot {id(self)}"

    class Counted(ex.NotFound):
        n = 0

        @property  # type: ignore[override]
        def description(self):
            Counted.n += 1
            return f"call {Counted.n}"

    class Needy(ex.NotFound):
        def __init__(self, what: str) -> None:
            super().__init__(f"no {what}")

    class Plain(ex.NotFound):
        description = "plain subclass"

    a, b = Teapot(), Teapot()
    assert a.get_response().get_data() != b.get_response().get_data()
    assert b"call 1" in Counted().get_response().get_data()
    assert b"call 2" in Counted().get_response().get_data()
    assert b"<p>no cake</p>" in Needy("cake").get_response().get_data()
    assert b"<p>plain subclass</p>" in Plain().get_response().get_data()
    allow = ex.MethodNotAllowed(["GET", "POST"]).get_response()
    assert allow.headers["Allow"] == "GET, POST"
