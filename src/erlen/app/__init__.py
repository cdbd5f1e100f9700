"""The application: ``Erlen`` (``Flask`` in ``erlen``'s namespace) and its parts."""

from .app import Erlen
from .dispatch import FormDataRoutingRedirect

__all__ = ["Erlen", "FormDataRoutingRedirect"]
