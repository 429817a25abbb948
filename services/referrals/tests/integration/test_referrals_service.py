"""The referrals service in a nameko container with real notify, PostgreSQL, RabbitMQ and SMTP.

directory and identity are stand-ins here (``FakeDirectory``, ``FakeIdentity``): small nameko
services over the real broker answering the RPCs referrals makes, against in-memory data. The
system tests use the real ones."""
import re
import time
import uuid

import pytest
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import entrypoint_hook
from sqlalchemy import create_engine, text

from notify.service import NotifyService
from referrals.service import ReferralsService
from shared import permissions as p
from shared.auth import AUTH_CONTEXT_KEY, Auth, AuthContext
from shared.errors import Conflict, Forbidden, NotFound, RateLimited, ValidationFailed
from shared.testing.waiting import wait_until

pytestmark = pytest.mark.integration

PUBLIC_BASE_URL = "https://handoff.example"
PROVIDERS = {}         # id -> provider, as the directory would describe it (with its org_id)
PUBLIC = {}            # (slug, provider id) -> public_provider's answer


class FakeDirectory:
    name = "directory"
    auth = Auth()

    @rpc
    def provider_snapshots(self, provider_ids):
        org_id = self.auth.current.org_id
        return {"items": [dict(PROVIDERS[i]) for i in provider_ids if PROVIDERS.get(i, {}).get("org_id") == org_id]}

    @rpc
    def public_provider(self, slug, provider_id, client=None):
        if (slug, provider_id) not in PUBLIC:
            raise NotFound("No such provider")
        return PUBLIC[(slug, provider_id)]


class FakeIdentity:
    name = "identity"
    auth = Auth()

    @rpc
    def me(self):
        caller = self.auth.current
        return {"user": {"email": f"staff-{caller.user_id[:8]}@example.org", "first_name": "Dana",
                         "last_name": "Whitfield"},
                "organization": {"name": "Riverside Counseling"}}


def a_provider(org_id, name, email=None):
    provider_id = str(uuid.uuid4())
    PROVIDERS[provider_id] = {"id": provider_id, "org_id": org_id, "name": name, "credentials": ["LCSW"],
                              "specialties": ["anxiety"], "phone": "+1 555 0100", "email": email,
                              "website": "https://example.org", "address": "1 Main St, Boston, MA 02139",
                              "telehealth": True, "accepting_new_clients": True}
    return provider_id


def staff(org_id, *permissions):
    return AuthContext(user_id=str(uuid.uuid4()), org_id=org_id, role="x", permissions=frozenset(permissions))


ADMIN = (p.CLIENTS_ALL, p.REFERRALS_MANAGE, p.REPORTS_VIEW, p.SETTINGS_MANAGE)
CLINICIAN = (p.CLIENTS_ASSIGNED, p.REFERRALS_MANAGE)


@pytest.fixture
def config(infrastructure, mail):
    return infrastructure.config(
        PUBLIC_BASE_URL=PUBLIC_BASE_URL, INBOUND_FORM_SECRET="test-secret", INBOUND_FORM_MIN_SECONDS=0,
        SMTP_HOST="127.0.0.1", SMTP_PORT=mail.port, SMTP_TIMEOUT_SECONDS=2, MAIL_FROM="Handoff <no-reply@handoff.test>",
        SMS_API_URL="http://127.0.0.1:9", SMS_ACCOUNT_SID="AC1", SMS_API_KEY="key", SMS_FROM="+15550000000")


@pytest.fixture
def referrals(container_factory, config):
    containers = [container_factory(cls, config) for cls in (ReferralsService, NotifyService, FakeDirectory,
                                                             FakeIdentity)]
    for container in containers:
        container.start()
    return containers[0]


@pytest.fixture
def as_caller(config):
    def proxy(caller):
        return ServiceRpcProxy("referrals", config, context_data={AUTH_CONTEXT_KEY: caller.to_header()})
    return proxy


@pytest.fixture
def database(infrastructure):
    engine = create_engine(infrastructure.database_url_of("referrals"))
    yield engine
    engine.dispose()


def audited(database, action, resource_id):
    with database.connect() as conn:
        return conn.execute(text(
            "SELECT count(*) FROM outbox_events WHERE event_type = 'audit_recorded' "
            "AND payload->'data'->>'action' = :action AND payload->'data'->>'resource_id' = :id"),
            {"action": action, "id": str(resource_id)}).scalar()


