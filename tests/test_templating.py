"""Templates as a Flask user sees them: loading, escaping, context, extensions, signals."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from jinja2 import TemplateNotFound

import erlen
from erlen import (
    Blueprint,
    Markup,
    escape,
    render_template,
    render_template_string,
    stream_template,
    stream_template_string,
)

HERE = Path(__file__).parent
BP_ROOT = HERE / "blueprint_fixtures"


def _bp(name: str, **kw: object) -> Blueprint:
    return Blueprint(
        name,
        __name__,
        template_folder="templates",
        root_path=str(BP_ROOT / name),
        **kw,  # type: ignore[arg-type]
    )


# -- exports ---------------------------------------------------------------------------
def test_markup_and_escape_exported() -> None:
    import markupsafe

    assert Markup is markupsafe.Markup
    assert escape("<a>") == "&lt;a&gt;"
    assert isinstance(escape("x"), Markup)


# -- render_template / render_template_string ------------------------------------------
def test_render_template_from_app_folder(app: erlen.Erlen) -> None:
    with app.test_request_context():
        assert render_template("escape.html", value="<b>") == "&lt;b&gt;"


def test_render_template_list_picks_first_existing(app: erlen.Erlen) -> None:
    with app.test_request_context():
        rv = render_template(["missing.html", "escape.txt", "escape.html"], value="<b>")
    assert rv == "<b>"  # escape.txt won, and .txt is not autoescaped


def test_render_template_list_none_found(app: erlen.Erlen) -> None:
    with app.test_request_context(), pytest.raises(TemplateNotFound):
        render_template(["nope1.html", "nope2.html"])


@pytest.mark.parametrize("ext", ["html", "htm", "xml", "xhtml", "svg"])
def test_autoescape_extensions(app: erlen.Erlen, ext: str) -> None:
    with app.test_request_context():
        assert render_template(f"escape.{ext}", value="<x>&") == "&lt;x&gt;&amp;"


def test_no_autoescape_for_txt(app: erlen.Erlen) -> None:
    with app.test_request_context():
        assert render_template("escape.txt", value="<x>") == "<x>"


def test_render_template_string_autoescapes_and_markup_passes(app: erlen.Erlen) -> None:
    with app.test_request_context():
        assert render_template_string("{{ v }}", v="<i>") == "&lt;i&gt;"
        assert render_template_string("{{ v }}", v=Markup("<i>")) == "<i>"
        assert render_template_string("{{ v|safe }}", v="<i>") == "<i>"
        assert (
            render_template_string("{% autoescape false %}{{ v }}{% endautoescape %}", v="<i>")
            == "<i>"
        )


def test_select_jinja_autoescape_override(tmp_path: Path) -> None:
    class MyApp(erlen.Erlen):
        def select_jinja_autoescape(self, filename: str | None) -> bool:
            return filename is None or filename.endswith(".txt")

    app = MyApp("x", root_path=str(HERE))
    with app.test_request_context():
        assert render_template("escape.txt", value="<x>") == "&lt;x&gt;"
        assert render_template("escape.html", value="<x>") == "<x>"


def test_render_through_view(app: erlen.Erlen, client: erlen.testing.ErlenClient) -> None:
    @app.route("/")
    def index() -> str:
        return render_template("child.html", value="<v>")

    rv = client.get("/")
    assert rv.status_code == 200
    assert rv.mimetype == "text/html"
    assert rv.text.strip() == ("<title>Child</title>\n<main>[layout body] part:&lt;v&gt;</main>")


# -- Jinja features from the app folder ------------------------------------------------
def test_import_macros_and_loop_and_whitespace(app: erlen.Erlen) -> None:
    with app.test_request_context():
        assert render_template("use_macro.html", value="<w>").strip() == "Hello &lt;w&gt;!"
        assert render_template("loop.html", items=["a", "b", "c"]) == "1:a,2:b,3:c"


def test_get_template_attribute(app: erlen.Erlen) -> None:
    with app.app_context():
        hello = erlen.get_template_attribute("macros.html", "hello")
        assert hello("World") == "Hello World!"
        assert erlen.get_template_attribute("macros.html", "answer") == 42


# -- template context -------------------------------------------------------------------
def test_default_context(app: erlen.Erlen, client: erlen.testing.ErlenClient) -> None:
    @app.route("/")
    def index() -> str:
        erlen.g.thing = "gee"  # type: ignore[attr-defined]
        erlen.session["user"] = "ann"
        return render_template("context.html")

    rv = client.get("/")
    assert rv.text.strip() == "test key|/|ann|gee|/"


def test_context_outside_request_has_config_only(app: erlen.Erlen) -> None:
    with app.app_context():
        assert render_template_string("{{ config.SECRET_KEY }}") == "test key"
        erlen.g.x = 5  # type: ignore[attr-defined]
        assert render_template_string("{{ g.x }}") == "5"


def test_explicit_context_wins_over_processors(app: erlen.Erlen) -> None:
    @app.context_processor
    def inject() -> dict[str, object]:
        return {"who": "processor", "other": "p"}

    with app.test_request_context():
        assert render_template_string("{{ who }}-{{ other }}", who="caller") == "caller-p"


def test_blueprint_context_processor_only_in_its_requests(app: erlen.Erlen) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/bp")

    @bp.context_processor
    def bp_only() -> dict[str, str]:
        return {"where": "bp"}

    @bp.app_context_processor
    def everywhere() -> dict[str, str]:
        return {"all": "yes"}

    @bp.route("/")
    def bp_index() -> str:
        return render_template_string("{{ where }}|{{ all }}")

    @app.route("/")
    def index() -> str:
        return render_template_string("{{ where }}|{{ all }}")

    app.register_blueprint(bp)
    client = app.test_client()
    assert client.get("/bp/").text == "bp|yes"
    assert client.get("/").text == "|yes"


# -- filters / tests / globals ------------------------------------------------------------
def test_template_filter_test_global_decorators(app: erlen.Erlen) -> None:
    @app.template_filter()
    def shout(s: str) -> str:
        return s.upper() + "!"

    @app.template_filter("rev")
    def reverse_it(s: str) -> str:
        return s[::-1]

    @app.template_test()
    def even(n: int) -> bool:
        return n % 2 == 0

    @app.template_test("big")
    def is_big(n: int) -> bool:
        return n > 100

    @app.template_global()
    def twice(n: int) -> int:
        return 2 * n

    @app.template_global("answer")
    def get_answer() -> int:
        return 42

    assert app.jinja_env.filters["shout"] is shout
    assert app.jinja_env.tests["big"] is is_big
    with app.app_context():
        src = "{{ 'hi'|shout }} {{ 'abc'|rev }} {{ 4 is even }} {{ 5 is big }} {{ twice(3) }} {{ answer() }}"
        assert render_template_string(src) == "HI! cba True False 6 42"


def test_add_template_forms(app: erlen.Erlen) -> None:
    app.add_template_filter(lambda s: s + "?", "q")
    app.add_template_test(lambda v: v == 1, "one")
    app.add_template_global(lambda: "G", "gl")
    with app.app_context():
        assert render_template_string("{{ 'x'|q }} {{ 1 is one }} {{ gl() }}") == "x? True G"


def test_blueprint_app_template_forms(app: erlen.Erlen) -> None:
    bp = Blueprint("bp", __name__)

    @bp.app_template_filter()
    def dbl(s: str) -> str:
        return s * 2

    @bp.app_template_test("odd")
    def is_odd(n: int) -> bool:
        return n % 2 == 1

    @bp.app_template_global()
    def bpg() -> str:
        return "bpg"

    bp.add_app_template_filter(str.lower, "low")
    bp.add_app_template_test(lambda v: v is None, "nothing")
    bp.add_app_template_global(lambda: 7, "seven")
    app.register_blueprint(bp)
    with app.app_context():
        src = "{{ 'ab'|dbl }} {{ 3 is odd }} {{ bpg() }} {{ 'AB'|low }} {{ none is nothing }} {{ seven() }}"
        assert render_template_string(src) == "abab True bpg ab True 7"


# -- jinja_env / jinja_options --------------------------------------------------------------
def test_jinja_env_is_cached_and_configurable(app: erlen.Erlen) -> None:
    env = app.jinja_env
    assert app.jinja_env is env
    env.globals["site"] = "erlen"
    with app.app_context():
        assert render_template_string("{{ site }}") == "erlen"


def test_jinja_options(tmp_path: Path) -> None:
    class MyApp(erlen.Erlen):
        jinja_options = {"trim_blocks": True, "extensions": ["jinja2.ext.do"]}

    app = MyApp("x", root_path=str(tmp_path))
    assert app.jinja_env.trim_blocks is True
    assert "jinja2.ext.ExprStmtExtension" in app.jinja_env.extensions
    with app.app_context():
        assert render_template_string("{% set l = [] %}{% do l.append(1) %}{{ l }}") == "[1]"
        assert render_template_string("{% if true %}\nA{% endif %}") == "A"


# -- blueprint folders -----------------------------------------------------------------------
def test_blueprint_templates_and_macros_from_blueprint(app: erlen.Erlen) -> None:
    first = _bp("first")

    @first.route("/first")
    def page() -> str:
        return render_template("first/page.html", value="<v>")

    app.register_blueprint(first)
    app.register_blueprint(_bp("second"))
    rv = app.test_client().get("/first")
    # extends the app's layout.html, imports a macro from the blueprint folder
    assert "<main>first page <b>&lt;v&gt;</b></main>" in rv.text
    with app.test_request_context():
        assert render_template("second/page.html", value=1).strip() == "second page 1"


def test_app_folder_wins_then_registration_order(app: erlen.Erlen) -> None:
    app.register_blueprint(_bp("second"))
    app.register_blueprint(_bp("first"))
    with app.test_request_context():
        assert render_template("shared.html").strip() == "app version of shared"
        assert render_template("only_bp.html").strip() == "second version of only_bp"


def test_registration_order_other_way(app: erlen.Erlen) -> None:
    app.register_blueprint(_bp("first"))
    app.register_blueprint(_bp("second"))
    with app.test_request_context():
        assert render_template("only_bp.html").strip() == "first version of only_bp"


def test_list_templates(app: erlen.Erlen) -> None:
    app.register_blueprint(_bp("first"))
    names = app.jinja_env.list_templates()
    assert "layout.html" in names and "first/page.html" in names


def test_template_not_found_lists_folders(app: erlen.Erlen) -> None:
    app.register_blueprint(_bp("first"))
    with app.test_request_context(), pytest.raises(TemplateNotFound) as info:
        render_template("does-not-exist.html")
    msg = str(info.value)
    assert "does-not-exist.html" in msg
    assert str(HERE / "templates") in msg
    assert str(BP_ROOT / "first" / "templates") in msg


def test_template_not_found_in_debug_logs_the_loaders(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class MyApp(erlen.Erlen):
        pass

    (tmp_path / "templates").mkdir()
    app = MyApp("x", root_path=str(tmp_path))
    app.register_blueprint(_bp("first"))
    app.debug = True
    with (
        caplog.at_level("INFO", logger=app.logger.name),
        app.app_context(),
        pytest.raises(TemplateNotFound) as info,
    ):
        render_template("missing.html")
    assert info.value.name == "missing.html"
    msg = str(info.value)
    assert f"application 'x' ({tmp_path / 'templates'})" in msg  # a subclass is still the app
    assert f"blueprint 'first' ({BP_ROOT / 'first' / 'templates'})" in msg
    logged = [r.getMessage() for r in caplog.records if "missing.html" in r.getMessage()]
    assert logged and "blueprint 'first'" in logged[0]
    caplog.clear()
    app.debug = False
    with (
        caplog.at_level("INFO", logger=app.logger.name),
        app.app_context(),
        pytest.raises(TemplateNotFound),
    ):
        render_template("missing.html")
    assert not [r for r in caplog.records if "missing.html" in r.getMessage()]


def test_template_not_found_in_view_is_500(app: erlen.Erlen) -> None:
    @app.route("/")
    def index() -> str:
        return render_template("nope.html")

    app.testing = False
    assert app.test_client().get("/").status_code == 500


# -- streaming -------------------------------------------------------------------------------
def test_stream_template_in_view(app: erlen.Erlen, client: erlen.testing.ErlenClient) -> None:
    @app.route("/")
    def index() -> erlen.Response:
        return app.response_class(stream_template("loop.html", items=[erlen.request.path, "b"]))

    @app.route("/s")
    def s() -> erlen.Response:
        return app.response_class(stream_template_string("{{ request.args.q }}{{ v }}", v="<"))

    assert client.get("/").text == "1:/,2:b"
    assert client.get("/s?q=x").text == "x&lt;"


def test_stream_template_is_lazy(app: erlen.Erlen) -> None:
    with app.test_request_context():
        gen = stream_template_string("{% for i in items %}{{ i }}{% endfor %}", items=range(3))
        assert next(iter(gen)) == "0"
        assert "".join(gen) == "12"


# -- caching and auto reload -------------------------------------------------------------------
def _write(path: Path, text: str, bump: int) -> None:
    path.write_text(text)
    stamp = time.time() + bump
    os.utime(path, (stamp, stamp))


@pytest.mark.parametrize(
    ("auto_reload", "debug", "sees_change"),
    [(True, False, True), (False, False, False), (None, True, True), (None, False, False)],
)
def test_templates_auto_reload(
    tmp_path: Path, auto_reload: bool | None, debug: bool, sees_change: bool
) -> None:
    (tmp_path / "templates").mkdir()
    tpl = tmp_path / "templates" / "t.html"
    _write(tpl, "one", 0)
    app = erlen.Erlen("x", root_path=str(tmp_path))
    app.config["TEMPLATES_AUTO_RELOAD"] = auto_reload
    app.debug = debug
    with app.app_context():
        assert render_template("t.html") == "one"
        _write(tpl, "two", 10)
        assert render_template("t.html") == ("two" if sees_change else "one")


def test_templates_are_cached(app: erlen.Erlen) -> None:
    with app.app_context():
        a = app.jinja_env.get_template("layout.html")
        b = app.jinja_env.get_template("layout.html")
    assert a is b


# -- signals ------------------------------------------------------------------------------
def test_render_signals(app: erlen.Erlen) -> None:
    events: list[tuple[str, object, str | None, dict[str, object]]] = []

    def before(sender: object, template: object, context: dict[str, object]) -> None:
        context["injected"] = "yes"
        events.append(("before", sender, template.name, dict(context)))  # type: ignore[attr-defined]

    def after(sender: object, template: object, context: dict[str, object]) -> None:
        events.append(("after", sender, template.name, dict(context)))  # type: ignore[attr-defined]

    erlen.before_render_template.connect(before, app)
    erlen.template_rendered.connect(after, app)
    try:
        with app.test_request_context():
            rv = render_template_string("{{ value }}{{ injected }}", value="v")
            rv2 = render_template("escape.html", value="w")
    finally:
        erlen.before_render_template.disconnect(before, app)
        erlen.template_rendered.disconnect(after, app)
    assert rv == "vyes"
    assert rv2 == "w"
    assert [(e[0], e[2]) for e in events] == [
        ("before", None),
        ("after", None),
        ("before", "escape.html"),
        ("after", "escape.html"),
    ]
    assert all(e[1] is app for e in events)
    assert events[1][3]["value"] == "v" and "request" in events[1][3]


def test_signals_not_sent_for_other_app(app: erlen.Erlen) -> None:
    other = erlen.Erlen("other", root_path=str(HERE))
    seen: list[object] = []

    def rec(sender: object, **kw: object) -> None:
        seen.append(sender)

    erlen.template_rendered.connect(rec, other)
    try:
        with app.app_context():
            render_template_string("x")
    finally:
        erlen.template_rendered.disconnect(rec, other)
    assert seen == []


def test_stream_template_sends_rendered_after_generation(app: erlen.Erlen) -> None:
    seen: list[str] = []

    def rec(sender: object, template: object, context: object) -> None:
        seen.append("rendered")

    erlen.template_rendered.connect(rec, app)
    try:
        with app.test_request_context():
            gen = stream_template_string("a{{ 1 }}")
            assert seen == []
            assert "".join(gen) == "a1"
    finally:
        erlen.template_rendered.disconnect(rec, app)
    assert seen == ["rendered"]


def test_tojson_filter_uses_app_json(app: erlen.Erlen) -> None:
    with app.app_context():
        rv = render_template_string("{{ data|tojson }}", data={"a": "</script>"})
    assert rv == '{"a": "\\u003c/script\\u003e"}'


# -- the fast render path keeps Jinja's semantics ----------------------------------------------
def test_import_with_context_sees_request(app: erlen.Erlen) -> None:
    with app.test_request_context("/here"):
        src = '{% import "macros.html" as m with context %}{{ m.whoami() }}'
        assert render_template_string(src) == "/here"


def test_template_errors_propagate(app: erlen.Erlen) -> None:
    with app.app_context():
        with pytest.raises(ZeroDivisionError):
            render_template_string("{{ 1 / 0 }}")
        with pytest.raises(ZeroDivisionError):
            "".join(stream_template_string("a{{ 1 / 0 }}"))
        from jinja2 import TemplateSyntaxError

        with pytest.raises(TemplateSyntaxError):
            render_template_string("{% if %}")


def test_strict_undefined_via_jinja_options(tmp_path: Path) -> None:
    from jinja2 import StrictUndefined, UndefinedError

    class MyApp(erlen.Erlen):
        jinja_options = {"undefined": StrictUndefined}

    app = MyApp("x", root_path=str(tmp_path))
    with app.app_context(), pytest.raises(UndefinedError):
        render_template_string("{{ nope }}")


def test_async_environment_renders(tmp_path: Path) -> None:
    class MyApp(erlen.Erlen):
        jinja_options = {"enable_async": True}

    app = MyApp("x", root_path=str(HERE))
    with app.test_request_context("/a"):
        assert render_template_string("{{ request.path }}{{ v }}", v="<") == "/a&lt;"
        assert render_template("escape.html", value="<") == "&lt;"
        assert "".join(stream_template_string("{{ v }}", v=1)) == "1"


def test_string_templates_cached_but_see_later_globals_and_filters(app: erlen.Erlen) -> None:
    src = "{{ g1() if g1 is defined else 'none' }}"
    with app.app_context():
        assert render_template_string(src) == "none"
        first = app.jinja_env.from_string_cached(src)  # type: ignore[attr-defined]
        app.jinja_env.globals["g1"] = lambda: "now"
        assert render_template_string(src) == "now"
        assert app.jinja_env.from_string_cached(src) is first  # type: ignore[attr-defined]


def test_explicit_context_overrides_globals(app: erlen.Erlen) -> None:
    with app.test_request_context("/"):
        assert render_template_string("{{ config }}", config="mine") == "mine"
        assert render_template_string("{{ url_for }}", url_for=1) == "1"


def test_template_local_globals_are_honoured(app: erlen.Erlen) -> None:
    with app.app_context():
        tpl = app.jinja_env.get_template("escape.txt", globals={"value": "from-globals"})
        assert render_template(tpl) == "from-globals"
        assert render_template(tpl, value="ctx") == "ctx"
