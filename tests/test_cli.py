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


# -- discovery, .env and the built-in commands ------------------------------------------------
import os  # noqa: E402
import sys  # noqa: E402
import textwrap  # noqa: E402
import uuid  # noqa: E402

import pytest  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from erlen.cli import ErlenGroup, load_dotenv  # noqa: E402

APP_SRC = """
from erlen import Erlen, current_app
import click

{name} = Erlen(__name__)

@{name}.route("/hi")
def hi():
    return "hi"

@{name}.cli.command("whoami")
def whoami():
    click.echo(f"{{current_app.import_name}} debug={{current_app.debug}}")
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A clean working folder; modules imported from it are forgotten afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    for var in ("APP", "DEBUG", "RUN_FROM_CLI", "SKIP_DOTENV", "ENV_FILE", "RUN_PORT", "RUN_HOST"):
        monkeypatch.delenv(f"ERLEN_{var}", raising=False)
        monkeypatch.delenv(f"FLASK_{var}", raising=False)
    monkeypatch.delenv("GREETING", raising=False)
    for name in ("app", "wsgi"):  # other tests may have imported modules of these names
        monkeypatch.delitem(sys.modules, name, raising=False)
    before = set(sys.modules)
    yield tmp_path
    for name in set(sys.modules) - before:
        del sys.modules[name]
    os.environ.pop("ERLEN_RUN_FROM_CLI", None)


def unique(prefix: str = "m") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def invoke(*args: str, env: dict | None = None):
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_discover_module_name(project):
    mod = unique()
    (project / f"{mod}.py").write_text(APP_SRC.format(name="app"))
    result = invoke("--app", mod, "whoami")
    assert result.exit_code == 0, result.output
    assert result.output == f"{mod} debug=False\n"


def test_discover_file_path_inside_package(project):
    pkg = unique("pkg")
    (project / pkg).mkdir()
    (project / pkg / "__init__.py").write_text("")
    (project / pkg / "web.py").write_text(APP_SRC.format(name="application"))
    result = invoke("--app", f"{pkg}/web.py", "whoami")
    assert result.output == f"{pkg}.web debug=False\n"


def test_discover_module_colon_name_and_ambiguous(project):
    mod = unique()
    (project / f"{mod}.py").write_text(APP_SRC.format(name="one") + "\ntwo = Erlen('second')\n")
    result = invoke("--app", mod, "routes")
    assert result.exit_code == 2
    assert f"Detected multiple Erlen applications in module '{mod}'" in result.output
    result = invoke("--app", f"{mod}:two", "routes")
    assert result.exit_code == 0
    assert "/hi" not in result.output and "static" in result.output


def test_discover_factory_with_arguments(project):
    mod = unique()
    (project / f"{mod}.py").write_text(
        textwrap.dedent(
            """
            from erlen import Erlen
            def create_app(name, debug=False):
                app = Erlen(name)
                app.config["WHO"] = (name, debug)
                @app.route("/" + name)
                def page():
                    return ""
                return app
            """
        )
    )
    result = invoke("--app", f"{mod}:create_app('shop', debug=True)", "routes")
    assert result.exit_code == 0, result.output
    assert "/shop" in result.output
    result = invoke("--app", f"{mod}:create_app", "routes")
    assert result.exit_code == 2
    assert "could not be called with the specified arguments" in result.output


def test_fallback_to_app_py_and_wsgi_py(project):
    (project / "app.py").write_text(APP_SRC.format(name="app"))
    result = invoke("whoami")
    assert result.output == "app debug=False\n"
    (project / "wsgi.py").write_text("from erlen import Erlen\napp = Erlen('from_wsgi')\n")
    del sys.modules["app"]
    result = invoke("routes")
    assert result.exit_code == 0
    assert "/hi" not in result.output  # wsgi.py comes first


def test_no_app_found(project):
    result = invoke("routes")
    assert result.exit_code == 2
    assert "Could not locate an Erlen application" in result.output


def test_missing_module(project):
    result = invoke("--app", "no_such_module_xyz", "routes")
    assert result.exit_code == 2
    assert "Could not import 'no_such_module_xyz'." in result.output


def test_import_error_inside_app_shows_real_traceback(project):
    mod = unique()
    (project / f"{mod}.py").write_text("import os\nimport not_installed_dependency_xyz\n")
    result = invoke("--app", mod, "routes")
    assert result.exit_code == 2
    assert f"While importing '{mod}', an ImportError was raised" in result.output
    assert f'{mod}.py", line 2' in result.output
    assert "import not_installed_dependency_xyz" in result.output
    assert "ModuleNotFoundError: No module named 'not_installed_dependency_xyz'" in result.output
    assert "importlib" not in result.output


def test_syntax_error_inside_app(project):
    mod = unique()
    (project / f"{mod}.py").write_text("x = (\n")
    result = invoke("--app", mod, "routes")
    assert result.exit_code == 2
    assert "an exception was raised" in result.output and "SyntaxError" in result.output


def test_erlen_app_env_and_debug_env(project):
    mod = unique()
    (project / f"{mod}.py").write_text(APP_SRC.format(name="app"))
    result = invoke("whoami", env={"ERLEN_APP": mod, "ERLEN_DEBUG": "1"})
    assert result.output == f"{mod} debug=True\n"
    result = invoke("--app", mod, "--no-debug", "whoami", env={"ERLEN_DEBUG": "1"})
    assert result.output == f"{mod} debug=False\n"


def test_dotenv_files_and_precedence(project, monkeypatch):
    mod = unique()
    (project / f"{mod}.py").write_text(
        APP_SRC.format(name="app") + "\n@app.cli.command('greet')\ndef greet():\n    import os\n"
        "    click.echo(os.environ['GREETING'])\n"
    )
    (project / ".erlenenv").write_text(f"ERLEN_APP={mod}\nGREETING=from-erlenenv\n")
    (project / ".env").write_text("GREETING=from-env\n")
    (project / "custom.env").write_text("GREETING=from-custom\n")
    result = invoke("greet")
    assert result.output == "from-env\n"  # .env beats .erlenenv; ERLEN_APP came from .erlenenv
    monkeypatch.delenv("GREETING")
    result = invoke("--env-file", "custom.env", "greet")
    assert result.output == "from-custom\n"
    monkeypatch.setenv("GREETING", "from-shell")
    assert invoke("greet").output == "from-shell\n"  # set variables win
    monkeypatch.delenv("GREETING")
    os.environ.pop("ERLEN_APP")  # set by .erlenenv: monkeypatch would restore it
    assert load_dotenv(load_defaults=False) is False
    assert "GREETING" not in os.environ


def test_flask_spellings_of_app_and_debug(project):
    """A Flask project's FLASK_APP / FLASK_DEBUG work; ERLEN_ ones win when both are set."""

    def module() -> str:  # a fresh app each time: a loaded app keeps the debug flag it got
        mod = unique()
        (project / f"{mod}.py").write_text(APP_SRC.format(name="app"))
        return mod

    mod = module()
    result = invoke("whoami", env={"FLASK_APP": mod, "FLASK_DEBUG": "1"})
    assert result.output == f"{mod} debug=True\n"
    # the --debug option's callback exports what it read as ERLEN_DEBUG (as Flask's exports
    # FLASK_DEBUG), so that an app loaded later sees it; the runner does not undo that
    assert os.environ.pop("ERLEN_DEBUG") == "1"
    mod = module()
    result = invoke("whoami", env={"FLASK_APP": "no_such_mod", "ERLEN_APP": mod})
    assert (result.exit_code, result.output) == (0, f"{mod} debug=False\n")
    mod = module()
    result = invoke("whoami", env={"FLASK_APP": mod, "FLASK_DEBUG": "1", "ERLEN_DEBUG": "0"})
    assert result.output == f"{mod} debug=False\n"
    mod = module()
    result = invoke("--no-debug", "whoami", env={"FLASK_APP": mod, "FLASK_DEBUG": "1"})
    assert result.output == f"{mod} debug=False\n"
    os.environ.pop("ERLEN_DEBUG")