def link_in(mail, address, marker):
    [message] = wait_until(lambda: mail.messages_to(address))
    body = message.get_body(("plain",)).get_content()
    return re.search(re.escape(PUBLIC_BASE_URL) + re.escape(marker) + r"([A-Za-z0-9_-]+)", body).group(1)


def test_a_list_keeps_its_snapshots_is_sent_and_shows_its_delivery(referrals, as_caller, mail):
    org_id = str(uuid.uuid4())
    admin = staff(org_id, *ADMIN)
    providers = [a_provider(org_id, name) for name in ("Ana Ortiz", "Ben Li", "Carla Diaz")]
    address = f"client-{uuid.uuid4().hex[:8]}@example.org"
    with as_caller(admin) as service:
        client = service.create_client({"first_name": "María", "last_name": "Ruiz", "email": address,
                                        "language": "es"})
        draft = service.create_referral_list({"client_id": client["id"], "items": [
            {"provider_id": pid, "note": "Evenings"} for pid in providers[:2]]})
        draft = service.update_referral_list(draft["id"], {"items": [{"provider_id": pid} for pid in providers]})
        PROVIDERS[providers[0]]["name"] = "Renamed Later"
        sent = service.send_referral_list(draft["id"], {}, headers={"Idempotency-Key": "k1"})
        again = service.send_referral_list(draft["id"], {}, headers={"Idempotency-Key": "k1"})
        with pytest.raises(Conflict):
            service.update_referral_list(draft["id"], {"title": "Too late"})

    assert [item["snapshot"]["name"] for item in sent["items"]] == ["Ana Ortiz", "Ben Li", "Carla Diaz"]
    assert sent["status"] == "sent" and len(again["deliveries"]) == 1
    assert sent["deliveries"][0]["channel"] == "email" and sent["deliveries"][0]["status"] == "queued"
    token = link_in(mail, address, "/public/referral-lists/")
    email = mail.messages_to(address)[0]
    assert "María" not in email["Subject"] and "Ana Ortiz" in email.get_body(("plain",)).get_content()

    with as_caller(admin) as service:
        shown = wait_until(lambda: service.get_referral_list(draft["id"])["deliveries"][0]["status"] == "sent")
        assert shown
    with ServiceRpcProxy("referrals", referrals.config) as public:
        page = public.public_referral_list(token)
        assert page["program_name"] == "Riverside Counseling"
        assert [item["snapshot"]["name"] for item in page["items"]][0] == "Ana Ortiz"
        assert "client_id" not in page and "María" not in str(page)
        with pytest.raises(NotFound):
            public.public_referral_list("not-a-token")


def test_do_not_contact_and_missing_addresses_stop_a_send(referrals, as_caller):
    org_id = str(uuid.uuid4())
    admin = staff(org_id, *ADMIN)
    provider = a_provider(org_id, "Ana Ortiz")
    with as_caller(admin) as service:
        quiet = service.create_client({"first_name": "Q", "last_name": "Uiet", "email": "q@example.org",
                                       "preferred_contact": "do_not_contact"})
        listed = service.create_referral_list({"client_id": quiet["id"], "items": [{"provider_id": provider}]})
        with pytest.raises(Conflict):
            service.send_referral_list(listed["id"], {"channels": ["email"]})
        walk_in = service.create_referral_list({"items": [{"provider_id": provider}]})
        with pytest.raises(ValidationFailed) as error:
            service.send_referral_list(walk_in["id"], {"channels": ["sms"]})
        assert "phone" in error.value.errors
        with pytest.raises(ValidationFailed):
            service.create_referral_list({"items": [{"provider_id": a_provider(str(uuid.uuid4()), "Elsewhere")}]})


