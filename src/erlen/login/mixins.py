"""The user classes erlen.login expects (Flask-Login's ``UserMixin``/``AnonymousUserMixin``)."""

from __future__ import annotations

from typing import Any

__all__ = ["AnonymousUserMixin", "UserMixin"]


class UserMixin:
    """Default ``is_active``/``is_authenticated``/``is_anonymous``/``get_id`` for user models;
    two users are equal when their ids are."""

    __hash__ = object.__hash__

    @property
    def is_active(self) -> bool:
        return True

    @property
    def is_authenticated(self) -> bool:
        return self.is_active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """The id as a string (what the session and the remember cookie store)."""
        try:
            return str(self.id)  # type: ignore[attr-defined]
        except AttributeError:
            raise NotImplementedError("No `id` attribute - override `get_id`") from None

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, UserMixin):
            return self.get_id() == other.get_id()
        return NotImplemented

    def __ne__(self, other: Any) -> bool:
        equal = self.__eq__(other)
        if equal is NotImplemented:
            return NotImplemented
        return not equal


class AnonymousUserMixin:
    """``current_user`` when nobody is logged in."""

    @property
    def is_authenticated(self) -> bool:
        return False

    @property
    def is_active(self) -> bool:
        return False

    @property
    def is_anonymous(self) -> bool:
        return True

    def get_id(self) -> None:
        return None
