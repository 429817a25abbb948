"""The directory's referrer entrypoints in a nameko container with real notify, PostgreSQL,
RabbitMQ and SMTP: logins through identity, the events that onboard a case manager, clear a
subscription and name the staff, and promotions that reach only the right inboxes.

identity is a stand-in here (``FakeIdentity``): a small nameko service over the real broker
answering the RPCs the directory makes. The system tests use the real one."""
import uuid

import pytest
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import create_engine, text

from directory.service import DirectoryService
from notify.service import NotifyService
from shared import permissions as p
from shared.auth import AUTH_CONTEXT_KEY, Auth, AuthContext
from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shared.outbox import EventPublisher, envelope
from shared.testing.waiting import wait_until

pytestmark = pytest.mark.integration

PUBLIC_BASE_URL = "https://handoff.example"
INVITATIONS = []                  # what identity was asked to send
TAKEN = "taken@example.org"       # an address identity already has an account for


class FakeIdentity:
    name = "identity"
    auth = Auth()

    @rpc
    def invite_portal_user(self, payload):
        self.auth.require(p.REFERRERS_MANAGE)
        if payload["email"] == TAKEN:
            raise Conflict("Someone with this email already has an account", errors={"email": ["Already registered"]})
        INVITATIONS.append(payload)
        return {"id": str(uuid.uuid4()), "email": payload["email"], "kind": payload["kind"]}

    @rpc
    def me(self):
        return {"organization": {"id": self.auth.current.org_id, "name": "Riverside Counseling"}}


@pytest.fixture
def config(infrastructure, mail):
    return infrastructure.config(
        PUBLIC_BASE_URL=PUBLIC_BASE_URL, SMTP_HOST="127.0.0.1", SMTP_PORT=mail.port, SMTP_TIMEOUT_SECONDS=2,
        MAIL_FROM="Handoff <no-reply@handoff.test>", SMS_API_URL="http://127.0.0.1:9", SMS_ACCOUNT_SID="AC1",
        SMS_API_KEY="key", SMS_FROM="+15550000000")


@pytest.fixture
def services(container_factory, config):
    for service in (DirectoryService, NotifyService, FakeIdentity):
        container_factory(service, config).start()


@pytest.fixture
def org_id():
    return str(uuid.uuid4())


@pytest.fixture
def as_caller(config, services):
    def proxy(caller, service="directory"):
        return ServiceRpcProxy(service, config, context_data={AUTH_CONTEXT_KEY: caller.to_header()})
    return proxy


@pytest.fixture
def admin(org_id):
    return AuthContext(user_id=str(uuid.uuid4()), org_id=org_id, role="admin",
                       permissions=frozenset({p.REFERRERS_MANAGE, p.SETTINGS_MANAGE, p.REPORTS_VIEW}))


def publish(config, source, event_type, org_id, data, event_id=None):
    """What ``source`` would publish, on its exchange."""
    body = envelope(event_type, org_id, data, event_id)
    EventPublisher(config["AMQP_URI"], source).publish(event_type, body)
    return body


def a_company_with_a_case_manager(directory, **fields):
    company = directory.create_company({"name": f"Acme {uuid.uuid4().hex[:6]}"})
    case_manager = directory.create_case_manager({"company_id": company["id"], "first_name": "Alex",
                                                  "last_name": "Romero", **fields})
    return company, case_manager


def test_a_login_is_created_through_identity_and_a_refused_one_saves_nothing(as_caller, admin):
    with as_caller(admin) as directory:
        company, case_manager = a_company_with_a_case_manager(directory)
        email = f"alex-{uuid.uuid4().hex[:6]}@example.org"
        with_login = directory.update_case_manager(case_manager["id"], {"has_login": True, "email": email})
        assert with_login["has_login"] and with_login["login_invited_at"]
        assert INVITATIONS[-1] == {"kind": "case_manager", "linked_id": case_manager["id"], "email": email,
                                   "first_name": "Alex", "last_name": "Romero"}

        with pytest.raises(Conflict) as error:
            directory.create_case_manager({"company_id": company["id"], "first_name": "Dup", "last_name": "Login",
                                           "email": TAKEN, "has_login": True})
        assert error.value.errors == {"email": ["Already registered"]}
        assert directory.search_case_managers({"last_name": "Login"})["items"] == []
        with pytest.raises(ValidationFailed) as error:
            directory.create_case_manager({"company_id": company["id"], "first_name": "No", "last_name": "Email",
                                           "has_login": True})
        assert error.value.errors == {"email": ["Required for a case manager with a login."]}


def test_the_referrer_scope_is_only_for_a_linked_case_manager(as_caller, admin, org_id):
    with as_caller(admin) as directory:
        company, case_manager = a_company_with_a_case_manager(directory)
        unit = directory.create_business_unit(company["id"], {"name": "Claims"})
        directory.update_case_manager(case_manager["id"], {"business_unit_id": unit["id"]})
        with pytest.raises(Forbidden):
            directory.referrer_scope()

    def login(linked_id, org=org_id):
        return AuthContext(user_id=str(uuid.uuid4()), org_id=org, role="case_manager",
                           permissions=frozenset({p.CASE_MANAGER_PORTAL}), linked_id=linked_id)

    with as_caller(login(case_manager["id"])) as directory:
        assert directory.referrer_scope() == {"case_manager_id": case_manager["id"], "company_id": company["id"],
                                              "business_unit_id": unit["id"]}
        with pytest.raises(Forbidden):
            directory.create_company({"name": "Not mine to add"})
    for stranger in (login(str(uuid.uuid4())), login(case_manager["id"], org=str(uuid.uuid4()))):
        with as_caller(stranger) as directory, pytest.raises(Forbidden):
            directory.referrer_scope()


