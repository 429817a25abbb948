"""Referrals' boundary: what its RPCs accept and answer (the gateway validates with these too)."""
from marshmallow import Schema, fields, validate, validates_schema, ValidationError

from referrals.status import PROGRAM_STATUSES, PROVIDER_STATUSES, STATUSES
from shared.schemas import AddressSchema, Email, ImportJobOut, optional_text, page_of, PageQuery, StrictSchema

E164 = validate.Regexp(r"^\+[1-9]\d{1,14}$", error="An international number, e.g. +15551234567.")
# At most 8 characters, as stored: a language and a region or script (es-419, zh-Hant).
LANGUAGE = validate.Regexp(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,4})?$", error="A language tag, e.g. en or es-MX.")
CONTACT_METHODS = ("email", "text", "phone", "do_not_contact")
CHANNELS = ("email", "sms")
INBOUND_SOURCES = ("public_form", "case_manager")
NAME = validate.Length(min=1, max=100)
NOTE = validate.Length(max=2000)


class ClientFields(StrictSchema):
    first_name = fields.String(required=True, validate=NAME)
    last_name = fields.String(required=True, validate=NAME)
    date_of_birth = fields.Date(allow_none=True, metadata={"description": "YYYY-MM-DD"})
    pronouns = optional_text(40)
    phone = fields.String(allow_none=True, validate=E164, metadata={"description": "E.164; texts go here"})
    email = Email(allow_none=True, validate=validate.Length(max=320))
    preferred_contact = fields.String(validate=validate.OneOf(CONTACT_METHODS), metadata={
        "description": "How the client wants to be reached; do_not_contact stops every message"})
    language = fields.String(validate=LANGUAGE, metadata={"description": "Messages go in this language"})
    address = fields.Nested(AddressSchema)
    photo_url = fields.Url(allow_none=True, schemes={"https"}, validate=validate.Length(max=500))
    status = fields.String(validate=validate.OneOf(("active", "inactive")))


class ClientCreateSchema(ClientFields):
    pass


class ClientUpdateSchema(ClientFields):
    """Only the fields sent change."""

    def __init__(self, **kwargs):
        super().__init__(partial=True, **kwargs)