def test_flaskenv_file_and_flask_env_file(project):
    mod = unique()
    (project / f"{mod}.py").write_text(
        APP_SRC.format(name="app") + "\n@app.cli.command('greet')\ndef greet():\n    import os\n"
        "    click.echo(os.environ['GREETING'])\n"
    )
    (project / ".flaskenv").write_text(f"FLASK_APP={mod}\nGREETING=from-flaskenv\n")
    assert invoke("greet").output == "from-flaskenv\n"
    os.environ.pop("GREETING")
    (project / ".erlenenv").write_text("GREETING=from-erlenenv\n")
    assert invoke("greet").output == "from-erlenenv\n"  # .erlenenv beats .flaskenv
    os.environ.pop("GREETING")
    (project / "custom.env").write_text("GREETING=from-custom\n")
    assert invoke("greet", env={"FLASK_ENV_FILE": "custom.env"}).output == "from-custom\n"
    os.environ.pop("GREETING")
    os.environ.pop("FLASK_APP")  # set by .flaskenv: not monkeypatch's to restore


def test_run_reads_flask_run_variables(project, monkeypatch):
    import erlen.serving

    calls: list[tuple[tuple, dict]] = []
    monkeypatch.setattr(erlen.serving, "serve", lambda *a, **k: calls.append((a, k)))
    (project / "app.py").write_text(APP_SRC.format(name="app"))
    env = {"FLASK_RUN_PORT": "5123", "FLASK_RUN_HOST": "0.0.0.0", "FLASK_RUN_RELOAD": "false"}
    result = invoke("run", env=env)
    assert result.exit_code == 0, result.output
    (host, port, _load), options = calls[-1]
    assert (host, port, options["use_reloader"]) == ("0.0.0.0", 5123, False)
    result = invoke("run", env={**env, "ERLEN_RUN_PORT": "5124"})
    assert calls[-1][0][:2] == ("0.0.0.0", 5124)
    result = invoke("run", "--port", "5125", env=env)
    assert calls[-1][0][:2] == ("0.0.0.0", 5125)


