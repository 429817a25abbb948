"""Sending queued messages: each is claimed with ``FOR UPDATE SKIP LOCKED`` in its own
transaction, so the delivery loop, the send right after a request and any number of notify
instances never send the same message twice; a transient failure is retried with backoff and
jitter, and after ``MAX_ATTEMPTS`` the message is failed and dead-lettered.

Log lines name the message id only: never its recipient or its words."""
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from email.utils import parseaddr

from sqlalchemy import func, select

from notify.delivery import DeliveryError
from notify.email import OutgoingEmail, SmtpSettings, send_email
from notify.messages import PROMOTIONAL_TEMPLATES, report_status
from notify.models import Message, OptOut
from notify.retry import MAX_ATTEMPTS, next_attempt_delay
from notify.sms import SmsSettings, send_sms

log = logging.getLogger(__name__)

SMS_STATUS_PATH = "/webhooks/sms/status"
SMS_INBOUND_PATH = "/webhooks/sms/inbound"
BATCH = 100


def _flag(value):
    return str(value).strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Channels:
    smtp: SmtpSettings
    sms: SmsSettings
    retry_base_seconds: float = 2.0

    @classmethod
    def from_config(cls, config):
        sender_name, sender_address = parseaddr(config["MAIL_FROM"])
        return cls(
            smtp=SmtpSettings(host=config["SMTP_HOST"], port=int(config["SMTP_PORT"]),
                              sender_address=sender_address, sender_name=sender_name or "Handoff",
                              starttls=_flag(config.get("SMTP_STARTTLS")),
                              username=config.get("SMTP_USERNAME") or None,
                              password=config.get("SMTP_PASSWORD") or None,
                              timeout=float(config.get("SMTP_TIMEOUT_SECONDS") or 30)),
            sms=SmsSettings(api_url=config["SMS_API_URL"], account_sid=config["SMS_ACCOUNT_SID"],
                            auth_token=config["SMS_API_KEY"], from_number=config["SMS_FROM"],
                            status_callback_url=config["PUBLIC_BASE_URL"].rstrip("/") + SMS_STATUS_PATH),
            retry_base_seconds=float(config.get("DELIVERY_RETRY_BASE_SECONDS") or 2.0),
        )

    def send(self, message):
        """Hand ``message`` to its channel; the provider's id for it."""
        if message.channel == "sms":
            return send_sms(self.sms, message.recipient, message.body_text)
        return send_email(self.smtp, OutgoingEmail(
            to=message.recipient, to_name=message.recipient_name, subject=message.subject,
            text=message.body_text, html=message.body_html, unsubscribe_url=message.unsubscribe_url,
            message_key=f"{message.id}.handoff"))


def deliver_due(session, channels, only_ids=None, batch=BATCH):
    """Send what is due (of ``only_ids``, when given); how many messages were attempted."""
    attempted = []
    while len(attempted) < batch:
        due = (select(Message).where(Message.status == "queued", Message.next_attempt_at <= func.now())
               .order_by(Message.next_attempt_at).limit(1).with_for_update(skip_locked=True))
        if only_ids is not None:
            due = due.where(Message.id.in_(only_ids))
        if attempted:  # a retry drawn with near-zero jitter waits for the next round
            due = due.where(Message.id.not_in(attempted))
        message = session.scalars(due).first()
        if message is None:
            break
        attempted.append(message.id)
        _attempt(session, channels, message)
        report_status(session, message)
        session.commit()
    session.commit()
    return len(attempted)


def _attempt(session, channels, message):
    reason = suppression_reason(session, message)
    if reason:
        _finish(message, "failed", last_error=reason)
        log.info("message suppressed", extra={"fields": {"message_id": str(message.id), "reason": reason}})
        return
    message.attempts += 1
    try:
        provider_id = channels.send(message)
    except DeliveryError as error:
        _failed_attempt(message, error, channels.retry_base_seconds)
        return
    except Exception as error:  # an adapter bug must not wedge the queue: retry, then give up
        log.exception("message send crashed", extra={"fields": {"message_id": str(message.id)}})
        _failed_attempt(message, DeliveryError(True, f"unexpected {type(error).__name__}"),
                        channels.retry_base_seconds)
        return
    _finish(message, "sent", provider_message_id=provider_id, sent_at=_now(), last_error=None)


def _failed_attempt(message, error, retry_base_seconds):
    # SMTP refusals often quote the address back: the log gets it masked, the message log whole.
    fields = {"message_id": str(message.id), "attempt": message.attempts,
              "error": error.detail.replace(message.recipient, "<recipient>")}
    if error.transient and message.attempts < MAX_ATTEMPTS:
        delay = next_attempt_delay(message.attempts, base=retry_base_seconds)
        message.next_attempt_at = _now() + timedelta(seconds=delay)
        message.last_error = error.detail[:500]
        log.warning("message delivery failed; retry scheduled",
                    extra={"fields": {**fields, "delay_seconds": round(delay, 2)}})
        return
    if error.bounced:
        _finish(message, "bounced", last_error=error.detail[:500])
        log.warning("message bounced", extra={"fields": fields})
        return
    _finish(message, "failed", last_error=error.detail[:500])
    log.error("message dead-lettered", extra={"fields": fields})


def _finish(message, status, **values):
    """A message leaves the queue: its words are no longer needed, so they are not kept."""
    message.status = status
    message.subject = message.body_text = message.body_html = message.unsubscribe_url = None
    for name, value in values.items():
        setattr(message, name, value)


def suppression_reason(session, message):
    """Why ``message`` must not go out: its number texted STOP, or its recipient unsubscribed
    from the program's promotions."""
    if message.channel == "sms":
        if _opted_out(session, "sms", message.recipient, None):
            return "recipient texted STOP"
    elif message.template in PROMOTIONAL_TEMPLATES:
        if _opted_out(session, "email", message.recipient, message.org_id):
            return "recipient unsubscribed from promotions"
    return None


def _opted_out(session, channel, address, org_id):
    org_match = OptOut.org_id.is_(None) if org_id is None else OptOut.org_id == org_id
    return session.scalar(select(OptOut.id).where(OptOut.channel == channel, OptOut.address == address,
                                                  org_match)) is not None


def _now():
    return datetime.now(timezone.utc)
