"""Sending one email over SMTP."""

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from typing import Optional

from notify.delivery import DeliveryError


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender_address: str
    starttls: bool = False
    username: Optional[str] = None
    password: Optional[str] = None
    sender_name: str = "Handoff"
    timeout: float = 30.0


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    subject: str
    text: str
    html: str
    to_name: str = ""
    reply_to: Optional[str] = None
    # Set for promotional mail only: mail clients then offer a one-click unsubscribe (RFC 8058).
    unsubscribe_url: Optional[str] = None
    # Our record of the message: it becomes the Message-ID, the same on every attempt.
    message_key: Optional[str] = None


def send_email(settings: SmtpSettings, message: OutgoingEmail) -> str:
    """Send `message` and return its Message-ID; raise DeliveryError if the server did not take it."""
    mime = build_email(settings, message)
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout) as smtp:
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            smtp.send_message(mime, from_addr=settings.sender_address, to_addrs=[message.to])
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        replies = "; ".join(f"{code} {_text(reply)}" for code, reply in error.recipients.values())
        transient = all(_is_transient(code) for code in codes)
        raise DeliveryError(transient, f"recipient refused: {replies}", bounced=not transient) from error
    except smtplib.SMTPAuthenticationError as error:
        # Our credentials are wrong, not the message: once they are fixed it can go.
        raise DeliveryError(True, f"SMTP login failed: {error.smtp_code}") from error
    except smtplib.SMTPResponseException as error:
        detail = f"SMTP server answered {error.smtp_code} {_text(error.smtp_error)}"
        raise DeliveryError(_is_transient(error.smtp_code), detail) from error
    except (smtplib.SMTPException, OSError) as error:
        # Refused or dropped connections, timeouts, TLS trouble: the server may be back later.
        raise DeliveryError(True, f"SMTP server unreachable: {type(error).__name__}: {error}") from error
    return str(mime["Message-ID"])


def build_email(settings: SmtpSettings, message: OutgoingEmail) -> EmailMessage:
    """The multipart/alternative message exactly as it goes on the wire."""
    mime = EmailMessage()
    try:
        domain = settings.sender_address.rpartition("@")[2]
        # A stable id makes a resend (after a crash between the server's acceptance and our
        # record of it) the same message, which mailboxes keep once.
        mime["Message-ID"] = f"<{message.message_key}@{domain}>" if message.message_key else make_msgid(domain=domain)
        mime["Date"] = formatdate(localtime=False, usegmt=True)
        mime["From"] = formataddr((settings.sender_name, settings.sender_address))
        mime["To"] = formataddr((message.to_name, message.to))
        mime["Subject"] = message.subject
        if message.reply_to:
            mime["Reply-To"] = message.reply_to
        if message.unsubscribe_url:
            mime["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
            mime["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    except ValueError as error:
        # The email package refuses header values with line breaks (header injection):
        # such a message can never be sent, so retrying is pointless.
        raise DeliveryError(False, f"invalid header: {error}") from error
    mime.set_content(message.text)
    mime.add_alternative(message.html, subtype="html")
    return mime


def _is_transient(smtp_code: int) -> bool:
    """4xx replies mean "try again later" in SMTP; 5xx mean "never"."""
    return 400 <= smtp_code < 500


def _text(reply) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
