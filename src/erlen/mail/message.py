"""``Message`` and ``Attachment``: Flask-Mail 0.10's message API on the stdlib ``email``
package (``EmailMessage`` with ``policy.SMTP``), which encodes non-ASCII names, subjects and
file names (RFC 2047/2231) and folds long headers itself.

Safety: a CR or LF in any header value (subject, sender, recipients, reply-to, extra
headers, attachment file names and headers) raises ``BadHeaderError`` before anything is
built or sent, so a form field cannot inject headers; ``Bcc`` is never a header, only the
envelope's recipients.
"""

from __future__ import annotations

import mimetypes
import re
import socket
import time
import unicodedata
from collections.abc import Iterable
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any

AddressType = str | tuple[str, str]
_SPACES = re.compile(r"\s+")
_SPECIALS = frozenset('()<>@,;:\\".[]')
_fqdn: str | None = None


class BadHeaderError(Exception):
    """A header value holds a CR or LF (header injection): nothing was sent."""


def _domain() -> str:
    """This host's name for Message-IDs, looked up once (``getfqdn`` may ask DNS)."""
    global _fqdn
    if _fqdn is None:
        _fqdn = socket.getfqdn()
    return _fqdn


def _has_newline(value: str) -> bool:
    return "\r" in value or "\n" in value


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _as_address(value: AddressType) -> Address | str:
    """A header address: a ``(name, addr)`` pair as an ``Address`` (the name encoded as
    needed), a string as written (``"Name <addr>"`` is parsed by the header registry)."""
    if isinstance(value, tuple):
        name, addr = value
        return Address(display_name=_text(name), addr_spec=_text(addr))
    return _text(value)


