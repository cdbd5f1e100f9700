"""erlen.mail: messages built and sent to a real SMTP server on loopback (aiosmtpd), parsed
as the server received them; Flask-Mail 0.10 is the oracle for the API's behaviour."""

from __future__ import annotations

import importlib
import logging
import smtplib
import subprocess
import sys
from email.header import decode_header, make_header
from typing import Any

import pytest

import erlen
from erlen.mail import BadHeaderError, Mail, MailSendError, Message, email_dispatched
from smtp_server import SMTPServer

# aiosmtpd's notices about plain-text AUTH (the point of the plain AUTH tests) and its own
# deprecated attribute.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
    pytest.mark.filterwarnings("ignore:Session.login_data is deprecated"),
]

PNG = bytes(range(256)) * 4 + b"\r\n\n\r\x00end"


def mail_app(server: SMTPServer | None = None, **config: Any) -> tuple[erlen.Erlen, Mail]:
    app = erlen.Erlen("mail_test")
    app.config.update(MAIL_DEFAULT_SENDER=("Erlen Tëst", "noreply@example.com"))
    if server is not None:
        app.config.update(MAIL_SERVER=server.host, MAIL_PORT=server.port)
    app.config.update(config)
    return app, Mail(app)


def full_message() -> Message:
    msg = Message(
        "Grüße aus Zürich ✓",
        recipients=[("Jörg Müller", "joerg@example.com"), "ann@example.org"],
        body="Hallo Jörg,\nplain text.\n",
        html="<p>Hallo <b>Jörg</b></p>",
        cc=["carl@example.net"],
        bcc=["hidden@example.com", ("Secret Boss", "boss@example.com")],
        reply_to="support@example.com",
        extra_headers={"X-Campaign": "welcome"},
    )
    msg.attach("bild.png", "image/png", PNG)
    msg.attach("notiz ä.txt", data="Zeile 1\nZeile 2 ü")
    return msg


# -- to a real server ------------------------------------------------------------------------


