"""Running ``async def`` views and hooks from synchronous code (the WSGI adapter, tests).

Under an ASGI server the request path runs in a worker thread and the adapter names the
server's event loop for it (:func:`serve_coroutines_on`): coroutines then run natively on that
loop, beside every other request's, and the worker waits for the result. Otherwise each thread
keeps one event loop (an :class:`asyncio.Runner`) for the coroutines it runs,
instead of creating and closing a loop per call as ``asyncio.run`` does. Called from a thread
whose own loop is running (an app called from inside async code, e.g. under Playwright's sync
API), the coroutine runs on one helper loop thread shared by the process, the caller's
context variables copied, because a running loop cannot be re-entered; one loop for every
such call, so an async generator body stepped chunk by chunk stays on the loop it began on.
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


#: The greenlet class of :func:`run_in_greenlet`'s workers once greenlet is imported (by the
#: first ASGI request to an async view); None until then, so WSGI apps never import it.
_Worker: t.Any = None
_getcurrent: t.Callable[[], t.Any] | None = None


def _worker_class() -> t.Any:
    global _Worker, _getcurrent
    if _Worker is None:
        import greenlet

        class Worker(greenlet.greenlet):  # type: ignore[misc]
            """A pooled greenlet running a request path for :func:`run_in_greenlet`."""

        _getcurrent, _Worker = greenlet.getcurrent, Worker
    return _Worker


class _Yield:
    """What a worker greenlet hands its parent when its coroutine suspends: the value the
    coroutine yielded (a future, or None), for the parent to yield to the event loop."""

    __slots__ = ("value",)

    def __init__(self, value: t.Any) -> None:
        self.value = value


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


class _Pump:
    """Drive a worker greenlet from a task on the loop: every value its coroutines yield is
    yielded to the loop, and what the loop sends (or throws, e.g. cancellation) goes back."""

    __slots__ = ("_runner", "_first")

    def __init__(self, runner: t.Any, first: t.Any) -> None:
        self._runner = runner
        self._first = first

    def __await__(self) -> t.Generator[t.Any, t.Any, t.Any]:
        runner = self._runner
        value = self._first
        while type(value) is _Yield:
            try:
                sent = yield value.value
            except BaseException as exc:  # thrown into the coroutine, where its code handles it
                value = runner.throw(exc)
            else:
                value = runner.switch(sent)
        return value


async def run_in_greenlet(func: t.Callable[..., t.Any], *args: t.Any) -> t.Any:
    """Run the synchronous ``func`` on the running loop's thread; each coroutine it runs
    through :func:`run_coroutine` runs natively on this loop, in ``func``'s own context.

    For ASGI requests whose view is ``async def``: the one request path runs without a
    worker-thread hop (SQLAlchemy's asyncio pattern). The worker greenlet steps a coroutine
    itself, so one that finishes without waiting costs no switch; only when it waits does the
    greenlet switch here, and this task yields the coroutine's future to the loop. ``func``
    must not block: sync work in it holds up the loop. Greenlets are reused (making one costs
    more than a small request).
    """
    worker = _Worker or _worker_class()
    try:
        idle: list[t.Any] = _local.idle_greenlets
    except AttributeError:
        idle = _local.idle_greenlets = []
    runner = idle.pop() if idle else worker(_greenlet_worker)
    runner.gr_context = contextvars.copy_context()
    value = runner.switch(func, args)
    if type(value) is _Yield:
        value = await _Pump(runner, value)
    runner.gr_context = None
    if len(idle) < 64:
        idle.append(runner)
    if value.error is not None:
        raise value.error
    return value.result


def _step_in_greenlet(coro: t.Coroutine[t.Any, t.Any, t.Any], parent: t.Any) -> t.Any:
    """Run ``coro`` to its end inside a worker greenlet: each time it waits, the parent (the
    task running :func:`run_in_greenlet`) yields what it waits on to the loop."""
    step: t.Callable[[t.Any], t.Any] = coro.send
    value: t.Any = None
    while True:
        try:
            yielded = step(value)
        except StopIteration as done:
            return done.value
        try:
            value = parent.switch(_Yield(yielded))
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
    if _getcurrent is not None:
        current = _getcurrent()
        if type(current) is _Worker:  # a request path run by run_in_greenlet
            return _step_in_greenlet(coro, current.parent)
    server_loop = _server_loop.get()
    if server_loop is not None:
        import asyncio

        # the task is made in a copy of this thread's context (call_soon_threadsafe copies it)
        return asyncio.run_coroutine_threadsafe(coro, server_loop).result()
    if not _loop_running():
        return _runner().run(coro, context=contextvars.copy_context())
    # this thread's loop is running (an app called from inside async code) and cannot be
    # re-entered: the coroutine runs on the helper loop, the caller's context copied
    import asyncio

    return asyncio.run_coroutine_threadsafe(coro, _helper_loop()).result()


_helper_lock = threading.Lock()
_HELPER_LOOP: asyncio.AbstractEventLoop | None = None


def _helper_loop() -> asyncio.AbstractEventLoop:
    """One loop on a daemon thread for the whole process, made on first use: one loop for
    every call, so an async generator stepped chunk by chunk stays on the loop it began on."""
    global _HELPER_LOOP
    loop = _HELPER_LOOP
    if loop is None:
        with _helper_lock:
            loop = _HELPER_LOOP
            if loop is None:
                import asyncio

                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="erlen-coroutines", daemon=True
                )
                thread.start()
                _HELPER_LOOP = loop
    return loop


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