class ClientSchema(Schema):
    id = fields.UUID()
    first_name = fields.String()
    last_name = fields.String()
    date_of_birth = fields.Date(allow_none=True)
    pronouns = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    preferred_contact = fields.String()
    language = fields.String()
    address = fields.Dict()
    photo_url = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": ["active", "inactive", "merged"]})
    merged_into_id = fields.UUID(allow_none=True)
    assigned_user_ids = fields.List(fields.UUID())
    possible_duplicate_ids = fields.List(fields.UUID(), metadata={
        "description": "Other clients with the same name and date of birth; merge explicitly"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


ClientPageSchema = page_of(ClientSchema)


class ClientQuerySchema(PageQuery):
    q = fields.String(validate=validate.Length(min=1, max=100), metadata={"description": "Name starts with"})
    status = fields.String(validate=validate.OneOf(("active", "inactive", "merged")))


class AssignmentsSchema(StrictSchema):
    """The complete set of staff assigned to the client (it replaces the previous one)."""
    user_ids = fields.List(fields.UUID(), load_default=list, validate=validate.Length(max=50))


class ClientImportCreateSchema(StrictSchema):
    csv = fields.String(required=True, validate=validate.Length(min=1, max=900_000), metadata={
        "description": "CSV text with a header row: first_name, last_name, date_of_birth, pronouns, phone, "
                       "email, preferred_contact, language, address_line1, address_line2, city, state, "
                       "postal_code (common spellings such as 'First Name' or 'DOB' are understood)"})
    on_duplicate = fields.String(load_default="skip", validate=validate.OneOf(("skip", "create")), metadata={
        "description": "A row matching an existing client by name and date of birth: skip it or create it"})


class ClientImportDuplicateSchema(Schema):
    row = fields.Integer(metadata={"description": "Data row (1 = the first row after the header)"})
    client_ids = fields.List(fields.UUID(), metadata={
        "description": "The clients on record with the same name and date of birth"})
    matched_on = fields.String(metadata={"description": "name and date of birth"})
    action = fields.String(metadata={"enum": ["skipped", "created"]})


class ClientImportSchema(ImportJobOut):
    """The import job: its status, progress, row-level errors and duplicates (a note on ignored
    columns is an error of row 0, the header, that fails no row)."""
    on_duplicate = fields.String(metadata={"enum": ["skip", "create"]})
    duplicates = fields.List(fields.Nested(ClientImportDuplicateSchema),
                             metadata={"description": "Duplicates (the first 1000)"})


# Referral lists ---------------------------------------------------------------------------------

class ListItemInSchema(StrictSchema):
    provider_id = fields.UUID(required=True)
    note = fields.String(allow_none=True, validate=NOTE)


class ReferralListCreateSchema(StrictSchema):
    client_id = fields.UUID(allow_none=True, metadata={"description": "Omit for an anonymous walk-in"})
    title = optional_text(200)
    note = fields.String(allow_none=True, validate=NOTE)
    language = fields.String(validate=LANGUAGE, metadata={"description": "Default: the client's language"})
    items = fields.List(fields.Nested(ListItemInSchema), load_default=list, validate=validate.Length(max=50))


class ReferralListUpdateSchema(StrictSchema):
    """A draft's title, note, language or items (``items`` replaces them all; a provider already
    on the list keeps its snapshot)."""
    title = optional_text(200)
    note = fields.String(allow_none=True, validate=NOTE)
    language = fields.String(validate=LANGUAGE)
    items = fields.List(fields.Nested(ListItemInSchema), validate=validate.Length(max=50))


class SnapshotSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    credentials = fields.String(allow_none=True)
    specialties = fields.List(fields.String())
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    website = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    telehealth = fields.Boolean(allow_none=True)
    accepting_new_clients = fields.Boolean(allow_none=True)


class ListItemSchema(Schema):
    provider_id = fields.UUID()
    note = fields.String(allow_none=True)
    snapshot = fields.Nested(SnapshotSchema, metadata={"description": "The provider as it was when added"})


class DeliverySchema(Schema):
    send_id = fields.UUID()
    channel = fields.String(metadata={"enum": list(CHANNELS)})
    recipient = fields.String()
    status = fields.String(metadata={"enum": ["queued", "sent", "delivered", "failed", "bounced"]})
    detail = fields.String(allow_none=True)
    updated_at = fields.DateTime()


class ReferralListSchema(Schema):
    id = fields.UUID()
    client_id = fields.UUID(allow_none=True)
    title = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    language = fields.String()
    status = fields.String(metadata={"enum": ["draft", "sent"]})
    created_by = fields.UUID()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    items = fields.List(fields.Nested(ListItemSchema))
    deliveries = fields.List(fields.Nested(DeliverySchema), metadata={
        "description": "Every message this list went out in, with its latest status"})


ReferralListPageSchema = page_of(ReferralListSchema)


class ReferralListQuerySchema(PageQuery):
    client_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(("draft", "sent")))


class SendSchema(StrictSchema):
    channels = fields.List(fields.String(validate=validate.OneOf(CHANNELS)), validate=validate.Length(1, 2),
                           metadata={"description": "Default: the client's preferred contact method"})
    email = Email(validate=validate.Length(max=320), metadata={"description": "Default: the client's email"})
    phone = fields.String(validate=E164, metadata={"description": "Default: the client's phone"})


class PrintQuerySchema(StrictSchema):
    paper = fields.String(load_default="letter", validate=validate.OneOf(("letter", "A4")))


class PublicListSchema(Schema):
    program_name = fields.String()
    title = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    language = fields.String()
    sent_at = fields.DateTime(allow_none=True)
    items = fields.List(fields.Nested(ListItemSchema(only=("note", "snapshot"))))


# Closed-loop referrals ---------------------------------------------------------------------------

class ReferralCreateSchema(StrictSchema):
    client_id = fields.UUID(required=True)
    provider_id = fields.UUID(required=True)
    referral_list_id = fields.UUID(allow_none=True)
    status = fields.String(load_default="draft", validate=validate.OneOf(("draft", "requested")))
    note = fields.String(allow_none=True, validate=NOTE, metadata={
        "description": "Shown to the provider through the response link; keep clinical detail out"})
    provider_email = Email(allow_none=True, metadata={"description": "Default: the provider's email"})


class ReferralUpdateSchema(StrictSchema):
    status = fields.String(validate=validate.OneOf(STATUSES), metadata={
        "description": f"The program sets {', '.join(PROGRAM_STATUSES)}; the provider sets the others "
                       "through its link (403 here)"})
    reason = fields.String(allow_none=True, validate=validate.Length(max=500))
    note = fields.String(allow_none=True, validate=NOTE)
    provider_email = Email(allow_none=True)


class ReferralSchema(Schema):
    id = fields.UUID()
    client_id = fields.UUID()
    provider_id = fields.UUID()
    provider = fields.Nested(SnapshotSchema, attribute="provider_snapshot")
    provider_email = fields.String(allow_none=True)
    referral_list_id = fields.UUID(allow_none=True)
    status = fields.String(metadata={"enum": list(STATUSES)})
    status_reason = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    created_by = fields.UUID()
    created_at = fields.DateTime()
    requested_at = fields.DateTime(allow_none=True)
    accepted_at = fields.DateTime(allow_none=True)
    status_changed_at = fields.DateTime()


ReferralPageSchema = page_of(ReferralSchema)


class ReferralQuerySchema(PageQuery):
    client_id = fields.UUID()
    provider_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(STATUSES))


class StatusChangeSchema(Schema):
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    reason = fields.String(allow_none=True)
    actor_type = fields.String(metadata={"enum": ["staff", "provider"]})
    actor_id = fields.UUID(allow_none=True)
    occurred_at = fields.DateTime()


class HistorySchema(Schema):
    items = fields.List(fields.Nested(StatusChangeSchema), metadata={"description": "Oldest first"})