def test_shell_has_app_g_and_shell_context(project):
    mod = unique()
    (project / f"{mod}.py").write_text(
        APP_SRC.format(name="app")
        + "\n@app.shell_context_processor\ndef extra():\n    return {'answer': 42}\n"
    )
    result = CliRunner().invoke(
        cli, ["--app", mod, "shell"], input="g.x = 7\nprint(app.name, answer, g.x)\n"
    )
    assert result.exit_code == 0, result.output
    assert f"App: {mod}" in result.output
    assert f"{mod} 42 7" in result.output


def test_custom_group_with_create_app(project):
    from erlen import Erlen

    def make():
        app = Erlen("made_by_factory")

        @app.cli.command("hello")
        def hello():
            click.echo(f"hello from {current_app.name}")

        return app

    group = ErlenGroup(name="manage", create_app=make)
    result = CliRunner().invoke(group, ["hello"])
    assert result.output == "hello from made_by_factory\n"
    assert "run" in CliRunner().invoke(group, ["--help"]).output


def test_version_and_help(project):
    result = invoke("--version")
    assert result.exit_code == 0 and "Erlen " in result.output and "Python " in result.output
    result = CliRunner().invoke(cli, ["--help"])
    for name in ("run", "serve", "shell", "routes"):
        assert name in result.output
    help_text = CliRunner().invoke(cli, ["run", "--help"]).output
    for option in ("--host", "--port", "--cert", "--key", "--reload", "--extra-files", "--debug"):
        assert option in help_text


def test_run_key_without_cert(project):
    (project / "k.pem").write_text("x")
    (project / "app.py").write_text(APP_SRC.format(name="app"))
    result = CliRunner().invoke(cli, ["run", "--key", "k.pem"])
    assert result.exit_code == 2
    assert "--key needs --cert" in result.output


def test_routes_sorted_by_rule(app):
    @app.route("/b")
    def b_view():
        return ""

    @app.route("/a")
    def z_view():
        return ""

    result = app.test_cli_runner().invoke(
        cli, ["routes", "--sort", "rule"], obj=ScriptInfo(create_app=lambda: app)
    )
    rules = [line.split()[-1] for line in result.output.splitlines()[2:]]
    assert rules == sorted(rules)


