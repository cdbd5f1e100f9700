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


def test_from_prefixed_env(monkeypatch):
    monkeypatch.setenv("ERLEN_SECRET_KEY", "env-secret")
    monkeypatch.setenv("ERLEN_MAX_CONTENT_LENGTH", "1024")
    monkeypatch.setenv("ERLEN_NESTED__INNER", "true")
    monkeypatch.setenv("OTHER_IGNORED", "1")
    c = Config(os.getcwd())
    c.from_prefixed_env()
    assert c["SECRET_KEY"] == "env-secret"
    assert c["MAX_CONTENT_LENGTH"] == 1024
    assert c["NESTED"] == {"INNER": True}
    assert "IGNORED" not in c


def test_from_prefixed_env_flask_prefix(monkeypatch):
    """The default prefix is ``ERLEN`` (decision 008); Flask deployments pass ``FLASK``."""
    monkeypatch.setenv("FLASK_SECRET_KEY", "flask-secret")
    c = Config(os.getcwd())
    c.from_prefixed_env()
    assert "SECRET_KEY" not in c
    assert c.from_prefixed_env("FLASK") is True
    assert c["SECRET_KEY"] == "flask-secret"


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