def test_a_referral_walks_to_completion_through_the_providers_link(referrals, as_caller, mail, database):
    org_id = str(uuid.uuid4())
    admin = staff(org_id, *ADMIN)
    provider_email = f"provider-{uuid.uuid4().hex[:8]}@example.org"
    provider = a_provider(org_id, "Ana Ortiz", email=provider_email)
    with as_caller(admin) as service:
        client = service.create_client({"first_name": "Sam", "last_name": "Lee"})
        referral = service.create_referral({"client_id": client["id"], "provider_id": provider})
        assert referral["status"] == "draft"
        with pytest.raises(Forbidden):
            service.update_referral(referral["id"], {"status": "accepted"})
        service.update_referral(referral["id"], {"status": "requested"})
        with pytest.raises(Conflict):
            service.update_referral(referral["id"], {"status": "draft"})

    token = link_in(mail, provider_email, "/public/referral-responses/")
    with ServiceRpcProxy("referrals", referrals.config) as public:
        view = public.referral_for_provider(token)
        assert view["client_first_name"] == "Sam" and view["allowed_statuses"] == ["accepted", "rejected"]
        public.provider_response(token, {"status": "accepted"})
        with pytest.raises(Conflict):
            public.provider_response(token, {"status": "accepted"})
        with pytest.raises(Forbidden):
            public.provider_response(token, {"status": "cancelled"})
        assert public.provider_response(token, {"status": "completed"})["status"] == "completed"

    with as_caller(admin) as service:
        steps = service.referral_history(referral["id"])["items"]
        current = service.get_referral(referral["id"])
    assert [(s["from_status"], s["to_status"], s["actor_type"]) for s in steps] == [
        (None, "draft", "staff"), ("draft", "requested", "staff"), ("requested", "accepted", "provider"),
        ("accepted", "completed", "provider")]
    assert steps[0]["actor_id"] == admin.user_id and steps[2]["actor_id"] is None
    assert current["status"] == "completed" and current["accepted_at"]
    referrer = f"staff-{admin.user_id[:8]}@example.org"
    assert wait_until(lambda: len(mail.messages_to(referrer)) == 2)  # accepted, completed

    with database.begin() as conn:  # a quiet month later, an open referral gets a reminder
        conn.execute(text("UPDATE referrals SET status = 'accepted', status_changed_at = now() - interval '30 days' "
                          "WHERE id = :id"), {"id": referral["id"]})
    with entrypoint_hook(referrals, "remind_stale_referrals") as remind:
        remind()
        remind()  # once per quiet spell
    assert wait_until(lambda: len(mail.messages_to(referrer)) == 3)
    time.sleep(1)
    assert len(mail.messages_to(referrer)) == 3
    assert "30 days" not in mail.messages_to(referrer)[-1]["Subject"]


def test_a_clinician_sees_only_assigned_clients_and_every_read_is_audited(referrals, as_caller, database):
    org_id = str(uuid.uuid4())
    admin, clinician = staff(org_id, *ADMIN), staff(org_id, *CLINICIAN)
    outsider = staff(str(uuid.uuid4()), *ADMIN)
    with as_caller(admin) as service:
        client = service.create_client({"first_name": "Kim", "last_name": "Park"})
    with as_caller(clinician) as service:
        with pytest.raises(NotFound):
            service.get_client(client["id"])
        own = service.create_client({"first_name": "Own", "last_name": "Client"})
        assert own["assigned_user_ids"] == [clinician.user_id]
        assert [c["id"] for c in service.list_clients({})["items"]] == [own["id"]]
    with as_caller(outsider) as service, pytest.raises(NotFound):
        service.get_client(client["id"])
    with as_caller(admin) as service:
        assert service.set_client_assignments(client["id"], {"user_ids": [clinician.user_id]})["assigned_user_ids"] \
            == [clinician.user_id]
    with as_caller(clinician) as service:
        assert service.get_client(client["id"])["first_name"] == "Kim"
        with pytest.raises(Forbidden):
            service.set_client_assignments(client["id"], {"user_ids": []})
    assert audited(database, "client.read", client["id"]) == 1


def finished(service, import_id):
    """The import once the service's timer has run it to its end."""
    job = wait_until(lambda: (job := service.get_client_import(import_id))["status"] in ("completed", "failed")
                     and job)
    assert job, f"import {import_id} did not finish"
    return job


