"""``SQLALCHEMY_TRACK_MODIFICATIONS``: signals with the models a commit inserted, updated
or deleted. Off by default: it costs a dict entry per changed object."""

from __future__ import annotations

import typing as t

import sqlalchemy as sa
import sqlalchemy.event as sa_event
import sqlalchemy.orm as sa_orm
from blinker import Namespace

from ..ctx import has_app_context
from ..globals import current_app

_signals = Namespace()
#: Sent (sender: the app, ``changes``: ``[(model, "insert"|"update"|"delete"), …]``) after
#: a commit.
models_committed = _signals.signal("models-committed")
#: Sent like ``models_committed`` just before the commit (a receiver may still change data).
before_models_committed = _signals.signal("before-models-committed")


def listen(session: sa_orm.scoped_session[t.Any]) -> None:
    """Track changes on every session ``session`` makes (listening on its factory's class
    would track other apps' sessions too)."""
    sa_event.listen(session, "before_flush", _record_ops, named=True)
    sa_event.listen(session, "before_commit", _record_ops, named=True)
    sa_event.listen(session, "before_commit", _before_commit)
    sa_event.listen(session, "after_commit", _after_commit)
    sa_event.listen(session, "after_rollback", _after_rollback)


def _changes(session: sa_orm.Session) -> dict[object, tuple[t.Any, str]]:
    changes = getattr(session, "_model_changes", None)
    if changes is None:
        changes = session._model_changes = {}  # type: ignore[attr-defined]
    return t.cast("dict[object, tuple[t.Any, str]]", changes)


def _record_ops(session: sa_orm.Session, **kwargs: t.Any) -> None:
    if not has_app_context() or not current_app.config["SQLALCHEMY_TRACK_MODIFICATIONS"]:
        return
    changes = _changes(session)
    for targets, operation in (
        (session.new, "insert"),
        (session.dirty, "update"),
        (session.deleted, "delete"),
    ):
        for target in targets:
            state = sa.inspect(target)
            key = state.identity_key if state.has_identity else id(target)
            changes[key] = (target, operation)


def _app() -> t.Any:
    return current_app._get_current_object()  # type: ignore[attr-defined]


def _before_commit(session: sa_orm.Session) -> None:
    if not has_app_context():
        return
    changes = _changes(session)
    if changes:
        before_models_committed.send(_app(), changes=list(changes.values()))


def _after_commit(session: sa_orm.Session) -> None:
    if not has_app_context():
        return
    changes = _changes(session)
    if changes:
        models_committed.send(_app(), changes=list(changes.values()))
        changes.clear()


def _after_rollback(session: sa_orm.Session) -> None:
    _changes(session).clear()
