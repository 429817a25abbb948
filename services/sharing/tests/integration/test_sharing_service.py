"""The sharing service in a nameko container with real notify, PostgreSQL, RabbitMQ and SMTP.

referrals and identity are stand-ins here (``FakeReferrals``, ``FakeIdentity``): small nameko
services over the real broker answering the RPCs sharing makes, against in-memory data. The
system tests use the real ones."""
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import entrypoint_hook
from sqlalchemy import create_engine, text

from notify.service import NotifyService
from sharing.service import SharingService
from shared import outbox, permissions as p
from shared.auth import AUTH_CONTEXT_KEY, Auth, AuthContext
from shared.errors import Conflict, Forbidden, NotFound, ValidationFailed
from shared.testing.waiting import wait_until

pytestmark = pytest.mark.integration

PUBLIC_BASE_URL = "https://handoff.example"
CLIENTS = {}       # id -> (org_id, card), as referrals would answer client_card
INVITATIONS = []   # what identity was asked to send


class FakeReferrals:
    name = "referrals"
    auth = Auth()

    @rpc
    def client_card(self, client_id):
        org_id, card = CLIENTS.get(client_id, (None, None))
        if org_id != self.auth.current.org_id:
            raise NotFound("No such client")
        return {**card, "as_of": datetime.now(timezone.utc).isoformat()}


class FakeIdentity:
    name = "identity"
    auth = Auth()

    @rpc
    def me(self):
        return {"user": {"first_name": "Dana", "last_name": "Whitfield"},
                "organization": {"name": "Riverside Counseling"}}

    @rpc
    def invite_portal_user(self, payload):
        self.auth.require(p.SHARING_MANAGE)
        INVITATIONS.append(payload)
        return {"id": str(uuid.uuid4()), "email": payload["email"], "kind": payload["kind"],
                "linked_id": payload["linked_id"], "role": "partner"}


def a_client(org_id, first_name="María", last_name="Ruiz"):
    client_id = str(uuid.uuid4())
    CLIENTS[client_id] = (org_id, {"id": client_id, "first_name": first_name, "last_name": last_name,
                                   "photo_url": "https://photos.example/m.jpg", "phone": "+15551230000",
                                   "email": "maria@example.org", "preferred_contact": "text"})
    return client_id


def admin(org_id, *extra):
    return AuthContext(user_id=str(uuid.uuid4()), org_id=org_id, role="admin",
                       permissions=frozenset({p.SHARING_MANAGE, p.CLIENTS_ALL, *extra}))


def partner_user(org_id, partner_id):
    return AuthContext(user_id=str(uuid.uuid4()), org_id=org_id, role="partner",
                       permissions=frozenset({p.PARTNER_PORTAL}), linked_id=partner_id)


def a_consent(**changes):
    return {"purpose": "Coordinate housing support", "information_disclosed": "Name, photo, contact details",
            "disclosed_by": "Riverside Counseling", "agreed_by": "The client",
            "expires_at": (datetime.now(timezone.utc) + timedelta(days=30)).isoformat(),
            "agreed_on": date.today().isoformat(), "revocation_acknowledged": True, **changes}


def a_partner_body(name="Eastside Housing", email=None):
    return {"name": name, "phone": "+15550001111", "contact_name": "Pat Partner",
            "contact_email": email or f"pat-{uuid.uuid4().hex[:8]}@example.org"}


@pytest.fixture
def config(infrastructure, mail):
    return infrastructure.config(
        PUBLIC_BASE_URL=PUBLIC_BASE_URL, SMTP_HOST="127.0.0.1", SMTP_PORT=mail.port, SMTP_TIMEOUT_SECONDS=2,
        MAIL_FROM="Handoff <no-reply@handoff.test>", SMS_API_URL="http://127.0.0.1:9", SMS_ACCOUNT_SID="AC1",
        SMS_API_KEY="key", SMS_FROM="+15550000000")


