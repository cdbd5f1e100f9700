"""The ``erlen`` command (click): app discovery, .env loading and the built-in commands.

Discovery follows Flask's documented rules (``--app``/``ERLEN_APP``: a module, a file path,
``module:name``, ``module:factory(args)``; else ``wsgi.py``/``app.py``). Flask's spellings
work beside erlen's: ``FLASK_APP``, ``FLASK_DEBUG``, ``FLASK_ENV_FILE``, ``FLASK_RUN_*``
are read when the ``ERLEN_`` variable is not set (decision 009). Commands: ``run`` (development server),
``serve`` (production, gunicorn), ``routes``, ``shell``, plus the app's and blueprints' own
commands, which run inside an app context.
"""

from __future__ import annotations

import os
import sys
import typing as t
from collections.abc import Callable

import click

from ..app.commands import AppGroup as AppGroup
from ..app.commands import with_appcontext as with_appcontext
from ..globals import current_app
from ..helpers import getenv
from .discovery import NoAppException as NoAppException
from .discovery import ScriptInfo as ScriptInfo
from .discovery import _trimmed_traceback
from .discovery import find_app_by_string as find_app_by_string
from .discovery import find_best_app as find_best_app
from .discovery import get_debug_flag as get_debug_flag
from .discovery import get_load_dotenv as get_load_dotenv
from .discovery import load_dotenv as load_dotenv
from .discovery import locate_app as locate_app
from .discovery import prepare_import as prepare_import

if t.TYPE_CHECKING:
    from ..application import Erlen

F = t.TypeVar("F", bound=Callable[..., t.Any])

pass_script_info = click.make_pass_decorator(ScriptInfo, ensure=True)


class _Option(click.Option):
    """An option whose automatic variable has Flask's spelling too: ``ERLEN_RUN_PORT``, else
    ``FLASK_RUN_PORT`` (the ``ERLEN_`` one wins when both are set; decision 009)."""

    def resolve_envvar_value(self, ctx: click.Context) -> str | None:
        rv = super().resolve_envvar_value(ctx)
        if rv is not None:
            return rv
        prefix = ctx.auto_envvar_prefix
        if (
            self.envvar is None
            and self.allow_from_autoenv
            and self.name
            and prefix is not None
            and prefix.startswith("ERLEN")
        ):
            return os.environ.get(f"FLASK{prefix[5:]}_{self.name.upper()}") or None
        return None


def _option(*param_decls: str, **attrs: t.Any) -> Callable[[F], F]:
    """``click.option`` with :class:`_Option`."""
    attrs.setdefault("cls", _Option)
    return click.option(*param_decls, **attrs)


def _set_app(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        ctx.ensure_object(ScriptInfo).app_import_path = value
    return value


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool | None) -> bool | None:
    source = ctx.get_parameter_source(param.name) if param.name else None
    if value is not None and source not in (None, click.core.ParameterSource.DEFAULT):
        os.environ["ERLEN_DEBUG"] = "1" if value else "0"
    return value


def _env_file_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    info = ctx.ensure_object(ScriptInfo)
    if value is None and not (info.load_dotenv_defaults and get_load_dotenv()):
        return
    load_dotenv(value, load_defaults=info.load_dotenv_defaults and get_load_dotenv())