def test_import_runs_in_the_background_reports_rows_and_duplicates_and_merge_is_explicit(referrals, as_caller):
    org_id = str(uuid.uuid4())
    admin = staff(org_id, *ADMIN)
    csv_text = ("First Name,Last Name,DOB,Email,Phone,Shoe size\n"
                "Ana,Ruiz,1990-01-02,ana@example.org,555-123-4567,7\n"
                "Bad,Date,1990-13-45,,\n"
                "ana,RUIZ,01/02/1990,,\n"
                ",NoFirst,,,\n")
    with as_caller(admin) as service:
        started = service.import_clients({"csv": csv_text})
        assert (started["status"], started["total_rows"], started["processed_rows"]) == ("pending", 4, 0)
        job = finished(service, started["id"])
        assert (job["status"], job["processed_rows"], job["created_count"], job["duplicate_count"],
                job["failed_count"]) == ("completed", 4, 1, 1, 2)
        assert [(e["row"], e["field"]) for e in job["errors"]] == [
            (0, "header"), (2, "date_of_birth"), (4, "first_name")]
        assert "shoe_size" in job["errors"][0]["message"]
        [duplicate] = job["duplicates"]
        assert (duplicate["row"], duplicate["matched_on"], duplicate["action"]) == (3, "name and date of birth",
                                                                                    "skipped")
        assert service.get_client_import(job["id"]) == job

        twin = service.create_client({"first_name": "Ána", "last_name": "Ruiz", "date_of_birth": "1990-01-02",
                                      "pronouns": "she/her"})
        [original_id] = twin["possible_duplicate_ids"]
        merged = service.merge_clients(original_id, twin["id"])
        assert merged["pronouns"] == "she/her" and merged["phone"] == "+15551234567"
        assert merged["possible_duplicate_ids"] == []
        assert service.get_client(twin["id"])["merged_into_id"] == original_id
        with pytest.raises(Conflict):
            service.merge_clients(original_id, twin["id"])


def test_a_bad_file_is_refused_whole_and_a_clinician_is_assigned_what_they_import(referrals, as_caller):
    org_id = str(uuid.uuid4())
    clinician, colleague, admin = staff(org_id, *CLINICIAN), staff(org_id, *CLINICIAN), staff(org_id, *ADMIN)
    with as_caller(clinician) as service:
        for csv_text, message in (("email\nx@example.org\n", "Required columns are missing"),
                                  ("first_name,last_name\n\n", "The file has no clients."),
                                  ("first_name,last_name\n" + "Ana,Ruiz\n" * 5001, "The file has too many rows.")):
            with pytest.raises(ValidationFailed) as refused:
                service.import_clients({"csv": csv_text})
            assert refused.value.detail == message
        twice = "first_name,last_name,date_of_birth\nLee,Park,2001-02-03\nLee,Park,02/03/2001\n"
        job = finished(service, service.import_clients({"csv": twice, "on_duplicate": "create"})["id"])
        assert (job["created_count"], job["duplicate_count"]) == (2, 1)
        [duplicate] = job["duplicates"]
        assert (duplicate["row"], duplicate["action"]) == (2, "created")
        mine = service.list_clients({})["items"]
        assert [c["first_name"] for c in mine] == ["Lee", "Lee"]
        assert duplicate["client_ids"] in ([mine[0]["id"]], [mine[1]["id"]])
    with as_caller(colleague) as service, pytest.raises(NotFound):
        service.get_client_import(job["id"])
    with as_caller(admin) as service:
        assert service.get_client_import(job["id"])["id"] == job["id"]
        assert len(service.list_clients({})["items"]) == 2  # nothing of the refused files


