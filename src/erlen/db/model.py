"""``db.Model``: a SQLAlchemy 2 declarative base with Flask-SQLAlchemy's conveniences.

A model gets ``__tablename__`` from its class name (``UserRole`` → ``user_role``) unless it
names its table, is abstract, or looks like single-table inheritance (no primary key of its
own); ``__bind_key__`` puts its table into that bind's metadata; ``Model.query`` is a legacy
``Query`` on ``db.session``. The rules match Flask-SQLAlchemy 3.1, so models move unchanged.
"""

from __future__ import annotations

import typing as t

import sqlalchemy as sa
import sqlalchemy.orm as sa_orm

if t.TYPE_CHECKING:
    from .extension import SQLAlchemy
    from .query import Query

_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_LOWER_OR_DIGIT = _LOWER | frozenset("0123456789")
_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def camel_to_snake_case(name: str) -> str:
    """``CamelCase`` → ``camel_case``: an underscore before each capital that follows a
    lowercase letter or digit, or that starts a word (``HTTPServer`` → ``http_server``)."""
    out: list[str] = []
    last = len(name) - 1
    for i, char in enumerate(name):
        if (
            i
            and char in _UPPER
            and (name[i - 1] in _LOWER_OR_DIGIT or (i < last and name[i + 1] in _LOWER))
        ):
            out.append("_")
        out.append(char)
    return "".join(out).lower().lstrip("_")


class _QueryProperty:
    """``Model.query``: a new legacy ``Query`` for the model on the current ``db.session``."""

    def __get__(self, obj: Model | None, cls: type[Model]) -> Query:
        return cls.query_class(cls, session=cls.__fsa__.session())


class Model:
    """The default ``model_class``: what every ``db.Model`` subclass has besides SQLAlchemy's
    declarative features (``query``, a readable ``repr``)."""

    __fsa__: t.ClassVar[SQLAlchemy]
    query_class: t.ClassVar[type[Query]]
    query: t.ClassVar[Query] = _QueryProperty()  # type: ignore[assignment]

    def __repr__(self) -> str:
        state = sa.inspect(self)
        if state.transient:
            pk = f"(transient {id(self)})"
        elif state.pending:
            pk = f"(pending {id(self)})"
        else:
            pk = ", ".join(map(str, state.identity))
        return f"<{type(self).__name__} {pk}>"


def _is_declarative(base: type) -> bool:
    return isinstance(
        base, (sa_orm.decl_api.DeclarativeAttributeIntercept, sa_orm.DeclarativeMeta)
    ) or issubclass(base, sa_orm.DeclarativeBaseNoMeta)


def should_set_tablename(cls: type) -> bool:
    """Whether ``cls`` gets a generated ``__tablename__``: not abstract, no declared_attr
    name, and a name found in the MRO only counts when a mapped parent (not a mixin) set it —
    then this class is a new table of its own, unless ``__table_cls__`` finds no primary key
    (single-table inheritance)."""
    if cls.__dict__.get("__abstract__", False) or any(
        base is sa_orm.DeclarativeBase or base is sa_orm.DeclarativeBaseNoMeta
        for base in cls.__bases__
    ):
        return False
    for base in cls.__mro__:
        if "__tablename__" not in base.__dict__:
            continue
        if isinstance(base.__dict__["__tablename__"], sa_orm.declared_attr):
            return False
        return not (
            base is cls or base.__dict__.get("__abstract__", False) or not _is_declarative(base)
        )
    return True


class NameMixin:
    """Generates ``__tablename__`` (see ``should_set_tablename``)."""

    metadata: t.ClassVar[sa.MetaData]

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        if should_set_tablename(cls):
            cls.__tablename__ = camel_to_snake_case(cls.__name__)  # type: ignore[attr-defined]
        super().__init_subclass__(**kwargs)
        _drop_empty_table(cls)

    @classmethod
    def __table_cls__(cls, *args: t.Any, **kwargs: t.Any) -> sa.Table | None:
        """Called by SQLAlchemy to build the table: a subclass with a generated name but no
        primary key column of its own is single-table inheritance, so it gets no table."""
        return _table_or_none(cls, args, kwargs)


def _table_or_none(
    cls: t.Any, args: tuple[t.Any, ...], kwargs: dict[str, t.Any]
) -> sa.Table | None:
    """``__table_cls__`` of the naming mixins: the table, or None (and no generated name)
    for single-table inheritance (a mapped parent, no primary key of its own)."""
    name, schema = args[0], kwargs.get("schema")
    key = name if schema is None else f"{schema}.{name}"
    if key in cls.metadata.tables:  # a reflected table applied to a model by name
        return sa.Table(*args, **kwargs)
    for arg in args:
        if (isinstance(arg, sa.Column) and arg.primary_key) or isinstance(
            arg, sa.PrimaryKeyConstraint
        ):
            return sa.Table(*args, **kwargs)
    if not any("__table__" in base.__dict__ for base in cls.__mro__[1:-1]):
        return sa.Table(*args, **kwargs)  # no mapped parent: let SQLAlchemy complain
    if "__tablename__" in cls.__dict__:
        del cls.__tablename__
    return None


def _drop_empty_table(cls: t.Any) -> None:
    # __table_cls__ answered None (single-table inheritance): the parent's table is used
    if (
        "__tablename__" not in cls.__dict__
        and "__table__" in cls.__dict__
        and cls.__dict__["__table__"] is None
    ):
        del cls.__table__


