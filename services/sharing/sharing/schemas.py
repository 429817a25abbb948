"""Sharing's boundary: what its RPCs accept and answer (the gateway validates with these too)."""
from datetime import datetime, timedelta, timezone

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from sharing.consent import consent_errors
from shared.schemas import AddressSchema, Email, optional_text, page_of, PageQuery, StrictSchema

E164 = validate.Regexp(r"^\+[1-9]\d{1,14}$", error="An international number, e.g. +15551234567.")
CONTACT_METHODS = ("in_person", "phone", "video", "text", "email", "other")
SHARE_STATUSES = ("active", "suspended", "expired", "revoked")
# A partner's clock may run a little ahead of ours; a contact further in the future is a typo.
CONTACT_CLOCK_SKEW = timedelta(minutes=5)


def _now():
    return datetime.now(timezone.utc)


def _moment(**kwargs):
    """An ISO 8601 time; one without a zone is taken as UTC."""
    return fields.AwareDateTime(default_timezone=timezone.utc, **kwargs)


# Partner organizations

class PartnerFields(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    phone = fields.String(allow_none=True, validate=E164)
    address = fields.Nested(AddressSchema)
    contact_name = fields.String(required=True, validate=validate.Length(min=1, max=200),
                                 metadata={"description": "The primary point of contact"})
    contact_email = Email(required=True, validate=validate.Length(max=320), metadata={
        "description": "Emailed when a client is shared (never with health detail)"})
    contact_language = fields.String(validate=validate.OneOf(("en", "es")))
    sharing_enabled = fields.Boolean(metadata={
        "description": "Off suspends every share with this partner; on again resumes them"})


class PartnerCreateSchema(PartnerFields):
    pass


class PartnerUpdateSchema(PartnerFields):
    """Only the fields sent change."""

    def __init__(self, **kwargs):
        super().__init__(partial=True, **kwargs)


class PartnerSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    phone = fields.String(allow_none=True)
    address = fields.Dict()
    contact_name = fields.String()
    contact_email = fields.String()
    contact_language = fields.String()
    sharing_enabled = fields.Boolean()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


PartnerPageSchema = page_of(PartnerSchema)


class PartnerUserCreateSchema(StrictSchema):
    """A partner user is invited by email and sets their own password; the account has the
    partner role (the portal only) and counts toward the program's seats once accepted."""
    email = Email(required=True, validate=validate.Length(max=320))
    first_name = fields.String(validate=validate.Length(max=100))
    last_name = fields.String(validate=validate.Length(max=100))
    language = fields.String(load_default="en", validate=validate.OneOf(("en", "es")))


class PartnerInvitationSchema(Schema):
    """identity's invitation, as it answers it."""
    id = fields.UUID()
    email = fields.String()
    kind = fields.String()
    linked_id = fields.UUID(metadata={"description": "The partner organization"})
    role = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    accepted_at = fields.DateTime(allow_none=True)


# Shares and their consent

class ConsentSchema(StrictSchema):
    """The elements 42 CFR 2.31 asks of a consent to disclose; the recipient is the partner."""
    purpose = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    information_disclosed = fields.String(required=True, validate=validate.Length(min=1, max=2000), metadata={
        "description": "What is shared; the portal shows name, photo, basic contact and the share note"})
    disclosed_by = fields.String(required=True, validate=validate.Length(min=1, max=200),
                                 metadata={"description": "Who discloses: the program or a person in it"})
    expires_at = _moment(allow_none=True, metadata={"description": "Access ends at this time"})
    expiry_event = optional_text(2000, metadata={
        "description": "An event that ends the consent; revoke the share when it happens"})
    agreed_by = fields.String(required=True, validate=validate.Length(min=1, max=200), metadata={
        "description": "The client, or their authorised representative, who agreed"})
    agreed_on = fields.Date(required=True, metadata={"description": "When they agreed (YYYY-MM-DD)"})
    revocation_acknowledged = fields.Boolean(required=True, metadata={
        "description": "The client was told they may revoke the consent; must be true"})

    @validates_schema
    def _substance(self, data, **kwargs):
        errors = consent_errors(data, _now())
        if errors:
            raise ValidationError(errors)


class ShareCreateSchema(StrictSchema):
    partner_id = fields.UUID(required=True)
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000),
                         metadata={"description": "Shown to the partner with the client"})
    consent = fields.Nested(ConsentSchema, required=True)


class ShareSchema(Schema):
    id = fields.UUID()
    client_id = fields.UUID()
    partner_id = fields.UUID()
    partner_name = fields.String()
    note = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": list(SHARE_STATUSES), "description":
                                     "suspended: the partner's sharing is off; expired: the consent lapsed"})
    consent = fields.Nested(ConsentSchema)
    created_by = fields.UUID()
    created_at = fields.DateTime()
    ended_at = fields.DateTime(allow_none=True)
    ended_by = fields.UUID(allow_none=True, metadata={"description": "Who revoked it; none when it expired"})


SharePageSchema = page_of(ShareSchema)


# The partner portal

class PartnerClientSchema(Schema):
    """All a partner ever sees of a client: the minimum necessary."""
    id = fields.UUID()
    first_name = fields.String()
    last_name = fields.String()
    photo_url = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    preferred_contact = fields.String()
    share_note = fields.String(allow_none=True)


PartnerClientPageSchema = page_of(PartnerClientSchema)


class ContactCreateSchema(StrictSchema):
    occurred_at = _moment(required=True, metadata={"description": "When the contact took place"})
    method = fields.String(required=True, validate=validate.OneOf(CONTACT_METHODS))
    duration_minutes = fields.Integer(required=True, validate=validate.Range(0, 24 * 60))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))

    @validates("occurred_at")
    def _not_ahead(self, value, **kwargs):
        if value > _now() + CONTACT_CLOCK_SKEW:
            raise ValidationError("A contact cannot have taken place in the future.")


class PartnerContactSchema(Schema):
    id = fields.UUID()
    client_id = fields.UUID()
    occurred_at = fields.DateTime()
    method = fields.String()
    duration_minutes = fields.Integer()
    note = fields.String(allow_none=True)
    recorded_by = fields.UUID()
    review_status = fields.String(metadata={"enum": ["needs_review", "reviewed"]})
    created_at = fields.DateTime()


PartnerContactPageSchema = page_of(PartnerContactSchema)


# Review by staff

class ContactSchema(PartnerContactSchema):
    partner_id = fields.UUID()
    partner_name = fields.String()
    client_first_name = fields.String()
    client_last_name = fields.String()
    tags = fields.List(fields.String(), metadata={
        "description": "third_party; once reviewed also actual and reviewed"})
    reviewed_by = fields.UUID(allow_none=True)
    reviewed_at = fields.DateTime(allow_none=True)


ContactPageSchema = page_of(ContactSchema)


class ContactQuerySchema(PageQuery):
    review = fields.String(validate=validate.OneOf(("needed", "done")),
                           metadata={"description": "needed: the Needs Review list; done: reviewed"})
    client_id = fields.UUID(metadata={"description": "One client's log"})


class ContactReviewSchema(StrictSchema):
    ids = fields.List(fields.UUID(), required=True, validate=validate.Length(min=1, max=200))


class ContactListSchema(Schema):
    items = fields.List(fields.Nested(ContactSchema), required=True)
