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