@pytest.fixture
def sharing(container_factory, config):
    containers = [container_factory(cls, config) for cls in (SharingService, NotifyService, FakeReferrals,
                                                             FakeIdentity)]
    for container in containers:
        container.start()
    return containers[0]


@pytest.fixture
def as_caller(config, sharing):
    def proxy(caller):
        return ServiceRpcProxy("sharing", config, context_data={AUTH_CONTEXT_KEY: caller.to_header()})
    return proxy


@pytest.fixture
def database(infrastructure):
    engine = create_engine(infrastructure.database_url_of("sharing"))
    yield engine
    engine.dispose()


def audited(database, action, resource_id, outcome="success"):
    with database.connect() as conn:
        return conn.execute(text(
            "SELECT count(*) FROM outbox_events WHERE event_type = 'audit_recorded' "
            "AND payload->'data'->>'action' = :action AND payload->'data'->>'resource_id' = :id "
            "AND payload->'data'->>'outcome' = :outcome"),
            {"action": action, "id": str(resource_id), "outcome": outcome}).scalar()


@pytest.fixture
def shared(as_caller):
    """A program with a partner, and a client shared with it."""
    org_id = str(uuid.uuid4())
    staff = admin(org_id)
    client_id = a_client(org_id)
    with as_caller(staff) as service:
        partner = service.create_partner(a_partner_body())
        share = service.share_client(client_id, {"partner_id": partner["id"], "note": "Weekly check-ins",
                                                 "consent": a_consent()})
    return staff, partner, share, client_id


def test_the_partner_is_emailed_without_client_detail_and_sees_only_the_card(shared, as_caller, mail, database):
    staff, partner, share, client_id = shared
    assert share["status"] == "active" and share["consent"]["purpose"] == "Coordinate housing support"

    [email] = wait_until(lambda: mail.messages_to(partner["contact_email"]))
    body = email.get_body(("plain",)).get_content()
    assert "Riverside Counseling" in email["Subject"] and f"{PUBLIC_BASE_URL}/partner/clients/{client_id}" in body
    for detail in ("María", "Ruiz", "Weekly check-ins", "housing support", "maria@example.org"):
        assert detail not in body and detail not in email["Subject"]

    with as_caller(partner_user(staff.org_id, partner["id"])) as portal:
        listed = portal.partner_clients({})
        one = portal.partner_client(client_id)
    assert listed["items"] == [one]
    assert one == {"id": client_id, "first_name": "María", "last_name": "Ruiz",
                   "photo_url": "https://photos.example/m.jpg", "phone": "+15551230000",
                   "email": "maria@example.org", "preferred_contact": "text", "share_note": "Weekly check-ins"}
    assert audited(database, "share.create", share["id"]) == 1
    assert audited(database, "partner.client_read", client_id) == 1
    assert audited(database, "partner.client_list", partner["id"]) == 1


