"""Sign-up, sessions and the public keys."""
from identity import schemas as s
from gateway.routing import Route
from shared.permissions import AUDIT_VIEW, SETTINGS_MANAGE, STAFF_MANAGE

TAG = "sessions"

ROUTES = [
    Route("GET", "/.well-known/jwks.json", "identity.jwks", "Public keys that sign access tokens",
          public=True, rate_limit="public", response=s.JwksSchema, tag="operations"),
    Route("POST", "/api/v1/signup", "identity.signup", "Sign up a program and its owner",
          public=True, rate_limit="auth", body=s.SignupSchema, response=s.SignupResultSchema,
          status=201, problems=(409,), tag=TAG),
    Route("POST", "/api/v1/auth/login", "identity.login", "Sign in with email and password",
          public=True, rate_limit="auth", body=s.LoginSchema, response=s.TokenPairSchema,
          problems=(401,), tag=TAG),
    Route("POST", "/api/v1/auth/refresh", "identity.refresh",
          "Exchange a refresh token for a new token pair (the old one stops working)",
          public=True, rate_limit="auth", body=s.RefreshSchema, response=s.TokenPairSchema,
          problems=(401,), tag=TAG),
    Route("POST", "/api/v1/auth/logout", "identity.logout", "End the session of a refresh token",
          body=s.RefreshSchema, status=204, tag=TAG),
    Route("GET", "/api/v1/me", "identity.me", "The caller, their program and permissions",
          response=s.MeSchema, tag=TAG),
]

ROUTES += [
    Route("GET", "/api/v1/organization", "identity.get_organization", "The program's settings",
          response=s.OrganizationSchema, tag="program"),
    Route("PATCH", "/api/v1/organization", "identity.update_organization",
          "Change the program's name, address, phone, time zone or contact email",
          permissions=(SETTINGS_MANAGE,), body=s.OrganizationUpdateSchema,
          response=s.OrganizationSchema, tag="program"),
    Route("POST", "/api/v1/organization/owner", "identity.transfer_ownership",
          "Transfer ownership to another staff member (owner only)", body=s.OwnerTransferSchema,
          response=s.StaffSchema, tag="program"),
    Route("GET", "/api/v1/staff", "identity.list_staff", "Staff, partner users and case-manager logins",
          permissions=(STAFF_MANAGE,), query=s.StaffQuerySchema, response=s.StaffPageSchema, tag="staff"),
    Route("GET", "/api/v1/staff/<uuid:user_id>", "identity.get_staff", "One staff member",
          permissions=(STAFF_MANAGE,), response=s.StaffSchema, tag="staff"),
    Route("PATCH", "/api/v1/staff/<uuid:user_id>", "identity.update_staff",
          "Change a staff member's role, grants, denials or enabled flag",
          permissions=(STAFF_MANAGE,), body=s.StaffUpdateSchema, response=s.StaffSchema, tag="staff"),
]

ROUTES += [
    Route("GET", "/api/v1/audit-events", "identity.list_audit_events",
          "The program's audit log, newest first", permissions=(AUDIT_VIEW,),
          query=s.AuditQuerySchema, response=s.AuditEventPageSchema, tag="audit"),
    Route("GET", "/api/v1/audit-events/verification", "identity.verify_audit_chain",
          "Recompute the audit log's hash chain and report any altered or missing record",
          permissions=(AUDIT_VIEW,), response=s.AuditChainSchema, tag="audit"),
]

ROUTES += [
    Route("POST", "/api/v1/me/totp", "identity.begin_totp_enrolment",
          "Start enrolling an authenticator app (returns its secret and otpauth URI)",
          response=s.TotpEnrolmentSchema, status=201, tag=TAG),
    Route("POST", "/api/v1/me/totp/confirm", "identity.confirm_totp_enrolment",
          "Confirm enrolment with a first code; returns single-use recovery codes",
          body=s.TotpCodeSchema, response=s.RecoveryCodesSchema, tag=TAG),
    Route("POST", "/api/v1/me/totp/disable", "identity.disable_totp",
          "Turn the second factor off (not where the program requires it)",
          body=s.TotpCodeSchema, status=204, tag=TAG),
]

ROUTES += [
    Route("POST", "/api/v1/staff/invitations", "identity.invite_staff",
          "Invite a staff member by email (a single-use link valid for 7 days)",
          permissions=(STAFF_MANAGE,), body=s.InvitationCreateSchema, response=s.InvitationSchema,
          status=201, tag="staff"),
    Route("GET", "/api/v1/staff/invitations", "identity.list_invitations", "Pending invitations",
          permissions=(STAFF_MANAGE,), response=s.InvitationListSchema, tag="staff"),
    Route("DELETE", "/api/v1/staff/invitations/<uuid:invitation_id>", "identity.revoke_invitation",
          "Revoke a pending invitation: its link stops working at once (an accepted one is a 409)",
          permissions=(STAFF_MANAGE,), status=204, problems=(409,), tag="staff"),
    Route("POST", "/public/invitations/<string:token>/accept", "identity.accept_invitation",
          "Accept an invitation: set your name and password, and sign in", public=True,
          rate_limit="auth", body=s.InvitationAcceptSchema, response=s.TokenPairSchema, status=201,
          problems=(409,), tag="staff"),
    Route("POST", "/public/password-resets", "identity.request_password_reset",
          "Email a password-reset link (answers the same whether or not the account exists)",
          public=True, rate_limit="auth", body=s.PasswordResetRequestSchema, status=202, tag=TAG),
    Route("POST", "/public/password-resets/<string:token>", "identity.reset_password",
          "Set a new password with a reset link; every existing session ends", public=True,
          rate_limit="auth", body=s.PasswordResetSchema, status=204, tag=TAG),
]
