"""Configuration: defaults, loaders, namespaces, attribute forwarding."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest

import erlen
from erlen.config import Config


def test_defaults(app):
    assert app.config["SESSION_COOKIE_NAME"] == "session"
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(days=31)
    assert app.config["MAX_FORM_PARTS"] == 1000
    assert app.config["APPLICATION_ROOT"] == "/"


def test_attributes_forward_to_config(app):
    app.secret_key = "s3"
    assert app.config["SECRET_KEY"] == "s3"
    app.testing = False
    assert app.config["TESTING"] is False
    app.config["PERMANENT_SESSION_LIFETIME"] = 60
    assert app.permanent_session_lifetime == timedelta(seconds=60)


class _Obj:
    DEBUG_LEVEL = 3
    lower_ignored = 1


def test_from_object_and_string(app):
    app.config.from_object(_Obj)
    assert app.config["DEBUG_LEVEL"] == 3
    assert "lower_ignored" not in app.config
    app.config.from_object("tests.test_config._Obj")
    assert app.config["DEBUG_LEVEL"] == 3


def test_from_pyfile_and_envvar(app, tmp_path, monkeypatch):
    cfg = tmp_path / "settings.py"
    cfg.write_text("SECRET_KEY = 'from file'\nnot_upper = 1\n")
    assert app.config.from_pyfile(str(cfg))
    assert app.config["SECRET_KEY"] == "from file"
    assert app.config.from_pyfile(str(tmp_path / "missing.py"), silent=True) is False
    with pytest.raises(OSError, match="Unable to load configuration file"):
        app.config.from_pyfile(str(tmp_path / "missing.py"))
    monkeypatch.setenv("MY_SETTINGS", str(cfg))
    app.config["SECRET_KEY"] = None
    assert app.config.from_envvar("MY_SETTINGS")
    assert app.config["SECRET_KEY"] == "from file"
    monkeypatch.delenv("MY_SETTINGS")
    with pytest.raises(RuntimeError, match="MY_SETTINGS"):
        app.config.from_envvar("MY_SETTINGS")
    assert app.config.from_envvar("MY_SETTINGS", silent=True) is False


def test_from_file_and_mapping(app, tmp_path):
    f = tmp_path / "c.json"
    f.write_text(json.dumps({"A_KEY": 1, "b": 2}))
    assert app.config.from_file(str(f), load=json.load)
    assert app.config["A_KEY"] == 1 and "b" not in app.config
    app.config.from_mapping({"X": 1}, Y=2, z=3)
    assert (app.config["X"], app.config["Y"], "z" in app.config) == (1, 2, False)


def _clean_prefixed_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith(("ERLEN_", "FLASK_")):
            monkeypatch.delenv(key)


def test_from_prefixed_env(monkeypatch):
    _clean_prefixed_env(monkeypatch)
    monkeypatch.setenv("ERLEN_SECRET_KEY", "env-secret")
    monkeypatch.setenv("ERLEN_MAX_CONTENT_LENGTH", "1024")
    monkeypatch.setenv("ERLEN_NESTED__INNER", "true")
    monkeypatch.setenv("OTHER_IGNORED", "1")
    c = Config(os.getcwd())
    c.from_prefixed_env()
    assert c == {"SECRET_KEY": "env-secret", "MAX_CONTENT_LENGTH": 1024, "NESTED": {"INNER": True}}


def test_from_prefixed_env_default_is_flask_and_erlen_wins(monkeypatch):
    """Default prefix ``FLASK`` as Flask; erlen's ``ERLEN_`` spelling is read after it and
    wins on the same key, nested keys merged (decision 009)."""
    _clean_prefixed_env(monkeypatch)
    monkeypatch.setenv("FLASK_SECRET_KEY", "flask-secret")
    monkeypatch.setenv("FLASK_ONLY", "[1, 2]")
    monkeypatch.setenv("FLASK_DB__HOST", "flask-host")
    monkeypatch.setenv("FLASK_DB__PORT", "1")
    monkeypatch.setenv("ERLEN_SECRET_KEY", "erlen-secret")
    monkeypatch.setenv("ERLEN_DB__PORT", "2")
    c = Config(os.getcwd())
    assert c.from_prefixed_env() is True
    assert c == {
        "SECRET_KEY": "erlen-secret",
        "ONLY": [1, 2],
        "DB": {"HOST": "flask-host", "PORT": 2},
    }


def test_from_prefixed_env_other_prefix_reads_only_its_own(monkeypatch):
    _clean_prefixed_env(monkeypatch)
    monkeypatch.setenv("FLASK_A", "flask")
    monkeypatch.setenv("ERLEN_A", "erlen")
    monkeypatch.setenv("MYAPP_A", "mine")
    for prefix, want in (("MYAPP", "mine"), ("ERLEN", "erlen")):
        c = Config(os.getcwd())
        c.from_prefixed_env(prefix)
        assert c == {"A": want}


def test_from_prefixed_env_matches_flask(monkeypatch):
    from flask.config import Config as FlaskConfig

    _clean_prefixed_env(monkeypatch)
    for key, value in {"STRING": "v", "BOOL": "true", "F": "1.5", "N__a__b": "{}"}.items():
        monkeypatch.setenv(f"FLASK_{key}", value)
    ours, theirs = Config(os.getcwd()), FlaskConfig(os.getcwd())
    ours.from_prefixed_env()
    theirs.from_prefixed_env()
    assert ours == theirs


def test_get_namespace(app):
    app.config.update(MAIL_SERVER="smtp", MAIL_PORT=25, OTHER=1)
    assert app.config.get_namespace("MAIL_") == {"server": "smtp", "port": 25}
    assert app.config.get_namespace("MAIL_", lowercase=False, trim_namespace=False) == {
        "MAIL_SERVER": "smtp",
        "MAIL_PORT": 25,
    }


def test_instance_path(tmp_path):
    app = erlen.Erlen("x", instance_path=str(tmp_path))
    assert app.instance_path == str(tmp_path)
    with pytest.raises(ValueError, match="absolute"):
        erlen.Erlen("x", instance_path="relative")
    app2 = erlen.Erlen("x", instance_path=str(tmp_path), instance_relative_config=True)
    (tmp_path / "cfg.py").write_text("FROM_INSTANCE = True\n")
    app2.config.from_pyfile("cfg.py")
    assert app2.config["FROM_INSTANCE"] is True


def test_erlen_debug_env(monkeypatch):
    monkeypatch.setenv("ERLEN_DEBUG", "1")
    assert erlen.Erlen("x").debug is True
