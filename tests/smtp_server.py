"""A real SMTP server on loopback for tests (aiosmtpd in a thread), reusable by any app's
tests: plain, STARTTLS with a throwaway self-signed certificate, implicit TLS, and AUTH
LOGIN/PLAIN with one checked username and password.

    with SMTPServer(starttls=True, auth=("user", "pw")) as server:
        ...  # MAIL_SERVER=server.host, MAIL_PORT=server.port, MAIL_SSL_CONTEXT=server.client_context()
        server.messages  # [Received(mail_from, rcpt_tos, data, message)]
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import tempfile
import warnings
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"
# aiosmtpd's own notices: plain-text AUTH is what the plain AUTH test means to exercise, and
# its AuthResult path still sets a deprecated attribute itself.
warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS", UserWarning)
warnings.filterwarnings("ignore", "Session.login_data is deprecated")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A throwaway certificate for ``localhost`` and 127.0.0.1 (cert path, key path)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class Received:
    """One message as the server got it: envelope and the raw DATA, parsed."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    message: EmailMessage = field(repr=False)


class _Handler:
    def __init__(self, server: SMTPServer) -> None:
        self.server = server

    async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        data = envelope.original_content or envelope.content
        parsed = message_from_bytes(data, policy=policy.default)
        self.server.messages.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), data, parsed)  # type: ignore[arg-type]
        )
        return "250 Message accepted for delivery"


class SMTPServer:
    """aiosmtpd on a free loopback port; ``messages`` collects what it received."""

    def __init__(
        self,
        starttls: bool = False,
        implicit_tls: bool = False,
        auth: tuple[str, str] | None = None,
        exclude_auth: list[str] | None = None,
    ) -> None:
        self.host = HOST
        self.port = free_port()
        self.auth = auth
        self.messages: list[Received] = []
        self.auth_attempts: list[tuple[str, str]] = []  # (mechanism, login) — no passwords
        self._tmp = tempfile.TemporaryDirectory(prefix="erlen-smtp-")
        self.cert_path: Path | None = None
        kwargs: dict[str, Any] = {}
        if starttls or implicit_tls:
            self.cert_path, key_path = self_signed_cert(Path(self._tmp.name))
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.cert_path, key_path)
            if starttls:
                kwargs.update(tls_context=context, require_starttls=True)
            else:
                kwargs["ssl_context"] = context
        if auth is not None:
            kwargs.update(
                authenticator=self._authenticate,
                auth_required=True,
                auth_require_tls=starttls or implicit_tls,
                auth_exclude_mechanism=exclude_auth or [],
            )
        self._controller = Controller(
            _Handler(self), hostname=HOST, port=self.port, server_hostname="localhost", **kwargs
        )

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword) or self.auth is None:
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.auth_attempts.append((mechanism, login))
        ok = (login, password) == self.auth
        return AuthResult(success=ok, handled=False)

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's certificate (and verifies it)."""
        context = ssl.create_default_context()
        if self.cert_path is not None:
            context.load_verify_locations(self.cert_path)
        return context

    def start(self) -> SMTPServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()
        self._tmp.cleanup()

    def __enter__(self) -> SMTPServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
