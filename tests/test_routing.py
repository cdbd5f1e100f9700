"""Tests of erlen.routing: matching, redirects, building, converters, ordering.

Werkzeug's routing is the behavioural spec; ``test_oracle_table`` compares a table of cases
against it directly.
"""

from __future__ import annotations

import uuid

import pytest

from erlen.exceptions import BadRequest, MethodNotAllowed, NotFound
from erlen.routing import (
    DEFAULT_CONVERTERS,
    BaseConverter,
    BuildError,
    EndpointPrefix,
    Map,
    RequestRedirect,
    Rule,
    Subdomain,
    Submount,
    ValidationError,
    WebsocketMismatch,
)


def bound(*rules: Rule, server: str = "example.com", **map_kw: object):
    return Map(list(rules), **map_kw).bind(server)  # type: ignore[arg-type]


def redirect_of(adapter, path, **kw) -> str:
    with pytest.raises(RequestRedirect) as info:
        adapter.match(path, **kw)
    assert info.value.code == 308
    return info.value.new_url


# -- converters -------------------------------------------------------------------------
def test_default_converters_registered():
    assert set(DEFAULT_CONVERTERS) == {"default", "string", "any", "path", "int", "float", "uuid"}


def test_string_converter_lengths():
    a = bound(
        Rule("/l/<string(length=2):x>", endpoint="len"),
        Rule("/m/<string(minlength=2, maxlength=3):x>", endpoint="minmax"),
    )
    assert a.match("/l/ab") == ("len", {"x": "ab"})
    with pytest.raises(NotFound):
        a.match("/l/abc")
    assert a.match("/m/abc") == ("minmax", {"x": "abc"})
    for bad in ("/m/a", "/m/abcd"):
        with pytest.raises(NotFound):
            a.match(bad)


def test_int_converter_signed_min_max_fixed():
    a = bound(
        Rule("/i/<int:x>", endpoint="i"),
        Rule("/s/<int(signed=True, min=-5, max=5):x>", endpoint="s"),
        Rule("/f/<int(fixed_digits=3):x>", endpoint="f"),
    )
    assert a.match("/i/42") == ("i", {"x": 42})
    assert a.match("/s/-5") == ("s", {"x": -5})
    assert a.match("/s/5") == ("s", {"x": 5})
    for bad in ("/i/-1", "/i/1.5", "/s/-6", "/s/6", "/f/06", "/f/0006", "/i/abc"):
        with pytest.raises(NotFound):
            a.match(bad)
    assert a.match("/f/006") == ("f", {"x": 6})
    assert a.build("f", {"x": 7}) == "/f/007"
    assert a.build("s", {"x": -3}) == "/s/-3"


def test_int_converter_huge_number_is_404_not_crash():
    a = bound(Rule("/i/<int:x>", endpoint="i"))
    with pytest.raises(NotFound):
        a.match("/i/" + "9" * 5000)


def test_float_converter():
    a = bound(
        Rule("/f/<float:x>", endpoint="f"),
        Rule("/g/<float(signed=True, max=2.5):x>", endpoint="g"),
    )
    assert a.match("/f/1.5") == ("f", {"x": 1.5})
    with pytest.raises(NotFound):
        a.match("/f/1")
    assert a.match("/g/-0.5") == ("g", {"x": -0.5})
    with pytest.raises(NotFound):
        a.match("/g/2.6")
    assert a.build("f", {"x": 2.25}) == "/f/2.25"


def test_uuid_converter():
    a = bound(Rule("/u/<uuid:x>", endpoint="u"))
    u = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert a.match("/u/12345678-1234-5678-1234-567812345678") == ("u", {"x": u})
    assert a.match("/u/12345678-1234-5678-1234-56781234567A")[1]["x"].hex.endswith("7a")
    with pytest.raises(NotFound):
        a.match("/u/12345678")
    assert a.build("u", {"x": u}) == "/u/12345678-1234-5678-1234-567812345678"


