"""Running ``async def`` views and hooks from synchronous code (the WSGI adapter, tests).

Under an ASGI server the request path runs in a worker thread and the adapter names the
server's event loop for it (:func:`serve_coroutines_on`): coroutines then run natively on that
loop, beside every other request's, and the worker waits for the result. Otherwise each thread
keeps one event loop (an :class:`asyncio.Runner`) for the coroutines it runs,
instead of creating and closing a loop per call as ``asyncio.run`` does. Called from a thread
whose own loop is running (an app called from inside async code), the coroutine runs on a
helper thread with its own loop, the caller's context variables copied, because a running
loop cannot be re-entered.
"""

from __future__ import annotations

import contextvars
import threading
import typing as t

if t.TYPE_CHECKING:
    import asyncio

_local = threading.local()

#: The running server loop async views are sent to (set by the ASGI adapter per request).
_server_loop: contextvars.ContextVar[asyncio.AbstractEventLoop | None] = contextvars.ContextVar(
    "erlen.server_loop", default=None
)


#: True inside :func:`run_in_greenlet`: coroutines are handed to the loop driving it.
_in_greenlet: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "erlen.in_greenlet", default=False
)


async def run_in_greenlet(func: t.Callable[..., t.Any], *args: t.Any) -> t.Any:
    """Run the synchronous ``func`` on the running loop's thread; each coroutine it runs
    through :func:`run_coroutine` is awaited here, natively, in ``func``'s own context.

    For ASGI requests whose view is ``async def``: the one request path runs without a
    worker-thread hop (the greenlet switches back here at each coroutine, SQLAlchemy's asyncio
    pattern). ``func`` must not block: sync work in it holds up the loop. Greenlets are reused
    (making one costs more than a small request).
    """
    import greenlet

    context = contextvars.copy_context()
    context.run(_in_greenlet.set, True)
    idle: list[t.Any] = _local.__dict__.setdefault("idle_greenlets", [])
    runner = idle.pop() if idle else greenlet.greenlet(_greenlet_worker)
    runner.gr_context = context
    value = runner.switch(func, args)
    while type(value) is not _Done:
        try:
            result = await _InContext(value, context)
        except BaseException as exc:  # thrown into func, where its code handles it
            value = runner.throw(exc)
        else:
            value = runner.switch(result)
    runner.gr_context = None
    if len(idle) < 64:
        idle.append(runner)
    if value.error is not None:
        raise value.error
    return value.result


class _Done:
    """What a pooled greenlet hands back when its call has finished."""

    __slots__ = ("error", "result")

    def __init__(self, result: t.Any, error: BaseException | None) -> None:
        self.result = result
        self.error = error


def _greenlet_worker(func: t.Callable[..., t.Any], args: tuple[t.Any, ...]) -> None:
    import greenlet

    parent = greenlet.getcurrent().parent
    while True:
        try:
            done = _Done(func(*args), None)
        except greenlet.GreenletExit:
            return  # the idle greenlet is being collected
        except BaseException as exc:
            done = _Done(None, exc)
        del func, args
        try:
            func, args = parent.switch(done)
        except greenlet.GreenletExit:
            return
        del done


class _InContext:
    """Await a coroutine with every step run in ``context`` (the request's, in the
    greenlet), without the cost of a task: what ``create_task(coro, context=...)`` does."""

    __slots__ = ("_coro", "_context")

    def __init__(self, coro: t.Coroutine[t.Any, t.Any, t.Any], context: contextvars.Context):
        self._coro = coro
        self._context = context

    def __await__(self) -> t.Generator[t.Any, t.Any, t.Any]:
        coro, run = self._coro, self._context.run
        step: t.Callable[[t.Any], t.Any] = coro.send
        value: t.Any = None
        while True:
            try:
                yielded = run(step, value)
            except StopIteration as done:
                return done.value
            try:
                value = yield yielded
                step = coro.send
            except BaseException as exc:  # e.g. cancellation: into the coroutine
                value, step = exc, coro.throw


def serve_coroutines_on(loop: asyncio.AbstractEventLoop | None) -> None:
    """Run this context's coroutines on ``loop`` (an ASGI server's) from now on."""
    _server_loop.set(loop)


def _runner() -> asyncio.Runner:
    runner: asyncio.Runner | None = getattr(_local, "runner", None)
    if runner is None:
        import asyncio  # here: an app without async views never imports asyncio

        runner = _local.runner = asyncio.Runner()
    return runner


def _loop_running() -> bool:
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def run_coroutine(coro: t.Coroutine[t.Any, t.Any, t.Any]) -> t.Any:
    """Run ``coro`` to completion and return its result (or raise its exception).

    The coroutine sees the caller's context variables (``request``, ``g``, ...) as they are
    at the call.
    """
    if _in_greenlet.get():
        import greenlet

        parent = greenlet.getcurrent().parent
        if parent is not None:
            return parent.switch(coro)
    server_loop = _server_loop.get()
    if server_loop is not None:
        import asyncio

        # the task is made in a copy of this thread's context (call_soon_threadsafe copies it)
        return asyncio.run_coroutine_threadsafe(coro, server_loop).result()
    if not _loop_running():
        return _runner().run(coro, context=contextvars.copy_context())
    result: list[t.Any] = []
    error: list[BaseException] = []
    context = contextvars.copy_context()

    def target() -> None:
        import asyncio

        try:
            # a one-off thread: a loop of its own, closed when the coroutine is done
            result.append(context.run(asyncio.run, coro))
        except BaseException as exc:  # re-raised in the caller's thread
            error.append(exc)

    thread = threading.Thread(target=target, name="erlen-coroutine")
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


class AsyncBody:
    """A response body from an async iterable (``async def`` generator), pulled one chunk at a
    time by the server's (sync) iteration; ``close()`` closes the generator (its ``finally``
    runs), as for a sync generator."""

    __slots__ = ("_source",)

    def __init__(self, source: t.AsyncIterable[t.Any]) -> None:
        self._source = source.__aiter__()

    def __iter__(self) -> AsyncBody:
        return self

    def __next__(self) -> t.Any:
        try:
            return run_coroutine(_next(self._source))
        except StopAsyncIteration:
            raise StopIteration from None

    def close(self) -> None:
        aclose = getattr(self._source, "aclose", None)
        if aclose is not None:
            run_coroutine(aclose())


async def _next(source: t.AsyncIterator[t.Any]) -> t.Any:
    return await source.__anext__()
