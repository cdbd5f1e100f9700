"""The application core (Flask's ``sansio``): ``App`` turns a request into a response and
knows no server interface. ``erlen.Erlen`` (in ``erlen.app``) adds the WSGI adapter and the
tools (test client, CLI runner, development server)."""

from .app import App
from .dispatch import FormDataRoutingRedirect

__all__ = ["App", "FormDataRoutingRedirect"]