def test_any_converter():
    a = bound(Rule("/<any(about, help, 'c d'):page>", endpoint="p"))
    assert a.match("/about") == ("p", {"page": "about"})
    assert a.match("/c d") == ("p", {"page": "c d"})
    with pytest.raises(NotFound):
        a.match("/other")
    assert a.build("p", {"page": "help"}) == "/help"
    with pytest.raises(ValueError):
        a.build("p", {"page": "nope"})


def test_path_converter():
    a = bound(Rule("/files/<path:p>", endpoint="f"), Rule("/<path:p>/edit", endpoint="e"))
    assert a.match("/files/a/b/c.txt") == ("f", {"p": "a/b/c.txt"})
    assert a.match("/x/y/edit") == ("e", {"p": "x/y"})
    with pytest.raises(NotFound):
        a.match("/files/")
    assert a.build("f", {"p": "a b/c"}) == "/files/a%20b/c"


class ListConverter(BaseConverter):
    regex = r"\w+(?:,\w+)*"

    def to_python(self, value):
        return value.split(",")

    def to_url(self, value):
        return ",".join(value)


class EvenConverter(BaseConverter):
    regex = r"\d+"

    def to_python(self, value):
        if int(value) % 2:
            raise ValidationError()
        return int(value)


def test_custom_converters_via_constructor_and_attribute():
    m = Map(converters={"list": ListConverter})
    m.converters["even"] = EvenConverter  # Flask: app.url_map.converters["x"] = Cls
    m.add(Rule("/l/<list:items>", endpoint="l"))
    m.add(Rule("/n/<even:n>", endpoint="even"))
    m.add(Rule("/n/<n>", endpoint="other"))
    a = m.bind("example.com")
    assert a.match("/l/a,b,c") == ("l", {"items": ["a", "b", "c"]})
    assert a.build("l", {"items": ["x", "y"]}) == "/l/x,y"
    assert a.match("/n/4") == ("even", {"n": 4})
    # ValidationError: fall through to the next rule
    assert a.match("/n/3") == ("other", {"n": "3"})


def test_converter_regex_with_slash_is_not_part_isolating():
    class Slashy(BaseConverter):
        regex = "[a-z/]+"

    assert Slashy.part_isolating is False
    assert BaseConverter.part_isolating is True
    a = bound(Rule("/s/<slashy:x>", endpoint="s"), converters={"slashy": Slashy})
    assert a.match("/s/a/b") == ("s", {"x": "a/b"})


# -- rules --------------------------------------------------------------------------------
def test_rule_attributes_and_head():
    r = Rule("/user/<int:id>", endpoint="user", methods=["get", "post"], defaults={"x": 1})
    Map([r])
    assert r.methods == {"GET", "HEAD", "POST"}
    assert r.arguments == {"id", "x"}
    assert r.rule == "/user/<int:id>"
    assert r.strict_slashes is True
    assert r.is_leaf and not r.is_branch
    r2 = Rule("/p", endpoint="p", methods=["POST"])
    assert r2.methods == {"POST"}
    assert Rule("/any", endpoint="a").methods is None
    with pytest.raises(TypeError):
        Rule("/x", methods="GET")


def test_rule_repr_and_empty():
    m = Map([Rule("/user/<int:id>", endpoint="user", methods=["GET", "OPTIONS"])])
    r = next(iter(m.iter_rules()))
    assert repr(r) == "<Rule '/user/<id>' (GET, HEAD, OPTIONS) -> user>"
    assert repr(Rule("/x")) == "<Rule (unbound)>"
    copy = r.empty()
    assert copy.map is None and copy.rule == r.rule and copy.methods == r.methods
    m2 = Map([copy])
    assert m2.bind("x").match("/user/3") == ("user", {"id": 3})
    with pytest.raises(RuntimeError):
        m2.add(copy)  # already bound


@pytest.mark.parametrize(
    "rule",
    [
        "no-slash",
        "/a/<b",
        "/a/b>",
        "/a/<1x>",
        "/<x>/<x>",
        "/<nope:x>",
        "/<int(fixed_digits=1, bogus=2):x>",
        "/<any():x>",
        "/<int(fixed_digits='x'=):x>",
    ],
)
def test_invalid_rule_strings_raise_value_error(rule):
    m = Map()
    with pytest.raises(ValueError):
        m.add(Rule(rule, endpoint="x"))
    assert list(m.iter_rules()) == []


