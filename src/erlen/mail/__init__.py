"""E-mail for erlen apps: Flask-Mail 0.10's API on the stdlib ``email`` and ``smtplib``.

``from flask_mail import Mail, Message`` becomes ``from erlen.mail import Mail, Message``.
Importing ``erlen`` does not import this package. See ``docs/mail.md``.
"""

from __future__ import annotations

from .connection import Connection, Mail, MailSendError, email_dispatched
from .message import Attachment, BadHeaderError, Message

__all__ = [
    "Attachment",
    "BadHeaderError",
    "Connection",
    "Mail",
    "MailSendError",
    "Message",
    "email_dispatched",
]
