"""Identity's boundary: what its RPCs accept and answer (the gateway validates with these too)."""
from zoneinfo import available_timezones

from marshmallow import fields, validate

from identity.roles import effective_permissions

from shared.schemas import Email, page_of, PageQuery, StrictSchema

TIMEZONE = validate.OneOf(sorted(available_timezones()), error="Not a known IANA time zone.")
PASSWORD = validate.Length(min=12, max=256, error="Use between {min} and {max} characters.")
NAME = validate.Length(min=1, max=100)


class SignupSchema(StrictSchema):
    organization_name = fields.String(required=True, validate=validate.Length(min=2, max=200),
                                      metadata={"description": "The program's name"})
    email = Email(required=True, validate=validate.Length(max=320),
                  metadata={"description": "The owner's email, used to sign in"})
    password = fields.String(required=True, load_only=True, validate=PASSWORD)
    first_name = fields.String(required=True, validate=NAME)
    last_name = fields.String(required=True, validate=NAME)
    timezone = fields.String(load_default="America/New_York", validate=TIMEZONE)


TOTP_CODE = validate.Regexp(r"^[0-9]{6}$", error="Six digits.")


class LoginSchema(StrictSchema):
    email = Email(required=True, validate=validate.Length(max=320))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=256))
    totp_code = fields.String(load_only=True, validate=TOTP_CODE,
                              metadata={"description": "With a second factor enabled"})
    recovery_code = fields.String(load_only=True, validate=validate.Length(max=20))


class TotpCodeSchema(StrictSchema):
    code = fields.String(required=True, load_only=True, validate=TOTP_CODE)


class TotpEnrolmentSchema(StrictSchema):
    secret = fields.String(required=True)
    otpauth_uri = fields.String(required=True)


class RecoveryCodesSchema(StrictSchema):
    recovery_codes = fields.List(fields.String(), required=True,
                                 metadata={"description": "Shown once; each works once"})


class RefreshSchema(StrictSchema):
    refresh_token = fields.String(required=True, load_only=True, validate=validate.Length(min=10, max=200))


class TokenPairSchema(StrictSchema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True)
    expires_in = fields.Integer(required=True)
    refresh_token = fields.String(required=True)


class OrganizationSchema(StrictSchema):
    id = fields.UUID(dump_only=True)
    name = fields.String()
    phone = fields.String(allow_none=True)
    contact_email = fields.String(allow_none=True)
    address = fields.Dict()
    timezone = fields.String()
    require_totp = fields.Boolean()


class UserSchema(StrictSchema):
    id = fields.UUID(dump_only=True)
    email = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    kind = fields.String()
    linked_id = fields.UUID(allow_none=True)
    role = fields.String()
    is_owner = fields.Boolean()
    enabled = fields.Boolean()
    totp_enabled = fields.Boolean()


class StaffSchema(UserSchema):
    grants = fields.List(fields.String())
    denials = fields.List(fields.String())
    billing_delegate = fields.Boolean()
    permissions = fields.Method("effective", dump_only=True)
    last_login_at = fields.DateTime(allow_none=True)

    def effective(self, user):
        return sorted(effective_permissions(user))


class InvitationCreateSchema(StrictSchema):
    email = Email(required=True, validate=validate.Length(max=320))
    role = fields.String(required=True, validate=validate.Length(max=40),
                         metadata={"description": "org_admin, admin, biller, therapist or default"})
    first_name = fields.String(validate=validate.Length(max=100))
    last_name = fields.String(validate=validate.Length(max=100))
    language = fields.String(load_default="en", validate=validate.OneOf(["en", "es"]))


class PortalInvitationSchema(StrictSchema):
    """Used over RPC by sharing (partner users) and directory (case-manager logins)."""
    kind = fields.String(required=True, validate=validate.OneOf(["partner", "case_manager"]))
    linked_id = fields.UUID(required=True)
    email = Email(required=True, validate=validate.Length(max=320))
    first_name = fields.String(validate=validate.Length(max=100))
    last_name = fields.String(validate=validate.Length(max=100))
    language = fields.String(load_default="en", validate=validate.OneOf(["en", "es"]))


