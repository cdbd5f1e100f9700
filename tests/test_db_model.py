"""``db.Model``: table names, binds, base classes, repr — and one small app's answers — the
same as Flask-SQLAlchemy 3.1's (the real Flask + Flask-SQLAlchemy are the oracle)."""

from __future__ import annotations

import flask
import flask_sqlalchemy
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

import erlen
from erlen.db import SQLAlchemy, camel_to_snake_case

NAMES = [
    "User", "UserRole", "HTTPServer", "HTTPServerConfig", "ABC", "A", "a", "aB", "Ab",
    "URLRule2", "Url2Rule", "Rule2URL", "TableV2", "V2Table", "X_Y", "_Private", "__Dunder",
    "Mixed_CaseName", "already_snake", "OAuth2Token", "IPv6Address", "ÄpfelBaum", "ABCdEF",
    "Model1B", "ID", "getHTTPResponseCode", "Two__Under", "S3Bucket", "a1B2c3",
]  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_camel_to_snake_case_matches_flask_sqlalchemy(name):
    assert camel_to_snake_case(name) == flask_sqlalchemy.model.camel_to_snake_case(name)


def _define(db):
    """The same model hierarchy on either extension; returns {label: table name or None}."""

    class IdMixin:
        id = sa.Column(sa.Integer, primary_key=True)

    class NamedMixin:
        __tablename__ = "from_mixin"
        id = sa.Column(sa.Integer, primary_key=True)

    class UserRole(db.Model):
        id = sa.Column(sa.Integer, primary_key=True)

    class Employee(db.Model):  # joined-table inheritance root
        id = sa.Column(sa.Integer, primary_key=True)
        kind = sa.Column(sa.String(20))
        __mapper_args__ = {"polymorphic_on": kind, "polymorphic_identity": "employee"}

    class Engineer(Employee):  # joined: its own primary key → its own table
        id = sa.Column(sa.Integer, sa.ForeignKey(Employee.id), primary_key=True)
        __mapper_args__ = {"polymorphic_identity": "engineer"}

    class Manager(Employee):  # single-table: no primary key → the parent's table
        __mapper_args__ = {"polymorphic_identity": "manager"}

    class Explicit(db.Model):
        __tablename__ = "my_table"
        id = sa.Column(sa.Integer, primary_key=True)

    class Abstract(db.Model):
        __abstract__ = True
        id = sa.Column(sa.Integer, primary_key=True)

    class FromAbstract(Abstract):
        pass

    class WithMixin(IdMixin, db.Model):
        pass

    class WithNamedMixin(NamedMixin, db.Model):
        pass

    class Declared(db.Model):
        @declared_attr.directive
        def __tablename__(cls) -> str:  # noqa: N805
            return "declared_" + cls.__name__.lower()

        id = sa.Column(sa.Integer, primary_key=True)

    class HTTPServerConfig(db.Model):
        id = sa.Column(sa.Integer, primary_key=True)

    class Other(db.Model):
        __bind_key__ = "other"
        id = sa.Column(sa.Integer, primary_key=True)

    classes = [
        UserRole, Employee, Engineer, Manager, Explicit, FromAbstract, WithMixin,
        WithNamedMixin, Declared, HTTPServerConfig, Other,
    ]  # fmt: skip
    return {
        cls.__name__: (
            cls.__table__.name,
            "__tablename__" in cls.__dict__,
            cls.__table__.metadata.info.get("bind_key"),
        )
        for cls in classes
    }


def test_table_names_and_binds_match_flask_sqlalchemy():
    ours = _define(SQLAlchemy())
    theirs = _define(flask_sqlalchemy.SQLAlchemy())
    assert ours == theirs
    assert ours["Manager"][0] == "employee"
    assert ours["Engineer"][0] == "engineer"
    assert ours["HTTPServerConfig"][0] == "http_server_config"
    assert ours["Other"][2] == "other"


def test_classic_base_with_default_meta_matches_flask_sqlalchemy():
    """An app's own ``declarative_base(cls=Model, metaclass=DefaultMeta)`` as model_class:
    used as it is, with the same names and binds as on Flask-SQLAlchemy."""
    from erlen.db.model import DefaultMeta, Model

    ours_base = sa.orm.declarative_base(cls=Model, metaclass=DefaultMeta)
    ours_db = SQLAlchemy(model_class=ours_base)
    theirs_base = sa.orm.declarative_base(
        cls=flask_sqlalchemy.model.Model, metaclass=flask_sqlalchemy.model.DefaultMeta
    )
    ours = _define(ours_db)
    assert ours == _define(flask_sqlalchemy.SQLAlchemy(model_class=theirs_base))
    assert ours_db.Model is ours_base and ours_base.query_class is ours_db.Query
    assert ours_db.metadata is ours_base.metadata and ours["Other"][2] == "other"


def test_classic_base_takes_the_metadata_given():
    from erlen.db.model import DefaultMeta, Model

    metadata = sa.MetaData()
    db = SQLAlchemy(
        model_class=sa.orm.declarative_base(cls=Model, metaclass=DefaultMeta), metadata=metadata
    )
    assert db.Model.metadata is metadata is db.metadata


def test_metadata_argument_is_ignored_with_a_2x_base():
    class Base(DeclarativeBase):
        pass

    with pytest.warns(DeprecationWarning, match="ignored"):
        db = SQLAlchemy(model_class=Base, metadata=sa.MetaData())
    assert db.metadata is Base.metadata is db.Model.metadata


def test_two_declarative_bases_are_refused():
    class Base(DeclarativeBase, sa.orm.DeclarativeBaseNoMeta):  # type: ignore[misc]
        pass

    with pytest.raises(ValueError, match="Only one declarative base"):
        SQLAlchemy(model_class=Base)