def test_blueprint_cli_group_none_custom_and_override(app):
    from erlen import Blueprint

    merged = Blueprint("merged", __name__, cli_group=None)
    named = Blueprint("named", __name__, cli_group="ops")
    renamed = Blueprint("renamed", __name__)
    for bp, word in ((merged, "m"), (named, "n"), (renamed, "r")):

        @bp.cli.command("say")
        def say(word=word):
            click.echo(f"{word} in {current_app.name}")

    app.register_blueprint(merged)
    app.register_blueprint(named)
    app.register_blueprint(renamed, cli_group="tools2")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["say"]).output == "m in test_app\n"  # merged into app.cli
    assert runner.invoke(args=["ops", "say"]).output == "n in test_app\n"
    assert runner.invoke(args=["tools2", "say"]).output == "r in test_app\n"
    assert runner.invoke(args=["named", "say"]).exit_code == 2  # the group was renamed


def test_appgroup_command_without_app_context(app):
    from erlen.globals import _cv_app

    group = AppGroup("raw")

    @group.command("ctx", with_appcontext=False)
    def ctx():
        click.echo(str(_cv_app.get(None) is None))

    result = CliRunner().invoke(group, ["ctx"])
    assert result.output == "True\n"


def test_factory_found_without_a_name(project):
    mod = unique()
    (project / f"{mod}.py").write_text(
        "from erlen import Erlen\ndef create_app():\n    return Erlen('from_factory')\n"
    )
    result = invoke("--app", mod, "routes")
    assert result.exit_code == 0, result.output
    assert "static" in result.output


@pytest.mark.parametrize("target", ["", ":create_app", ":create_app()"])
def test_error_inside_factory_shows_real_traceback(project, target):
    mod = unique()
    (project / f"{mod}.py").write_text(
        "from erlen import Erlen\ndef create_app():\n    return Erlen(__name__, bogus=1)\n"
    )
    result = invoke("--app", mod + target, "routes")
    assert result.exit_code == 2
    assert "While calling the app factory" in result.output
    assert f'{mod}.py", line 3, in create_app' in result.output
    assert "Erlen(__name__, bogus=1)" in result.output
    assert "unexpected keyword argument 'bogus'" in result.output
    assert "could not be called" not in result.output
    assert "discovery.py" not in result.output  # erlen's own frames trimmed


def test_non_type_error_inside_factory(project):
    mod = unique()
    (project / f"{mod}.py").write_text(
        "from erlen import Erlen\ndef make(n):\n    return {}['missing_config']\n"
    )
    result = invoke("--app", f"{mod}:make(1)", "routes")
    assert result.exit_code == 2
    assert "KeyError: 'missing_config'" in result.output
    assert f"{mod}.py" in result.output


def test_routes_domain_column_sorts_and_all_methods():
    from erlen import Erlen

    app = Erlen("routes_app", subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.com"

    @app.route("/b", subdomain="api", methods=["POST", "GET"])
    def b():
        return ""

    @app.route("/a")
    def a():
        return ""

    def rows(*args: str) -> tuple[list[list[str]], list[str]]:
        info = ScriptInfo(create_app=lambda: app)
        result = CliRunner().invoke(cli, ["routes", *args], obj=info)
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert set(lines[1]) == {"-", " "}
        return [line.split(None, 1) for line in lines[2:]], lines[0].split()

    table, header = rows()
    assert header == ["Endpoint", "Methods", "Subdomain", "Rule"]
    assert [r[0] for r in table] == ["a", "b", "static"]
    assert table[1][1].split() == ["GET,", "POST", "api", "/b"]
    table, _ = rows("--sort", "match")  # registration order
    assert [r[0] for r in table] == ["static", "b", "a"]
    table, _ = rows("-s", "domain")
    assert [r[0] for r in table][-1] == "b"
    table, _ = rows("-s", "methods")
    assert [r[0] for r in table] == ["static", "a", "b"]
    table, _ = rows("--all-methods")
    assert table[0][1].split()[:3] == ["GET,", "HEAD,", "OPTIONS"]
    result = CliRunner().invoke(
        cli, ["routes", "--sort", "nope"], obj=ScriptInfo(create_app=lambda: app)
    )
    assert result.exit_code == 2


def test_routes_host_matching_column():
    from erlen import Erlen

    app = Erlen("hosts_app", host_matching=True, static_host="static.test")

    @app.route("/x", host="x.test")
    def x():
        return ""

    result = CliRunner().invoke(cli, ["routes"], obj=ScriptInfo(create_app=lambda: app))
    lines = result.output.splitlines()
    assert lines[0].split() == ["Endpoint", "Methods", "Host", "Rule"]
    assert lines[2].split() == ["static", "GET", "static.test", "/static/<path:filename>"]
    assert lines[3].split() == ["x", "GET", "x.test", "/x"]


def test_no_routes():
    from erlen import Erlen

    app = Erlen("bare", static_folder=None)
    result = CliRunner().invoke(cli, ["routes"], obj=ScriptInfo(create_app=lambda: app))
    assert result.output == "No routes were registered.\n"


def test_run_permission_denied_is_one_line(project, monkeypatch):
    import errno
    import socket

    import erlen.serving

    def denied(self, address):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(socket.socket, "bind", denied)
    monkeypatch.setattr(erlen.serving, "_setup_logging", lambda: None)
    (project / "app.py").write_text(APP_SRC.format(name="app"))
    result = CliRunner().invoke(cli, ["run", "--port", "80"])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: permission denied to listen on 127.0.0.1:80 (ports below 1024 need privileges)"
    ]