def test_revocation_suspension_and_expiry_end_access_at_once(shared, as_caller, sharing, database):
    staff, partner, share, client_id = shared
    partner_caller = partner_user(staff.org_id, partner["id"])
    with as_caller(staff) as service, as_caller(partner_caller) as portal:
        service.update_partner(partner["id"], {"sharing_enabled": False})
        with pytest.raises(NotFound):
            portal.partner_client(client_id)
        assert service.list_client_shares(client_id, {})["items"][0]["status"] == "suspended"
        service.update_partner(partner["id"], {"sharing_enabled": True})
        assert portal.partner_client(client_id)["id"] == client_id

        service.revoke_share(share["id"])
        service.revoke_share(share["id"])  # already ended: nothing changes
        with pytest.raises(NotFound):
            portal.partner_client(client_id)
        assert portal.partner_clients({})["items"] == []
        with pytest.raises(NotFound):
            portal.record_partner_contact(client_id, {"occurred_at": "2025-01-02T10:00:00Z", "method": "phone",
                                                      "duration_minutes": 5})
        [revoked] = service.list_client_shares(client_id, {})["items"]
        assert revoked["status"] == "revoked" and revoked["ended_by"] == staff.user_id

        soon = (datetime.now(timezone.utc) + timedelta(seconds=2)).isoformat()
        again = service.share_client(client_id, {"partner_id": partner["id"], "consent": a_consent(expires_at=soon)})
        assert portal.partner_client(client_id)["share_note"] is None
        wait_until(lambda: datetime.now(timezone.utc).isoformat() > soon)
        with pytest.raises(NotFound):
            portal.partner_client(client_id)
        assert service.list_client_shares(client_id, {})["items"][0]["status"] == "expired"

    with entrypoint_hook(sharing, "expire_lapsed_shares") as expire:
        expire()
    with database.connect() as conn:
        assert conn.execute(text("SELECT status FROM shares WHERE id = :id"), {"id": again["id"]}).scalar() == "expired"
    assert audited(database, "share.revoke", share["id"]) == 1
    assert audited(database, "share.expire", again["id"]) == 1
    assert audited(database, "partner.client_read", client_id, outcome="denied") == 3


def test_another_partner_or_program_never_sees_the_client(shared, as_caller):
    staff, partner, _, client_id = shared
    with as_caller(staff) as service:
        other_partner = service.create_partner(a_partner_body("Northside Rehab"))
    elsewhere = str(uuid.uuid4())
    for caller in (partner_user(staff.org_id, other_partner["id"]), partner_user(elsewhere, partner["id"])):
        with as_caller(caller) as portal:
            assert portal.partner_clients({})["items"] == []
            with pytest.raises(NotFound):
                portal.partner_client(client_id)
            with pytest.raises(NotFound):
                portal.partner_contacts(client_id, {})
    with as_caller(admin(elsewhere)) as stranger:
        with pytest.raises(NotFound):
            stranger.get_partner(partner["id"])
        with pytest.raises(NotFound):
            stranger.list_client_shares(client_id, {})
    with as_caller(partner_user(staff.org_id, partner["id"])) as portal:
        with pytest.raises(Forbidden):
            portal.list_partners({})
        with pytest.raises(Forbidden):
            portal.list_contacts({})


def test_a_contact_sent_twice_is_recorded_once_and_reviewed_by_staff(shared, as_caller, database):
    staff, partner, _, client_id = shared
    contact = {"occurred_at": "2025-01-02T10:00:00Z", "method": "in_person", "duration_minutes": 45,
               "note": "Toured two apartments"}
    with as_caller(partner_user(staff.org_id, partner["id"])) as portal:
        first = portal.record_partner_contact(client_id, contact)
        assert portal.record_partner_contact(client_id, contact)["id"] == first["id"]
        with pytest.raises(Conflict):
            portal.record_partner_contact(client_id, {**contact, "note": "Something else"})
        second = portal.record_partner_contact(client_id, {**contact, "method": "phone"})  # another contact
        assert {c["id"] for c in portal.partner_contacts(client_id, {})["items"]} == {first["id"], second["id"]}
    assert first["review_status"] == "needs_review"

    with as_caller(staff) as service:
        needed = service.list_contacts({"review": "needed"})["items"]
        assert {c["id"] for c in needed} == {first["id"], second["id"]}
        assert needed[0]["tags"] == ["third_party"] and needed[0]["client_last_name"] == "Ruiz"
        assert needed[0]["partner_name"] == partner["name"]
        reviewed = service.review_contact(first["id"])
        assert reviewed["tags"] == ["actual", "third_party", "reviewed"]
        assert reviewed["reviewed_by"] == staff.user_id and reviewed["reviewed_at"]
        with pytest.raises(NotFound):
            service.review_contacts({"ids": [second["id"], str(uuid.uuid4())]})
        both = service.review_contacts({"ids": [first["id"], second["id"]]})["items"]
        assert {c["review_status"] for c in both} == {"reviewed"}
        assert [c for c in both if c["id"] == first["id"]][0]["reviewed_at"] == reviewed["reviewed_at"]
        assert service.list_contacts({"review": "needed"})["items"] == []
        assert len(service.list_contacts({"client_id": client_id, "review": "done"})["items"]) == 2
    with as_caller(admin(str(uuid.uuid4()))) as stranger:
        assert stranger.list_contacts({})["items"] == []
        with pytest.raises(NotFound):
            stranger.review_contact(first["id"])
    assert audited(database, "partner.contact_create", first["id"]) == 1
    assert audited(database, "contact.review", first["id"]) == 1