def test_events_name_the_staff_and_onboard_on_a_first_referral_once(as_caller, admin, org_id, config):
    officer = str(uuid.uuid4())
    publish(config, "identity", "user_activated", org_id, {"user_id": officer, "kind": "staff", "role": "admin"})
    with as_caller(admin) as directory:
        company, case_manager = a_company_with_a_case_manager(directory, recruitment_status="onboarding")

        def officer_accepted():
            try:
                return directory.update_case_manager(case_manager["id"], {"business_support_officer_id": officer})
            except ValidationFailed:
                return None
        assert wait_until(officer_accepted)

        referral = publish(config, "referrals", "inbound_request_received", org_id, {
            "inbound_request_id": str(uuid.uuid4()), "provider_id": None, "case_manager_id": case_manager["id"]})
        publish(config, "referrals", "inbound_request_received", org_id, referral["data"],
                event_id=referral["event_id"])  # delivered twice: one effect
        assert wait_until(lambda: directory.get_case_manager(case_manager["id"])["recruitment_status"] == "onboarded")
        changes = [entry for entry in directory.case_manager_history(case_manager["id"], {})["items"]
                   if entry["field"] == "recruitment_status"]
        assert [(c["old_value"], c["new_value"], c["actor_id"]) for c in changes] == [
            ("onboarding", "onboarded", None), (None, "onboarding", admin.user_id)]
        assert directory.recruitment_view({})["by_status"]["onboarded"] == 1


def test_a_promotion_reaches_only_subscribed_verified_case_managers_until_they_unsubscribe(
        as_caller, admin, mail, config, infrastructure):
    fan, unverified, quiet = (f"{name}-{uuid.uuid4().hex[:6]}@example.org" for name in ("fan", "unverified", "quiet"))
    with as_caller(admin) as directory:
        company, fan_record = a_company_with_a_case_manager(directory, email=fan, contact_verified=True,
                                                            subscribed_to_promotions=True)
        for address, verified, subscribed in ((unverified, False, True), (quiet, True, False)):
            directory.create_case_manager({"company_id": company["id"], "first_name": "Other", "last_name": "Person",
                                           "email": address, "contact_verified": verified,
                                           "subscribed_to_promotions": subscribed})
        promotion = {"headline": "Spring groups", "message": "Three new groups.", "link": "https://example.org/g"}
        # identity's event of the new program has not arrived: the directory asks identity its name
        sent = directory.send_promotion(promotion, headers={"Idempotency-Key": "spring"})
        assert program_name(infrastructure, admin.org_id) == "Riverside Counseling"
        assert directory.send_promotion(promotion, headers={"Idempotency-Key": "spring"})["id"] == sent["id"]
        assert sent["recipient_count"] == 1

        [email] = wait_until(lambda: mail.messages_to(fan))
        assert "Hello Alex" in email.get_body(("plain",)).get_content()
        one_click = email["List-Unsubscribe"].strip().strip("<>")
        with ServiceRpcProxy("notify", config) as notify:  # the public route: no caller
            notify.unsubscribe(one_click.rsplit("/", 1)[1])
        assert wait_until(lambda: not directory.get_case_manager(fan_record["id"])["subscribed_to_promotions"])
        assert directory.send_promotion({**promotion, "headline": "Summer groups"})["recipient_count"] == 0

    assert mail.messages_to(unverified) == [] and mail.messages_to(quiet) == []
    assert len(mail.messages_to(fan)) == 1
    engine = create_engine(infrastructure.database_url_of("directory"))
    with engine.connect() as connection:
        audited = connection.execute(text(
            "SELECT count(*) FROM outbox_events WHERE event_type = 'audit_recorded' "
            "AND payload->'data'->>'resource_id' = :id"), {"id": sent["id"]}).scalar()
    engine.dispose()
    assert audited == 1  # the repeated request was not a second send


def test_value_lists_refuse_orphans_and_need_program_settings(as_caller, admin, org_id):
    with as_caller(admin) as directory:
        company, case_manager = a_company_with_a_case_manager(directory, position="Team Leader")
        positions = directory.get_value_list("positions")
        assert positions["usage"]["Team Leader"] == 1 and positions["updated_at"] is None
        kept = [value for value in positions["values"] if value != "Team Leader"] + ["Team Lead"]
        with pytest.raises(Conflict):
            directory.put_value_list("positions", {"values": kept})
        edited = directory.put_value_list("positions", {"values": kept, "remap": {"Team Leader": "Team Lead"}})
        assert edited["usage"]["Team Lead"] == 1 and "Team Leader" not in edited["values"]
        assert directory.get_case_manager(case_manager["id"])["position"] == "Team Lead"
        with pytest.raises(NotFound):
            directory.get_value_list("hobbies")

    manager_only = AuthContext(user_id=str(uuid.uuid4()), org_id=org_id, role="x",
                               permissions=frozenset({p.REFERRERS_MANAGE}))
    with as_caller(manager_only) as directory:
        assert directory.get_value_list("referral-sources")["values"]
        with pytest.raises(Forbidden):
            directory.put_value_list("positions", {"values": ["Case Manager"]})


def program_name(infrastructure, org_id):
    """The name the directory signs the program's emails with, as it learnt it from identity."""
    engine = create_engine(infrastructure.database_url_of("directory"))
    with engine.connect() as connection:
        name = connection.execute(text("SELECT name FROM program_names WHERE org_id = :org_id"),
                                  {"org_id": org_id}).scalar()
    engine.dispose()
    return name
