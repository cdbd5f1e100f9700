"""``SQLAlchemy``: Flask-SQLAlchemy 3.1's extension object on erlen.

One ``db`` serves any number of apps (``db.init_app(app)``); each app has its own engines,
built from its config when ``init_app`` runs, and ``app.extensions["sqlalchemy"]`` is ``db``
(as in Flask-SQLAlchemy). ``db.session`` is one scoped session per app context, removed
when the context ends (uncommitted work is rolled back). Nothing is added to the request
path of an app that does not call ``init_app``; an app that does gets one
``teardown_appcontext`` function and one error handler.
"""

from __future__ import annotations

import typing as t
import warnings
from weakref import WeakKeyDictionary

import sqlalchemy as sa
import sqlalchemy.event as sa_event
import sqlalchemy.exc as sa_exc
import sqlalchemy.orm as sa_orm
from sqlalchemy.util import ScopedRegistry

from ..ctx import has_app_context
from ..globals import current_app
from ..helpers import abort
from . import outage, record_queries, track_modifications
from .cli import add_models_to_shell
from .engines import apply_driver_defaults, engine_options_by_bind, log, make_engine, safe_url
from .model import Model, make_model_base
from .pagination import Pagination, SelectPagination
from .query import Query
from .session import Session, app_ctx_id

if t.TYPE_CHECKING:
    from ..application import Erlen

_ALL = "__all__"
#: bound once (a lookup through the proxy's ``__getattribute__`` otherwise)
_current_app = current_app._get_current_object  # type: ignore[attr-defined]