def test_send_full_message(smtp_server: SMTPServer) -> None:
    app, mail = mail_app(smtp_server)
    with app.app_context():
        mail.send(full_message())
    [got] = smtp_server.messages
    assert got.mail_from == "noreply@example.com"
    assert sorted(got.rcpt_tos) == sorted(
        ["joerg@example.com", "ann@example.org", "carl@example.net", "hidden@example.com",
         "boss@example.com"]
    )  # fmt: skip
    m = got.message
    assert b"hidden@example.com" not in got.data and b"Secret Boss" not in got.data
    assert "Bcc" not in m
    assert m["Subject"] == "Grüße aus Zürich ✓"
    assert b"Gr\xc3\xbc" not in got.data.split(b"\r\n\r\n")[0]  # headers are ASCII (RFC 2047)
    assert str(make_header(decode_header(m["From"]))) == "Erlen Tëst <noreply@example.com>"
    assert m["To"].addresses[0].display_name == "Jörg Müller"
    assert m["Cc"] == "carl@example.net" and m["Reply-To"] == "support@example.com"
    assert m["X-Campaign"] == "welcome" and m["Message-ID"] and m["Date"]
    assert m.get_content_type() == "multipart/mixed"
    alternative = next(p for p in m.walk() if p.get_content_type() == "multipart/alternative")
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    found = {p.get_content_type(): p for p in alternative.iter_parts()}
    # text parts travel with CRLF line ends (RFC 2045 canonical form)
    assert found["text/plain"].get_content() == "Hallo Jörg,\r\nplain text.\r\n"
    assert found["text/html"].get_content().strip() == "<p>Hallo <b>Jörg</b></p>"
    attachments = list(m.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["bild.png", "notiz ä.txt"]
    assert attachments[0].get_content_type() == "image/png"
    assert attachments[0].get_payload(decode=True) == PNG  # byte-exact
    assert attachments[1].get_payload(decode=True) == "Zeile 1\nZeile 2 ü".encode()


def test_plain_body_only(smtp_server: SMTPServer) -> None:
    app, mail = mail_app(smtp_server)
    with app.app_context():
        mail.send_message("Hi", recipients=["a@example.com"], body="just text", sender="me@x.org")
    m = smtp_server.messages[0].message
    assert m.get_content_type() == "text/plain" and m.get_content().strip() == "just text"
    assert smtp_server.messages[0].mail_from == "me@x.org"


def test_connection_sends_many_and_reconnects_after_max_emails(smtp_server: SMTPServer) -> None:
    app, mail = mail_app(smtp_server, MAIL_MAX_EMAILS=2)
    opened = []
    real = smtplib.SMTP.connect

    def counting(self: Any, *a: Any, **kw: Any) -> Any:
        opened.append(1)
        return real(self, *a, **kw)

    smtplib.SMTP.connect = counting  # type: ignore[method-assign]
    try:
        with app.app_context(), mail.connect() as conn:
            for i in range(5):
                conn.send(Message(f"n{i}", recipients=[f"u{i}@example.com"], body="x"))
    finally:
        smtplib.SMTP.connect = real  # type: ignore[method-assign]
    assert [r.message["Subject"] for r in smtp_server.messages] == [f"n{i}" for i in range(5)]
    assert len(opened) == 3  # 2 + 2 + 1


def test_envelope_from(smtp_server: SMTPServer) -> None:
    app, mail = mail_app(smtp_server)
    with app.app_context(), mail.connect() as conn:
        conn.send(Message("b", recipients=["a@example.com"], body="x"), "bounce@example.com")
    assert smtp_server.messages[0].mail_from == "bounce@example.com"
    assert "noreply@example.com" in smtp_server.messages[0].message["From"]


def test_starttls_and_auth(caplog: pytest.LogCaptureFixture, capfd: Any) -> None:
    with SMTPServer(starttls=True, auth=("mailer", "s3cret-pw")) as server:
        app, mail = mail_app(
            server, MAIL_USE_TLS=True, MAIL_USERNAME="mailer", MAIL_PASSWORD="s3cret-pw",
            MAIL_SSL_CONTEXT=server.client_context(), MAIL_DEBUG=1,
        )  # fmt: skip
        with caplog.at_level(logging.DEBUG), app.app_context():
            mail.send(Message("tls", recipients=["a@example.com"], body="over TLS"))
        assert server.messages[0].message["Subject"] == "tls"
        assert server.auth_attempts == [("PLAIN", "mailer")]
    out, err = capfd.readouterr()
    assert "send:" in err  # MAIL_DEBUG printed the dialogue ...
    assert "AUTH exchange not shown" in err
    import base64

    for secret in ("s3cret-pw", base64.b64encode(b"\0mailer\0s3cret-pw").decode()):
        assert secret not in err and secret not in out and secret not in caplog.text


def test_auth_login_mechanism() -> None:
    with SMTPServer(auth=("mailer", "pw"), exclude_auth=["PLAIN"]) as server:
        app, mail = mail_app(server, MAIL_USERNAME="mailer", MAIL_PASSWORD="pw")
        with app.app_context():
            mail.send(Message("login", recipients=["a@example.com"], body="x"))
        assert server.auth_attempts == [("LOGIN", "mailer")]
        assert len(server.messages) == 1


def test_wrong_password_is_a_clear_error(caplog: pytest.LogCaptureFixture) -> None:
    with SMTPServer(auth=("mailer", "right")) as server:
        app, mail = mail_app(server, MAIL_USERNAME="mailer", MAIL_PASSWORD="wrong-pw-123")
        with app.app_context(), pytest.raises(MailSendError) as info:
            mail.send(Message("x", recipients=["a@example.com"], body="x"))
        assert server.messages == []
    error = info.value
    assert isinstance(error, smtplib.SMTPException)  # Flask-Mail-era except clauses still work
    assert "login" in str(error) and f"{server.host}:{server.port}" in str(error)
    assert isinstance(error.__cause__, smtplib.SMTPAuthenticationError)
    assert "wrong-pw-123" not in str(error) and "wrong-pw-123" not in caplog.text
    assert any("mail: login failed" in r.getMessage() for r in caplog.records)


def test_starttls_verifies_the_certificate() -> None:
    with SMTPServer(starttls=True) as server:
        app, mail = mail_app(server, MAIL_USE_TLS=True)  # default context: self-signed refused
        with app.app_context(), pytest.raises(MailSendError) as info:
            mail.send(Message("x", recipients=["a@example.com"], body="x"))
        assert server.messages == []
    assert isinstance(info.value.__cause__, ssl_error())


def ssl_error() -> type[Exception]:
    import ssl

    return ssl.SSLCertVerificationError


def test_implicit_tls() -> None:
    with SMTPServer(implicit_tls=True) as server:
        app, mail = mail_app(server, MAIL_USE_SSL=True, MAIL_SSL_CONTEXT=server.client_context())
        with app.app_context():
            mail.send(Message("ssl", recipients=["a@example.com"], body="x"))
        assert server.messages[0].message["Subject"] == "ssl"


def test_server_down_is_a_clear_error() -> None:
    from smtp_server import free_port

    app, mail = mail_app(None, MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())
    with app.app_context(), pytest.raises(MailSendError, match="connect"):
        mail.send(Message("x", recipients=["a@example.com"], body="x"))


# -- header injection --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"subject": "hi\r\nBcc: victim@example.com"},
        {"subject": "folded\r\n continued"},
        {"recipients": ["a@example.com\nBcc: v@example.com"]},
        {"recipients": [("Name\r\nX-Evil: 1", "a@example.com")]},
        {"sender": "me@example.com\r\nX-Evil: 1"},
        {"cc": ["c@example.com\r"]},
        {"bcc": ["c@example.com\n"]},
        {"reply_to": "r@example.com\nX-Evil: 1"},
        {"extra_headers": {"X-Note": "a\r\nX-Evil: 1"}},
    ],
)
def test_newlines_in_headers_raise_before_sending(smtp_server: SMTPServer, kwargs: Any) -> None:
    app, mail = mail_app(smtp_server)
    base: dict[str, Any] = {"subject": "s", "recipients": ["a@example.com"], "body": "x"}
    with app.app_context():
        msg = Message(**{**base, **kwargs})
        assert msg.has_bad_headers()
        with pytest.raises(BadHeaderError):
            mail.send(msg)
        with pytest.raises(BadHeaderError):
            msg.as_bytes()
    assert smtp_server.messages == []


