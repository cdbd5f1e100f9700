"""``Mail`` and ``Connection``: sending ``Message``s over one SMTP connection (``smtplib``),
Flask-Mail 0.10's API, with the ``email_dispatched`` signal and ``record_messages``.

Differences from Flask-Mail, for safety (docs/decisions/019-mail.md): STARTTLS and SSL verify
the server's certificate and host name (``MAIL_SSL_CONTEXT`` to trust another CA); the
password never reaches a log, also with ``MAIL_DEBUG`` (the AUTH exchange is redacted); any
SMTP or network failure raises ``MailSendError`` (an ``smtplib.SMTPException``, so existing
``except smtplib.SMTPException`` / ``except OSError`` code still catches it) naming the server,
never the password.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from blinker import Namespace

from .message import AddressType, BadHeaderError, Message, envelope_address

_log = logging.getLogger("erlen.mail")
_signals = Namespace()
#: Sent after each message is handed to the server (or suppressed): ``(app, message=...)``.
email_dispatched = _signals.signal("email-dispatched")


class MailSendError(smtplib.SMTPException):
    """Sending failed (connection, TLS, login, refused sender/recipients): nothing or not
    everything was delivered. ``server``/``port`` say where; ``__cause__`` is the original."""

    def __init__(self, message: str, server: str, port: int) -> None:
        super().__init__(message)
        self.server = server
        self.port = port


class _SMTPMixin:
    """smtplib's debug output without the AUTH exchange (it carries the password)."""

    _redact = False

    def _print_debug(self, *args: Any) -> None:
        if self._redact:
            args = (args[0], "<AUTH exchange not shown>") if args else args
        print(*args, file=sys.stderr)


class _SMTP(_SMTPMixin, smtplib.SMTP):
    pass


class _SMTP_SSL(_SMTPMixin, smtplib.SMTP_SSL):  # noqa: N801 - smtplib's name
    pass


class Connection:
    """An open SMTP connection (``with mail.connect() as conn: conn.send(msg)``), reconnecting
    after ``MAIL_MAX_EMAILS`` messages; with ``MAIL_SUPPRESS_SEND`` nothing is opened."""

    def __init__(self, mail: _Mail) -> None:
        self.mail = mail
        self.host: smtplib.SMTP | None = None
        self.num_emails = 0

    def __enter__(self) -> Connection:
        self.host = None if self.mail.suppress else self.configure_host()
        self.num_emails = 0
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.host is not None:
            try:
                self.host.quit()
            except (smtplib.SMTPException, OSError):
                self.host.close()
            self.host = None

    def _failed(self, what: str, exc: BaseException) -> MailSendError:
        mail = self.mail
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        _log.warning("mail: %s failed via %s:%d: %s", what, mail.server, mail.port, reason)
        error = MailSendError(
            f"could not send mail via {mail.server}:{mail.port} ({what}): {reason}",
            mail.server,
            mail.port,
        )
        error.__cause__ = exc
        return error

    def configure_host(self) -> smtplib.SMTP:
        """Connect, STARTTLS if ``MAIL_USE_TLS``, log in if a username and password are set."""
        mail = self.mail
        context = mail.ssl_context or ssl.create_default_context()
        host: smtplib.SMTP
        try:
            if mail.use_ssl:
                host = _SMTP_SSL(mail.server, mail.port, timeout=mail.timeout, context=context)
            else:
                host = _SMTP(mail.server, mail.port, timeout=mail.timeout)
        except (smtplib.SMTPException, OSError) as e:
            raise self._failed("connect", e) from e
        host.set_debuglevel(mail.debug)
        try:
            if mail.use_tls:
                host.starttls(context=context)
            if mail.username and mail.password:
                host._redact = True  # type: ignore[attr-defined]
                try:
                    host.login(mail.username, mail.password)
                finally:
                    host._redact = False  # type: ignore[attr-defined]
        except (smtplib.SMTPException, OSError) as e:
            host.close()
            raise self._failed("login" if mail.username else "STARTTLS", e) from e
        return host

    def send(self, message: Message, envelope_from: AddressType | None = None) -> None:
        """Check and send one message (``BadHeaderError`` before anything goes out)."""
        from ..globals import current_app

        if not message.send_to:
            raise ValueError("No recipients have been added")
        if not message.sender:
            raise ValueError(
                "The message does not specify a sender and a default sender has not been configured"
            )
        if message.has_bad_headers():
            raise BadHeaderError("a header value holds a CR or LF character")
        if message.date is None:
            message.date = time.time()
        if self.host is not None:
            sender = envelope_address(envelope_from or message.sender)
            recipients = [envelope_address(a) for a in message.send_to]
            data = message.as_bytes()
            try:
                self.host.sendmail(
                    sender, recipients, data, message.mail_options, message.rcpt_options
                )
            except (smtplib.SMTPException, OSError) as e:
                raise self._failed("send", e) from e
        email_dispatched.send(current_app._get_current_object(), message=message)  # type: ignore[attr-defined]
        self.num_emails += 1
        if self.num_emails == self.mail.max_emails:
            self.num_emails = 0
            if self.host is not None:
                self.host.quit()
                self.host = self.configure_host()

    def send_message(self, *args: Any, **kwargs: Any) -> None:
        """``send(Message(*args, **kwargs))``."""
        self.send(Message(*args, **kwargs))