def _version_callback(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    import platform
    from importlib.metadata import PackageNotFoundError, version

    try:
        erlen_version = version("erlen")
    except PackageNotFoundError:
        erlen_version = "unknown"
    click.echo(f"Python {platform.python_version()}\nErlen {erlen_version}")
    ctx.exit()


class ErlenGroup(AppGroup):
    """The ``erlen`` command: finds the app (``--app``/``ERLEN_APP``) and adds its commands.

    ``create_app`` is a factory to use instead of discovery; ``load_dotenv`` turns
    ``.env``/``.erlenenv`` loading off (``ERLEN_SKIP_DOTENV=1`` does too).
    """

    def __init__(
        self,
        add_default_commands: bool = True,
        create_app: Callable[..., Erlen] | None = None,
        add_version_option: bool = True,
        load_dotenv: bool = True,
        set_debug_flag: bool = True,
        **extra: t.Any,
    ) -> None:
        params = list(extra.pop("params", None) or ())
        params += [
            _Option(
                ["-e", "--env-file"],
                type=click.Path(exists=True, dir_okay=False),
                help="Load environment variables from this file (needs python-dotenv).",
                is_eager=True,
                expose_value=False,
                callback=_env_file_callback,
            ),
            _Option(
                ["-A", "--app"],
                metavar="IMPORT",
                help="The Erlen application or factory to load, as 'module:name' or a path.",
                is_eager=True,
                expose_value=False,
                callback=_set_app,
            ),
            _Option(
                ["--debug/--no-debug"],
                default=None,
                help="Set debug mode (the ERLEN_DEBUG variable).",
                expose_value=False,
                callback=_set_debug,
            ),
        ]
        if add_version_option:
            params.append(
                _Option(
                    ["--version"],
                    is_flag=True,
                    is_eager=True,
                    expose_value=False,
                    callback=_version_callback,
                    help="Show the erlen version.",
                )
            )
        # as Flask's group: ERLEN_* (and FLASK_*) variables fill options also when an app's own
        # script makes the group, not only through the `erlen` command
        extra.setdefault("context_settings", {}).setdefault("auto_envvar_prefix", "ERLEN")
        super().__init__(params=params, **extra)
        self.create_app = create_app
        self.load_dotenv = load_dotenv
        self.set_debug_flag = set_debug_flag
        if add_default_commands:
            for command in (run_command, serve_command, shell_command, routes_command):
                self.add_command(command)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        rv = super().get_command(ctx, name)
        if rv is not None:
            return rv
        info = ctx.ensure_object(ScriptInfo)
        try:
            app = info.load_app()
        except NoAppException as e:
            click.secho(f"Error: {e.format_message()}\n", err=True, fg="red")
            return None
        # Every command the app registers runs in its app context, also a plain
        # `click.Command` given to `app.cli.add_command` (Flask's tutorial `init-db`).
        if not current_app or current_app._get_current_object() is not app:  # type: ignore[attr-defined]
            ctx.with_resource(app.app_context())
        return app.cli.get_command(ctx, name)  # type: ignore[no-any-return]

    def list_commands(self, ctx: click.Context) -> list[str]:
        rv = set(super().list_commands(ctx))
        info = ctx.ensure_object(ScriptInfo)
        try:
            rv.update(info.load_app().cli.list_commands(ctx))
        except NoAppException as e:
            click.secho(f"Error: {e.format_message()}\n", err=True, fg="red")
        return sorted(rv)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: t.Any,
    ) -> click.Context:
        # While a command runs, an unguarded `app.run()` in the imported app does nothing.
        previous = os.environ.get("ERLEN_RUN_FROM_CLI")
        os.environ["ERLEN_RUN_FROM_CLI"] = "true"
        if "obj" not in extra and "obj" not in self.context_settings:
            extra["obj"] = ScriptInfo(
                create_app=self.create_app,
                set_debug_flag=self.set_debug_flag,
                load_dotenv_defaults=self.load_dotenv,
            )
        try:
            ctx = super().make_context(info_name, args, parent=parent, **extra)
        except BaseException:
            _restore_env("ERLEN_RUN_FROM_CLI", previous)
            raise
        ctx.call_on_close(lambda: _restore_env("ERLEN_RUN_FROM_CLI", previous))
        return ctx