def test_newline_in_attachment_name_raises(smtp_server: SMTPServer) -> None:
    app, mail = mail_app(smtp_server)
    with app.app_context():
        msg = Message("s", recipients=["a@example.com"], body="x")
        msg.attach("a.txt\r\nX-Evil: 1", "text/plain", b"x")
        with pytest.raises(BadHeaderError):
            mail.send(msg)
    assert smtp_server.messages == []


# -- without a server -------------------------------------------------------------------------


def test_record_messages_and_suppress_send() -> None:
    app, mail = mail_app(None, MAIL_SERVER="192.0.2.1", TESTING=True)  # never contacted
    assert mail.state is not None and mail.state.suppress is True
    with app.app_context(), mail.record_messages() as outbox:
        mail.send_message("one", recipients=["a@example.com"], body="x")
        with mail.connect() as conn:
            conn.send(Message("two", recipients=["b@example.com"], body="y"))
    assert [m.subject for m in outbox] == ["one", "two"]
    assert outbox[0].sender == "Erlen Tëst <noreply@example.com>"
    assert outbox[1].date is not None


def test_suppress_send_explicit_overrides_testing() -> None:
    app, _ = mail_app(None, TESTING=True, MAIL_SUPPRESS_SEND=False)
    assert app.extensions["mail"].suppress is False
    app, _ = mail_app(None, MAIL_SUPPRESS_SEND=True)
    assert app.extensions["mail"].suppress is True


def test_email_dispatched_signal_sender_is_app() -> None:
    app, mail = mail_app(None, MAIL_SUPPRESS_SEND=True)
    seen = []

    def record(sender: Any, message: Message) -> None:
        seen.append((sender, message))

    with email_dispatched.connected_to(record), app.app_context():
        mail.send_message("s", recipients=["a@example.com"], body="x")
    assert seen[0][0] is app and seen[0][1].subject == "s"