def _joined(pair: tuple[str, str]) -> str:
    """``"Name <addr>"``, the name quoted when it holds specials (``"Doe, John"`` stays one
    address)."""
    name, addr = _text(pair[0]), _text(pair[1])
    if any(c in _SPECIALS for c in name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{addr}>"


def envelope_address(value: AddressType) -> str:
    """The bare address for the SMTP envelope (MAIL FROM / RCPT TO); an IDN domain as IDNA."""
    addr = _text(value[1]) if isinstance(value, tuple) else parseaddr(_text(value))[1]
    local, at, domain = addr.rpartition("@")
    if at and not domain.isascii():
        addr = f"{local}@{domain.encode('idna').decode('ascii')}"
    return addr


class Attachment:
    """A file attached to a message (``data`` is required; the type is guessed from the
    file name, else ``text/plain`` for str and ``application/octet-stream`` for bytes)."""

    def __init__(
        self,
        filename: str | None = None,
        content_type: str | None = None,
        data: str | bytes | None = None,
        disposition: str | None = None,
        headers: dict[str, str] | Iterable[tuple[str, str]] | None = None,
    ) -> None:
        if data is None:
            raise ValueError("The 'data' argument is required.")
        if content_type is None and filename is not None:
            content_type = mimetypes.guess_type(filename)[0]
        if content_type is None:
            content_type = "text/plain" if isinstance(data, str) else "application/octet-stream"
        self.filename = filename
        self.content_type = content_type
        self.data = data
        self.disposition = disposition or "attachment"
        self.headers: dict[str, str] = dict(headers or {})


class Message:
    """One e-mail: Flask-Mail's constructor; ``sender`` defaults to ``MAIL_DEFAULT_SENDER``."""

    def __init__(
        self,
        subject: str = "",
        recipients: list[AddressType] | None = None,
        body: str | None = None,
        html: str | None = None,
        alts: dict[str, str] | Iterable[tuple[str, str]] | None = None,
        sender: AddressType | None = None,
        cc: list[AddressType] | None = None,
        bcc: list[AddressType] | None = None,
        attachments: list[Attachment] | None = None,
        reply_to: AddressType | None = None,
        date: float | None = None,
        charset: str | None = None,
        extra_headers: dict[str, str] | None = None,
        mail_options: list[str] | None = None,
        rcpt_options: list[str] | None = None,
    ) -> None:
        if not sender:
            from ..globals import current_app

            state = current_app.extensions.get("mail") if current_app else None
            sender = getattr(state, "default_sender", None)
        if isinstance(sender, tuple):
            sender = _joined(sender)  # a string, as Flask-Mail; encoded when built
        self.subject = subject
        self.sender = sender
        self.recipients: list[AddressType] = list(recipients or [])
        self.body = body
        self.alts: dict[str, str] = dict(alts or {})
        if html is not None:
            self.alts["html"] = html
        self.cc: list[AddressType] = list(cc or [])
        self.bcc: list[AddressType] = list(bcc or [])
        self.attachments: list[Attachment] = list(attachments or [])
        self.reply_to = reply_to
        self.date = date
        self.charset = charset
        self.extra_headers = extra_headers
        self.mail_options: list[str] = list(mail_options or [])
        self.rcpt_options: list[str] = list(rcpt_options or [])
        self.msgId = make_msgid(domain=_domain())  # noqa: N815 - Flask-Mail's attribute name

    @property
    def html(self) -> str | None:
        """The HTML alternative (``alts["html"]``)."""
        return self.alts.get("html")

    @html.setter
    def html(self, value: str | None) -> None:
        if value is None:
            self.alts.pop("html", None)
        else:
            self.alts["html"] = value

    @property
    def send_to(self) -> set[AddressType]:
        """Every envelope recipient: To, Cc and Bcc."""
        return {*self.recipients, *self.cc, *self.bcc}

    def add_recipient(self, recipient: AddressType) -> None:
        """Add a To recipient."""
        self.recipients.append(recipient)

    def attach(
        self,
        filename: str | None = None,
        content_type: str | None = None,
        data: str | bytes | None = None,
        disposition: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Attach a file (see ``Attachment``)."""
        self.attachments.append(Attachment(filename, content_type, data, disposition, headers))

    # -- checking and building -------------------------------------------------------------

    def _header_values(self) -> Iterable[str]:
        for value in (self.sender, self.reply_to, *self.recipients, *self.cc, *self.bcc):
            if isinstance(value, tuple):
                yield from (_text(v) for v in value)
            elif value is not None:
                yield _text(value)
        yield _text(self.subject or "")
        for key, value in (self.extra_headers or {}).items():
            yield _text(key)
            yield _text(value)
        for attachment in self.attachments:
            yield attachment.filename or ""
            yield attachment.content_type
            yield attachment.disposition
            for key, value in attachment.headers.items():
                yield _text(key)
                yield _text(value)

    def has_bad_headers(self) -> bool:
        """Whether any header value holds a CR or LF (folded subjects are refused too)."""
        return any(_has_newline(value) for value in self._header_values())

    is_bad_headers = has_bad_headers  # Flask-Mail's older name

    def _message(self) -> EmailMessage:
        if self.has_bad_headers():
            raise BadHeaderError("a header value holds a CR or LF character")
        from ..globals import current_app

        state = current_app.extensions.get("mail") if current_app else None
        ascii_names = bool(getattr(state, "ascii_attachments", False))
        charset = self.charset or "utf-8"
        msg = EmailMessage(policy=policy.SMTP)
        if self.subject:
            msg["Subject"] = _text(self.subject)
        if self.sender:
            msg["From"] = _as_address(self.sender)
        if self.recipients:
            msg["To"] = [_as_address(a) for a in dict.fromkeys(self.recipients)]
        msg["Date"] = formatdate(self.date if self.date is not None else time.time(), True)
        msg["Message-ID"] = self.msgId
        if self.cc:
            msg["Cc"] = [_as_address(a) for a in dict.fromkeys(self.cc)]
        if self.reply_to:
            msg["Reply-To"] = _as_address(self.reply_to)
        for key, value in (self.extra_headers or {}).items():
            msg[key] = value
        msg.set_content(self.body or "", charset=charset)
        for subtype, content in self.alts.items():
            msg.add_alternative(content, subtype=subtype, charset=charset)
        for attachment in self.attachments:
            self._add_attachment(msg, attachment, ascii_names, charset)
        return msg

    @staticmethod
    def _add_attachment(
        msg: EmailMessage, attachment: Attachment, ascii_names: bool, charset: str
    ) -> None:
        """Attach as bytes (base64), so the receiver decodes exactly ``data``."""
        maintype, _, subtype = attachment.content_type.partition("/")
        filename = attachment.filename
        if filename is not None and ascii_names:
            filename = unicodedata.normalize("NFKD", filename)
            filename = _SPACES.sub(" ", filename.encode("ascii", "ignore").decode()).strip()
        extra = [f"{k}: {v}" for k, v in attachment.headers.items()]
        data = attachment.data
        params = {}
        if isinstance(data, str):  # sent as given (set_content would add a newline)
            data = data.encode(charset)
            if maintype == "text":
                params["charset"] = charset
        msg.add_attachment(
            data,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=filename,
            disposition=attachment.disposition,
            headers=extra,
            params=params,
        )

    def as_string(self) -> str:
        """The message as text (``policy.SMTP``: CRLF line ends)."""
        return self._message().as_string()

    def as_bytes(self) -> bytes:
        """The message as the bytes sent over SMTP."""
        return self._message().as_bytes()

    def __str__(self) -> str:
        return self.as_string()

    def __bytes__(self) -> bytes:
        return self.as_bytes()

    def send(self, connection: Any) -> None:
        """Send through an open ``Connection``."""
        connection.send(self)
