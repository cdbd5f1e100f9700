"""erlen.security roles (Flask-Security-Too's quick-start API) with erlen.db models, over
SQLite, PostgreSQL and MariaDB (``database_uri``), on erlen.login's login path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import bcrypt
import pytest
from werkzeug.security import generate_password_hash as wz_generate

import erlen
from erlen.db import SQLAlchemy
from erlen.login import login_user, logout_user
from erlen.security import (
    RoleMixin,
    Security,
    SQLAlchemySessionUserDatastore,
    SQLAlchemyUserDatastore,
    UserMixin,
    auth_required,
    check_password_hash,
    current_user,
    hash_password,
    roles_accepted,
    roles_required,
    verify_and_update_password,
    verify_password,
)

JSON = {"Accept": "application/json"}


def define_models(db: Any) -> tuple[Any, Any]:
    roles_users = db.Table(
        "roles_users",
        db.Column("user_id", db.Integer, db.ForeignKey("user.id")),
        db.Column("role_id", db.Integer, db.ForeignKey("role.id")),
    )

    class Role(db.Model, RoleMixin):
        id = db.Column(db.Integer, primary_key=True)
        name = db.Column(db.String(80), unique=True)
        description = db.Column(db.String(255))

    class User(db.Model, UserMixin):
        id = db.Column(db.Integer, primary_key=True)
        email = db.Column(db.String(255), unique=True)
        password = db.Column(db.String(255))
        active = db.Column(db.Boolean)
        fs_uniquifier = db.Column(db.String(64), unique=True, nullable=False)
        roles = db.relationship("Role", secondary=roles_users, backref="users")

    return User, Role


@pytest.fixture
def setup(tmp_path: Path, database_uri: str) -> Any:
    app = erlen.Erlen("roles_app", instance_path=str(tmp_path / "instance"))
    app.config.update(TESTING=True, SECRET_KEY="roles key", SQLALCHEMY_DATABASE_URI=database_uri)
    db = SQLAlchemy(app)
    User, Role = define_models(db)
    store = SQLAlchemyUserDatastore(db, User, Role)
    security = Security(app, store)
    app.login_manager.login_view = "login_page"

    @app.route("/do-login/<email>")
    def login(email: str) -> str:
        user = store.find_user(case_insensitive=True, email=email)
        if user is None or not verify_password(erlen.request.args.get("pw", ""), user.password):
            return "no"
        login_user(user)
        return "ok"

    @app.route("/login")
    def login_page() -> str:
        return "login page"

    @app.route("/logout")
    def logout() -> str:
        logout_user()
        return "bye"

    @app.route("/admin")
    @roles_required("admin")
    def admin() -> str:
        return f"admin {current_user.email}"

    @app.route("/both")
    @roles_required("admin", "editor")
    def both() -> str:
        return "both"

    @app.route("/staff")
    @roles_accepted("admin", "editor")
    def staff() -> str:
        return "staff"

    @app.route("/member")
    @auth_required()
    def member() -> str:
        return "member"

    @app.route("/member2")
    @auth_required("session", within=10)
    def member2() -> str:
        return "member2"

    with app.app_context():
        db.create_all()
        pw = hash_password("pw")  # one argon2 hash for the fixtures' users
        store.find_or_create_role("admin", description="all")
        store.find_or_create_role("editor")
        store.commit()
        store.create_user(email="Ada@example.com", password=pw, roles=["admin"])
        store.create_user(email="ed@example.com", password=pw, roles=["editor"])
        store.create_user(email="nobody@example.com", password=pw)
        store.commit()
    yield app, db, store, security, User, Role
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def _login(client: Any, email: str) -> None:
    assert client.get(f"/do-login/{email}?pw=pw").data == b"ok"


def test_anonymous_gets_the_login_path(setup: Any) -> None:
    app, *_ = setup
    client = app.test_client()
    for path in ("/admin", "/staff", "/member", "/member2"):
        resp = client.get(path)
        assert resp.status_code == 302
        assert resp.headers["Location"] == f"/login?next=%2F{path[1:]}"
        resp = client.get(path, headers=JSON)
        assert resp.status_code == 401 and resp.get_json()["error"] == "unauthorized"


def test_roles_required_and_accepted(setup: Any) -> None:
    app, *_ = setup
    ada, ed, nobody = app.test_client(), app.test_client(), app.test_client()
    _login(ada, "ada@example.com")
    _login(ed, "ed@example.com")
    _login(nobody, "nobody@example.com")
    assert ada.get("/admin").data == b"admin Ada@example.com"
    assert ada.get("/staff").data == b"staff"
    assert ada.get("/both").status_code == 403
    assert ed.get("/admin").status_code == 403
    assert ed.get("/staff").data == b"staff"
    assert nobody.get("/staff").status_code == 403
    assert nobody.get("/member").data == b"member"
    assert nobody.get("/member2").data == b"member2"
    resp = ed.get("/admin", headers=JSON)
    assert resp.status_code == 403 and resp.get_json()["error"] == "forbidden"


def test_unauthorized_view_redirects_a_user_lacking_the_role(setup: Any) -> None:
    app, *_ = setup
    app.config["SECURITY_UNAUTHORIZED_VIEW"] = "/sorry"
    client = app.test_client()
    _login(client, "ed@example.com")
    resp = client.get("/admin")
    assert resp.status_code == 302 and resp.headers["Location"] == "/sorry"


def test_datastore_operations(setup: Any) -> None:
    app, db, store, _, User, Role = setup
    with app.app_context():
        ada = store.find_user(email="Ada@example.com")
        if db.engine.dialect.name != "mysql":  # MariaDB's default collation ignores case
            assert store.find_user(email="ada@example.com") is None
        assert store.find_user(case_insensitive=True, email="ADA@example.com") is ada
        assert ada.has_role("admin") and not ada.has_role("editor")
        assert ada.has_role(store.find_role("admin"))
        assert ada.password.startswith("$argon2id$") and check_password_hash(ada.password, "pw")
        assert len(ada.fs_uniquifier) == 32 and ada.get_id() == ada.fs_uniquifier
        assert ada.active is True
        assert store.find_or_create_role("admin") is store.find_role("admin")
        assert store.find_role("admin") == "admin" and store.find_role("admin") != "editor"
        assert store.add_role_to_user(ada, "editor") is True
        assert store.add_role_to_user(ada, "editor") is False
        store.commit()
        assert store.find_user(email="Ada@example.com").has_role("editor")
        assert store.remove_role_from_user(ada, "editor") is True
        assert store.remove_role_from_user(ada, "editor") is False
        assert store.remove_role_from_user(ada, "no such role") is False
        with pytest.raises(ValueError, match="No such role"):
            store.create_user(email="x@example.com", password="$argon2id$x" * 5, roles=["ghost"])
        with pytest.raises(ValueError, match="No such role"):
            store.add_role_to_user(ada, "ghost")
        role = store.create_role(name="viewer", description="reads")
        store.commit()
        assert store.find_role("viewer") is role
        assert db.session.execute(db.select(db.func.count()).select_from(Role)).scalar() == 3


def test_create_user_hashes_a_plain_password(setup: Any) -> None:
    app, _, store, *_ = setup
    with app.app_context():
        user = store.create_user(email="plain@example.com", password="s3cret")
        store.commit()
        assert user.password.startswith("$argon2id$")
        assert verify_password("s3cret", user.password) and not verify_password("x", user.password)


def test_deactivated_users_are_logged_out_and_can_come_back(setup: Any) -> None:
    app, _, store, *_ = setup
    client = app.test_client()
    _login(client, "ada@example.com")
    assert client.get("/admin").status_code == 200
    with app.app_context():
        ada = store.find_user(email="Ada@example.com")
        assert store.deactivate_user(ada) is True
        assert store.deactivate_user(ada) is False
        store.commit()
    assert client.get("/admin").status_code == 302
    with app.app_context():
        ada = store.find_user(email="Ada@example.com")
        assert store.activate_user(ada) is True and store.activate_user(ada) is False
        store.commit()
    assert client.get("/admin").status_code == 200


def test_a_new_uniquifier_logs_the_user_out_everywhere(setup: Any) -> None:
    app, _, store, *_ = setup
    client = app.test_client()
    _login(client, "ada@example.com")
    with app.app_context():
        store.set_uniquifier(store.find_user(email="Ada@example.com"))
        store.commit()
    assert client.get("/admin").status_code == 302


def test_migrated_password_hashes_verify_and_upgrade(setup: Any) -> None:
    app, _, store, *_ = setup
    import flask
    import flask_bcrypt

    legacy = {
        "fb@example.com": flask_bcrypt.Bcrypt(flask.Flask(__name__))
        .generate_password_hash("pw", 4)
        .decode(),
        "bc@example.com": bcrypt.hashpw(b"pw", bcrypt.gensalt(4, prefix=b"2a")).decode(),
        "sc@example.com": wz_generate("pw", method="scrypt"),
        "pb@example.com": wz_generate("pw", method="pbkdf2:sha256:1000"),
    }
    with app.app_context():
        for email, h in legacy.items():
            store.create_user(email=email, password=h)
        store.commit()
        for email, h in legacy.items():
            user = store.find_user(email=email)
            assert user.password == h  # kept as given: already a hash
            assert not verify_and_update_password("wrong", user)
            assert user.password == h
            assert verify_and_update_password("pw", user)
            assert user.password.startswith("$argon2id$")
        store.commit()
    client = app.test_client()
    _login(client, "fb@example.com")
    assert client.get("/member").data == b"member"


def test_security_keeps_an_existing_login_manager_and_loader(tmp_path: Path) -> None:
    from erlen.login import LoginManager

    app = erlen.Erlen(__name__)
    app.config.update(SECRET_KEY="k", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'a.db'}")
    db = SQLAlchemy(app)
    User, Role = define_models(db)
    manager = LoginManager(app)

    @manager.user_loader
    def mine(user_id: str) -> None:
        return None

    security = Security()
    security.init_app(app, SQLAlchemyUserDatastore(db, User, Role))
    assert app.login_manager is manager and manager.user_callback is mine
    assert app.security is security and app.extensions["security"] is security
    with pytest.raises(ValueError, match="datastore"):
        Security().init_app(erlen.Erlen(__name__))


def test_session_datastore_with_a_plain_sqlalchemy_session(tmp_path: Path) -> None:
    from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table, create_engine
    from sqlalchemy.orm import DeclarativeBase, relationship, scoped_session, sessionmaker

    class Base(DeclarativeBase):
        pass

    roles_users = Table(
        "roles_users",
        Base.metadata,
        Column("user_id", Integer, ForeignKey("user.id")),
        Column("role_id", Integer, ForeignKey("role.id")),
    )

    class Role(Base, RoleMixin):
        __tablename__ = "role"
        id = Column(Integer, primary_key=True)
        name = Column(String(80), unique=True)

    class User(Base, UserMixin):
        __tablename__ = "user"
        id = Column(Integer, primary_key=True)
        email = Column(String(255), unique=True)
        password = Column(String(255))
        active = Column(Boolean)
        roles = relationship(Role, secondary=roles_users)

    engine = create_engine(f"sqlite:///{tmp_path / 'plain.db'}")
    Base.metadata.create_all(engine)
    session = scoped_session(sessionmaker(engine))
    store = SQLAlchemySessionUserDatastore(session, User, Role)
    store.find_or_create_role("admin")
    user = store.create_user(email="a@example.com", password=hash_password("pw"), roles=["admin"])
    store.commit()
    assert user.get_id() == str(user.id)  # no fs_uniquifier column: the id

    app = erlen.Erlen(__name__)
    app.config["SECRET_KEY"] = "k"
    Security(app, store)

    @app.route("/in")
    def log_in() -> str:
        login_user(store.find_user(email="a@example.com"))
        return "ok"

    @app.route("/admin")
    @roles_required("admin")
    def admin() -> str:
        return "admin"

    client = app.test_client()
    assert client.get("/admin").status_code == 401  # no login view: plain 401
    client.get("/in")
    assert client.get("/admin").data == b"admin"
    with app.test_request_context():
        assert store.get_user_by_id("not a number") is None
    session.remove()
    engine.dispose()


def test_importing_erlen_security_stays_cheap() -> None:
    import subprocess
    import sys

    code = (
        "import sys, erlen.security as s; s.check_password_hash; "
        "print(sorted(m for m in ('sqlalchemy', 'erlen.login', 'erlen.db') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
