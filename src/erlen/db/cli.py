"""``flask shell`` integration: the ``db`` object and every model class in the shell."""

from __future__ import annotations

import typing as t

from ..globals import current_app


def add_models_to_shell() -> dict[str, t.Any]:
    """The shell context ``init_app`` registers (``add_models_to_shell=True``): ``db`` and
    each mapped model class of the current app's ``db`` by its class name."""
    db = current_app.extensions["sqlalchemy"]
    context: dict[str, t.Any] = {m.class_.__name__: m.class_ for m in db.Model.registry.mappers}
    context["db"] = db
    return context
