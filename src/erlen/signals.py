"""Signals (blinker). Senders check ``signal.receivers`` first, so nobody listening costs nothing."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

template_rendered = _signals.signal("template-rendered")
before_render_template = _signals.signal("before-render-template")
request_started = _signals.signal("request-started")
request_finished = _signals.signal("request-finished")
request_tearing_down = _signals.signal("request-tearing-down")
got_request_exception = _signals.signal("got-request-exception")
appcontext_tearing_down = _signals.signal("appcontext-tearing-down")
appcontext_pushed = _signals.signal("appcontext-pushed")
appcontext_popped = _signals.signal("appcontext-popped")
message_flashed = _signals.signal("message-flashed")

# The signals sent on the request path. ``request_path_listened`` is True whenever one of
# them has a receiver; it may stay True after a weakly referenced receiver is collected
# (blinker says nothing then), so a reader that finds it True asks
# ``request_path_has_receivers``, which looks. ``wsgi_app`` reads it instead of six dicts.
_REQUEST_PATH_SIGNALS = (
    request_started,
    request_finished,
    request_tearing_down,
    appcontext_pushed,
    appcontext_tearing_down,
    appcontext_popped,
)
request_path_listened = False


def request_path_has_receivers() -> bool:
    """Whether a request-path signal has a receiver now (and ``request_path_listened`` to
    match)."""
    global request_path_listened
    request_path_listened = any(signal.receivers for signal in _REQUEST_PATH_SIGNALS)
    return request_path_listened


def _request_path_receivers_changed(signal: object, **kwargs: object) -> None:
    request_path_has_receivers()


for _signal in _REQUEST_PATH_SIGNALS:
    _signal.receiver_connected.connect(_request_path_receivers_changed, weak=False)
    _signal.receiver_disconnected.connect(_request_path_receivers_changed, weak=False)
del _signal
