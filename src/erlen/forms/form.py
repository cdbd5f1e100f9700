"""``FlaskForm``: a WTForms form bound to the current request, with a CSRF token field."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from markupsafe import Markup
from wtforms import Form
from wtforms.meta import DefaultMeta
from wtforms.widgets import HiddenInput

from ..ctx import has_request_context
from ..exceptions import BadRequest
from ..globals import current_app, request, session
from ..http.multidict import CombinedMultiDict, ImmutableMultiDict
from .csrf import _FlaskFormCSRF

__all__ = ["FlaskForm", "Form"]

SUBMIT_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_Auto = object()


def _is_submitted() -> bool:
    return has_request_context() and request.method in SUBMIT_METHODS


class FlaskForm(Form):
    """A WTForms ``Form`` that reads ``request.form``/``request.files`` (or a JSON object
    body) by itself on POST/PUT/PATCH/DELETE and carries a ``csrf_token`` hidden field while
    ``WTF_CSRF_ENABLED`` is true (the default)."""

    class Meta(DefaultMeta):
        csrf_class = _FlaskFormCSRF
        csrf_context = session  # unused by our CSRF class; WTForms' SessionCSRF reads it

        @cached_property
        def csrf(self) -> bool:  # type: ignore[override]
            return bool(current_app.config.get("WTF_CSRF_ENABLED", True))

        @cached_property
        def csrf_secret(self) -> Any:  # type: ignore[override]
            return current_app.config.get("WTF_CSRF_SECRET_KEY", current_app.secret_key)

        @cached_property
        def csrf_field_name(self) -> str:  # type: ignore[override]
            return current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")  # type: ignore[no-any-return]

        @cached_property
        def csrf_time_limit(self) -> int | None:
            return current_app.config.get("WTF_CSRF_TIME_LIMIT", 3600)  # type: ignore[no-any-return]

        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            if formdata is not _Auto:
                return formdata
            if not _is_submitted():
                return None
            req = request._get_current_object()  # type: ignore[attr-defined]
            if req.files:
                return CombinedMultiDict([req.files, req.form])
            if req.form:
                return req.form
            if req.is_json:
                data = req.get_json()
                if not isinstance(data, dict):
                    raise BadRequest("A form's JSON body must be an object.")
                return ImmutableMultiDict(data)
            return None

    def __init__(self, formdata: Any = _Auto, **kwargs: Any) -> None:
        super().__init__(formdata=formdata, **kwargs)

    def is_submitted(self) -> bool:
        """True for a POST, PUT, PATCH or DELETE request."""
        return _is_submitted()

    def validate_on_submit(self, extra_validators: Any = None) -> bool:
        """``is_submitted() and validate()``: the one call a view needs."""
        return self.is_submitted() and self.validate(extra_validators=extra_validators)

    def hidden_tag(self, *fields: Any) -> Markup:
        """The form's hidden fields (the CSRF token among them), or only ``fields`` (field
        objects or names) that are hidden, rendered one per line."""

        def hidden(candidates: Any) -> Any:
            for f in candidates:
                if isinstance(f, str):
                    f = getattr(self, f, None)
                if f is None or not isinstance(f.widget, HiddenInput):
                    continue
                yield f

        return Markup("\n".join(str(f) for f in hidden(fields or self)))