class BindMixin:
    """``__bind_key__ = "name"`` puts the model's table into that bind's metadata (so
    ``create_all(bind_key=...)`` and the session find its engine)."""

    __fsa__: t.ClassVar[SQLAlchemy]
    metadata: t.ClassVar[sa.MetaData]

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        if (
            "metadata" not in cls.__dict__
            and "__table__" not in cls.__dict__
            and hasattr(cls, "__bind_key__")
        ):
            metadata = cls.__fsa__._make_metadata(cls.__bind_key__)  # type: ignore[attr-defined]
            if metadata is not getattr(cls, "metadata", None):
                cls.metadata = metadata
        super().__init_subclass__(**kwargs)


class BindMetaMixin(type):
    """Metaclass mixin for classic (``declarative_base(metaclass=...)``) model bases:
    ``__bind_key__`` picks the model's metadata, as ``BindMixin`` does for 2.x bases."""

    __fsa__: SQLAlchemy
    metadata: sa.MetaData

    def __init__(
        cls, name: str, bases: tuple[type, ...], d: dict[str, t.Any], **kwargs: t.Any
    ) -> None:
        if "metadata" not in cls.__dict__ and "__table__" not in cls.__dict__:
            metadata = cls.__fsa__._make_metadata(getattr(cls, "__bind_key__", None))
            if metadata is not getattr(cls, "metadata", None):
                cls.metadata = metadata
        super().__init__(name, bases, d, **kwargs)


class NameMetaMixin(type):
    """Metaclass mixin for classic model bases: the generated ``__tablename__`` and the
    single-table-inheritance rule of ``NameMixin``."""

    metadata: sa.MetaData

    def __init__(
        cls, name: str, bases: tuple[type, ...], d: dict[str, t.Any], **kwargs: t.Any
    ) -> None:
        if should_set_tablename(cls):
            cls.__tablename__ = camel_to_snake_case(cls.__name__)
        super().__init__(name, bases, d, **kwargs)
        _drop_empty_table(cls)

    def __table_cls__(cls, *args: t.Any, **kwargs: t.Any) -> sa.Table | None:
        return _table_or_none(cls, args, kwargs)


class DefaultMeta(BindMetaMixin, NameMetaMixin, sa_orm.DeclarativeMeta):
    """The metaclass for a classic base built by the app
    (``declarative_base(cls=Model, metaclass=DefaultMeta)``, passed as ``model_class``):
    bind keys and generated table names."""


class DefaultMetaNoName(BindMetaMixin, sa_orm.DeclarativeMeta):
    """``DefaultMeta`` without generated table names (``disable_autonaming``)."""


def make_model_base(
    db: SQLAlchemy, model_class: type, disable_autonaming: bool
) -> type[sa_orm.DeclarativeBase]:
    """The ``db.Model`` class: ``model_class``'s behaviour on a SQLAlchemy 2 declarative
    base whose metadata is ``db.metadata``.

    ``model_class`` may already be a ``DeclarativeBase`` subclass (its registry, metadata
    and type map are kept) or a plain class of methods (``Model`` by default).
    """
    if isinstance(model_class, sa_orm.DeclarativeMeta):
        # a classic declarative base the app built (e.g. with DefaultMeta): used as it is
        if None in db.metadatas:
            model_class.metadata = db.metadatas[None]  # type: ignore[attr-defined]
        else:
            model_class.metadata.info["bind_key"] = None  # type: ignore[attr-defined]
            db.metadatas[None] = model_class.metadata  # type: ignore[attr-defined]
        model_class.query_class = db.Query  # type: ignore[attr-defined]
        model_class.query = _QueryProperty()  # type: ignore[attr-defined]
        model_class.__fsa__ = db  # type: ignore[attr-defined]
        return t.cast("type[sa_orm.DeclarativeBase]", model_class)
    declarative = [
        b
        for b in model_class.__mro__
        if b in (sa_orm.DeclarativeBase, sa_orm.DeclarativeBaseNoMeta)
    ]
    if len(declarative) > 1:
        raise ValueError(
            f"Only one declarative base can be passed to SQLAlchemy. Got: {model_class.__bases__}"
        )
    mixins: tuple[type, ...] = (BindMixin,) if disable_autonaming else (NameMixin, BindMixin)
    body: dict[str, t.Any] = {
        "__fsa__": db,
        "__module__": model_class.__module__,
        "query_class": db.Query,
        "query": _QueryProperty(),
    }
    if issubclass(model_class, (sa_orm.DeclarativeBase, sa_orm.DeclarativeBaseNoMeta)):
        # A user's base: an abstract subclass adds the mixins; the user's metadata (its own
        # or its registry's) is the default bind's (SQLAlchemy(metadata=...) is ignored
        # with a warning, as in Flask-SQLAlchemy)
        model_class.metadata.info["bind_key"] = None
        db.metadatas[None] = model_class.metadata
        body["__abstract__"] = True
        bases: tuple[type, ...] = (*mixins, Model, model_class)
        return t.cast("type[sa_orm.DeclarativeBase]", type(model_class.__name__, bases, body))
    body["metadata"] = db._make_metadata(None)
    bases = (*mixins, model_class, sa_orm.DeclarativeBase)
    return t.cast("type[sa_orm.DeclarativeBase]", type("Model", bases, body))
