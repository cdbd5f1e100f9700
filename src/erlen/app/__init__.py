"""The application: ``Erlen`` (``Flask`` in ``erlen``'s namespace) and its parts."""

from .app import Erlen, FormDataRoutingRedirect

__all__ = ["Erlen", "FormDataRoutingRedirect"]