class InvitationSchema(StrictSchema):
    id = fields.UUID()
    email = fields.String()
    kind = fields.String()
    linked_id = fields.UUID(allow_none=True)
    role = fields.String()
    first_name = fields.String()
    last_name = fields.String()
    created_at = fields.DateTime()
    expires_at = fields.DateTime()
    accepted_at = fields.DateTime(allow_none=True)


class InvitationListSchema(StrictSchema):
    items = fields.List(fields.Nested(InvitationSchema), required=True)


class InvitationAcceptSchema(StrictSchema):
    first_name = fields.String(required=True, validate=NAME)
    last_name = fields.String(required=True, validate=NAME)
    password = fields.String(required=True, load_only=True, validate=PASSWORD)


class PasswordResetRequestSchema(StrictSchema):
    email = Email(required=True, validate=validate.Length(max=320))


class PasswordResetSchema(StrictSchema):
    password = fields.String(required=True, load_only=True, validate=PASSWORD)


class StaffUpdateSchema(StrictSchema):
    first_name = fields.String(validate=NAME)
    last_name = fields.String(validate=NAME)
    role = fields.String(validate=validate.Length(max=40))
    grants = fields.List(fields.String(validate=validate.Length(max=60)), validate=validate.Length(max=50))
    denials = fields.List(fields.String(validate=validate.Length(max=60)), validate=validate.Length(max=50))
    enabled = fields.Boolean()


class StaffQuerySchema(PageQuery):
    kind = fields.String(validate=validate.OneOf(["staff", "partner", "case_manager"]))


class OwnerTransferSchema(StrictSchema):
    user_id = fields.UUID(required=True, metadata={"description": "The staff member who becomes owner"})


class OrganizationUpdateSchema(StrictSchema):
    name = fields.String(validate=validate.Length(min=2, max=200))
    phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    contact_email = Email(allow_none=True, validate=validate.Length(max=320))
    address = fields.Dict(keys=fields.String(validate=validate.OneOf(
        ["line1", "line2", "city", "state", "postcode", "country"])),
        values=fields.String(validate=validate.Length(max=200)))
    timezone = fields.String(validate=TIMEZONE)
    require_totp = fields.Boolean(metadata={"description": "Staff must use a second factor"})


class MeSchema(StrictSchema):
    user = fields.Nested(UserSchema, required=True)
    organization = fields.Nested(OrganizationSchema, required=True)
    permissions = fields.List(fields.String(), required=True)
    second_factor_enrolment_required = fields.Boolean(
        required=True, metadata={"description": "The program requires TOTP; enrol, then sign in again"})


class SignupResultSchema(StrictSchema):
    user = fields.Nested(UserSchema, required=True)
    organization = fields.Nested(OrganizationSchema, required=True)
    tokens = fields.Nested(TokenPairSchema, required=True)


class JwksSchema(StrictSchema):
    keys = fields.List(fields.Dict(), required=True)


class BillingDelegatesSchema(StrictSchema):
    user_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(max=50),
                           metadata={"description": "Staff who may see and manage billing"})


class BillingDelegatesOutSchema(StrictSchema):
    delegates = fields.List(fields.Nested(UserSchema(only=("id", "email", "first_name", "last_name"))))


class AuditEventSchema(StrictSchema):
    id = fields.Integer()
    event_id = fields.UUID()
    actor_id = fields.UUID(allow_none=True)
    action = fields.String()
    resource_type = fields.String()
    resource_id = fields.String(allow_none=True)
    outcome = fields.String()
    details = fields.Dict()
    source = fields.String()
    request_id = fields.String(allow_none=True)
    occurred_at = fields.DateTime()
    hash = fields.String()


class AuditQuerySchema(PageQuery):
    actor_id = fields.UUID()
    action = fields.String(validate=validate.Length(max=80))
    resource_type = fields.String(validate=validate.Length(max=60))
    resource_id = fields.String(validate=validate.Length(max=80))
    since = fields.DateTime()
    until = fields.DateTime()


class AuditChainSchema(StrictSchema):
    valid = fields.Boolean(required=True)
    checked = fields.Integer(required=True)
    problems = fields.List(fields.Dict(), required=True)


StaffPageSchema = page_of(StaffSchema)
AuditEventPageSchema = page_of(AuditEventSchema)
