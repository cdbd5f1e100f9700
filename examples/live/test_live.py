"""The live example: HTTP parts through the test client; the WebSocket and the event
stream against a real uvicorn process (``python app.py``) with real clients."""

from __future__ import annotations

import http.client
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from .app import MAX_MESSAGE, create_app

HERE = Path(__file__).resolve().parent


@pytest.fixture
def app():
    return create_app({"TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


def test_index_loads_the_script(client):
    rv = client.get("/")
    assert rv.status_code == 200
    assert b'<script src="/static/live.js" defer></script>' in rv.data
    assert client.get("/static/live.js").status_code == 200


def test_counter_adds_and_answers_the_total(client):
    assert client.post("/api/counter", json={"add": 1}).json == {"count": 1}
    assert client.post("/api/counter", json={"add": 100}).json == {"count": 101}
    assert client.post("/api/counter", json={"add": -1}).json == {"count": 100}


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"add": "1"}, """'add' must be a whole number, got "1\""""),
        ({"add": 1.5}, "'add' must be a whole number, got 1.5"),
        ({"add": True}, "'add' must be a whole number, got true"),
        ({"add": None}, "'add' must be a whole number, got null"),
        ({"add": 101}, "'add' must be between -100 and 100, not 0"),
        ({"add": 0}, "'add' must be between -100 and 100, not 0"),
        ({"add": 1, "more": 2}, 'send a JSON object like {"add": 1}'),
        ({}, 'send a JSON object like {"add": 1}'),
        ([1], 'send a JSON object like {"add": 1}'),
    ],
)
def test_counter_bad_input_is_a_400(client, app, body, error):
    rv = client.post("/api/counter", json=body)
    assert rv.status_code == 400
    assert rv.json == {"error": error}
    assert app.extensions["live_hub"].count == 0


def test_counter_not_json(client):
    rv = client.post("/api/counter", data={"add": "1"})
    assert rv.status_code == 415 and rv.json["error"].startswith("send JSON")
    rv = client.post("/api/counter", data="{", content_type="application/json")
    assert rv.status_code == 400
    rv = client.post("/api/counter", data="1" * 2000, content_type="application/json")
    assert rv.status_code == 413 and "error" in rv.json
    assert client.get("/api/counter").status_code == 405


def test_event_stream_starts_with_the_state_and_follows_changes(client, app):
    client.post("/api/counter", json={"add": 2})
    rv = client.get("/events", buffered=False)
    assert rv.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    assert rv.headers["Cache-Control"] == "no-store"
    # The chunks are pulled in a thread of their own: erlen runs an async body under WSGI
    # on the thread's loop, but after a Playwright test in this session the main thread has
    # a running loop (the sync API's), and there erlen runs each chunk on a one-off loop
    # whose shutdown closes the generator: the stream would end after one chunk.
    with ThreadPoolExecutor(1) as pool:
        chunks = iter(rv.response)

        def pull() -> bytes:
            return pool.submit(next, chunks).result(timeout=10)

        assert pull() == b"retry: 2000\n\n"
        assert pull() == b'event: counter\ndata: {"type": "counter", "count": 2}\n\n'
        assert pull() == b'event: online\ndata: {"type": "online", "names": []}\n\n'
        client.post("/api/counter", json={"add": 3})
        assert pull() == b'event: counter\ndata: {"type": "counter", "count": 5}\n\n'
        pool.submit(rv.close).result(timeout=10)  # the generator's finally unsubscribes it
    assert app.extensions["live_hub"]._subscriptions == set()


def test_websocket_route_over_plain_http_is_a_400(client):
    assert client.get("/ws/chat?name=a").status_code == 400


# -- a real uvicorn process ---------------------------------------------------------------
@pytest.fixture(scope="module")
def server(live_server):
    argv = [sys.executable, "app.py", "--port", "{port}"]
    return live_server(argv, cwd=HERE, env={"LIVE_SSE_KEEP_ALIVE": "0.5"})


def ws(server, name: str):
    return connect(f"ws://127.0.0.1:{server.port}/ws/chat?name={name}", open_timeout=10)


def next_of(conn, kind: str) -> dict:
    while True:
        event = json.loads(conn.recv(timeout=10))
        if event["type"] == kind:
            return event


def test_two_clients_chat_and_see_who_is_online(server):
    with ws(server, "Ann") as ann:
        assert next_of(ann, "online") == {"type": "online", "names": ["Ann"]}
        with ws(server, "Bob") as bob:
            assert next_of(ann, "online")["names"] == ["Ann", "Bob"]
            ann.send("  hello <b>Bob</b>  ")
            expected = {"type": "message", "name": "Ann", "text": "hello <b>Bob</b>"}
            assert next_of(bob, "message") == expected
            assert next_of(ann, "message") == expected
        assert next_of(ann, "online")["names"] == ["Ann"]
    with ws(server, "Cy") as cy:  # a newcomer sees the history
        assert next_of(cy, "message")["text"] == "hello <b>Bob</b>"


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ("   ", "A message cannot be empty."),
        ("x" * (MAX_MESSAGE + 1), f"A message is at most {MAX_MESSAGE} characters (501 sent)."),
        (b"\x00\x01", "Send text messages, not binary ones."),
    ],
)
def test_bad_messages_get_an_error_and_the_connection_stays(server, message, error):
    with ws(server, "Dee") as dee:
        dee.send(message)
        assert next_of(dee, "error") == {"type": "error", "error": error}
        dee.send("still here")
        assert next_of(dee, "message")["text"] == "still here"


@pytest.mark.parametrize("name", ["", "x" * 21, "<script>", "a%0Ab"])
def test_bad_name_gets_a_message_then_close_1008(server, name):
    with ws(server, name) as conn:
        assert json.loads(conn.recv(timeout=10))["error"].startswith("A name is 1 to 20")
        with pytest.raises(ConnectionClosed) as closed:
            conn.recv(timeout=10)
    assert closed.value.rcvd.code == 1008


def read_event(response) -> bytes:
    lines = []
    while (line := response.readline()) not in (b"\n", b""):
        lines.append(line)
    return b"".join(lines)


def test_event_stream_over_uvicorn(server):
    stream = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    stream.request("GET", "/events")
    response = stream.getresponse()
    assert response.getheader("Content-Type") == "text/event-stream; charset=utf-8"
    assert read_event(response) == b"retry: 2000\n"
    count = json.loads(read_event(response).split(b"data: ")[1])["count"]
    read_event(response)  # online
    post = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    post.request("POST", "/api/counter", '{"add": 7}', {"Content-Type": "application/json"})
    assert json.loads(post.getresponse().read()) == {"count": count + 7}
    event = read_event(response)
    assert event == b'event: counter\ndata: {"type": "counter", "count": %d}\n' % (count + 7)
    assert read_event(response).startswith(b": keep-alive ")  # idle: a comment every 0.5 s
    stream.close()
    post.close()