def test_unknown_converter_is_also_lookup_error():
    with pytest.raises(LookupError, match="nope"):
        Map([Rule("/<nope:x>", endpoint="x")])


def test_converter_argument_parsing():
    from erlen.routing import parse_converter_args

    assert parse_converter_args("1, 'a', b=True, c=2.5, d=None, e=\"x, y\"") == (
        (1, "a"),
        {"b": True, "c": 2.5, "d": None, "e": "x, y"},
    )
    assert parse_converter_args("a, b") == (("a", "b"), {})


# -- matching -------------------------------------------------------------------------------
def test_static_and_dynamic_match_and_404():
    a = bound(Rule("/", endpoint="index"), Rule("/user/<name>", endpoint="user"))
    assert a.match("/") == ("index", {})
    assert a.match("/user/bob") == ("user", {"name": "bob"})
    for path in ("/nope", "/user", "/user/bob/x"):
        with pytest.raises(NotFound):
            a.match(path)


def test_return_rule():
    r = Rule("/x/<int:n>", endpoint="x")
    a = bound(r)
    rule, args = a.match("/x/3", return_rule=True)
    assert rule is r and args == {"n": 3}


def test_method_not_allowed_lists_union_of_methods():
    a = bound(
        Rule("/a", endpoint="a", methods=["POST"]),
        Rule("/<x>", endpoint="x", methods=["PUT"]),
        Rule("/b", endpoint="b", methods=["GET"]),
    )
    with pytest.raises(MethodNotAllowed) as info:
        a.match("/a", method="GET")
    assert sorted(info.value.valid_methods) == ["POST", "PUT"]
    assert ("Allow", "POST, PUT") in info.value.get_headers()
    assert a.match("/b", method="HEAD") == ("b", {})
    assert a.allowed_methods("/b") == ["GET", "HEAD", "PUT"]
    assert a.allowed_methods("/nothing/here") == []


def test_method_mismatch_on_static_falls_through_to_dynamic():
    a = bound(Rule("/a", endpoint="a", methods=["POST"]), Rule("/<x>", endpoint="x"))
    assert a.match("/a", method="GET") == ("x", {"x": "a"})
    assert a.match("/a", method="POST") == ("a", {})


def test_strict_slashes():
    a = Map(
        [Rule("/branch/", endpoint="b"), Rule("/leaf", endpoint="l"), Rule("/u/<x>/", endpoint="u")]
    ).bind("example.com", query_args="q=1&r=%C3%A9")
    assert redirect_of(a, "/branch") == "http://example.com/branch/?q=1&r=%C3%A9"
    assert redirect_of(a, "/u/é") == "http://example.com/u/%C3%A9/?q=1&r=%C3%A9"
    assert a.match("/branch/") == ("b", {})
    with pytest.raises(NotFound):
        a.match("/leaf/")


def test_strict_slashes_false():
    a = bound(
        Rule("/branch/", endpoint="b", strict_slashes=False),
        Rule("/leaf", endpoint="l", strict_slashes=False),
        Rule("/d/<x>", endpoint="d"),
        strict_slashes=False,
    )
    assert a.match("/branch") == ("b", {})
    assert a.match("/leaf/") == ("l", {})
    assert a.match("/d/1/") == ("d", {"x": "1"})


def test_slash_redirect_before_dynamic_sibling():
    # as Werkzeug: '/blog' redirects to '/blog/' rather than matching '/<page>'
    a = bound(Rule("/blog/", endpoint="blog"), Rule("/<page>", endpoint="page"))
    assert redirect_of(a, "/blog") == "http://example.com/blog/"
    assert a.match("/other") == ("page", {"page": "other"})


def test_empty_path_redirects_to_root_with_script_name():
    a = Map([Rule("/", endpoint="i")]).bind("example.com", script_name="/app")
    assert redirect_of(a, "") == "http://example.com/app/"


