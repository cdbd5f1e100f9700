"""The public extension API batteries build on, used the way an extension author would:
``init_app`` on several apps, ``app.extensions``, hooks, signals, template globals, a CLI
group and a context-local proxy (``LocalProxy``), as in ``docs/extensions.md``."""

from __future__ import annotations

from typing import Any

import click
import pytest

import erlen
from erlen import Erlen, LocalProxy, g, render_template_string
from erlen.cli import AppGroup


def _visitor() -> str:
    if "visitor" not in g:
        g.visitor = erlen.request.headers.get("X-Visitor", "anonymous")
    return g.visitor  # type: ignore[no-any-return]


current_visitor: Any = LocalProxy(_visitor, unbound_message="no request: no visitor")


class Visits:
    """A toy extension: counts requests per visitor, in the Flask-extension shape."""

    def __init__(self, app: Erlen | None = None) -> None:
        self.finished: list[int] = []
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Erlen) -> None:
        app.extensions["visits"] = state = {"counts": {}}

        @app.before_request
        def count() -> None:
            state["counts"][str(current_visitor)] = state["counts"].get(str(current_visitor), 0) + 1

        @app.after_request
        def header(response: Any) -> Any:
            response.headers["X-Visits"] = str(state["counts"][str(current_visitor)])
            return response

        app.add_template_global(current_visitor, "current_visitor")
        erlen.request_finished.connect(self._finished, app)

        group = AppGroup("visits")

        @group.command("show")
        def show() -> None:
            click.echo(repr(erlen.current_app.extensions["visits"]["counts"]))

        app.cli.add_command(group)

    def _finished(self, sender: Erlen, response: Any, **extra: Any) -> None:
        self.finished.append(response.status_code)


def _app(name: str, visits: Visits) -> Erlen:
    app = Erlen(name)
    visits.init_app(app)

    @app.route("/")
    def index() -> str:
        return render_template_string("hello {{ current_visitor }}")

    return app


def test_an_extension_serves_several_apps() -> None:
    visits = Visits()
    one, two = _app("one", visits), _app("two", visits)
    c1, c2 = one.test_client(), two.test_client()
    assert c1.get("/", headers={"X-Visitor": "ada"}).text == "hello ada"
    rv = c1.get("/", headers={"X-Visitor": "ada"})
    assert rv.headers["X-Visits"] == "2"
    assert c2.get("/").headers["X-Visits"] == "1"
    assert one.extensions["visits"]["counts"] == {"ada": 2}
    assert two.extensions["visits"]["counts"] == {"anonymous": 1}
    assert visits.finished == [200, 200, 200]
    erlen.request_finished.disconnect(visits._finished)


def test_the_extension_cli_group_runs_in_the_app_context() -> None:
    app = _app("cli", Visits())
    app.test_client().get("/", headers={"X-Visitor": "bob"})
    result = app.test_cli_runner().invoke(args=["visits", "show"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "{'bob': 1}"


def test_a_local_proxy_outside_its_context_says_so() -> None:
    # the function's own error (g needs an app context) reaches the caller
    with pytest.raises(RuntimeError, match="outside of application context"):
        str(current_visitor)
    assert not current_visitor  # falsy, as an unbound Werkzeug proxy

    def lookup() -> Any:
        raise LookupError("nothing here")

    with pytest.raises(RuntimeError, match="nothing bound"):
        _ = LocalProxy(lookup, unbound_message="nothing bound").anything


def test_a_local_proxy_of_a_context_var_and_an_attribute() -> None:
    from contextvars import ContextVar

    var: ContextVar[Any] = ContextVar("thing")
    proxy = LocalProxy(var, "upper", unbound_message="no thing")
    with pytest.raises(RuntimeError, match="no thing"):
        proxy()
    token = var.set("abc")
    try:
        assert proxy() == "ABC"
    finally:
        var.reset(token)
    with pytest.raises(TypeError):
        LocalProxy(42)  # type: ignore[arg-type]
