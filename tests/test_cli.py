"""CLI foundation: app.cli commands through the test CLI runner, and `erlen routes`."""

from __future__ import annotations

import click

from erlen import current_app
from erlen.cli import AppGroup, ScriptInfo, cli


def test_app_cli_command_runs_in_app_context(app):
    @app.cli.command("hello")
    @click.argument("name")
    def hello(name):
        click.echo(f"hello {name} from {current_app.name}")

    result = app.test_cli_runner().invoke(args=["hello", "ann"])
    assert result.exit_code == 0, result.output
    assert result.output == "hello ann from test_app\n"


def test_app_group(app):
    group = AppGroup("db")

    @group.command("init")
    def init():
        click.echo(f"init {current_app.name}")

    app.cli.add_command(group)
    result = app.test_cli_runner().invoke(args=["db", "init"])
    assert result.output == "init test_app\n"


def test_blueprint_cli_group(app):
    from erlen import Blueprint

    bp = Blueprint("tools", __name__)

    @bp.cli.command("ping")
    def ping():
        click.echo("pong")

    app.register_blueprint(bp)
    result = app.test_cli_runner().invoke(args=["tools", "ping"])
    assert result.output == "pong\n"


def test_routes_command(app):
    @app.route("/users/<int:id>", methods=["GET", "POST"])
    def user(id):
        return ""

    runner = app.test_cli_runner()
    result = runner.invoke(cli, ["routes"], obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["Endpoint", "Methods", "Rule"]
    assert any(line.split() == ["user", "GET,", "POST", "/users/<int:id>"] for line in lines)
    assert any(line.startswith("static") for line in lines)
