"""No client health data in any log: a client's name, birth date, phone and email, the notes
about them, a share's consent and the message of an inbound request reach no log line of any
process, after the client went through every path that handles them: creation, a referral with
a note, a list sent by email and text, a share with a partner whose user records a contact, an
inbound request, and requests refused for the data in them. (tests/system/test_log_hygiene.py
scans the same logs for secrets: passwords, tokens, one-time links.)"""
import time
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from shared.testing.api import add_staff_member, client_at, log_in
from shared.testing.waiting import wait_until

pytestmark = [pytest.mark.system, pytest.mark.security]

MARK = uuid.uuid4().hex[:10]
CLIENT = {"first_name": f"Zephyrine{MARK}", "last_name": f"Quill{MARK}", "date_of_birth": "1987-06-05",
          "phone": "+15557" + MARK[:6].translate(str.maketrans("abcdef", "123456")),
          "email": f"client-{MARK}@example.org", "pronouns": f"they-{MARK}",
          "address": {"line1": f"{MARK} Elm St"}}
NOTES = {"referral": f"Panic attacks since spring {MARK}", "list": f"Depression, first episode {MARK}",
         "share": f"Relapsed last month {MARK}", "purpose": f"Coordinate detox {MARK}",
         "contact": f"Disclosed self-harm {MARK}", "inbound": f"My son is using again {MARK}"}


def created(response):
    assert response.status_code in (201, 202), response.text
    return response.json()


@pytest.fixture(scope="module")
def client_data_went_everywhere(system, infrastructure, program):
    def post(path, body, token=program.access_token, **kwargs):
        return created(system.request("POST", path, token=token, json=body, **kwargs))

    slug = f"scan-{MARK}"
    system.request("PUT", "/api/v1/directory/settings", token=program.access_token,
                   json={"public_slug": slug, "public_directory_enabled": True}).raise_for_status()
    provider = post("/api/v1/providers", {"name": "Dr. Scan", "email": f"dr-scan-{MARK}@example.org"})
    client = post("/api/v1/clients", CLIENT)
    post("/api/v1/referrals", {"client_id": client["id"], "provider_id": provider["id"],
                               "status": "requested", "note": NOTES["referral"]})
    listed = post("/api/v1/referral-lists", {"client_id": client["id"], "note": NOTES["list"],
                                             "items": [{"provider_id": provider["id"], "note": NOTES["list"]}]})
    system.request("POST", f"/api/v1/referral-lists/{listed['id']}/send", token=program.access_token,
                   json={"channels": ["email", "sms"]}).raise_for_status()

    partner = post("/api/v1/partners", {"name": f"Partner {MARK}", "contact_name": "Pat",
                                        "contact_email": f"pat-{MARK}@example.org", "sharing_enabled": True})
    consent = {"purpose": NOTES["purpose"], "information_disclosed": "Contact details", "disclosed_by": "Program",
               "agreed_by": "The client", "agreed_on": date.today().isoformat(), "revocation_acknowledged": True,
               "expires_at": (datetime.now(timezone.utc) + timedelta(days=30)).isoformat()}
    post(f"/api/v1/clients/{client['id']}/shares", {"partner_id": partner["id"], "note": NOTES["share"],
                                                    "consent": consent})
    partner_user = log_in(system, add_staff_member(infrastructure, program, "partner", linked_id=partner["id"])[1])
    post(f"/api/v1/partner/clients/{client['id']}/contacts", token=partner_user, body={
        "occurred_at": "2025-01-02T10:00:00Z", "method": "phone", "duration_minutes": 10, "note": NOTES["contact"]})

    # Refused requests carry the data too: a bad email beside the name, an unknown field.
    for body in ({**CLIENT, "email": f"not-an-email-{MARK}"}, {**CLIENT, f"diagnosis_{MARK}": NOTES["share"]}):
        assert system.request("POST", "/api/v1/clients", token=program.access_token, json=body).status_code == 422

    form_url = system.url(f"/public/directories/{slug}/providers/{provider['id']}")
    with client_at("127.0.0.21") as visitor:  # the inbound form's per-sender limit is 127.0.0.1's to spend
        form = visitor.get(form_url + "/request-form").json()
        time.sleep(form["min_fill_seconds"])
        created(visitor.post(form_url + "/requests", json={
            "name": CLIENT["first_name"], "email": CLIENT["email"], "message": NOTES["inbound"],
            "form_token": form["form_token"]}))
    # Everything above has been handled once the list's email, the partner's and the inbound
    # request's have gone out.
    for address in (CLIENT["email"], partner["contact_email"], provider["email"]):
        assert wait_until(lambda: system.smtp.messages_to(address), timeout=30), address


def test_no_log_line_holds_client_data(system, client_data_went_everywhere):
    logs = system.logs()
    assert '"msg": "request"' in logs  # the logs are really being captured
    client_data = [CLIENT["first_name"], CLIENT["last_name"], CLIENT["date_of_birth"], CLIENT["phone"],
                   CLIENT["email"], CLIENT["pronouns"], CLIENT["address"]["line1"], *NOTES.values()]
    leaked = [value for value in client_data if value in logs]
    assert not leaked, f"client data in the logs: {leaked}"
