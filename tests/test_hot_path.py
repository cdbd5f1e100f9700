"""The request hot path's shortcuts (issue 5) give exactly what the general code gives.

Each shortcut (matching without a MapAdapter, the plain-dict header fast path, the C
percent-decoder, the cached JSON encoder, int/float converters called directly, lazy ``g``)
is checked against the general mechanism or against Werkzeug/json as an oracle.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from werkzeug.datastructures import Headers as WHeaders

import erlen
from erlen import Erlen, g
from erlen.ctx import AppContext
from erlen.exceptions import BadRequest, HTTPException, NotFound
from erlen.http.parsing import parse_query_string
from erlen.http.response import Response
from erlen.json.provider import _compact_dumps, _default
from erlen.routing import Map, Rule


def _env(path: str, method: str = "GET", **extra: Any) -> dict[str, Any]:
    env: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "HTTP_HOST": "localhost",
        "wsgi.url_scheme": "http",
    }
    env.update(extra)
    return env


# -- routing: Map.find (matching without an adapter) vs bind_to_environ(...).match(...) ----


def _routing_map() -> Map:
    return Map(
        [
            Rule("/", endpoint="index"),
            Rule("/hello", endpoint="hello"),
            Rule("/branch/", endpoint="branch"),
            Rule("/post", endpoint="post", methods=["POST"]),
            Rule("/user/<int:id>", endpoint="user"),
            Rule("/user/<int:id>/<name>", endpoint="user_name"),
            Rule("/price/<float:p>", endpoint="price"),
            Rule("/small/<int(max=9):n>", endpoint="small"),
            Rule("/old", endpoint="old", redirect_to="/hello"),
            Rule("/files/<path:p>", endpoint="files"),
            Rule("/ws", endpoint="ws", websocket=True),
            Rule("/edit/<int:id>", endpoint="edit", methods=["POST"]),
            Rule("/live/<int:id>", endpoint="live", websocket=True),
            Rule("/both", endpoint="both_get", methods=["GET"]),
            Rule("/both", endpoint="both_post", methods=["POST"]),
            Rule("/<name>", endpoint="any_name", methods=["PUT"]),
            Rule("/d", endpoint="d", defaults={"page": 1}),
            Rule("/lax", endpoint="lax", strict_slashes=False),
        ]
    )


def _general(m: Map, env: dict[str, Any]) -> Any:
    try:
        return m.bind_to_environ(env, subdomain="").match(return_rule=True)
    except HTTPException as e:
        return type(e)


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/", "GET"),
        ("/hello", "GET"),
        ("/hello", "HEAD"),
        ("/branch", "GET"),  # slash redirect: general path
        ("/branch/", "GET"),
        ("/post", "GET"),  # 405: general path
        ("/post", "POST"),
        ("/user/42", "GET"),
        ("/user/42/bob", "GET"),
        ("/user/x", "GET"),
        ("/user/" + "9" * 5000, "GET"),  # int() refuses: no match, not a crash
        ("/price/1.5", "GET"),
        ("/small/5", "GET"),
        ("/small/12", "GET"),  # converter limit: ValidationError
        ("/old", "GET"),  # redirect_to: general path
        ("/files/a/b/c.txt", "GET"),
        ("/nope", "GET"),
        ("//hello", "GET"),  # merged slashes: general path
        ("/ws", "GET"),  # websocket mismatch: general path
        ("/h\xc3\xa9llo", "GET"),  # non-ASCII path: general path
        ("/edit/3", "GET"),  # dynamic 405: general path
        ("/edit/3", "POST"),
        ("/edit/x", "POST"),  # no rule matches: 404 at once
        ("/live/3", "GET"),  # dynamic websocket mismatch: general path
        ("/nope/deeper/still", "GET"),
        ("/user//3", "GET"),  # merged slashes in a dynamic path: general path
        ("/both", "GET"),
        ("/both", "POST"),
        ("/both", "DELETE"),  # 405 from the static table: the adapter answers
        ("/hello", "PUT"),  # static path, another method, a dynamic rule takes it
        ("/d", "GET"),  # defaults: not in the clean table
        ("/lax/", "GET"),
        ("/lax", "GET"),
    ],
)
def test_find_agrees_with_the_adapter(path: str, method: str) -> None:
    m = _routing_map()
    env = _env("/", method=method, PATH_INFO=path)
    general = _general(m, env)
    if not path.isascii():
        return  # the app binds an adapter for these (Map.find takes ASCII paths)
    found = m.find("", path, method)
    if found is None:
        return  # the app binds an adapter: the general answer
    if isinstance(found, NotFound):
        assert general is NotFound
    else:
        assert found == general


def test_find_answers_the_plain_cases_itself() -> None:
    m = _routing_map()
    rule, args = m.find("", "/user/7", "GET")  # type: ignore[misc]
    assert rule.endpoint == "user" and args == {"id": 7} and type(args["id"]) is int
    assert m.find("", "/hello", "GET")[0].endpoint == "hello"  # type: ignore[index]
    assert m.find("", "/both", "POST")[0].endpoint == "both_post"  # type: ignore[index]
    assert isinstance(m.find("", "/nope/deeper/still", "GET"), NotFound)
    assert m.find("", "/d", "GET") == (m._rules_by_endpoint["d"][0], {"page": 1})
    for path, method in [("/branch", "GET"), ("/post", "GET"), ("/old", "GET")]:
        assert m.find("", path, method) is None, path


def test_custom_converter_value_error_still_propagates() -> None:
    from erlen.routing import BaseConverter

    class Boom(BaseConverter):
        def to_python(self, value: str) -> Any:
            raise ValueError("a bug in the converter, not a no-match")

    m = Map([Rule("/b/<boom:x>", endpoint="b")], converters={"boom": Boom})
    with pytest.raises(ValueError, match="a bug"):
        m.bind("localhost").match("/b/1")


def test_app_routes_plain_and_general_requests_alike() -> None:
    app = Erlen(__name__)

    @app.route("/u/<int:id>")
    def u(id: int) -> str:
        return f"u{id}"

    @app.route("/d/")
    def d() -> str:
        return "d"

    c = app.test_client()
    assert c.get("/u/3").text == "u3"
    assert c.get("/u/x").status_code == 404
    r = c.get("/d")
    assert r.status_code == 308 and r.headers["Location"].endswith("/d/")
    assert c.post("/u/3").status_code == 405
    app.config["SERVER_NAME"] = "example.org"  # the general (adapter) path from now on
    assert c.get("/u/3", base_url="http://example.org").text == "u3"
    # Flask 3.1: SERVER_NAME does not restrict matching without subdomain_matching
    assert c.get("/u/3", base_url="http://other.org").text == "u3"
    assert c.get("/u/x", base_url="http://example.org").status_code == 404


def test_url_adapter_is_bound_lazily_and_url_for_works() -> None:
    app = Erlen(__name__)

    @app.route("/p/<int:n>")
    def p(n: int) -> str:
        ctx = erlen.globals._cv_request.get()
        assert ctx._url_adapter is not None  # only url_for below builds it
        return erlen.url_for("p", n=n + 1)

    assert app.test_client().get("/p/1").text == "/p/2"
    with app.test_request_context("/p/5") as ctx:
        assert ctx.url_adapter is not None
        assert ctx.url_adapter.build("p", {"n": 9}) == "/p/9"


def test_overridden_create_url_adapter_is_used() -> None:
    calls: list[str] = []

    class MyApp(Erlen):
        def create_url_adapter(self, request: Any) -> Any:
            calls.append("x")
            return super().create_url_adapter(request)

    app = MyApp(__name__)
    app.add_url_rule("/", "i", lambda: "ok")
    assert app.test_client().get("/").text == "ok"
    assert calls


def test_overridden_dispatch_request_is_used() -> None:
    class MyApp(Erlen):
        def dispatch_request(self) -> Any:
            return "overridden"

    app = MyApp(__name__)
    app.add_url_rule("/", "i", lambda: "view")
    assert app.test_client().get("/").text == "overridden"


# -- contexts: g is created lazily -------------------------------------------------------


def test_g_is_lazy_and_stable() -> None:
    app = Erlen(__name__)
    ctx = AppContext(app)
    assert ctx._g is None
    first = ctx.g
    assert ctx.g is first and ctx._g is first
    with app.app_context():
        g.x = 1
        assert g.get("x") == 1 and "x" in g
    replacement = app.app_ctx_globals_class()
    ctx.g = replacement
    assert ctx.g is replacement


# -- responses: plain dict headers -------------------------------------------------------


def test_dict_headers_fast_path_matches_general() -> None:
    hdrs = {"Content-Type": "text/plain; charset=utf-8", "X-A": "1"}
    r = Response("Hello", 201, hdrs)
    assert r.status == "201 CREATED"
    assert r.headers.to_wsgi_list() == [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("X-A", "1"),
        ("Content-Length", "5"),
    ]
    assert hdrs == {"Content-Type": "text/plain; charset=utf-8", "X-A": "1"}  # not mutated
    # the general path gives the same list (Werkzeug's order: given headers, then length)
    general = Response("Hello", 201, WHeaders(hdrs).to_wsgi_list())
    assert general.headers.to_wsgi_list() == r.headers.to_wsgi_list()


@pytest.mark.parametrize(
    ("headers", "mimetype", "expected"),
    [
        ({"X-B": "2"}, None, [("X-B", "2"), ("Content-Type", "text/plain; charset=utf-8")]),
        ({"content-type": "a/b"}, None, [("content-type", "a/b")]),
        ({"Content-Type": "a/b"}, "text/html", [("Content-Type", "text/html; charset=utf-8")]),
        ({"Content-Length": "99"}, None, [("Content-Length", "2")]),
        ({"X-N": 5}, None, [("X-N", "5"), ("Content-Type", "text/plain; charset=utf-8")]),
        ({"X-L": ["a", "b"]}, None, [("X-L", "a"), ("X-L", "b")]),
    ],
)
def test_dict_headers_edge_cases(
    headers: dict[str, Any], mimetype: str | None, expected: list[tuple[str, str]]
) -> None:
    r = Response("hi", headers=headers, mimetype=mimetype)
    lst = r.headers.to_wsgi_list()
    for item in expected:
        assert item in lst
    assert r.headers.getlist("Content-Length") == ["2"]
    assert len(r.headers.getlist("Content-Type")) == 1


@pytest.mark.parametrize("bad", ["a\r\nSet-Cookie: x=1", "a\nb", "a\0b"])
def test_dict_headers_reject_crlf(bad: str) -> None:
    with pytest.raises(ValueError):
        Response("x", 200, {"X-Bad": bad})


def test_dict_headers_reject_bad_names() -> None:
    with pytest.raises(ValueError):
        Response("x", 200, {"Bad Name": "v"})
    with pytest.raises(TypeError):
        Response("x", 200, {1: "v"})  # type: ignore[dict-item,arg-type]


def test_tab_and_unicode_header_values_are_allowed() -> None:
    r = Response("x", 200, {"X-T": "a\tb", "X-U": "caf\xe9"})
    assert r.headers["X-T"] == "a\tb" and r.headers["X-U"] == "caf\xe9"


def test_view_tuple_with_dict_headers_end_to_end() -> None:
    app = Erlen(__name__)

    @app.route("/")
    def index() -> Any:
        return "Hello", 202, {"Content-Type": "text/plain; charset=utf-8", "X-Y": "z"}

    @app.route("/bad")
    def bad() -> Any:
        return "x", 200, {"X-Bad": "a\r\nb"}

    app.config["PROPAGATE_EXCEPTIONS"] = False
    r = app.test_client().get("/")
    assert (r.status_code, r.text, r.headers["X-Y"]) == (202, "Hello", "z")
    assert r.headers["Content-Length"] == "5"
    assert app.test_client().get("/bad").status_code == 500


def test_head_and_204_bodies() -> None:
    app = Erlen(__name__)
    app.add_url_rule("/", "i", lambda: "body")
    app.add_url_rule("/n", "n", lambda: ("", 204))
    c = app.test_client()
    assert c.head("/").data == b""
    assert c.head("/").headers["Content-Length"] == "4"
    r = c.get("/n")
    assert r.status_code == 204 and r.data == b"" and "Content-Length" not in r.headers


# -- urlencoded decoding ---------------------------------------------------------------


@pytest.mark.parametrize(
    "qs",
    [
        "a=1&b=value+3+%26+more",
        "k%3D=v%3d&x=%E2%82%AC",
        "back=a%5Cx41\\x41&plus=%2B+",
        "e=&f&=g",
        "u=caf%C3%A9&raw=%00z",
        "a=%2500&a=+&a=%2b&b=%41%42",
        "f&e=%41&=g+&k=v=w%3D",
        "%C3%BC=%C3%BC&&x=y=z&+=+",
        "nul=%00&after=%41",
        "one=%41",
        "plain=a&other=b",
        "t=a\x00b&u=%41",
    ],
)
def test_query_decoding_matches_stdlib(qs: str) -> None:
    from urllib.parse import parse_qsl  # what Werkzeug's Request.args uses

    ours = parse_query_string(qs)
    assert list(ours.items(multi=True)) == parse_qsl(qs, keep_blank_values=True)


@pytest.mark.parametrize(
    ("qs", "message"),
    [
        ("a=%zz", "'%zz'"),
        ("a=%2", "'%2'"),
        ("a=b%", "'%'"),
        ("a=%ff", "not valid UTF-8"),
        ("a%=1&b=%41", "'%'"),
        ("x=%C3&y=%A9", "not valid UTF-8"),
        ("ok=%41&bad=%4", "'%4'"),
        ("k=v&bad=%x1+", "'%x1'"),
    ],
)
def test_query_decoding_errors(qs: str, message: str) -> None:
    with pytest.raises(BadRequest) as info:
        parse_query_string(qs)
    assert message in str(info.value.description)


def test_query_decoding_without_c_helper(monkeypatch: pytest.MonkeyPatch) -> None:
    import erlen.http.parsing as parsing
    from erlen.http.speedups import percent_decode_reference

    monkeypatch.setattr(parsing, "percent_decode", percent_decode_reference)
    assert parse_query_string("a=x%26y+z&%C3%A9=1").to_dict() == {"a": "x&y z", "é": "1"}
    with pytest.raises(BadRequest):
        parse_query_string("a=%g1")


# -- JSON ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "obj",
    [
        {"b": 1, "a": [1.5, float("inf"), None, True, "é\n\u2028"]},
        "text",
        3,
        [],
        {"nested": {"z": {"y": [1, 2]}}},
    ],
)
@pytest.mark.parametrize("ensure_ascii", [True, False])
@pytest.mark.parametrize("sort_keys", [True, False])
def test_compact_dumps_matches_json_dumps(obj: Any, ensure_ascii: bool, sort_keys: bool) -> None:
    expected = json.dumps(
        obj,
        default=_default,
        ensure_ascii=ensure_ascii,
        sort_keys=sort_keys,
        separators=(",", ":"),
    )
    assert _compact_dumps(_default, ensure_ascii, sort_keys)(obj) == expected


def test_compact_dumps_keeps_circular_check() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular"):
        _compact_dumps(_default, True, True)(loop)


def test_jsonify_follows_provider_setting_changes() -> None:
    app = Erlen(__name__)
    app.add_url_rule("/", "i", lambda: erlen.jsonify(b=1, a="é"))
    c = app.test_client()
    assert c.get("/").data == b'{"a":"\\u00e9","b":1}\n'
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    assert c.get("/").data == '{"b":1,"a":"é"}\n'.encode()
    app.json.compact = False  # type: ignore[attr-defined]
    assert c.get("/").data == b'{\n  "b": 1,\n  "a": "\xc3\xa9"\n}\n'


def test_jsonify_and_dict_returns_honour_a_replaced_response() -> None:
    """jsonify and a view's dict skip ``provider.response`` only when it is the default's."""
    from erlen.json import DefaultJSONProvider

    def make(provider_class: type[DefaultJSONProvider] | None = None) -> Erlen:
        app = Erlen(__name__)
        if provider_class is not None:
            app.json_provider_class = provider_class
            app.json = provider_class(app)
        app.add_url_rule("/kw", "kw", lambda: erlen.jsonify(b=1, a=2))
        app.add_url_rule("/one", "one", lambda: erlen.jsonify([1, 2]))
        app.add_url_rule("/many", "many", lambda: erlen.jsonify(1, 2))
        app.add_url_rule("/none", "none", lambda: erlen.jsonify())
        app.add_url_rule("/dict", "dict", lambda: {"b": 1, "a": 2})
        return app

    def bodies(app: Erlen) -> list[bytes]:
        c = app.test_client()
        return [c.get(p).data for p in ("/kw", "/one", "/many", "/none", "/dict")]

    default = [b'{"a":2,"b":1}\n', b"[1,2]\n", b"[1,2]\n", b"null\n", b'{"a":2,"b":1}\n']
    app = make()
    assert bodies(app) == default
    # on the instance, after responses were made (the plan must notice)
    seen: list[Any] = []

    def replaced(*args: Any, **kwargs: Any) -> Response:
        seen.append((args, kwargs))
        return Response("replaced")

    app.json.response = replaced  # type: ignore[method-assign]
    assert bodies(app) == [b"replaced"] * 5
    assert seen == [
        ((), {"b": 1, "a": 2}),
        (([1, 2],), {}),
        ((1, 2), {}),
        ((), {}),
        (({"b": 1, "a": 2},), {}),
    ]

    class Overriding(DefaultJSONProvider):
        def response(self, *args: Any, **kwargs: Any) -> Response:
            return Response(f"sub {args} {kwargs}")

    assert bodies(make(Overriding))[0] == b"sub () {'b': 1, 'a': 2}"

    class OwnSetting(DefaultJSONProvider):  # only a setting changed: the fast answers
        sort_keys = False

    assert bodies(make(OwnSetting)) == [
        b'{"b":1,"a":2}\n', b"[1,2]\n", b"[1,2]\n", b"null\n", b'{"b":1,"a":2}\n'
    ]
    app = make()
    app.config["DEBUG"] = True  # read per response, also when set after the first one
    assert bodies(app)[0] == b'{\n  "a": 2,\n  "b": 1\n}\n'


def test_compact_dumps_reuse_is_safe_after_errors_nesting_and_threads() -> None:
    import threading

    dumps = _compact_dumps(_default, True, True)
    shared = [1, 2]

    class Unserialisable:
        pass

    with pytest.raises(TypeError):
        dumps({"a": shared, "b": Unserialisable()})  # fails while ``shared`` is marked
    assert dumps({"a": shared}) == '{"a":[1,2]}'  # no false "circular" afterwards

    class Nested:
        def __html__(self) -> str:
            return dumps({"inner": shared})  # re-enters dumps from ``default``

    assert dumps([shared, Nested()]) == '[[1,2],"{\\"inner\\":[1,2]}"]'

    errors: list[str] = []

    def work() -> None:
        for _ in range(500):
            if dumps({"s": shared, "t": [shared]}) != '{"s":[1,2],"t":[[1,2]]}':
                errors.append("wrong")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []


# -- routing: one-segment <int>/<string> tails matched without the regex ----------------

_TAIL_SEGMENTS = [
    "42", "0", "007", "\u0664\u0662", "\uff14\uff12", "\u00b2", "1_000", "+1", "-1", " 1",
    "1 ", "12a", "1" * 5000, "abc", "a b", "\u00e9", "a\nb", "a%2Fb",
]


def _tail_map(disable_tails: bool) -> Map:
    url_map = Map(
        [
            Rule("/u/<int:id>", endpoint="int"),
            Rule("/s/<name>", endpoint="str"),
            Rule("/both/<int:id>", endpoint="both_int"),
            Rule("/both/<name>", endpoint="both_str"),
        ]
    )
    if disable_tails:
        for rule in url_map.iter_rules():
            rule._tail = None
        url_map.update()
    return url_map


@pytest.mark.parametrize("segment", _TAIL_SEGMENTS)
@pytest.mark.parametrize("prefix", ["/u/", "/s/", "/both/"])
def test_tail_matching_agrees_with_the_regex(prefix: str, segment: str) -> None:
    def answer(url_map: Map) -> Any:
        try:
            return url_map.bind("localhost").match(prefix + segment)
        except HTTPException as e:
            return type(e)

    assert answer(_tail_map(False)) == answer(_tail_map(True))


def test_tails_only_for_plain_int_and_string_segments() -> None:
    url_map = Map(
        [
            Rule("/a/<int:x>", endpoint="a"),
            Rule("/b/<x>", endpoint="b"),
            Rule("/c/<int(signed=True):x>", endpoint="c"),
            Rule("/d/<int(min=1):x>", endpoint="d"),
            Rule("/e/<string(length=2):x>", endpoint="e"),
            Rule("/f/<int:x>/", endpoint="f"),
            Rule("/g/<int:x>", endpoint="g", strict_slashes=False),
            Rule("/h/<int:x>.json", endpoint="h"),
            Rule("/i/<float:x>", endpoint="i"),
        ]
    )
    tails = {rule.endpoint: rule._tail for rule in url_map.iter_rules()}
    assert tails == {
        "a": ("x", True),
        "b": ("x", False),
        "c": None,
        "d": None,
        "e": None,
        "f": None,
        "g": None,
        "h": None,
        "i": None,
    }


# -- routing: the table of tails (one dict lookup for a plain last segment) ---------------


def _tail_answers(rules: list[Rule], paths: list[str], with_table: bool) -> list[Any]:
    url_map = Map(rules)
    tails = url_map._get_matcher().static_domains[""].tails
    if not with_table:
        tails.clear()
    adapter = url_map.bind("localhost")
    out: list[Any] = []
    for path in paths:
        for method in ("GET", "POST", "HEAD"):
            try:
                rule, values = adapter.match(path, method, return_rule=True)
            except HTTPException as e:
                out.append((type(e), getattr(e, "new_url", None)))
            else:
                out.append((rule.endpoint, values, type(values.get("id"))))
    return out


_TAIL_RULE_SETS = {
    "plain": [Rule("/user/<int:id>", endpoint="user"), Rule("/item/<id>", endpoint="item")],
    "static wins": [Rule("/user/<int:id>", endpoint="user"), Rule("/user/7", endpoint="seven")],
    "path after int": [
        Rule("/user/<path:id>", endpoint="path"),
        Rule("/user/<int:id>", endpoint="user"),
    ],
    "deeper static": [
        Rule("/<int:id>", endpoint="root"),
        Rule("/a/<int:id>", endpoint="a"),
        Rule("/a/b/<id>", endpoint="ab"),
    ],
    "methods": [
        Rule("/m/<int:id>", endpoint="post", methods=["POST"]),
        Rule("/m/<id>", endpoint="get", methods=["GET"]),
    ],
    "defaults and redirects": [
        Rule("/d/<int:id>", endpoint="d", defaults={"page": 1}),
        Rule("/r/<int:id>", endpoint="r", redirect_to="/d/<id>"),
        Rule("/x/<int:id>", endpoint="x"),
        Rule("/x/<int:id>/", endpoint="xb"),
        Rule("/p/", endpoint="p", defaults={"id": 1}),  # /p/1 redirects to /p/
        Rule("/p/<int:id>", endpoint="p"),
    ],
}
_TAIL_PATHS = [
    "/user/42", "/user/7", "/user/", "/user/x", "/user/4/2", "/user//4", "/user/" + "9" * 700,
    "/user/\u0664", "/item/abc", "/item/", "/item/a/b", "/42", "/a/42", "/a/b/c", "/a/b/",
    "/m/5", "/m/x", "/d/3", "/r/3", "/x/3", "/x/3/", "/p/1", "/p/2", "/nope", "/", "",
]


@pytest.mark.parametrize("rule_set", sorted(_TAIL_RULE_SETS))
def test_tail_table_agrees_with_the_walk(rule_set: str) -> None:
    def rules() -> list[Rule]:
        return [r.empty() for r in _TAIL_RULE_SETS[rule_set]]

    expected = _tail_answers(rules(), _TAIL_PATHS, with_table=False)
    assert _tail_answers(rules(), _TAIL_PATHS, with_table=True) == expected


def test_tail_table_holds_only_first_plain_tails() -> None:
    rules = [r.empty() for rs in _TAIL_RULE_SETS.values() for r in rs]
    table = Map(rules)._get_matcher().static_domains[""].tails
    assert {prefix: entry.rule.endpoint for prefix, entry in table.items()} == {
        "/user/": "user",  # the first rule of its node ("path" sorts after it)
        "/item/": "item",
        "/": "root",
        "/a/": "a",
        "/a/b/": "ab",
        "/m/": "post",
        "/d/": "d",  # defaults and redirects are the adapter's business after matching
        "/r/": "r",
        "/x/": "x",
        "/p/": "p",
    }


@pytest.mark.parametrize("n", [0, 1, 9, 10, 2047, 2048, 2049, 70_000])
def test_content_length_of_every_plain_answer(n: int) -> None:
    """The precomputed Content-Length strings (response.LENGTHS) and str() beyond them."""
    app = Erlen(__name__)
    app.add_url_rule("/str", "str", lambda: "x" * n)
    app.add_url_rule("/tuple", "tuple", lambda: ("x" * n, 201, {"X-A": "1"}))
    app.add_url_rule("/resp", "resp", lambda: Response("x" * n))
    app.add_url_rule("/json", "json", lambda: erlen.jsonify("x" * max(n - 3, 0)))
    c = app.test_client()
    for path in ("/str", "/tuple", "/resp", "/json"):
        rv = c.get(path)
        expected = n if path != "/json" else max(n - 3, 0) + 3
        assert rv.headers["Content-Length"] == str(expected) == str(len(rv.data)), path