def test_merge_slashes():
    a = bound(Rule("/a/b", endpoint="ab"), Rule("/p/<path:p>", endpoint="p"))
    assert redirect_of(a, "/a//b") == "http://example.com/a/b"
    assert redirect_of(a, "/a///b") == "http://example.com/a/b"
    assert a.match("/p/x//y") == ("p", {"p": "x//y"})
    assert a.match("//a/b") == ("ab", {})  # leading slashes collapse silently
    b = bound(Rule("/a/b", endpoint="ab"), merge_slashes=False)
    with pytest.raises(NotFound):
        b.match("/a//b")
    c = bound(Rule("/a//b", endpoint="ab"))  # rule string merged too
    assert c.match("/a/b") == ("ab", {})


def test_defaults_and_redirect_defaults():
    m = Map(
        [
            Rule("/page/<int:n>", endpoint="page"),
            Rule("/page/", defaults={"n": 1}, endpoint="page"),
        ]
    )
    a = m.bind("example.com")
    assert a.match("/page/") == ("page", {"n": 1})
    assert a.match("/page/2") == ("page", {"n": 2})
    assert redirect_of(a, "/page/1") == "http://example.com/page/"
    assert a.build("page", {"n": 1}) == "/page/"
    assert a.build("page", {"n": 3}) == "/page/3"
    m.redirect_defaults = False
    assert a.match("/page/1") == ("page", {"n": 1})


def test_redirect_to_string_and_callable():
    a = Map(
        [
            Rule("/old/<int:id>", endpoint="old", redirect_to="/new/<id>"),
            Rule("/o/<name>", endpoint="o", redirect_to="n/<name>"),
            Rule("/c/<int:id>", endpoint="c", redirect_to=lambda ad, id: f"/new/{id * 2}"),
            Rule("/ext", endpoint="e", redirect_to="https://other.org/x"),
        ]
    ).bind("example.com", script_name="/app")
    assert redirect_of(a, "/old/5") == "http://example.com/new/5"
    assert redirect_of(a, "/o/é") == "http://example.com/app/n/%C3%A9"
    assert redirect_of(a, "/c/4") == "http://example.com/new/8"
    assert redirect_of(a, "/ext") == "https://other.org/x"


def test_alias_redirects_to_canonical():
    a = bound(Rule("/b", endpoint="b"), Rule("/a", endpoint="b", alias=True))
    assert redirect_of(a, "/a") == "http://example.com/b"


def test_request_redirect_response_parts():
    exc = RequestRedirect("http://example.com/a/")
    assert exc.code == 308 and exc.new_url == "http://example.com/a/"
    assert ("Location", "http://example.com/a/") in exc.get_headers()
    assert "http://example.com/a/" in exc.get_body()


def test_websocket_rules():
    a = Map([Rule("/ws", endpoint="ws", websocket=True)]).bind("example.com")
    with pytest.raises(WebsocketMismatch):
        a.match("/ws")
    assert a.match("/ws", websocket=True) == ("ws", {})
    assert a.build("ws") == "ws://example.com/ws"


# -- ordering -------------------------------------------------------------------------------
def test_ordering_static_beats_converters():
    a = bound(
        Rule("/<path:p>", endpoint="catchall"),
        Rule("/user/<name>", endpoint="user"),
        Rule("/user/new", endpoint="new"),
        Rule("/<a>/x", endpoint="ax"),
        Rule("/<int:a>/<b>", endpoint="int"),
        Rule("/<a>/<b>", endpoint="str"),
    )
    assert a.match("/user/new") == ("new", {})
    assert a.match("/user/bob") == ("user", {"name": "bob"})
    assert a.match("/q/x") == ("ax", {"a": "q"})
    assert a.match("/5/y") == ("int", {"a": 5, "b": "y"})
    assert a.match("/q/y") == ("str", {"a": "q", "b": "y"})
    assert a.match("/q/y/z") == ("catchall", {"p": "q/y/z"})


def test_order_of_addition_breaks_ties():
    a = bound(Rule("/<a>", endpoint="first"), Rule("/<b>", endpoint="second"))
    assert a.match("/x") == ("first", {"a": "x"})