def _restore_env(key: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(key, None)
    else:
        os.environ[key] = value


FlaskGroup = ErlenGroup  # so `from flask.cli import FlaskGroup` ports by renaming the module


class _SeparatedPaths(click.Path):
    """Several paths separated by ``os.pathsep`` (``:`` on POSIX, ``;`` on Windows)."""

    def convert(
        self, value: t.Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> t.Any:
        items = self.split_envvar_value(value) if isinstance(value, str) else value
        return [super(_SeparatedPaths, self).convert(item, param, ctx) for item in items]


class _CertParamType(click.Path):
    """A certificate file, or ``adhoc`` (refused later with a how-to make one)."""

    def convert(
        self, value: t.Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> t.Any:
        if value == "adhoc":
            return value
        return super().convert(value, param, ctx)


@click.command("run", short_help="Run a development server.")
@_option("--host", "-h", default="127.0.0.1", show_default=True, help="Interface to bind.")
@_option("--port", "-p", default=5000, show_default=True, type=int, help="Port to bind.")
@_option("--cert", type=_CertParamType(exists=True, dir_okay=False), help="TLS certificate file.")
@_option("--key", type=click.Path(exists=True, dir_okay=False), help="TLS private key.")
@_option("--debug/--no-debug", default=None, help="Debug mode (default: ERLEN_DEBUG).")
@_option("--reload/--no-reload", default=None, help="Restart on code changes (default: debug).")
@_option("--debugger/--no-debugger", default=None, help="Show the debug page (default: debug).")
@_option("--with-threads/--without-threads", default=True, hidden=True)
@_option("--threads", default=8, show_default=True, type=click.IntRange(1), help="Threads.")
@_option(
    "--asgi/--wsgi",
    default=None,
    help="Serve under uvicorn (ASGI) or waitress (WSGI); default: ASGI when the app has"
    " WebSocket routes.",
)
@_option(
    "--extra-files",
    type=_SeparatedPaths(),
    default=None,
    help=f"More files that trigger a reload, separated by {os.pathsep!r}.",
)
@_option(
    "--exclude-patterns",
    type=_SeparatedPaths(),
    default=None,
    help=f"fnmatch patterns of files the reloader ignores, separated by {os.pathsep!r}.",
)
@pass_script_info
def run_command(
    info: ScriptInfo,
    host: str,
    port: int,
    cert: str | None,
    key: str | None,
    debug: bool | None,
    reload: bool | None,
    debugger: bool | None,
    with_threads: bool,
    threads: int,
    asgi: bool | None,
    extra_files: list[str] | None,
    exclude_patterns: list[str] | None,
) -> None:
    """Run the development server (threaded, reloader and debug page in debug mode)."""
    from ..serving import ServerError, is_running_from_reloader, load_error_app, serve

    if debug is not None:
        os.environ["ERLEN_DEBUG"] = "1" if debug else "0"
    debug_flag = get_debug_flag()
    if key and not cert:
        raise click.BadParameter("--key needs --cert as well.", param_hint="--key")
    if key and cert == "adhoc":
        raise click.BadParameter("--key cannot be used with --cert adhoc.", param_hint="--key")
    os.environ["ERLEN_RUN_FROM_CLI"] = "true"

    def load() -> t.Any:
        try:
            return info.load_app()
        except Exception as e:
            if not is_running_from_reloader():
                raise
            text = (
                e.format_message() if isinstance(e, click.ClickException) else _trimmed_traceback(e)
            )
            click.secho(f"Error: {text}", err=True, fg="red")
            return load_error_app(text, debug_flag)

    name = info.app_import_path or getenv("APP")
    try:
        serve(
            host,
            port,
            load,
            use_reloader=debug_flag if reload is None else reload,
            use_debugger=debug_flag if debugger is None else debugger,
            extra_files=extra_files,
            exclude_patterns=exclude_patterns,
            ssl_context=(cert if cert == "adhoc" else (cert, key)) if cert else None,
            threads=threads,
            name=name,
            debug=debug_flag,
            asgi=asgi,
        )
    except ServerError as e:
        raise click.ClickException(str(e)) from None


@click.command("serve", short_help="Run the app with a production server (gunicorn).")
@_option("--host", "-h", default="127.0.0.1", show_default=True, help="Interface to bind.")
@_option("--port", "-p", default=8000, show_default=True, type=int, help="Port to bind.")
@_option(
    "--workers",
    "-w",
    type=click.IntRange(1),
    default=lambda: int(os.environ.get("WEB_CONCURRENCY") or 2),
    show_default="WEB_CONCURRENCY or 2",
    help="Worker processes.",
)
@_option("--threads", "-t", type=click.IntRange(1), default=1, show_default=True)
@_option("--timeout", type=click.IntRange(0), default=30, show_default=True)
@_option("--graceful-timeout", type=click.IntRange(0), default=30, show_default=True)
@_option("--access-log/--no-access-log", default=True, show_default=True)
@_option("--cert", type=click.Path(exists=True, dir_okay=False), help="TLS certificate.")
@_option("--key", type=click.Path(exists=True, dir_okay=False), help="TLS private key.")
@_option("--preload", is_flag=True, help="Load the app once before forking workers.")
@_option(
    "--control-socket",
    type=click.Path(dir_okay=False),
    help="Open gunicorn's control socket (for gunicornc -s PATH) at PATH; off by default.",
)
@_option(
    "--asgi",
    "asgi_server",
    is_flag=False,
    flag_value="auto",
    default=None,
    type=click.Choice(["auto", "uvicorn", "granian"]),
    help="Serve under ASGI (async views, WebSockets) with uvicorn, else granian; one process.",
)
@pass_script_info
def serve_command(
    info: ScriptInfo,
    host: str,
    port: int,
    workers: int,
    threads: int,
    timeout: int,
    graceful_timeout: int,
    access_log: bool,
    cert: str | None,
    key: str | None,
    preload: bool,
    control_socket: str | None,
    asgi_server: str | None,
) -> None:
    """Serve the app with pre-forked gunicorn workers; SIGTERM stops gracefully."""
    from ..serving import ServerError, serve_production
    from ..serving.asgi import serve_asgi

    if asgi_server is not None:
        try:
            serve_asgi(
                info.load_app,
                host=host,
                port=port,
                access_log=access_log,
                certfile=cert,
                keyfile=key,
                server=asgi_server,
            )
        except ServerError as e:
            raise click.ClickException(str(e)) from None
    try:
        serve_production(
            info.load_app,
            host=host,
            port=port,
            workers=workers,
            threads=threads,
            timeout=timeout,
            graceful_timeout=graceful_timeout,
            access_log=access_log,
            certfile=cert,
            keyfile=key,
            preload=preload,
            control_socket=control_socket,
        )
    except ServerError as e:
        raise click.ClickException(str(e)) from None


@click.command("shell", short_help="Run a Python shell in the app context.")
@with_appcontext
def shell_command() -> None:
    """An interactive Python shell with ``app``, ``g`` and the app's shell context."""
    import code

    from ..globals import current_app

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    banner = (
        f"Python {sys.version} on {sys.platform}\n"
        f"App: {app.import_name}\nInstance: {app.instance_path}"
    )
    namespace: dict[str, t.Any] = {}
    startup = os.environ.get("PYTHONSTARTUP")
    if startup and os.path.isfile(startup):
        with open(startup, encoding="utf-8") as f:
            exec(compile(f.read(), startup, "exec"), namespace)
    namespace.update(app.make_shell_context())
    hook = getattr(sys, "__interactivehook__", None)
    if hook is not None and sys.stdin.isatty():
        try:
            import readline
            from rlcompleter import Completer

            readline.set_completer(Completer(namespace).complete)
        except ImportError:
            pass
        hook()
    code.interact(banner=banner, local=namespace)


@click.command("routes", short_help="Show the routes for the app.")
@_option(
    "--sort",
    "-s",
    type=click.Choice(("endpoint", "methods", "domain", "rule", "match")),
    default="endpoint",
    help="Sort by this column; 'match' is the order the router tries the rules in.",
)
@_option("--all-methods", is_flag=True, help="Show HEAD and OPTIONS methods.")
@with_appcontext
def routes_command(sort: str, all_methods: bool) -> None:
    """Endpoint, methods, domain (host or subdomain, when used) and rule of every route."""
    from ..globals import current_app

    rules = list(current_app.url_map.iter_rules())
    if not rules:
        click.echo("No routes were registered.")
        return
    ignored = set() if all_methods else {"HEAD", "OPTIONS"}
    host_matching = current_app.url_map.host_matching

    def domain(rule: t.Any) -> str:
        return (rule.host if host_matching else rule.subdomain) or ""

    def methods(rule: t.Any) -> list[str]:
        return sorted((rule.methods or set()) - ignored)

    keys: dict[str, Callable[[t.Any], t.Any]] = {
        "endpoint": lambda r: r.endpoint,
        "rule": lambda r: r.rule,
        "domain": domain,
        "methods": methods,
    }
    if sort in keys:
        rules.sort(key=keys[sort])  # stable: ties keep the match order
    show_domain = any(domain(r) for r in rules)
    header = ["Endpoint", "Methods", "Rule"]
    if show_domain:
        header.insert(2, "Host" if host_matching else "Subdomain")
    rows = [header]
    for r in rules:
        row = [r.endpoint, ", ".join(methods(r)), r.rule]
        if show_domain:
            row.insert(2, domain(r))
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    for i, row in enumerate(rows):
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            click.echo("  ".join("-" * w for w in widths))


cli = ErlenGroup(name="erlen", help="A general utility script for Erlen applications.")


def main() -> None:
    """The ``erlen`` console script."""
    cli.main(auto_envvar_prefix="ERLEN")
