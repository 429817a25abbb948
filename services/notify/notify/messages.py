"""Turning a notification request into queued messages, and the program's message log.

A request names a kind, channels and recipients; each recipient is reached on the channel its
address belongs to, with the kind's template for that channel, in the recipient's language,
with the program's override where it has one. Messages are inserted with ON CONFLICT DO
NOTHING on (source event, recipient, channel), so a redelivered event adds nothing.
"""
import hashlib
import re
import secrets
import uuid
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects.postgresql import insert

from notify.models import Message, UnsubscribeToken
from notify.overrides import override_parts
from notify.schemas import MessageSchema
from notify.templates import DEFAULT_TEMPLATES, TemplateRenderError, channel_of, choose_language, render
from shared import permissions as p
from shared.errors import NotFound, ValidationFailed
from shared.outbox import emit
from shared.pagination import decode_cursor, page

PROMOTIONAL_TEMPLATES = frozenset({"promotion"})
MESSAGE_STATUS_CHANGED = "message_status_changed"
PROMOTIONS_UNSUBSCRIBED = "promotions_unsubscribed"
E164 = re.compile(r"^\+[1-9]\d{1,14}$")


def channel_of_address(address):
    if E164.match(address):
        return "sms"
    if "@" in address:
        return "email"
    return None


def template_key(kind, channel):
    """The template a request of ``kind`` renders on ``channel``: the kind itself when it is a
    template of that channel, else the kind's per-channel template (``<kind>_<channel>``)."""
    for key in (kind, f"{kind}_{channel}"):
        if key in DEFAULT_TEMPLATES and channel_of(key) == channel:
            return key
    return None


def plan(request):
    """(recipient, channel, template key) for every message a request asks for. Recipients are
    reached on the channel of their address; a request that reaches nobody is refused."""
    keys = {channel: template_key(request["kind"], channel) for channel in request["channels"]}
    unknown = [channel for channel, key in keys.items() if key is None]
    if unknown:
        raise ValidationFailed("No template for this kind and channel", errors={
            "kind": [f"No {', '.join(unknown)} template for {request['kind']!r}"]})
    planned = []
    for recipient in request["recipients"]:
        address = recipient["address"].strip()
        channel = channel_of_address(address)
        if channel in keys:
            address = address.lower() if channel == "email" else address
            planned.append(({**recipient, "address": address}, channel, keys[channel]))
    if not planned:
        raise ValidationFailed("No recipient can be reached on the requested channels",
                               errors={"recipients": ["No address fits the requested channels"]})
    return planned


def accept(session, org_id, source_event_id, request, public_base_url):
    """Queue the request's messages; the ids of those this call created (none on a redelivery)."""
    if not org_id:
        raise ValidationFailed("A notification belongs to a program", errors={"org_id": ["Required"]})
    created = []
    for recipient, channel, key in plan(request):
        language = choose_language(recipient.get("language"))
        row = {"id": uuid.uuid4(), "org_id": org_id, "kind": request["kind"], "template": key,
               "channel": channel, "recipient": recipient["address"],
               "recipient_name": recipient.get("name") or "", "language": language,
               "source_event_id": source_event_id, "source_ref": request.get("source_ref")}
        unsubscribe_token = None
        variables = request["variables"]
        if key in PROMOTIONAL_TEMPLATES:
            if not recipient.get("subscribed"):
                _insert(session, {**row, "status": "failed",
                                  "last_error": "not subscribed to promotions"})
                continue
            unsubscribe_token = secrets.token_urlsafe(24)
            variables = {**variables,
                         "unsubscribe_link": f"{public_base_url}/unsubscribe/{unsubscribe_token}"}
            row["unsubscribe_url"] = f"{public_base_url}/public/unsubscribe/{unsubscribe_token}"
        try:
            rendered = render(key, language, variables, override_parts(session, org_id, key, language))
        except TemplateRenderError as error:
            row.update(status="failed", last_error=str(error)[:500], unsubscribe_url=None)
        else:
            row.update(subject=rendered.subject, body_text=rendered.text or rendered.sms,
                       body_html=rendered.html)
        if _insert(session, row):
            created.append(row["id"])
            if unsubscribe_token and row.get("status") != "failed":
                session.add(UnsubscribeToken(token_hash=hash_token(unsubscribe_token), org_id=org_id,
                                             address=recipient["address"]))
    return created


def report_status(session, message):
    """Tell the producer how a message it asked for fared, when the request named its record
    (``source_ref``); a retry still waiting in the queue is not news."""
    if message.source_ref and message.status != "queued":
        emit(session, MESSAGE_STATUS_CHANGED, message.org_id, {
            "message_id": str(message.id), "source_ref": message.source_ref,
            "source_event_id": str(message.source_event_id), "channel": message.channel,
            "status": message.status, "detail": message.last_error})


def _insert(session, row):
    return session.execute(insert(Message).values(**row)
                           .on_conflict_do_nothing(constraint="uq_messages_once_per_event")
                           .returning(Message.id)).first() is not None


def hash_token(token):
    return hashlib.sha256(token.encode()).hexdigest()


# The log shows every message of the program, to staff and clients alike: it is the program's
# delivery record, so it needs the program-settings permission, not only referrals.manage.
LOG_PERMISSION = p.SETTINGS_MANAGE


def list_messages(session, caller, query):
    caller.require(LOG_PERMISSION)
    statement = select(Message).where(Message.org_id == caller.org_id)
    for name in ("status", "channel", "kind"):
        if query.get(name):
            statement = statement.where(getattr(Message, name) == query[name])
    after = decode_cursor(query.get("cursor"))
    if after:
        created_at, message_id = datetime.fromisoformat(after[0]), uuid.UUID(after[1])
        statement = statement.where(or_(Message.created_at < created_at,
                                        and_(Message.created_at == created_at, Message.id < message_id)))
    rows = session.scalars(statement.order_by(Message.created_at.desc(), Message.id.desc())
                           .limit(query["limit"] + 1)).all()
    items, next_cursor = page(rows, query["limit"], lambda m: [m.created_at.isoformat(), str(m.id)])
    return {"items": MessageSchema(many=True).dump(items), "next_cursor": next_cursor}


def get_message(session, caller, message_id):
    caller.require(LOG_PERMISSION)
    try:
        message_id = uuid.UUID(str(message_id))
    except ValueError:
        raise NotFound("No such message") from None
    message = session.scalars(select(Message).where(Message.id == message_id,
                                                    Message.org_id == caller.org_id)).first()
    if message is None:
        raise NotFound("No such message")
    return MessageSchema().dump(message)