def test_message_api() -> None:
    app, _ = mail_app(None, MAIL_SUPPRESS_SEND=True)
    with app.app_context():
        msg = Message("s", recipients=["a@example.com"], bcc=["b@example.com"])
        msg.add_recipient("c@example.com")
        assert msg.send_to == {"a@example.com", "b@example.com", "c@example.com"}
        msg.html = "<p>x</p>"
        assert msg.alts == {"html": "<p>x</p>"}
        msg.attach("f.pdf", data=b"%PDF")
        assert msg.attachments[0].content_type == "application/pdf"
        assert msg.attachments[0].disposition == "attachment"
        text = msg.as_string()
        assert "Bcc" not in text and "b@example.com" not in text
        assert bytes(msg).startswith(b"Subject: s\r\n") or b"\r\nSubject: s\r\n" in bytes(msg)


def test_errors_without_recipients_or_sender() -> None:
    app = erlen.Erlen("nosender")
    app.config["MAIL_SUPPRESS_SEND"] = True
    mail = Mail(app)
    with app.app_context():
        with pytest.raises(ValueError, match="No recipients"):
            mail.send(Message("s", body="x", sender="a@example.com"))
        with pytest.raises(ValueError, match="default sender"):
            mail.send(Message("s", recipients=["a@example.com"], body="x"))


def test_ascii_attachments() -> None:
    app, _ = mail_app(None, MAIL_ASCII_ATTACHMENTS=True)
    with app.app_context():
        msg = Message("s", recipients=["a@example.com"], body="x")
        msg.attach("Überweisung   März.pdf", "application/pdf", b"%PDF")
        assert 'filename="Uberweisung Marz.pdf"' in msg.as_string()


def test_password_not_in_repr() -> None:
    app, mail = mail_app(None, MAIL_USERNAME="u", MAIL_PASSWORD="hunter2-secret")
    assert "hunter2-secret" not in repr(app.extensions["mail"])


def test_connect_without_init_app() -> None:
    app = erlen.Erlen("noinit")
    with app.app_context(), pytest.raises(RuntimeError, match="not configured"):
        Mail().connect()


def test_import_erlen_does_not_import_mail() -> None:
    code = "import sys, erlen; print('erlen.mail' in sys.modules, 'smtplib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("impl", ["erlen", "flask"])
def test_same_api_as_flask_mail(impl: str) -> None:
    """One app source on Flask-Mail 0.10 and erlen.mail: the same outbox."""
    fw = importlib.import_module(impl)
    ext = importlib.import_module("erlen.mail" if impl == "erlen" else "flask_mail")
    app = fw.Flask("same")
    app.config.update(TESTING=True, MAIL_DEFAULT_SENDER="from@example.com")
    mail = ext.Mail(app)
    with app.app_context(), mail.record_messages() as outbox:
        msg = ext.Message("Subj", recipients=["to@example.com"], body="b", html="<i>h</i>")
        msg.attach("a.bin", "application/octet-stream", b"\x00\x01")
        mail.send(msg)
        assert msg.has_bad_headers() is False
        assert ext.Message("a\r\nb", recipients=["x@example.com"]).has_bad_headers() is True
    [sent] = outbox
    assert (sent.subject, sent.sender, sent.recipients, sent.body, sent.html) == (
        "Subj", "from@example.com", ["to@example.com"], "b", "<i>h</i>",
    )  # fmt: skip
    assert sent.send_to == {"to@example.com"} and sent.attachments[0].data == b"\x00\x01"


def test_sender_name_with_comma_stays_one_address(smtp_server: SMTPServer) -> None:
    app, mail = mail_app(smtp_server, MAIL_DEFAULT_SENDER=("Doe, Jöhn", "john@example.com"))
    with app.app_context():
        mail.send_message("s", recipients=["a@bücher.example"], body="x")
    [got] = smtp_server.messages
    [sender] = got.message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Doe, Jöhn", "john@example.com")
    assert got.mail_from == "john@example.com"
    assert got.rcpt_tos == ["a@xn--bcher-kva.example"]  # IDN domain in IDNA form