class _MailMixin:
    app: Any = None

    @contextmanager
    def record_messages(self) -> Iterator[list[Message]]:
        """Collect every message dispatched in the block (sent or suppressed), for tests."""
        outbox: list[Message] = []

        def record(app: Any, message: Message) -> None:
            outbox.append(message)

        with email_dispatched.connected_to(record):
            yield outbox

    def connect(self) -> Connection:
        """An unopened ``Connection``: use it as ``with mail.connect() as conn``."""
        from ..globals import current_app

        app = self.app or current_app
        try:
            return Connection(app.extensions["mail"])
        except KeyError:
            raise RuntimeError(
                "The current application was not configured with Flask-Mail"
            ) from None

    def send(self, message: Message) -> None:
        """Send one message on a connection of its own."""
        with self.connect() as connection:
            connection.send(message)

    def send_message(self, *args: Any, **kwargs: Any) -> None:
        """``send(Message(*args, **kwargs))``."""
        self.send(Message(*args, **kwargs))


class _Mail(_MailMixin):
    """One app's mail settings, read from its config by ``Mail.init_app``."""

    def __init__(self, config: Any, debug: bool = False, testing: bool = False) -> None:
        self.server: str = config.get("MAIL_SERVER", "localhost")
        self.username: str | None = config.get("MAIL_USERNAME")
        self.password: str | None = config.get("MAIL_PASSWORD")
        self.port: int = int(config.get("MAIL_PORT", 25))
        self.use_tls: bool = bool(config.get("MAIL_USE_TLS", False))
        self.use_ssl: bool = bool(config.get("MAIL_USE_SSL", False))
        self.default_sender: AddressType | None = config.get("MAIL_DEFAULT_SENDER")
        self.debug = int(config.get("MAIL_DEBUG", debug))
        self.max_emails: int | None = config.get("MAIL_MAX_EMAILS")
        self.suppress = bool(config.get("MAIL_SUPPRESS_SEND", testing))
        self.ascii_attachments = bool(config.get("MAIL_ASCII_ATTACHMENTS", False))
        self.ssl_context: ssl.SSLContext | None = config.get("MAIL_SSL_CONTEXT")
        self.timeout: float = float(config.get("MAIL_TIMEOUT", 30))

    def __repr__(self) -> str:  # never shows the password
        return f"<mail settings {self.server}:{self.port} user={self.username!r}>"

    def connect(self) -> Connection:
        """An unopened ``Connection`` with these settings."""
        return Connection(self)


class Mail(_MailMixin):
    """The mail battery: ``Mail(app)`` or ``mail = Mail(); mail.init_app(app)``."""

    def __init__(self, app: Any = None) -> None:
        self.app = app
        self.state: _Mail | None = self.init_app(app) if app is not None else None

    def init_mail(self, config: Any, debug: bool = False, testing: bool = False) -> _Mail:
        """The settings object for ``config`` (Flask-Mail's hook)."""
        return _Mail(config, debug, testing)

    def init_app(self, app: Any) -> _Mail:
        """Read the ``MAIL_*`` config (once, as Flask-Mail) into ``app.extensions["mail"]``."""
        state = self.init_mail(app.config, app.debug, app.testing)
        app.extensions["mail"] = state
        return state

    def __getattr__(self, name: str) -> Any:
        state = self.__dict__.get("state")
        if state is None:
            raise AttributeError(name)
        return getattr(state, name)
