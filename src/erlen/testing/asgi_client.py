"""``ASGIClient``: the test client through ``app.asgi_app`` (the machinery is in
``erlen.testing.asgi``, which does not import the WSGI client: ``ErlenClient.websocket_connect``
imports it lazily, so the two modules would otherwise form a cycle)."""

from __future__ import annotations

import typing as t

from .asgi import DEFAULT_TIMEOUT, _ASGIAsWSGI, _Lifespan, _LoopThread
from .client import ErlenClient


class ASGIClient(ErlenClient):
    """The test client, through ``app.asgi_app`` (see the module docstring).

    ``with client:`` runs the ASGI lifespan around the block (request contexts cannot be
    kept: they live on the server loop); ``timeout`` bounds every request.
    """

    def __init__(self, *args: t.Any, timeout: float = DEFAULT_TIMEOUT, **kwargs: t.Any) -> None:
        if len(args) == 1 and "response_wrapper" not in kwargs:
            kwargs["response_wrapper"] = getattr(args[0], "response_class", None)
        super().__init__(*args, **kwargs)
        self.timeout = timeout
        self._loop_thread: _LoopThread | None = None
        self._lifespan: _Lifespan | None = None

    def _loop(self) -> _LoopThread:
        if self._loop_thread is None:
            self._loop_thread = _LoopThread()
        return self._loop_thread

    def _wsgi_callable(self) -> t.Any:
        return _ASGIAsWSGI(self)

    def __enter__(self) -> ASGIClient:  # type: ignore[override]
        if self._lifespan is not None:
            raise RuntimeError("Cannot nest client invocations")
        self._lifespan = _Lifespan(self.application, self._loop(), self.timeout)
        self._lifespan.start()
        return self

    def __exit__(self, exc_type: t.Any, exc_value: t.Any, tb: t.Any) -> None:
        lifespan, self._lifespan = self._lifespan, None
        try:
            if lifespan is not None:
                lifespan.stop()
        finally:
            self.close()

    def close(self) -> None:
        """Stop the client's event loop thread (a new one starts on the next request)."""
        loop, self._loop_thread = self._loop_thread, None
        if loop is not None:
            loop.close()

    def __del__(self) -> None:
        loop = self.__dict__.get("_loop_thread")
        if loop is not None:
            loop.close()