def test_an_inbound_request_reaches_each_recipient_once_and_counts_in_the_report(
        referrals, as_caller, mail, database):
    org_id = str(uuid.uuid4())
    admin = staff(org_id, *ADMIN)
    provider = a_provider(org_id, "Ana Ortiz")
    recipients = [f"intake-{uuid.uuid4().hex[:6]}@example.org", f"clinician-{uuid.uuid4().hex[:6]}@example.org"]
    PUBLIC[("riverside", provider)] = {"org_id": org_id, "provider": PROVIDERS[provider],
                                       "recipients": recipients + [recipients[0].upper()]}
    body = {"name": "Jo", "email": "jo@example.org", "message": "I need help with anxiety."}
    with ServiceRpcProxy("referrals", referrals.config) as public:
        form = public.inbound_request_form("riverside", provider)
        visitor = {"ip": f"10.0.0.{uuid.uuid4().int % 250}"}
        assert public.submit_inbound_request("riverside", provider, {**body, **form_fields(form)},
                                             client=visitor) == {"status": "received"}
        public.submit_inbound_request("riverside", provider, {**body, **form_fields(form), "website": "spam"},
                                      client=visitor)
        with pytest.raises(ValidationFailed):
            public.submit_inbound_request("riverside", provider, {**body, "form_token": "1.forged"}, client=visitor)
        with pytest.raises(NotFound):
            public.inbound_request_form("riverside", str(uuid.uuid4()))
        for _ in range(4):
            public.submit_inbound_request("riverside", provider, {**body, **form_fields(form)}, client=visitor)
        with pytest.raises(RateLimited):
            public.submit_inbound_request("riverside", provider, {**body, **form_fields(form)}, client=visitor)

    for address in recipients:
        assert wait_until(lambda: len(mail.messages_to(address)) == 5)
        assert "anxiety" not in mail.messages_to(address)[0].get_body(("plain",)).get_content()
    with as_caller(admin) as service:
        listed = service.list_inbound_requests({})["items"]
        assert len(listed) == 5 and listed[0]["recipient_count"] == 2
        report = service.referral_report({})
        csv_file = service.referral_report({"format": "csv"})
    assert [(row["key"], row["label"], row["inbound_requests"]) for row in report["by_provider"]] == [
        (provider, "Ana Ortiz", 5)]
    assert csv_file["__file__"]["content_type"].startswith("text/csv")


def form_fields(form):
    return {"form_token": form["form_token"]}


def test_lists_page_by_keyset_without_gaps_or_repeats(referrals, as_caller):
    org_id = str(uuid.uuid4())
    admin = staff(org_id, *ADMIN)
    provider = a_provider(org_id, "Ana Ortiz")
    with as_caller(admin) as service:
        for name in ("Cruz", "Abbot", "Bell"):
            client = service.create_client({"first_name": "X", "last_name": name})
            service.create_referral({"client_id": client["id"], "provider_id": provider})
            service.create_referral_list({"client_id": client["id"]})

        def walk(method):
            seen, cursor = [], None
            while True:
                body = getattr(service, method)({"limit": 2, **({"cursor": cursor} if cursor else {})})
                seen += body["items"]
                cursor = body["next_cursor"]
                if not cursor:
                    return seen
        assert [c["last_name"] for c in walk("list_clients")] == ["Abbot", "Bell", "Cruz"]
        for method in ("list_referrals", "list_referral_lists"):
            assert len({item["id"] for item in walk(method)}) == 3


def test_the_client_card_is_all_sharing_gets_and_changes_to_it_are_announced(referrals, as_caller, database):
    org_id = str(uuid.uuid4())
    admin, clinician = staff(org_id, *ADMIN), staff(org_id, *CLINICIAN)
    with as_caller(admin) as service:
        client = service.create_client({"first_name": "Sam", "last_name": "Lee", "date_of_birth": "2001-04-02",
                                        "phone": "+15551234567", "pronouns": "they/them"})
        card = service.client_card(client["id"])
        service.update_client(client["id"], {"last_name": "Lee-Park"})
    assert card.keys() == {"id", "first_name", "last_name", "photo_url", "phone", "email", "preferred_contact",
                           "as_of"}
    assert (card["id"], card["phone"]) == (client["id"], "+15551234567")
    with as_caller(clinician) as service, pytest.raises(NotFound):
        service.client_card(client["id"])  # not assigned to them
    with database.connect() as conn:
        [announced] = conn.execute(text(
            "SELECT payload->'data' FROM outbox_events WHERE event_type = 'client_updated' "
            "AND payload->'data'->>'client_id' = :id"), {"id": client["id"]}).scalars().all()
    assert announced["last_name"] == "Lee-Park" and "date_of_birth" not in announced


def test_a_programs_name_only_moves_forward_in_time(database):
    from datetime import datetime, timedelta, timezone

    from sqlalchemy.orm import Session

    from referrals import programs

    org_id, now = uuid.uuid4(), datetime.now(timezone.utc)
    with Session(database) as session:
        programs.remember_program(session, org_id, "Harbor Counseling Center", now)
        programs.remember_program(session, org_id, "Harbor Counseling", now - timedelta(minutes=5))  # created, late
        assert programs.program_name(session, org_id) == "Harbor Counseling Center"
        programs.remember_program(session, org_id, "Harbor Health", now + timedelta(minutes=5))
        assert programs.program_name(session, org_id) == "Harbor Health"
        session.rollback()
