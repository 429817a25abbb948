"""What the outside world tells notify without a token: the SMS provider's status callbacks
and inbound texts (signed with the provider's auth token over the exact public URL), and the
unsubscribe link of a promotional email."""
import logging
from datetime import datetime, timezone

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from notify.messages import PROMOTIONS_UNSUBSCRIBED, hash_token, report_status
from notify.models import Message, OptOut, UnsubscribeToken
from notify.sms import parse_inbound_keyword, verify_twilio_signature
from shared.errors import Forbidden, NotFound
from shared.outbox import emit

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"

# Provider statuses that end a message's journey, as our statuses.
FINAL_SMS_STATUSES = {"delivered": "delivered", "undelivered": "failed", "failed": "failed"}


def verify_signature(auth_token, public_url, form, headers):
    if not verify_twilio_signature(auth_token, public_url, form, (headers or {}).get(SIGNATURE_HEADER)):
        raise Forbidden("The request signature is not valid")


def record_sms_status(session, form):
    """A status callback; only a final status changes a sent message, and never back."""
    status = FINAL_SMS_STATUSES.get(form.get("MessageStatus", ""))
    sid = form.get("MessageSid")
    if status is None or not sid:
        return
    message = session.scalars(select(Message).where(Message.provider_message_id == sid,
                                                    Message.channel == "sms")
                              .with_for_update()).first()
    if message is None or message.status != "sent":
        return
    message.status = status
    if status == "delivered":
        message.delivered_at = datetime.now(timezone.utc)
    else:
        message.last_error = f"provider reported {form['MessageStatus']} {form.get('ErrorCode', '')}".strip()
    report_status(session, message)
    session.commit()


def record_inbound_sms(session, form):
    """STOP ends every text to that number, from every program; START lifts it. HELP is
    answered by the provider's own keyword handling (Twilio's Advanced Opt-Out)."""
    keyword = parse_inbound_keyword(form.get("Body", ""))
    number = form.get("From", "")
    if keyword == "stop" and number:
        session.execute(insert(OptOut).values(channel="sms", address=number, org_id=None, reason="sms_stop")
                        .on_conflict_do_nothing(constraint="uq_opt_outs_address"))
    elif keyword == "start" and number:
        session.execute(delete(OptOut).where(OptOut.channel == "sms", OptOut.address == number,
                                             OptOut.org_id.is_(None)))
    session.commit()
    if keyword:
        log.info("inbound sms keyword", extra={"fields": {"keyword": keyword}})


def unsubscribe(session, token):
    """One click in a promotional email: no more promotions from that program to that address.
    The program hears of it (``promotions_unsubscribed``), so its own records agree."""
    link = session.get(UnsubscribeToken, hash_token(token))
    if link is None:
        raise NotFound("This link is invalid")
    opted_out = session.execute(insert(OptOut).values(channel="email", address=link.address, org_id=link.org_id,
                                                      reason="unsubscribe")
                                .on_conflict_do_nothing(constraint="uq_opt_outs_address")
                                .returning(OptOut.id)).first()
    if opted_out is not None:
        emit(session, PROMOTIONS_UNSUBSCRIBED, link.org_id, {"channel": "email", "address": link.address})
    session.commit()