def test_adding_rules_after_match():
    m = Map([Rule("/a", endpoint="a")])
    a = m.bind("example.com")
    assert a.match("/a") == ("a", {})
    with pytest.raises(NotFound):
        a.match("/b/1")
    m.add(Rule("/b/<int:n>", endpoint="b"))
    assert a.match("/b/1") == ("b", {"n": 1})
    assert m.bind("example.com").match("/b/2") == ("b", {"n": 2})


def test_many_dynamic_rules_match_correctly():
    rules = [Rule(f"/r{i}/<int:id>", endpoint=f"r{i}") for i in range(1000)]
    rules += [Rule(f"/api/r{i}/<int:id>", endpoint=f"api{i}") for i in range(1000)]
    a = bound(*rules)
    for i in (0, 1, 10, 500, 999):
        assert a.match(f"/r{i}/{i + 7}") == (f"r{i}", {"id": i + 7})
        assert a.match(f"/api/r{i}/{i}") == (f"api{i}", {"id": i})
        assert a.build(f"api{i}", {"id": 3}) == f"/api/r{i}/3"
    with pytest.raises(NotFound):
        a.match("/r1000/1")
    with pytest.raises(NotFound):
        a.match("/r5/x")


# -- hosts and subdomains ---------------------------------------------------------------------
def test_host_matching():
    m = Map(
        [
            Rule("/", endpoint="user_index", host="<user>.example.com"),
            Rule("/", endpoint="main", host="example.com"),
            Rule("/x/<int:n>", endpoint="x", host="<a>.<b>.org"),
        ],
        host_matching=True,
    )
    assert m.bind("bob.example.com").match("/") == ("user_index", {"user": "bob"})
    assert m.bind("example.com").match("/") == ("main", {})
    assert m.bind("q.w.org").match("/x/3") == ("x", {"a": "q", "b": "w", "n": 3})
    with pytest.raises(NotFound):
        m.bind("example.com:8080").match("/")
    a = m.bind("example.com")
    assert a.build("main") == "/"
    assert a.build("user_index", {"user": "al"}) == "http://al.example.com/"
    with pytest.raises(RuntimeError):
        m.bind("example.com", subdomain="x")


def test_host_matching_with_environ_strips_default_port_only():
    m = Map([Rule("/", endpoint="main", host="example.com")], host_matching=True)
    env = {"wsgi.url_scheme": "http", "REQUEST_METHOD": "GET", "PATH_INFO": "/"}
    assert m.bind_to_environ({**env, "HTTP_HOST": "Example.com:80"}).match() == ("main", {})
    with pytest.raises(NotFound):
        m.bind_to_environ({**env, "HTTP_HOST": "example.com:8000"}).match()


def test_subdomain_matching():
    m = Map(
        [
            Rule("/", endpoint="user", subdomain="<user>"),
            Rule("/", endpoint="main"),
            Rule("/s", endpoint="static_sub", subdomain="static"),
        ],
        default_subdomain="www",
    )
    assert m.bind("example.com", subdomain="bob").match("/") == ("user", {"user": "bob"})
    assert m.bind("example.com").match("/") == ("main", {})
    assert m.bind("example.com", subdomain="static").match("/s") == ("static_sub", {})
    a = m.bind("example.com", subdomain="bob")
    assert a.build("user", {"user": "bob"}) == "/"
    assert a.build("user", {"user": "al"}) == "http://al.example.com/"
    assert a.build("main") == "http://www.example.com/"
    assert a.build("static_sub", url_scheme="https") == "https://static.example.com/s"


def _env(**kw):
    env = {
        "wsgi.url_scheme": "http",
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
    }
    env.update(kw)
    return env


def test_bind_to_environ_subdomain_from_server_name():
    m = Map([Rule("/", endpoint="user", subdomain="<user>"), Rule("/", endpoint="main")])
    a = m.bind_to_environ(_env(HTTP_HOST="bob.example.com"), server_name="example.com")
    assert a.subdomain == "bob"
    assert a.match() == ("user", {"user": "bob"})
    a = m.bind_to_environ(_env(HTTP_HOST="example.com:80"), server_name="example.com")
    assert a.subdomain == "" and a.match() == ("main", {})
    with pytest.warns(UserWarning, match="doesn't match configured server name 'example.com'"):
        a = m.bind_to_environ(_env(HTTP_HOST="other.org"), server_name="example.com")
    assert a.subdomain == "<invalid>"
    with pytest.raises(NotFound):
        a.match()


