"""erlen live example: a chat over a WebSocket and a shared counter over server-sent events.

Everything arrives without reloading: chat messages and who is online over a WebSocket
(``@app.websocket``, Quart's API), the counter over server-sent events (an ``async``
generator streamed as ``text/event-stream``). Both need an ASGI server: ``python app.py``
starts uvicorn (``make example NAME=live``), as does
``erlen --app app:app serve --asgi uvicorn``.

One process keeps the state in memory (``Hub``); several processes would share it through
Redis pub/sub instead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from erlen import Flask, Response, jsonify, render_template, request, websocket
from erlen.asgi.websocket import WebSocketDisconnect
from erlen.exceptions import HTTPException

NAME = re.compile(r"[\w .-]{1,20}")  # letters (any script), digits, space, . - _
MAX_MESSAGE = 500  # characters
HISTORY = 20  # messages a newcomer sees
MAX_ADD = 100  # the most one click may add or take away


class Subscription:
    """One listener (a WebSocket or an SSE stream): events are put on its own loop's queue."""

    def __init__(self, channels: frozenset[str], name: str | None = None) -> None:
        self.channels = channels
        self.name = name
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=100)

    def put(self, event: dict[str, Any]) -> None:
        if self.queue.full():  # a listener that stopped reading loses old events, not memory
            self.queue.get_nowait()
        self.queue.put_nowait(event)


class Hub:
    """The app's shared state and its listeners; safe to call from any thread or loop
    (sync views run in worker threads, the WebSocket handler on the server's loop)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscriptions: set[Subscription] = set()
        self.count = 0
        self.online: dict[str, int] = {}  # name -> open connections
        self.history: deque[dict[str, Any]] = deque(maxlen=HISTORY)

    def subscribe(self, *channels: str, name: str | None = None) -> Subscription:
        """A new listener (``name``: a chat member, online until unsubscribed), its queue
        starting with the current state. State changes and sends happen under one lock, so
        every listener sees every change once, in order."""
        sub = Subscription(frozenset(channels), name)
        with self._lock:
            if "chat" in channels:
                for event in self.history:
                    sub.put(event)
            if "counter" in channels:
                sub.put(self._counter_event())
            self._subscriptions.add(sub)
            if name is not None:
                self.online[name] = self.online.get(name, 0) + 1
                self._send("online", self._online_event())
            elif "online" in channels:
                sub.put(self._online_event())
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            if sub not in self._subscriptions:
                return
            self._subscriptions.discard(sub)
            if sub.name is not None:
                self.online[sub.name] -= 1
                if self.online[sub.name] <= 0:
                    del self.online[sub.name]
                self._send("online", self._online_event())

    def say(self, name: str, text: str) -> None:
        with self._lock:
            event = {"type": "message", "name": name, "text": text}
            self.history.append(event)
            self._send("chat", event)

    def add(self, amount: int) -> int:
        with self._lock:
            self.count += amount
            self._send("counter", self._counter_event())
            return self.count

    def _counter_event(self) -> dict[str, Any]:
        return {"type": "counter", "count": self.count}

    def _online_event(self) -> dict[str, Any]:
        return {"type": "online", "names": sorted(self.online)}

    def _send(self, channel: str, event: dict[str, Any]) -> None:
        """Queue ``event`` for the channel's listeners (call with the lock held)."""
        gone = []
        for sub in self._subscriptions:
            if channel in sub.channels:
                try:
                    sub.loop.call_soon_threadsafe(sub.put, event)
                except RuntimeError:  # its loop has closed: the listener is gone
                    gone.append(sub)
        self._subscriptions.difference_update(gone)


def sse(event: dict[str, Any]) -> str:
    """One server-sent event: its ``type`` is the event name, the rest JSON data."""
    return f"event: {event['type']}\ndata: {json.dumps(event)}\n\n"