def test_client_updates_refresh_the_card_and_a_late_event_never_moves_it_back(shared, as_caller, config):
    staff, partner, _, client_id = shared
    publisher = outbox.EventPublisher(config["AMQP_URI"], "referrals")
    card = dict(CLIENTS[client_id][1], last_name="Ruiz-Ortega")
    newer = outbox.envelope("client_updated", staff.org_id, {**card, "client_id": client_id})
    older = dict(outbox.envelope("client_updated", staff.org_id, {**card, "client_id": client_id, "last_name": "Old"}),
                 occurred_at=(datetime.now(timezone.utc) - timedelta(hours=1)).isoformat())
    publisher.publish("client_updated", newer)
    publisher.publish("client_updated", older)
    with as_caller(partner_user(staff.org_id, partner["id"])) as portal:
        assert wait_until(lambda: portal.partner_client(client_id)["last_name"] == "Ruiz-Ortega", timeout=10)
        publisher.publish("client_updated", newer)  # redelivered
        assert portal.partner_client(client_id)["last_name"] == "Ruiz-Ortega"


def test_sharing_needs_an_enabled_partner_a_visible_client_and_no_live_share(shared, as_caller):
    staff, partner, _, client_id = shared
    with as_caller(staff) as service:
        with pytest.raises(Conflict):
            service.share_client(client_id, {"partner_id": partner["id"], "consent": a_consent()})
        with pytest.raises(NotFound):
            service.share_client(a_client(str(uuid.uuid4())), {"partner_id": partner["id"], "consent": a_consent()})
        with pytest.raises(ValidationFailed) as error:
            service.share_client(client_id, {"partner_id": str(uuid.uuid4()), "consent": a_consent()})
        assert "partner_id" in error.value.errors
        paused = service.create_partner({**a_partner_body("Paused Partner"), "sharing_enabled": False})
        with pytest.raises(ValidationFailed):
            service.share_client(client_id, {"partner_id": paused["id"], "consent": a_consent()})
        with pytest.raises(ValidationFailed) as error:
            service.share_client(client_id, {"partner_id": paused["id"],
                                             "consent": a_consent(expires_at=None, revocation_acknowledged=False)})
        assert {"expires_at", "revocation_acknowledged"} <= error.value.errors["consent"].keys()
        with pytest.raises(Conflict):
            service.create_partner(a_partner_body("Paused Partner"))
        assert [x["name"] for x in service.list_partners({})["items"]] == ["Eastside Housing", "Paused Partner"]


def test_a_partner_user_is_invited_through_identity_linked_to_the_partner(shared, as_caller):
    staff, partner, _, _ = shared
    with as_caller(staff) as service:
        invitation = service.invite_partner_user(partner["id"], {"email": "Pat@Example.org", "first_name": "Pat"})
        with pytest.raises(NotFound):
            service.invite_partner_user(str(uuid.uuid4()), {"email": "x@example.org"})
    assert invitation["kind"] == "partner" and invitation["linked_id"] == partner["id"]
    assert INVITATIONS[-1] == {"email": "pat@example.org", "first_name": "Pat", "language": "en",
                               "kind": "partner", "linked_id": partner["id"]}