def test_foreign_host_under_warnings_as_errors_is_404_not_500() -> None:
    """The Host comes from the client: ``-W error`` must not turn the mismatch warning into a
    server error (decision 009)."""
    import warnings

    import erlen

    m = Map([Rule("/", endpoint="main")])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = m.bind_to_environ(_env(HTTP_HOST="10.0.0.1"), server_name="example.com")
    assert a.subdomain == "<invalid>"
    with pytest.raises(NotFound):
        a.match()
    app = erlen.Erlen(__name__, subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.com"
    app.add_url_rule("/", "i", lambda: "home")
    client = app.test_client()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert client.get("/", "http://10.0.0.1/").status_code == 404
        assert client.get("/", "http://example.com/").text == "home"


def test_bind_to_environ_fields():
    env = _env(
        HTTP_HOST="Ex.com:443",
        PATH_INFO="/\xc3\xa9",  # WSGI: UTF-8 bytes as latin-1
        SCRIPT_NAME="/r",
        QUERY_STRING="a=1",
        REQUEST_METHOD="POST",
        **{"wsgi.url_scheme": "https"},
    )
    m = Map([Rule("/é/", endpoint="e", methods=["POST"])])
    a = m.bind_to_environ(env)
    assert (a.server_name, a.script_name, a.path_info, a.default_method, a.url_scheme) == (
        "ex.com",
        "/r/",
        "/é",
        "POST",
        "https",
    )
    assert a.query_args == "a=1"
    assert redirect_of(a, None) == "https://ex.com/r/%C3%A9/?a=1"
    no_host = m.bind_to_environ(_env(SERVER_NAME="srv", SERVER_PORT="8080"))
    assert no_host.server_name == "srv:8080"
    lazy = m.bind_to_environ(_env(HTTP_HOST="h.org", SCRIPT_NAME="/s"), subdomain="")
    assert lazy.build("e", force_external=True) == "http://h.org/s/%C3%A9/"


def test_bind_to_environ_websocket_upgrade():
    m = Map([Rule("/ws", endpoint="ws", websocket=True)])
    env = _env(PATH_INFO="/ws", HTTP_UPGRADE="websocket", HTTP_CONNECTION="keep-alive, Upgrade")
    a = m.bind_to_environ(env)
    assert a.url_scheme == "ws" and a.websocket is True
    assert a.match() == ("ws", {})


# -- building -----------------------------------------------------------------------------------
def test_build_basics_and_query_args():
    a = bound(
        Rule("/user/<name>", endpoint="user"),
        Rule("/", endpoint="index"),
        sort_parameters=True,
    )
    assert a.build("index") == "/"
    assert a.build("user", {"name": "a b/c"}) == "/user/a%20b%2Fc"
    assert a.build("user", {"name": "é?&#x"}) == "/user/%C3%A9%3F&%23x"
    assert a.build("user", {"name": "x", "z": "1 2&", "b": [1, 2], "n": None}) == (
        "/user/x?b=1&b=2&z=1+2%26"
    )
    assert a.build("user", {"name": "x", "q": "v"}, append_unknown=False) == "/user/x"
    assert a.build("user", {"name": "x"}, force_external=True) == "http://example.com/user/x"
    assert a.build("index", url_scheme="https", force_external=True) == "https://example.com/"


def test_build_multidict_values():
    from werkzeug.datastructures import MultiDict

    a = bound(Rule("/u/<name>", endpoint="u"))
    assert a.build("u", MultiDict([("name", "x"), ("t", "1"), ("t", "2")])) == "/u/x?t=1&t=2"


def test_build_with_script_name():
    m = Map([Rule("/user/<int:id>", endpoint="user")])
    assert m.bind("example.com", script_name="/app").build("user", {"id": 1}) == "/app/user/1"
    assert m.bind("example.com", script_name="/app/").build("user", {"id": 1}) == "/app/user/1"


def test_build_picks_rule_by_arguments_and_method():
    a = bound(
        Rule("/items/", endpoint="items", methods=["GET"]),
        Rule("/items/<int:id>", endpoint="items", methods=["GET"]),
        Rule("/items/new", endpoint="items", methods=["POST"]),
    )
    assert a.build("items") == "/items/"
    assert a.build("items", {"id": 4}) == "/items/4"
    assert a.build("items", method="POST") == "/items/new"


def test_build_error_messages():
    a = bound(
        Rule("/user/<id>", endpoint="user"),
        Rule("/u/<id>", endpoint="u", methods=["POST"]),
    )
    with pytest.raises(BuildError) as info:
        a.build("usr")
    assert isinstance(info.value, LookupError)
    assert str(info.value) == "Could not build url for endpoint 'usr'. Did you mean 'user' instead?"
    with pytest.raises(BuildError) as info:
        a.build("user", {"idd": 1})
    assert str(info.value) == (
        "Could not build url for endpoint 'user' with values ['idd']."
        " Did you forget to specify values ['id']?"
    )
    with pytest.raises(BuildError) as info:
        a.build("u", {"id": 1}, method="GET")
    assert "Did you mean to use methods ['POST']?" in str(info.value)
    assert info.value.endpoint == "u" and info.value.method == "GET"
    assert a.build("u", {"id": 1}, method="POST") == "/u/1"


def test_build_only_rules_are_not_matched():
    a = bound(Rule("/static/<path:f>", endpoint="s", build_only=True))
    assert a.build("s", {"f": "x/y.css"}) == "/static/x/y.css"
    with pytest.raises(NotFound):
        a.match("/static/x/y.css")


def test_map_helpers():
    m = Map([Rule("/a/<x>", endpoint="a"), Rule("/b", endpoint="b"), Rule("/a2/<y>", endpoint="a")])
    assert [r.rule for r in m.iter_rules("a")] == ["/a/<x>", "/a2/<y>"]
    assert [r.rule for r in m] == ["/a/<x>", "/b", "/a2/<y>"]
    assert m.is_endpoint_expecting("a", "x") is True
    assert m.is_endpoint_expecting("b", "x") is False
    m.update()


# -- werkzeug as oracle -----------------------------------------------------------------------
ORACLE_RULES = [
    ("/", {}),
    ("/about", {}),
    ("/blog/", {}),
    ("/blog/<int:year>/", {}),
    ("/blog/<int:year>/<slug>", {}),
    ("/user/new", {}),
    ("/user/<name>", {}),
    ("/user/<name>/edit", {"methods": ["POST"]}),
    ("/files/<path:p>", {}),
    ("/<a>.json", {}),
    ("/<a>.<b>", {}),
    ("/x/<float:f>", {}),
    ("/x/<int(signed=True):i>", {}),
    ("/loose", {"strict_slashes": False}),
    ("/loose2/", {"strict_slashes": False}),
    ("/<path:rest>/raw", {}),
    ("/pg/", {"defaults": {"n": 1}, "endpoint": "pg"}),
    ("/pg/<int:n>", {"endpoint": "pg"}),
]
ORACLE_PATHS = [
    "/", "", "/about", "/about/", "/blog", "/blog/", "/blog/2024", "/blog/2024/", "/blog/2024/hi",
    "/user/new", "/user/bob", "/user/bob/edit", "/files/a/b", "/files/", "/data.json", "/a.b",
    "/x/1.5", "/x/-3", "/x/abc", "/loose/", "/loose2", "/q/w/raw", "/a//b", "//about",
    "/about//", "/pg/1", "/pg/2", "/pg/", "/user/b%20b", "/é", "/user/é/edit",
]  # fmt: skip


def _outcome(adapter, path, method):
    try:
        endpoint, args = adapter.match(path, method=method)
        return ("match", endpoint, args)
    except Exception as exc:
        if hasattr(exc, "new_url"):
            return ("redirect", exc.new_url)
        if getattr(exc, "code", None) == 405:
            return (405, sorted(exc.valid_methods))
        return (getattr(exc, "code", type(exc).__name__),)


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("path", ORACLE_PATHS)
def test_oracle_table(path, method):
    wz = pytest.importorskip("werkzeug.routing")

    def rules(mod):
        return [mod.Rule(r, **{"endpoint": r, **o}) for r, o in ORACLE_RULES]

    ours = Map(rules(__import__("erlen.routing", fromlist=["Rule"]))).bind(
        "example.com", query_args="q=1"
    )
    theirs = wz.Map(rules(wz)).bind("example.com", query_args="q=1")
    assert _outcome(ours, path, method) == _outcome(theirs, path, method)


@pytest.mark.parametrize(
    ("endpoint", "values"),
    [
        ("/user/<name>", {"name": "bob"}),
        ("/user/<name>", {"name": "b b", "x": "1"}),
        ("/blog/<int:year>/<slug>", {"year": 2024, "slug": "é"}),
        ("/files/<path:p>", {"p": "a/b c"}),
        ("/x/<float:f>", {"f": 1.5}),
        ("pg", {"n": 1}),
        ("pg", {"n": 7}),
        ("/about", {"a": [1, 2], "b": None}),
    ],
)
def test_oracle_build(endpoint, values):
    wz = pytest.importorskip("werkzeug.routing")
    import erlen.routing as er

    def adapter(mod):
        rules = [mod.Rule(r, **{"endpoint": r, **o}) for r, o in ORACLE_RULES]
        return mod.Map(rules).bind("example.com", script_name="/app")

    assert adapter(er).build(endpoint, values) == adapter(wz).build(endpoint, values)


def test_hostile_paths_give_http_errors_not_crashes():
    from erlen.exceptions import HTTPException

    a = bound(
        Rule("/", endpoint="i"),
        Rule("/u/<int:id>/", endpoint="u"),
        Rule("/f/<path:p>", endpoint="f"),
        Rule("/<any(a, b):x>/<uuid:u>", endpoint="any"),
        Rule("/s/<string(length=3):s>", endpoint="s"),
    )
    paths = [
        "/\x00",
        "/u/\n/",
        "/" + "a/" * 2000,
        "/u/" + "1" * 10000,
        "%",
        "/%zz",
        "/u//",
        "\ud800",
    ]
    paths += ["/f/" + chr(c) for c in range(0, 0x3000, 97)] + ["/a/" + "0" * 36, "//", "///x//"]
    for path in paths:
        try:
            a.match(path)
        except HTTPException as exc:
            assert exc.code in (308, 404, 405)


def test_rule_factories_prefix_path_subdomain_and_endpoint():
    rules = [Rule("/bar", endpoint="bar"), Rule("/", endpoint="index")]
    m = Map(
        [
            Submount("/foo/", rules),
            Subdomain("api", [EndpointPrefix("api.", [Rule("/v1", endpoint="v1")])]),
        ]
    )
    a = m.bind("example.com")
    assert a.match("/foo/bar") == ("bar", {})
    assert a.match("/foo/") == ("index", {})
    with pytest.raises(NotFound):
        a.match("/bar")
    assert m.bind("example.com", subdomain="api").match("/v1") == ("api.v1", {})
    # The factory yields copies: the same list can go into another map.
    assert Map([Submount("/x", rules)]).bind("h").match("/x/bar") == ("bar", {})
    assert rules[0].map is None


def test_rule_defaults_win_over_values_parsed_from_the_url():
    # As Werkzeug: a rule's defaults are applied after the URL's values.
    m = Map([Rule("/<name>", endpoint="x", defaults={"name": "fixed"})])
    assert m.bind("h").match("/given") == ("x", {"name": "fixed"})


def test_undecodable_host_is_bad_request_not_404():
    m = Map([Rule("/", endpoint="i")])
    with pytest.raises(BadRequest):
        m.bind_to_environ(_env(HTTP_HOST="\x8a"), subdomain="")
    with pytest.raises(BadRequest):
        m.bind_to_environ(_env(HTTP_HOST="\x8a"))
    # An IDNA-encodable name is not an error.
    assert m.bind_to_environ(_env(HTTP_HOST="b\xfccher.example")).match() == ("i", {})