class SQLAlchemy:
    """Integrates SQLAlchemy with erlen apps: ``db.Model``, ``db.session``, engines from
    config, ``create_all``, ``paginate`` and the 404 helpers, and every public name of
    ``sqlalchemy`` / ``sqlalchemy.orm`` as an attribute (``db.Column``, ``db.select``…)."""

    def __init__(
        self,
        app: Erlen | None = None,
        *,
        metadata: sa.MetaData | None = None,
        session_options: dict[str, t.Any] | None = None,
        query_class: type[Query] = Query,
        model_class: type = Model,
        engine_options: dict[str, t.Any] | None = None,
        add_models_to_shell: bool = True,
        disable_autonaming: bool = False,
    ) -> None:
        self.Query = query_class
        """The query class of ``Model.query`` and of dynamic relationships."""
        self.metadatas: dict[str | None, sa.MetaData] = {}
        """Each bind key's metadata (``None`` is the default bind's)."""
        if metadata is not None and issubclass(
            model_class, (sa_orm.DeclarativeBase, sa_orm.DeclarativeBaseNoMeta)
        ):
            warnings.warn(
                "With a SQLAlchemy 2.x declarative base as model_class, the metadata belongs"
                " on the base class; the metadata passed to SQLAlchemy() is ignored.",
                DeprecationWarning,
                stacklevel=2,
            )
        elif metadata is not None:
            metadata.info["bind_key"] = None
            self.metadatas[None] = metadata
        self.Table = self._make_table_class()
        self.session = self._make_scoped_session(dict(session_options or {}))
        """The scoped session: one per app context."""
        self.Model = make_model_base(self, model_class, disable_autonaming)
        """The declarative base class of the app's models."""
        self._engine_options = dict(engine_options or {})
        self._app_engines: WeakKeyDictionary[Erlen, dict[str | None, sa.engine.Engine]] = (
            WeakKeyDictionary()
        )
        self._add_models_to_shell = add_models_to_shell
        self._tracking = False
        if app is not None:
            self.init_app(app)

    def __repr__(self) -> str:
        if not has_app_context() or current_app not in self._app_engines:
            return f"<{type(self).__name__}>"
        engines = self.engines
        message = f"{type(self).__name__} {safe_url(self.engine.url)}"
        if len(engines) > 1:
            message = f"{message} +{len(engines) - 1}"
        return f"<{message}>"

    def init_app(self, app: Erlen) -> None:
        """Build ``app``'s engines from its config and register the session teardown, the
        503 answer for an unreachable database and (optionally) the shell context."""
        if "sqlalchemy" in app.extensions:
            raise RuntimeError(
                "A 'SQLAlchemy' instance has already been registered on this app. Import"
                " and use that instance instead."
            )
        app.extensions["sqlalchemy"] = self
        app.teardown_appcontext(self._teardown_session)
        if self._add_models_to_shell:
            app.shell_context_processor(add_models_to_shell)
        app.config.setdefault("SQLALCHEMY_RETRY_AFTER", outage.DEFAULT_RETRY_AFTER)
        engines = self._app_engines.setdefault(app, {})
        for key, options in engine_options_by_bind(app, self._engine_options).items():
            self._make_metadata(key)
            apply_driver_defaults(options, app)
            engine = self._make_engine(key, options, app)
            engines[key] = engine
            if isinstance(engine, sa.engine.Engine):  # an override may return a stand-in
                outage.listen(engine, key)
                log.debug("bind %r: %s", key, safe_url(engine.url))
        outage.register_handler(app)
        if app.config.setdefault("SQLALCHEMY_RECORD_QUERIES", False):
            for engine in engines.values():
                if isinstance(engine, sa.engine.Engine):
                    record_queries.listen(engine)
        if app.config.setdefault("SQLALCHEMY_TRACK_MODIFICATIONS", False) and not self._tracking:
            track_modifications.listen(self.session)
            self._tracking = True

    def _make_engine(
        self, bind_key: str | None, options: dict[str, t.Any], app: Erlen
    ) -> sa.engine.Engine:
        """An engine from complete options; override to customize engine creation."""
        return make_engine(options)

    def _make_scoped_session(self, options: dict[str, t.Any]) -> sa_orm.scoped_session[Session]:
        scope = options.pop("scopefunc", app_ctx_id)
        return sa_orm.scoped_session(self._make_session_factory(options), scope)

    def _make_session_factory(self, options: dict[str, t.Any]) -> sa_orm.sessionmaker[Session]:
        options.setdefault("class_", Session)
        options.setdefault("query_cls", self.Query)
        return sa_orm.sessionmaker(db=self, **options)

    def _teardown_session(self, exc: BaseException | None) -> None:
        # session.remove() (close, then drop from the registry) with one scope lookup
        # instead of three; any other registry gets remove() itself
        registry = self.session.registry
        if type(registry) is ScopedRegistry:
            session = registry.registry.pop(registry.scopefunc(), None)
            if session is None:  # the context used no session
                return
        else:
            session = None
        try:
            if session is None:
                self.session.remove()
            else:
                session.close()  # what was not committed is rolled back
        except outage.DatabaseUnavailable as e:  # gone after the answer was made
            registry.clear()
            log.error("%s (while closing the session)", outage.describe(e))

    def _make_metadata(self, bind_key: str | None) -> sa.MetaData:
        """The metadata of ``bind_key``, created (with the default's naming convention)
        on first use."""
        if bind_key in self.metadatas:
            return self.metadatas[bind_key]
        convention = self._make_metadata(None).naming_convention if bind_key is not None else None
        metadata = sa.MetaData(naming_convention=convention)  # type: ignore[arg-type]
        metadata.info["bind_key"] = bind_key
        self.metadatas[bind_key] = metadata
        return metadata

    def _make_table_class(self) -> type[sa.Table]:
        """``db.Table(name, *columns, bind_key=None)``: the metadata argument is optional."""
        db = self

        class Table(sa.Table):
            def __new__(cls, *args: t.Any, bind_key: str | None = None, **kwargs: t.Any) -> t.Any:
                if len(args) < 2 or not isinstance(args[1], sa.MetaData):
                    args = (args[0], db._make_metadata(bind_key), *args[1:])
                return sa.Table(*args, **kwargs)

        return Table

    @property
    def metadata(self) -> sa.MetaData:
        """The default bind's metadata."""
        return self.metadatas[None]

    @property
    def engines(self) -> t.Mapping[str | None, sa.engine.Engine]:
        """The current app's engines by bind key (needs an app context)."""
        try:  # one weak-key lookup (each builds a weakref), not two
            return self._app_engines[_current_app()]
        except KeyError:
            raise RuntimeError(
                "The 'SQLAlchemy' instance is not registered on the current app. Call"
                " 'db.init_app(app)'."
            ) from None

    @property
    def engine(self) -> sa.engine.Engine:
        """The current app's default engine."""
        return self.engines[None]

    def get_engine(self, bind_key: str | None = None) -> sa.engine.Engine:
        """Deprecated spelling of ``db.engines[bind_key]``."""
        return self.engines[bind_key]

    def get_or_404(
        self,
        entity: type[t.Any],
        ident: t.Any,
        *,
        description: str | None = None,
        **kwargs: t.Any,
    ) -> t.Any:
        """``session.get(entity, ident, **kwargs)`` (``options=``, ``with_for_update=``…),
        else abort with 404."""
        value = self.session.registry().get(entity, ident, **kwargs)
        if value is None:
            abort(404, description=description)
        return value

    def first_or_404(self, statement: sa.Select[t.Any], *, description: str | None = None) -> t.Any:
        """The first result's first column, else abort with 404."""
        value = self.session.execute(statement).scalar()
        if value is None:
            abort(404, description=description)
        return value

    def one_or_404(self, statement: sa.Select[t.Any], *, description: str | None = None) -> t.Any:
        """The only result's first column; none or several abort with 404."""
        try:
            return self.session.execute(statement).scalar_one()
        except (sa_exc.NoResultFound, sa_exc.MultipleResultsFound):
            abort(404, description=description)

    def paginate(
        self,
        select: sa.Select[t.Any],
        *,
        page: int | None = None,
        per_page: int | None = None,
        max_per_page: int | None = None,
        error_out: bool = True,
        count: bool = True,
    ) -> Pagination:
        """One page of ``select``'s scalars. ``page``/``per_page`` default to the request's
        ``?page=&per_page=`` (bad values → 1 and 20); an out-of-range page aborts with 404
        unless ``error_out=False``."""
        return SelectPagination(
            select=select,
            session=self.session(),
            page=page,
            per_page=per_page,
            max_per_page=max_per_page,
            error_out=error_out,
            count=count,
        )

    def _call_for_binds(self, bind_key: str | None | list[str | None], operation: str) -> None:
        if bind_key == _ALL:
            keys: list[str | None] = list(self.metadatas)
        elif bind_key is None or isinstance(bind_key, str):
            keys = [bind_key]
        else:
            keys = list(bind_key)
        for key in keys:
            try:
                engine = self.engines[key]
            except KeyError:
                message = f"Bind key '{key}' is not in 'SQLALCHEMY_BINDS' config."
                if key is None:
                    message = "'SQLALCHEMY_DATABASE_URI' config is not set."
                raise sa_exc.UnboundExecutionError(message) from None
            getattr(self._make_metadata(key), operation)(bind=engine)

    def create_all(self, bind_key: str | None | list[str | None] = _ALL) -> None:
        """Create the tables of the given binds (all by default) that do not exist yet."""
        self._call_for_binds(bind_key, "create_all")

    def drop_all(self, bind_key: str | None | list[str | None] = _ALL) -> None:
        """Drop the tables of the given binds (all by default)."""
        self._call_for_binds(bind_key, "drop_all")

    def reflect(self, bind_key: str | None | list[str | None] = _ALL) -> None:
        """Load the existing tables of the given binds into their metadata."""
        self._call_for_binds(bind_key, "reflect")

    def _set_rel_query(self, kwargs: dict[str, t.Any]) -> None:
        kwargs.setdefault("query_class", self.Query)
        backref = kwargs.get("backref")
        if isinstance(backref, tuple) and len(backref) == 2:
            backref[1].setdefault("query_class", self.Query)

    def relationship(self, *args: t.Any, **kwargs: t.Any) -> sa_orm.RelationshipProperty[t.Any]:
        """``sqlalchemy.orm.relationship`` with ``db.Query`` for ``lazy="dynamic"``."""
        self._set_rel_query(kwargs)
        return sa_orm.relationship(*args, **kwargs)

    def dynamic_loader(
        self, argument: t.Any, **kwargs: t.Any
    ) -> sa_orm.RelationshipProperty[t.Any]:
        """``sqlalchemy.orm.dynamic_loader`` with ``db.Query``."""
        self._set_rel_query(kwargs)
        return sa_orm.dynamic_loader(argument, **kwargs)

    def backref(self, name: str, **kwargs: t.Any) -> t.Any:
        """``sqlalchemy.orm.backref`` with ``db.Query``."""
        kwargs.setdefault("query_class", self.Query)
        return sa_orm.backref(name, **kwargs)

    def __getattr__(self, name: str) -> t.Any:
        if name == "relation":
            return self.relationship
        if name == "event":
            return sa_event
        if name.startswith("_"):
            raise AttributeError(name)
        for module in (sa, sa_orm):
            if hasattr(module, name):
                return getattr(module, name)
        raise AttributeError(name)