def check_name(name: str) -> str | None:
    if not NAME.fullmatch(name):
        return "A name is 1 to 20 letters, digits, spaces, dots, dashes or underscores."
    return None


def check_message(data: str | bytes) -> str | None:
    if not isinstance(data, str):
        return "Send text messages, not binary ones."
    if not data.strip():
        return "A message cannot be empty."
    if len(data) > MAX_MESSAGE:
        return f"A message is at most {MAX_MESSAGE} characters ({len(data)} sent)."
    return None


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(
        MAX_CONTENT_LENGTH=1024,
        # seconds between keep-alive comments on an idle event stream: proxies keep it open,
        # and a client that has gone is noticed (erlen closes the generator at the next chunk)
        SSE_KEEP_ALIVE=float(os.environ.get("LIVE_SSE_KEEP_ALIVE", "15")),
    )
    if test_config:
        app.config.update(test_config)
    hub = app.extensions["live_hub"] = Hub()

    @app.route("/")
    def index():
        return render_template("index.html", max_message=MAX_MESSAGE)

    @app.post("/api/counter")
    def add_to_counter():
        if not request.is_json:
            return {"error": "send JSON with Content-Type: application/json"}, 415
        data = request.get_json(silent=True)
        if not isinstance(data, dict) or set(data) != {"add"}:
            return {"error": 'send a JSON object like {"add": 1}'}, 400
        amount = data["add"]
        if isinstance(amount, bool) or not isinstance(amount, int):
            return {"error": f"'add' must be a whole number, got {json.dumps(amount)}"}, 400
        if not -MAX_ADD <= amount <= MAX_ADD or amount == 0:
            return {"error": f"'add' must be between -{MAX_ADD} and {MAX_ADD}, not 0"}, 400
        return jsonify(count=hub.add(amount))

    @app.get("/events")
    async def events():
        keep_alive = app.config["SSE_KEEP_ALIVE"]

        async def stream() -> AsyncIterator[str]:
            sub = hub.subscribe("counter", "online")
            try:
                yield "retry: 2000\n\n"  # reconnect after 2 s when the stream breaks
                while True:
                    try:
                        event = await asyncio.wait_for(sub.queue.get(), keep_alive)
                    except TimeoutError:
                        yield f": keep-alive {int(time.time())}\n\n"
                    else:
                        yield sse(event)
            finally:  # the client went away: erlen closes the generator
                hub.unsubscribe(sub)

        return Response(
            stream(),
            mimetype="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    @app.websocket("/ws/chat")
    async def chat():
        await websocket.accept()
        name = websocket.args.get("name", "").strip()
        problem = check_name(name)
        if problem:
            app.logger.warning("chat refused: bad name")
            await websocket.send_json({"type": "error", "error": problem})
            await websocket.close(1008, "bad name")  # 1008: policy violation
            return
        sub = hub.subscribe("chat", "online", name=name)
        forward = asyncio.create_task(forward_events(sub))
        try:
            while True:
                data = await websocket.receive()
                problem = check_message(data)
                if problem:
                    await websocket.send_json({"type": "error", "error": problem})
                    continue
                text = data.strip()  # type: ignore[union-attr]
                hub.say(name, text)
        except WebSocketDisconnect:
            pass
        finally:
            forward.cancel()
            hub.unsubscribe(sub)

    async def forward_events(sub: Subscription) -> None:
        while True:
            await websocket.send_json(await sub.queue.get())

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        if request.path.startswith("/api/"):
            return {"error": e.description}, e.code
        return e

    return app


app = create_app()

if __name__ == "__main__":
    import uvicorn

    parser = argparse.ArgumentParser(description="Run the erlen live example under uvicorn.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    uvicorn.run(
        app.asgi_app,
        host=args.host,
        port=args.port,
        interface="asgi3",
        lifespan="on",
        # open event streams never end by themselves: give them 3 s, then stop
        timeout_graceful_shutdown=3,
    )