def test_bind_socket_messages(monkeypatch):
    import errno
    import socket

    from erlen.serving import ServerError, bind_socket

    with pytest.raises(ServerError, match=r"port 70000 is out of range"):
        bind_socket("127.0.0.1", 70000)
    with pytest.raises(ServerError, match=r"cannot use host 'no-such-host\.invalid'"):
        bind_socket("no-such-host.invalid", 0)

    def unavailable(self, address):
        raise OSError(errno.EADDRNOTAVAIL, "Cannot assign requested address")

    monkeypatch.setattr(socket.socket, "bind", unavailable)
    with pytest.raises(ServerError, match="the address is not on this machine"):
        bind_socket("127.0.0.1", 8000)


def test_run_cert_adhoc_explains_how_to_make_one(project, monkeypatch):
    import erlen.serving

    monkeypatch.setattr(erlen.serving, "_setup_logging", lambda: None)
    (project / "app.py").write_text(APP_SRC.format(name="app"))
    result = CliRunner().invoke(cli, ["run", "--cert", "adhoc"])
    assert result.exit_code == 1
    assert "ad-hoc certificates are not supported; make one with: openssl req" in result.output
    (project / "k.pem").write_text("x")
    result = CliRunner().invoke(cli, ["run", "--cert", "adhoc", "--key", "k.pem"])
    assert result.exit_code == 2 and "--key cannot be used with --cert adhoc" in result.output
    result = CliRunner().invoke(cli, ["run", "--cert", "missing.pem"])
    assert result.exit_code == 2 and "'missing.pem' does not exist" in result.output


_FLASKR = '''
import sqlite3

import click
from erlen import Erlen, current_app, g


def get_db():
    if "db" not in g:
        g.db = sqlite3.connect(current_app.config["DATABASE"])
    return g.db


def close_db(e=None):
    db = g.pop("db", None)
    if db is not None:
        db.close()


@click.command("init-db")
def init_db_command():
    get_db().executescript("CREATE TABLE post (id INTEGER PRIMARY KEY, title TEXT);")
    click.echo("Initialized the database.")


def create_app():
    import os
    app = Erlen(__name__, instance_relative_config=True)
    app.config.from_mapping(DATABASE=os.path.join(app.instance_path, "flaskr.sqlite"))
    os.makedirs(app.instance_path, exist_ok=True)
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)

    @app.cli.command("count-posts")
    def count_posts():
        click.echo(str(get_db().execute("SELECT count(*) FROM post").fetchone()[0]))

    return app
'''


def test_tutorial_init_db_through_the_real_command(tmp_path):
    """Flask's tutorial step `flask --app flaskr init-db`: commands run in an app context."""
    import os
    import subprocess
    import sys

    (tmp_path / "flaskr").mkdir()
    (tmp_path / "flaskr" / "__init__.py").write_text(_FLASKR)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "ERLEN_"))}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "erlen", "--app", "flaskr", *args],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
        )

    done = run("init-db")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Initialized the database.\n"
    # Flask's rule for an app run from source: instance/ beside the package
    assert (tmp_path / "instance" / "flaskr.sqlite").is_file()
    counted = run("count-posts")
    assert (counted.returncode, counted.stdout) == (0, "0\n"), counted.stderr
