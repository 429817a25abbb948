"""Identity's nameko entrypoints: decode, call the domain, encode."""
from nameko.rpc import RpcProxy

from identity import accounts, audit, invitations, schemas, staff, tokens, totp
from shared.audit import AUDIT_RECORDED
from shared.config import SERVICES
from shared.events import event_handler
from shared.logs import current_request_id
from shared.schemas import load
from shared.service import ServiceBase
from shared.rpc import rpc


class IdentityService(ServiceBase):
    name = "identity"

    # Seats are billing's to count: asked before anyone is invited or enabled again.
    billing = RpcProxy("billing")

    @rpc
    def signup(self, payload, client=None):
        return accounts.signup(self.db, load(schemas.SignupSchema(), payload))

    @rpc
    def login(self, payload, client=None):
        address = (client or {}).get("ip")
        return accounts.login(self.db, load(schemas.LoginSchema(), payload), address)

    @rpc
    def refresh(self, payload, client=None):
        return accounts.refresh(self.db, load(schemas.RefreshSchema(), payload))

    @rpc
    def logout(self, payload):
        accounts.logout(self.db, self.auth.current, load(schemas.RefreshSchema(), payload))

    @rpc
    def me(self):
        return accounts.me(self.db, self.auth.current)

    @rpc
    def begin_totp_enrolment(self):
        return totp.begin_enrolment(self.db, accounts.caller_user(self.db, self.auth.current))

    @rpc
    def confirm_totp_enrolment(self, payload):
        code = load(schemas.TotpCodeSchema(), payload)["code"]
        return totp.confirm_enrolment(self.db, accounts.caller_user(self.db, self.auth.current), code)

    @rpc
    def disable_totp(self, payload):
        code = load(schemas.TotpCodeSchema(), payload)["code"]
        totp.disable(self.db, accounts.caller_user(self.db, self.auth.current), code)

    @rpc
    def jwks(self, client=None):
        result = tokens.jwks(self.db)
        self.db.commit()
        return result

    @rpc
    def active_revocations(self):
        return tokens.active_revocations(self.db)

    @rpc
    def get_organization(self):
        return staff.get_organization(self.db, self.auth.current)

    @rpc
    def update_organization(self, payload):
        return staff.update_organization(self.db, self.auth.current,
                                         load(schemas.OrganizationUpdateSchema(), payload))

    @rpc
    def list_staff(self, query):
        return staff.list_staff(self.db, self.auth.current, load(schemas.StaffQuerySchema(), query))

    @rpc
    def get_staff(self, user_id):
        return staff.get_staff(self.db, self.auth.current, user_id)

    @rpc
    def update_staff(self, user_id, payload):
        return staff.update_staff(self.db, self.auth.current, user_id, load(schemas.StaffUpdateSchema(), payload),
                                  self.billing.check_seat_available)

    @rpc
    def transfer_ownership(self, payload):
        data = load(schemas.OwnerTransferSchema(), payload)
        return staff.transfer_ownership(self.db, self.auth.current, str(data["user_id"]))

    @rpc
    def invite_staff(self, payload):
        self.billing.check_seat_available()
        return invitations.invite(self.db, self.auth.current, load(schemas.InvitationCreateSchema(), payload),
                                  self.config["PUBLIC_BASE_URL"])

    @rpc
    def invite_portal_user(self, payload):
        data = load(schemas.PortalInvitationSchema(), payload)
        self.billing.check_seat_available(kind=data["kind"])
        return invitations.invite_portal_user(self.db, self.auth.current, data, self.config["PUBLIC_BASE_URL"])

    @rpc
    def list_invitations(self):
        return invitations.list_invitations(self.db, self.auth.current)

    @rpc
    def revoke_invitation(self, invitation_id):
        invitations.revoke_invitation(self.db, self.auth.current, invitation_id)

    @rpc
    def accept_invitation(self, token, payload, client=None):
        return invitations.accept(self.db, token, load(schemas.InvitationAcceptSchema(), payload))

    @rpc
    def request_password_reset(self, payload, client=None):
        email = load(schemas.PasswordResetRequestSchema(), payload)["email"]
        invitations.request_password_reset(self.db, email, self.config["PUBLIC_BASE_URL"])

    @rpc
    def reset_password(self, token, payload, client=None):
        password = load(schemas.PasswordResetSchema(), payload)["password"]
        invitations.reset_password(self.db, token, password)

    @rpc
    def billing_delegates(self):
        return staff.billing_delegates(self.db, self.auth.current)

    @rpc
    def billing_contacts(self, org_id):
        """Service to service (billing's dunning emails); the gateway routes nothing here."""
        return staff.billing_contacts(self.db, org_id)

    @rpc
    def set_billing_delegates(self, payload):
        data = load(schemas.BillingDelegatesSchema(), payload)
        return staff.set_billing_delegates(self.db, self.auth.current, data["user_ids"])

    @rpc
    def list_audit_events(self, query):
        return audit.list_events(self.db, self.auth.current, load(schemas.AuditQuerySchema(), query))

    @rpc
    def verify_audit_chain(self):
        return audit.verify_chain(self.db, self.auth.current)

    def append_audit_record(self, event, source):
        if event.claim(self.db):
            audit.append(self.db, event, source, current_request_id())
        self.db.commit()


def _audit_consumer(source):
    @event_handler(source, AUDIT_RECORDED)
    def consume(self, event):
        self.append_audit_record(event, source)
    return consume


# Every service's audit records, one consumer (and queue) per source service.
for _source in SERVICES:
    setattr(IdentityService, f"on_{_source}_audit_recorded", _audit_consumer(_source))
