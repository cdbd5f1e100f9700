"""erlen.login's signals: blinker, as erlen.signals (the sender is the app).

Each is sent only when it has receivers worth the call: blinker's ``send`` returns at once
when nobody listens.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: ``user_logged_in.send(app, user=user)`` after ``login_user``.
user_logged_in = _signals.signal("logged-in")
#: ``user_logged_out.send(app, user=user)`` from ``logout_user``.
user_logged_out = _signals.signal("logged-out")
#: A user was loaded from the remember cookie (``user=``).
user_loaded_from_cookie = _signals.signal("loaded-from-cookie")
#: A user was loaded by the ``request_loader`` (``user=``).
user_loaded_from_request = _signals.signal("loaded-from-request")
#: ``confirm_login`` marked the login fresh again.
user_login_confirmed = _signals.signal("login-confirmed")
#: ``LoginManager.unauthorized`` ran.
user_unauthorized = _signals.signal("unauthorized")
#: ``LoginManager.needs_refresh`` ran.
user_needs_refresh = _signals.signal("needs-refresh")
#: The user is being loaded for this request (once per request).
user_accessed = _signals.signal("accessed")
#: Session protection marked the login non-fresh or dropped it.
session_protected = _signals.signal("session-protected")
