"""The fault suite's steady stream of work and its verdict.

Green threads add providers, import providers in small CSV batches, send referral lists by
email and record partner contacts, each remembering which of its requests were answered 2xx.
After the disruption, every accepted request must have had its effect exactly once: a provider
row per name, an email per recipient (counted as a mailbox does, by Message-ID), a contact per
note. Requests refused while something was down are counted, not judged: the client was told.
"""
import base64
import collections
import itertools
import threading
import time
import uuid
from datetime import date, datetime, timedelta, timezone

import requests

from shared.testing.api import add_staff_member, log_in, sign_up
from shared.testing.waiting import wait_until

WORKERS = 4
IMPORT_BATCH = 3
FIRST_VISIT = datetime(2025, 1, 6, 9, 0, tzinfo=timezone.utc)
CONSENT = {"purpose": "Coordinate care", "information_disclosed": "Name and contact details",
           "disclosed_by": "Fault Program", "agreed_by": "The client", "agreed_on": date.today().isoformat(),
           "expires_at": (datetime.now(timezone.utc) + timedelta(days=30)).isoformat(),
           "revocation_acknowledged": True}


def created(system, token, path, body):
    response = system.request("POST", path, token=token, json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


class Workload:
    def __init__(self, system, infrastructure):
        self.system = system
        program = sign_up(system)
        # Tokens live 15 minutes: long enough for the whole test.
        self.token = program.access_token
        self.provider_items = [
            {"provider_id": created(system, self.token, "/api/v1/providers",
                                    {"name": f"Listed {i}", "specialties": ["depression"]})}
            for i in range(3)]
        partner_id = created(system, self.token, "/api/v1/partners", {
            "name": "Fault Partner", "contact_name": "Pat", "contact_email": "pat@example.org",
            "sharing_enabled": True})
        self.client_id = created(system, self.token, "/api/v1/clients", {"first_name": "Fay", "last_name": "Ult"})
        created(system, self.token, f"/api/v1/clients/{self.client_id}/shares",
                {"partner_id": partner_id, "consent": CONSENT})
        self.partner_token = log_in(system, add_staff_member(infrastructure, program, "partner",
                                                             linked_id=partner_id)[1])
        self.accepted = collections.defaultdict(list)
        self.refused = collections.Counter()
        self.stop = threading.Event()
        self.counter = itertools.count()
        self.mailbox_tag = f"fault-{uuid.uuid4().hex[:6]}-"  # the run's mail catcher is shared

    # -- the work

    def _post(self, http, path, body, token=None):
        try:
            response = http.post(self.system.url(path), json=body, timeout=15,
                                 headers={"Authorization": f"Bearer {token or self.token}"})
        except requests.RequestException:
            self.refused.update(["connection"])
            return None
        if response.status_code >= 300:
            self.refused.update([response.status_code])
            return None
        return response

    def _one_round(self, http, n):
        name = f"Fault Provider {n}"
        if self._post(http, "/api/v1/providers", {"name": name, "specialties": ["anxiety"]}):
            self.accepted["providers added"].append(name)
        imported = [f"Fault Import {n}-{k}" for k in range(IMPORT_BATCH)]
        csv = "name,specialties\n" + "".join(f"{row},anxiety\n" for row in imported)
        if self._post(http, "/api/v1/provider-imports",
                      {"format": "csv", "content_b64": base64.b64encode(csv.encode()).decode()}):
            self.accepted["providers imported"].extend(imported)
        made = self._post(http, "/api/v1/referral-lists", {"title": "List", "items": self.provider_items})
        if made:
            recipient = f"{self.mailbox_tag}{n}@example.org"
            if self._post(http, f"/api/v1/referral-lists/{made.json()['id']}/send",
                          {"channels": ["email"], "email": recipient}):
                self.accepted["referral lists emailed"].append(recipient)
        note = f"Fault contact {n}"
        contact = {"occurred_at": (FIRST_VISIT + timedelta(minutes=n)).isoformat(), "method": "phone",
                   "duration_minutes": 5, "note": note}
        if self._post(http, f"/api/v1/partner/clients/{self.client_id}/contacts", contact, self.partner_token):
            self.accepted["partner contacts recorded"].append(note)

    def _run(self):
        with requests.Session() as http:
            while not self.stop.is_set():
                self._one_round(http, next(self.counter))
                time.sleep(0.05)

    def during(self, disruption):
        """Run the work on WORKERS threads while ``disruption()`` runs, then stop it."""
        threads = [threading.Thread(target=self._run) for _ in range(WORKERS)]
        for thread in threads:
            thread.start()
        try:
            disruption()
        finally:
            self.stop.set()
            for thread in threads:
                thread.join(30)

    # -- what happened

    def _pages(self, path, token, params, key):
        found, cursor = collections.Counter(), None
        while True:
            page = self.system.request("GET", path, token=token,
                                       params={**params, "limit": 100, **({"cursor": cursor} if cursor else {})})
            assert page.status_code == 200, page.text
            body = page.json()
            found.update(item[key] for item in body["items"])
            cursor = body["next_cursor"]
            if not cursor:
                return found

    def effects(self):
        """What each kind of work left behind, counted per accepted item."""
        emails = [e.lower() for e in self.accepted["referral lists emailed"]]
        wait_until(lambda: set(emails) <= {m["X-Envelope-To"].lower() for m in self.system.smtp.messages()},
                   timeout=120, interval=1)
        imported = set(self.accepted["providers imported"])
        wait_until(lambda: imported <= set(self._providers()), timeout=120, interval=1)
        # A mailbox keeps one message per Message-ID (RFC 5322 makes it the message's identity);
        # notify gives every attempt of a message the same one, so a resend after a crash between
        # the server's acceptance and notify's record of it is the same email, not a second one.
        copies = {(m["X-Envelope-To"].lower(), m["Message-ID"]) for m in self.system.smtp.messages()
                  if m["X-Envelope-To"].lower().startswith(self.mailbox_tag)}
        providers = self._providers()
        return {
            "providers added": providers,
            "providers imported": providers,
            "referral lists emailed": collections.Counter(recipient for recipient, _ in copies),
            "partner contacts recorded": self._pages(f"/api/v1/partner/clients/{self.client_id}/contacts",
                                                     self.partner_token, {}, "note"),
        }

    def _providers(self):
        return self._pages("/api/v1/providers", self.token, {"q": "Fault", "facets": "false"}, "name")


def verdict(workload, disruption):
    """Rows of the table (printed, and kept for docs/reliability.md) and the failures."""
    rows, failures = [], []
    effects = workload.effects()
    for work, accepted in sorted(workload.accepted.items()):
        observed = effects[work]
        lost = [a for a in accepted if observed[a] == 0]
        doubled = [a for a in accepted if observed[a] > 1]
        rows.append({"disruption": disruption, "work": work, "accepted": len(accepted),
                     "effects": sum(observed[a] for a in accepted), "lost": len(lost), "doubled": len(doubled)})
        if lost or doubled or not accepted:
            failures.append((work, len(accepted), lost[:5], doubled[:5]))
    print(f"\n{disruption}\n{'work':<28}{'accepted':>9}{'effects':>9}{'lost':>6}{'doubled':>9}")
    for row in rows:
        print(f"{row['work']:<28}{row['accepted']:>9}{row['effects']:>9}{row['lost']:>6}{row['doubled']:>9}")
    print(f"requests refused while it was down: {dict(workload.refused)}")
    return rows, failures