def test_typed_declarative_models():
    db = SQLAlchemy()

    class BlogPost(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        title: Mapped[str] = mapped_column(db.String(80))
        body: Mapped[str | None]

    assert BlogPost.__tablename__ == "blog_post"
    assert set(BlogPost.__table__.c.keys()) == {"id", "title", "body"}
    assert BlogPost.__table__.c.body.nullable
    assert BlogPost.metadata is db.metadata


def test_disable_autonaming_requires_names():
    db = SQLAlchemy(disable_autonaming=True)
    with pytest.raises(sa.exc.InvalidRequestError):

        class Unnamed(db.Model):
            id = sa.Column(sa.Integer, primary_key=True)

    class Named(db.Model):
        __tablename__ = "named"
        id = sa.Column(sa.Integer, primary_key=True)

    assert Named.__table__.name == "named"


def test_model_class_may_be_a_declarative_base_with_its_metadata():
    class Base(DeclarativeBase):
        metadata = sa.MetaData(naming_convention={"uq": "uq_%(table_name)s_%(column_0_name)s"})

    db = SQLAlchemy(model_class=Base)

    class Thing(db.Model):
        id: Mapped[int] = mapped_column(primary_key=True)
        code: Mapped[str] = mapped_column(sa.String(10), unique=True)

    assert Thing.__tablename__ == "thing"
    assert db.metadata is Base.metadata
    assert db.metadata.tables["thing"] is Thing.__table__
    assert Thing.query_class is db.Query
    other = db._make_metadata("other")
    assert other.naming_convention == Base.metadata.naming_convention


def test_db_table_defaults_metadata_and_bind_key():
    db = SQLAlchemy()
    plain = db.Table("plain", db.Column("id", db.Integer, primary_key=True))
    bound = db.Table("bound", db.Column("id", db.Integer, primary_key=True), bind_key="other")
    assert plain.metadata is db.metadata
    assert bound.metadata is db.metadatas["other"]
    assert bound.metadata.info["bind_key"] == "other"


def test_sqlalchemy_names_are_proxied():
    db = SQLAlchemy()
    assert db.Column is sa.Column and db.Integer is sa.Integer and db.select is sa.select
    assert db.ForeignKey is sa.ForeignKey and db.text is sa.text
    assert db.joinedload is sa.orm.joinedload and db.event is sa.event
    with pytest.raises(AttributeError):
        db.no_such_name  # noqa: B018
    with pytest.raises(AttributeError):
        db._private  # noqa: B018


def test_model_repr_matches_flask_sqlalchemy(tmp_path):
    results = []
    for flask_mod, ext in ((erlen, SQLAlchemy), (flask, flask_sqlalchemy.SQLAlchemy)):
        app = flask_mod.Flask("repr_app", instance_path=str(tmp_path / flask_mod.__name__))
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
        db = ext(app)

        class Thing(db.Model):
            id = sa.Column(sa.Integer, primary_key=True)

        with app.app_context():
            db.create_all()
            thing = Thing()
            db.session.add(thing)
            db.session.commit()
            results.append(repr(thing))
    assert results[0] == results[1] == "<Thing 1>"


def _oracle_app(flask_mod, ext, tmp_path):
    """One Flask-SQLAlchemy app, written once, run on either stack."""
    app = flask_mod.Flask("same_app", instance_path=str(tmp_path / flask_mod.__name__))
    app.config.update(TESTING=True, SQLALCHEMY_DATABASE_URI="sqlite:///same.db")
    db = ext(app)

    class Author(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        name = db.Column(db.String(20), unique=True)

    @app.post("/<name>")
    def add(name):
        db.session.add(Author(name=name))
        try:
            db.session.commit()
        except sa.exc.IntegrityError:
            db.session.rollback()
            return "dup", 409
        return "ok", 201

    @app.get("/get/<int:id>")
    def get(id):
        return db.get_or_404(Author, id, description="nobody").name

    @app.get("/one/<name>")
    def one(name):
        return str(db.one_or_404(db.select(Author).filter_by(name=name)).id)

    @app.get("/first")
    def first():
        return db.first_or_404(db.select(Author.name).order_by(Author.name.desc()))

    @app.get("/query/<int:id>")
    def query(id):
        return Author.query.get_or_404(id).name

    @app.post("/flush")
    def flush():
        db.session.add(Author(name="flushed"))
        db.session.flush()
        return "flushed"

    @app.get("/count")
    def count():
        return str(Author.query.count())

    with app.app_context():
        db.create_all()
    return app.test_client()


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.LegacyAPIWarning")  # the oracle's Query.get
def test_same_app_answers_as_on_flask_sqlalchemy(tmp_path):
    ours = _oracle_app(erlen, SQLAlchemy, tmp_path)
    theirs = _oracle_app(flask, flask_sqlalchemy.SQLAlchemy, tmp_path)
    steps = [
        ("post", "/ann"), ("post", "/bob"), ("post", "/ann"), ("get", "/get/1"),
        ("get", "/get/9"), ("get", "/one/bob"), ("get", "/one/zed"), ("get", "/first"),
        ("get", "/query/2"), ("get", "/query/7"), ("post", "/flush"), ("get", "/count"),
    ]  # fmt: skip
    for method, path in steps:
        mine = getattr(ours, method)(path)
        real = getattr(theirs, method)(path)
        assert mine.status_code == real.status_code, path
        if real.status_code < 400:
            assert mine.data == real.data, path
        else:
            assert (b"nobody" in mine.data) == (b"nobody" in real.data), path
