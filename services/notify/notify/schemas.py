"""Notify's boundary: notification requests, the message log, templates."""
from marshmallow import EXCLUDE, Schema, fields, validate

from notify.templates import SUPPORTED_LANGUAGES
from shared.schemas import PageQuery, StrictSchema, page_of

CHANNELS = ("email", "sms")
STATUSES = ("queued", "sent", "delivered", "failed", "bounced")


class RecipientSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # producers may carry their own bookkeeping along

    address = fields.String(required=True, validate=validate.Length(1, 320))
    name = fields.String(load_default="", validate=validate.Length(max=200))
    language = fields.String(load_default="en", allow_none=True, validate=validate.Length(max=35))
    subscribed = fields.Boolean(load_default=False)


class NotificationRequestSchema(StrictSchema):
    """The ``data`` of a ``notification_requested`` event, and the body of ``notify.request``
    (which also names the ``source_event_id`` it deduplicates by)."""
    kind = fields.String(required=True, validate=validate.Length(1, 60))
    channels = fields.List(fields.String(validate=validate.OneOf(CHANNELS)), load_default=["email"],
                           validate=validate.Length(1, len(CHANNELS)))
    recipients = fields.List(fields.Nested(RecipientSchema), required=True,
                             validate=validate.Length(1, 100))
    variables = fields.Dict(keys=fields.String(), load_default=dict)
    source_ref = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


class NotificationRpcSchema(NotificationRequestSchema):
    source_event_id = fields.UUID(required=True)


class MessageSchema(Schema):
    id = fields.UUID()
    kind = fields.String()
    template = fields.String()
    channel = fields.String(metadata={"enum": list(CHANNELS)})
    recipient = fields.String()
    recipient_name = fields.String()
    language = fields.String()
    source_event_id = fields.UUID()
    source_ref = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": list(STATUSES)})
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime(allow_none=True)
    provider_message_id = fields.String(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)


MessagePageSchema = page_of(MessageSchema)


class MessageQuerySchema(PageQuery):
    status = fields.String(validate=validate.OneOf(STATUSES))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    kind = fields.String(validate=validate.Length(1, 60))


class AcceptedSchema(Schema):
    message_ids = fields.List(fields.UUID())


class TemplateUpdateSchema(StrictSchema):
    """A program's wording of one language of a template; an empty ``parts`` returns it to
    the built-in wording."""
    language = fields.String(required=True, validate=validate.OneOf(SUPPORTED_LANGUAGES))
    parts = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class TemplateLanguageSchema(Schema):
    default = fields.Dict(keys=fields.String(), values=fields.String())
    override = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True)
    preview = fields.Dict(keys=fields.String(), values=fields.String(),
                          metadata={"description": "Rendered with sample values"})


class TemplateSchema(Schema):
    key = fields.String()
    channel = fields.String(metadata={"enum": list(CHANNELS)})
    parts = fields.List(fields.String())
    variables = fields.Dict(keys=fields.String(), values=fields.Raw(),
                            metadata={"description": "Variable names with sample values"})
    languages = fields.Dict(keys=fields.String(), values=fields.Nested(TemplateLanguageSchema))


class PrintDocumentSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # the document's items carry whatever the snapshot holds

    program_name = fields.String(required=True)
    items = fields.List(fields.Dict(), required=True)
    language = fields.String(load_default="en")
    paper = fields.String(load_default="letter", validate=validate.OneOf(("letter", "A4")))
    date = fields.String(load_default=None, allow_none=True)
    client_first_name = fields.String(load_default=None, allow_none=True)
