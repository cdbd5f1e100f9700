"""``FlaskLoginClient``: a test client logged in as ``user`` from the start."""

from __future__ import annotations

from typing import Any

from ..testing.client import ErlenClient

__all__ = ["FlaskLoginClient"]


class FlaskLoginClient(ErlenClient):
    """``app.test_client_class = FlaskLoginClient``; then ``app.test_client(user=u)`` starts
    with ``u`` in the session (``fresh_login=False`` for a non-fresh login)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        user = kwargs.pop("user", None)
        fresh = kwargs.pop("fresh_login", True)
        super().__init__(*args, **kwargs)
        if user:
            with self.session_transaction() as sess:
                sess["_user_id"] = str(user.get_id())
                sess["_fresh"] = fresh
