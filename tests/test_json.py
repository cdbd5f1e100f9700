"""erlen.json as a package with Flask's layout: flask.json, .provider, .tag; and erlen.logging."""

from __future__ import annotations

import importlib
import json as stdlib_json

import pytest

import erlen

_FLASK_NAMES = {
    "json": ["_default", "dump", "dumps", "jsonify", "load", "loads"],
    "json.provider": ["DefaultJSONProvider", "JSONProvider", "_default"],
    "json.tag": [
        "JSONTag", "PassDict", "PassList", "TagBytes", "TagDateTime", "TagDict", "TagMarkup",
        "TagTuple", "TagUUID", "TaggedJSONSerializer",
    ],
    "logging": ["create_logger", "default_handler", "has_level_handler", "wsgi_errors_stream"],
}  # fmt: skip


@pytest.mark.parametrize("sub", sorted(_FLASK_NAMES))
def test_flask_submodules_and_names_exist(sub: str) -> None:
    """`from flask.X import Y` ports by renaming the package (Flask's documented names)."""
    flask_mod = importlib.import_module(f"flask.{sub}")
    ours = importlib.import_module(f"erlen.{sub}")
    for name in _FLASK_NAMES[sub]:
        assert hasattr(flask_mod, name), name  # the list is Flask's
        assert hasattr(ours, name), name


def test_public_names_are_one_object_from_either_module() -> None:
    from erlen.json import provider

    assert erlen.json.DefaultJSONProvider is provider.DefaultJSONProvider
    assert erlen.json._default is provider._default
    assert erlen.jsonify is erlen.json.jsonify
    assert erlen.Erlen.json_provider_class is provider.DefaultJSONProvider


def test_stdlib_modules_are_not_shadowed() -> None:
    """erlen.logging and erlen.json are submodules: `import logging` / `import json` inside
    erlen (absolute imports) still get the standard library."""
    import logging

    import erlen.json.provider
    import erlen.json.tag
    import erlen.logging as erlen_logging

    assert erlen_logging.logging is logging
    assert erlen.json.provider._json is stdlib_json
    assert erlen.json.tag.json is stdlib_json
    assert erlen_logging.default_handler.stream is erlen_logging.wsgi_errors_stream


def test_module_helpers_outside_and_inside_an_app() -> None:
    import datetime
    import uuid

    import flask.json

    value = {"b": datetime.date(2024, 1, 2), "a": uuid.UUID(int=1)}
    assert erlen.json.dumps(value) == flask.json.dumps(value)  # no app: stdlib + _default
    app = erlen.Erlen(__name__)
    with app.app_context():
        assert erlen.json.dumps({"b": 1, "a": 2}) == '{"a": 2, "b": 1}'  # the app's provider
        app.json.sort_keys = False
        assert erlen.json.dumps({"b": 1, "a": 2}) == '{"b": 1, "a": 2}'
        assert erlen.json.loads(b'{"a": [1]}') == {"a": [1]}
