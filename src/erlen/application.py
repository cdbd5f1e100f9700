"""``Erlen`` (``Flask``): the application core with its WSGI and ASGI adapters and tools.

``erlen.app.App`` holds everything an application is (configuration, registration, the
request path) and knows no server interface; this class adds what a WSGI server calls
(``wsgi_app``, ``__call__``) and the tools that drive it: the test client, the CLI runner,
test request contexts and the development server. Flask splits its class the same way
(``flask.sansio.app.App`` and ``flask.app.Flask``).
"""

from __future__ import annotations

import typing as t

from .app import App
from .asgi import ASGIAdapter
from .wsgi import WSGIAdapter

if t.TYPE_CHECKING:
    from .ctx import RequestContext
    from .testing import ErlenClient, ErlenCliRunner

__all__ = ["Erlen", "Flask"]


class Erlen(WSGIAdapter, ASGIAdapter, App):
    """A WSGI and ASGI application; ``Flask`` is an alias. One per module: ``Erlen(__name__)``.

    A WSGI server calls it with ``(environ, start_response)``, an ASGI server with
    ``(scope, receive, send)``; middleware wraps ``app.wsgi_app`` or ``app.asgi_app``.
    """

    def __call__(
        self, environ_or_scope: t.Any, start_response_or_receive: t.Any, send: t.Any = None
    ) -> t.Any:
        if send is None:
            return self.wsgi_app(environ_or_scope, start_response_or_receive)
        return self.asgi_app(environ_or_scope, start_response_or_receive, send)

    def add_background_task(
        self, func: t.Callable[..., t.Any], *args: t.Any, **kwargs: t.Any
    ) -> None:
        """Run ``func(*args, **kwargs)`` (sync or ``async def``) after the response is sent.

        In a request it runs when the response has gone to the client (under WSGI and ASGI),
        in the app context of the request; outside a request it starts at once, on the running
        event loop if there is one (ASGI lifespan), else in a thread. Errors are logged, never
        sent to a client (Quart's API)."""
        from .app.coroutines import run_coroutine
        from .ctx import after_this_request, copy_current_request_context, has_request_context

        def run() -> None:
            try:
                rv = func(*args, **kwargs)
                if hasattr(rv, "__await__"):
                    run_coroutine(rv)
            except Exception:
                self.logger.exception("background task %r failed", getattr(func, "__name__", func))

        if has_request_context():
            in_request = copy_current_request_context(run)

            @after_this_request
            def schedule(response: t.Any) -> t.Any:
                response.call_on_close(in_request)
                return response

            return
        import asyncio
        import threading

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            threading.Thread(target=run, name="erlen-background", daemon=True).start()
            return
        if asyncio.iscoroutinefunction(func):

            async def run_async() -> None:
                try:
                    await func(*args, **kwargs)
                except Exception:
                    self.logger.exception("background task %r failed", func.__name__)

            task = loop.create_task(run_async())
        else:
            task = loop.create_task(asyncio.to_thread(run))
        tasks: set[t.Any] = self.__dict__.setdefault("_background_tasks", set())
        tasks.add(task)  # a reference, so the task is not collected before it ends
        task.add_done_callback(tasks.discard)

    #: The test client class (``ErlenClient`` when None).
    test_client_class: type[ErlenClient] | None = None
    #: The CLI runner class (``ErlenCliRunner`` when None).
    test_cli_runner_class: type[ErlenCliRunner] | None = None

    def test_client(self, use_cookies: bool = True, **kwargs: t.Any) -> ErlenClient:
        """A client that sends requests to this app without a server (Flask's API)."""
        cls = self.test_client_class
        if cls is None:
            from .testing import ErlenClient

            cls = ErlenClient
        return cls(self, self.response_class, use_cookies=use_cookies, **kwargs)

    def test_cli_runner(self, **kwargs: t.Any) -> ErlenCliRunner:
        """A runner that invokes this app's CLI commands in-process."""
        cls = self.test_cli_runner_class
        if cls is None:
            from .testing import ErlenCliRunner

            cls = ErlenCliRunner
        return cls(self, **kwargs)

    def test_request_context(self, *args: t.Any, **kwargs: t.Any) -> RequestContext:
        """A request context for a made-up request (same arguments as the test client)."""
        from .testing import EnvironBuilder

        builder = EnvironBuilder(self, *args, **kwargs)
        try:
            return self.request_context(builder.get_environ())
        finally:
            builder.close()

    def run(
        self,
        host: str | None = None,
        port: int | None = None,
        debug: bool | None = None,
        load_dotenv: bool = True,
        **options: t.Any,
    ) -> None:
        """Start the development server (see :mod:`erlen.serving`)."""
        from .serving import run_app

        run_app(self, host=host, port=port, debug=debug, load_dotenv=load_dotenv, **options)


Flask = Erlen