class ResponseSchema(StrictSchema):
    status = fields.String(required=True, validate=validate.OneOf(STATUSES), metadata={
        "description": f"The provider sets {', '.join(PROVIDER_STATUSES)} (403 for the others)"})
    reason = fields.String(allow_none=True, validate=validate.Length(max=500))


class ReferralForProviderSchema(Schema):
    """What the provider's link shows: enough to decide, nothing more."""
    program_name = fields.String()
    provider_name = fields.String()
    client_first_name = fields.String()
    note = fields.String(allow_none=True)
    status = fields.String()
    requested_at = fields.DateTime(allow_none=True)
    allowed_statuses = fields.List(fields.String())


class ReferralSettingsSchema(StrictSchema):
    stale_referral_days = fields.Integer(required=True, validate=validate.Range(0, 365), metadata={
        "description": "Remind the referring staff member of an open referral with no change for this "
                       "many days (0: never)"})


# Inbound requests --------------------------------------------------------------------------------

class InboundFormSchema(Schema):
    form_token = fields.String(metadata={"description": "Send it back with the request"})
    min_fill_seconds = fields.Integer()


class InboundRequestFields(StrictSchema):
    """Who needs help, how to reach them, and why."""
    name = fields.String(required=True, validate=validate.Length(1, 200))
    email = Email(allow_none=True, validate=validate.Length(max=320))
    phone = fields.String(allow_none=True, validate=validate.Regexp(r"^\+?[0-9 ().\-]{7,25}$"))
    message = fields.String(required=True, validate=validate.Length(1, 5000))

    @validates_schema
    def reachable(self, data, **kwargs):
        if not data.get("email") and not data.get("phone"):
            raise ValidationError("Give an email address or a phone number.", "email")


class InboundRequestCreateSchema(InboundRequestFields):
    form_token = fields.String(required=True, validate=validate.Length(1, 200))
    website = fields.String(load_default="", metadata={
        "description": "Leave empty: a field people never see, which fills itself only for bots"})


class InboundAcceptedSchema(Schema):
    status = fields.String()


class InboundRequestSchema(Schema):
    id = fields.UUID()
    provider_id = fields.UUID(allow_none=True, metadata={"description": "Null for a case manager's referral"})
    provider_name = fields.String(allow_none=True)
    name = fields.String()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    message = fields.String()
    recipient_count = fields.Integer()
    case_manager_id = fields.UUID(allow_none=True, metadata={
        "description": "The case manager who referred; null for the public form"})
    company_id = fields.UUID(allow_none=True, metadata={"description": "The case manager's company then"})
    business_unit_id = fields.UUID(allow_none=True, metadata={"description": "The case manager's unit then"})
    created_at = fields.DateTime()


InboundRequestPageSchema = page_of(InboundRequestSchema)


class InboundQuerySchema(PageQuery):
    provider_id = fields.UUID()
    case_manager_id = fields.UUID(metadata={"description": "Referrals made by this case manager"})
    source = fields.String(validate=validate.OneOf(INBOUND_SOURCES), metadata={
        "description": "public_form (a provider's public profile) or case_manager (a case manager's login)"})


# Case managers' referrals (the case-manager portal) -----------------------------------------------

class CaseManagerReferralCreateSchema(InboundRequestFields):
    """A person the case manager refers to the program; ``message`` says why."""


class CaseManagerReferralSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    message = fields.String()
    case_manager_id = fields.UUID(metadata={"description": "Who referred: you or a colleague of your unit"})
    business_unit_id = fields.UUID(allow_none=True, metadata={"description": "The unit it was referred from"})
    created_at = fields.DateTime()


CaseManagerReferralPageSchema = page_of(CaseManagerReferralSchema)


class CaseManagerReferralQuerySchema(PageQuery):
    case_manager_id = fields.UUID(metadata={"description": "Only this colleague's (or your own) referrals"})


# Reports -----------------------------------------------------------------------------------------

class ReportQuerySchema(StrictSchema):
    since = fields.Date(metadata={"description": "From this day (inclusive); default 90 days ago"})
    until = fields.Date(metadata={"description": "To this day (inclusive); default today"})
    period = fields.String(load_default="month", validate=validate.OneOf(("day", "week", "month")))
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))


class CountRowSchema(Schema):
    key = fields.String(allow_none=True)
    label = fields.String()
    referrals = fields.Integer()
    accepted = fields.Integer()
    completed = fields.Integer()
    inbound_requests = fields.Integer()
    median_hours_to_acceptance = fields.Float(allow_none=True)


class ReferralReportSchema(Schema):
    since = fields.Date()
    until = fields.Date()
    by_provider = fields.List(fields.Nested(CountRowSchema), metadata={"description": "Per clinician or agency"})
    by_staff = fields.List(fields.Nested(CountRowSchema))
    by_status = fields.List(fields.Nested(CountRowSchema))
    by_period = fields.List(fields.Nested(CountRowSchema))
    median_hours_to_acceptance = fields.Float(allow_none=True)
