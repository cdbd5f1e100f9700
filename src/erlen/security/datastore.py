"""User and role storage: Flask-Security-Too's ``SQLAlchemyUserDatastore`` and
``SQLAlchemySessionUserDatastore`` (the subset apps use for roles).

The datastore works with any SQLAlchemy session (``erlen.db``'s ``db.session`` or one of the
app's own); nothing here imports ``erlen.db`` (it sits in a higher layer).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

__all__ = ["SQLAlchemySessionUserDatastore", "SQLAlchemyUserDatastore", "UserDatastore"]

#: Prefixes of the hashes ``create_user`` stores as given (already hashed), not hashed again.
_HASH_PREFIXES = ("$argon2", "$2a$", "$2b$", "$2y$", "scrypt:", "pbkdf2:")


def hash_password(password: str) -> str:
    """The stored form of ``password``: ``erlen.security.generate_password_hash`` (argon2id)."""
    from . import generate_password_hash

    return generate_password_hash(password)


def _looks_hashed(value: str) -> bool:
    return value.startswith(_HASH_PREFIXES) and len(value) >= 40


class UserDatastore:
    """The operations on users and roles; subclasses say where the session comes from."""

    def __init__(self, session: Any, user_model: type, role_model: type | None = None) -> None:
        self._session = session
        self.user_model = user_model
        self.role_model = role_model

    @property
    def session(self) -> Any:
        return self._session

    # -- persistence ----------------------------------------------------------------------
    def put(self, model: Any) -> Any:
        self.session.add(model)
        return model

    def delete(self, model: Any) -> None:
        self.session.delete(model)

    def commit(self) -> None:
        self.session.commit()

    # -- users ----------------------------------------------------------------------------
    def create_user(self, **kwargs: Any) -> Any:
        """A new user (added, not committed). A plain ``password`` is hashed (argon2id); a
        value that is already a hash (argon2, bcrypt, Werkzeug scrypt/pbkdf2), e.g. from
        ``hash_password``, is kept. ``roles`` may be names or Role objects; an unknown name is
        a ``ValueError``. ``fs_uniquifier`` gets a random value when the model has it."""
        password = kwargs.get("password")
        if isinstance(password, str) and not _looks_hashed(password):
            kwargs["password"] = hash_password(password)
        roles = [self._role_of(r) for r in kwargs.pop("roles", None) or ()]
        if hasattr(self.user_model, "fs_uniquifier") and not kwargs.get("fs_uniquifier"):
            kwargs["fs_uniquifier"] = uuid.uuid4().hex
        if hasattr(self.user_model, "active") and "active" not in kwargs:
            kwargs["active"] = True
        user = self.user_model(**kwargs)
        for role in roles:
            user.roles.append(role)
        return self.put(user)

    def find_user(self, case_insensitive: bool = False, **kwargs: Any) -> Any:
        """The first user whose attributes equal ``kwargs`` (``case_insensitive``: compared
        lower-cased, for e-mail addresses), or None."""
        query: Any = select(self.user_model)
        for name, value in kwargs.items():
            column = getattr(self.user_model, name)
            if case_insensitive and isinstance(value, str):
                query = query.where(func.lower(column) == value.lower())
            else:
                query = query.where(column == value)
        return self.session.execute(query.limit(1)).scalars().first()

    def get_user_by_id(self, user_id: Any) -> Any:
        """The user with primary key ``user_id`` (a string of digits for integer keys)."""
        if isinstance(user_id, str) and user_id.isdigit():
            user_id = int(user_id)
        try:
            return self.session.get(self.user_model, user_id)
        except (ValueError, TypeError):
            return None

    def delete_user(self, user: Any) -> None:
        self.delete(user)

    def deactivate_user(self, user: Any) -> bool:
        """Mark ``user`` inactive (they can no longer log in or stay logged in); True if changed."""
        if user.active:
            user.active = False
            self.put(user)
            return True
        return False

    def activate_user(self, user: Any) -> bool:
        """Mark ``user`` active; True if it changed."""
        if not user.active:
            user.active = True
            self.put(user)
            return True
        return False

    def toggle_active(self, user: Any) -> bool:
        user.active = not user.active
        self.put(user)
        return True

    def set_uniquifier(self, user: Any, uniquifier: str | None = None) -> None:
        """A new ``fs_uniquifier``: every session and remember cookie of the user stops working."""
        user.fs_uniquifier = uniquifier or uuid.uuid4().hex
        self.put(user)

    # -- roles ----------------------------------------------------------------------------
    def _need_roles(self) -> type:
        if self.role_model is None:
            raise RuntimeError("This datastore has no role model.")
        return self.role_model

    def create_role(self, **kwargs: Any) -> Any:
        """A new role (added, not committed)."""
        return self.put(self._need_roles()(**kwargs))

    def find_role(self, role: Any) -> Any:
        """The role named ``role`` (or ``role`` itself when it is a Role), or None."""
        model = self._need_roles()
        if isinstance(role, model):
            return role
        query: Any = select(model).where(model.name == role).limit(1)  # type: ignore[attr-defined]
        return self.session.execute(query).scalars().first()

    def find_or_create_role(self, name: str, **kwargs: Any) -> Any:
        """The role named ``name``, created (added, not committed) if there is none."""
        return self.find_role(name) or self.create_role(name=name, **kwargs)

    def _role_of(self, role: Any) -> Any:
        found = self.find_role(role)
        if found is None:
            raise ValueError(f"No such role: {role!r}")
        return found

    def add_role_to_user(self, user: Any, role: Any) -> bool:
        """Give ``user`` the role (a name or a Role); True if they did not have it."""
        role = self._role_of(role)
        if role in user.roles:
            return False
        user.roles.append(role)
        self.put(user)
        return True

    def remove_role_from_user(self, user: Any, role: Any) -> bool:
        """Take the role (a name or a Role) from ``user``; True if they had it."""
        role = self.find_role(role)
        if role is None or role not in user.roles:
            return False
        user.roles.remove(role)
        self.put(user)
        return True


class SQLAlchemyUserDatastore(UserDatastore):
    """``SQLAlchemyUserDatastore(db, User, Role)``: uses ``db.session`` (``erlen.db`` or
    Flask-SQLAlchemy's API)."""

    def __init__(self, db: Any, user_model: type, role_model: type | None = None) -> None:
        self.db = db
        super().__init__(None, user_model, role_model)

    @property
    def session(self) -> Any:
        return self.db.session


class SQLAlchemySessionUserDatastore(UserDatastore):
    """``SQLAlchemySessionUserDatastore(session, User, Role)``: a plain SQLAlchemy (scoped)
    session of the app's own."""
