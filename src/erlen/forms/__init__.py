"""erlen.forms: Flask-WTF's API (``flask_wtf``, ``flask_wtf.csrf``, ``flask_wtf.file``) on
WTForms 3, with erlen's requests and sessions.

``from erlen.forms import FlaskForm, CSRFProtect`` replaces ``from flask_wtf import ...``.
Importing ``erlen`` does not import this package (nor WTForms). See ``docs/forms.md``.
"""

from __future__ import annotations

from typing import Any

from wtforms import Form

from .csrf import (
    CSRFError,
    CSRFProtect,
    csrf_meta_tag,
    generate_csrf,
    rotate_csrf,
    validate_csrf,
)
from .file import FileAllowed, FileField, FileRequired, FileSize, MultipleFileField
from .form import FlaskForm

__all__ = [
    "CSRFError",
    "CSRFProtect",
    "FileAllowed",
    "FileField",
    "FileRequired",
    "FileSize",
    "FlaskForm",
    "Form",
    "MultipleFileField",
    "Recaptcha",
    "RecaptchaField",
    "RecaptchaWidget",
    "csrf_meta_tag",
    "generate_csrf",
    "rotate_csrf",
    "validate_csrf",
]

_RECAPTCHA = frozenset({"Recaptcha", "RecaptchaField", "RecaptchaWidget"})


def __getattr__(name: str) -> Any:
    """``RecaptchaField`` & co. import ``erlen.forms.recaptcha`` (and urllib.request) only
    when an app uses them."""
    if name in _RECAPTCHA:
        from . import recaptcha

        return getattr(recaptcha, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
