"""Fault suite: with every service running as its own process and a steady stream of work
(providers added, referral lists sent by email), each service and then the gateway is killed
with SIGKILL and restarted. Afterwards every request that was answered 2xx has had its effect
exactly once (one provider row; one email in the inbox, counted as a mailbox does, by
Message-ID), and the system serves again without a manual step. Prints the table: accepted,
effects observed, lost, doubled. Broker and database restarts are not in this file yet."""
import collections
import itertools
import threading
import time

import pytest
import requests

from shared.testing.api import sign_up
from shared.testing.waiting import wait_until

pytestmark = pytest.mark.system

KILL_ORDER = ("directory", "referrals", "notify", "identity", "billing", "sharing", "gateway")
SECONDS_BETWEEN_KILLS = 4
WORKERS = 4


class Workload:
    """Green threads adding providers and sending referral lists until told to stop; each
    remembers which of its requests were answered 2xx."""

    def __init__(self, system, token, provider_ids):
        self.system, self.token = system, token
        self.provider_items = [{"provider_id": pid} for pid in provider_ids]
        self.accepted = collections.defaultdict(list)
        self.refused = collections.Counter()
        self.stop = threading.Event()
        self.counter = itertools.count()

    def _post(self, session, path, body):
        try:
            response = session.post(self.system.url(path), json=body, timeout=15,
                                    headers={"Authorization": f"Bearer {self.token}"})
            return response if response.status_code < 300 else self.refused.update([response.status_code])
        except requests.RequestException:
            self.refused.update(["connection"])

    def run(self):
        with requests.Session() as session:
            while not self.stop.is_set():
                n = next(self.counter)
                name = f"Fault Provider {n}"
                if self._post(session, "/api/v1/providers", {"name": name, "specialties": ["anxiety"]}):
                    self.accepted["provider"].append(name)
                made = self._post(session, "/api/v1/referral-lists", {"title": "List", "items": self.provider_items})
                if made:
                    recipient = f"fault-{n}@example.org"
                    sent = self._post(session, f"/api/v1/referral-lists/{made.json()['id']}/send",
                                      {"channels": ["email"], "email": recipient})
                    if sent:
                        self.accepted["email"].append(recipient)
                time.sleep(0.05)


def provider_names(system, token):
    names, cursor = collections.Counter(), None
    while True:
        params = {"limit": 100, "facets": "false", "q": "Fault Provider", **({"cursor": cursor} if cursor else {})}
        page = system.request("GET", "/api/v1/providers", token=token, params=params).json()
        names.update(p["name"] for p in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return names


def test_killing_each_process_loses_nothing_and_doubles_nothing(system):
    # The run's shared system: it must come back by itself, which the other tests then rely on.
    program = sign_up(system)
    providers = [system.request("POST", "/api/v1/providers", token=program.access_token,
                                json={"name": f"Listed {i}", "specialties": ["depression"]}).json()["id"]
                 for i in range(3)]
    # Tokens live 15 minutes: long enough for the whole run.
    workload = Workload(system, program.access_token, providers)
    threads = [threading.Thread(target=workload.run) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    try:
        for name in KILL_ORDER:
            time.sleep(SECONDS_BETWEEN_KILLS)
            system.kill(name)  # SIGKILL: no clean shutdown
            time.sleep(1)
            system.start(name)
            system.wait_ready()
        time.sleep(SECONDS_BETWEEN_KILLS)
    finally:
        workload.stop.set()
        for thread in threads:
            thread.join(30)

    emails = workload.accepted["email"]
    wait_until(lambda: {e.lower() for e in emails} <= received(system), timeout=120, interval=1)
    # A mailbox keeps one message per Message-ID (RFC 5322 makes it the message's identity);
    # notify gives every attempt of a message the same one, so a resend after a crash between
    # the server's acceptance and notify's record of it is the same email, not a second one.
    copies = collections.Counter((m["X-Envelope-To"].lower(), m["Message-ID"]) for m in system.smtp.messages()
                                 if m["X-Envelope-To"].startswith("fault-"))
    inbox = collections.Counter(recipient for recipient, _ in copies)
    names = provider_names(system, program.access_token)
    rows = {
        "providers added": (workload.accepted["provider"], names),
        "referral lists emailed": ([e.lower() for e in emails], inbox),
    }
    print(f"\n{'work':<24}{'accepted':>9}{'effects':>9}{'lost':>6}{'doubled':>9}")
    failures = []
    for label, (accepted, observed) in rows.items():
        lost = [a for a in accepted if observed[a] == 0]
        doubled = [a for a in accepted if observed[a] > 1]
        print(f"{label:<24}{len(accepted):>9}{sum(observed[a] for a in accepted):>9}{len(lost):>6}{len(doubled):>9}")
        if lost or doubled:
            failures.append((label, lost[:5], doubled[:5]))
    print(f"requests refused while processes were down: {dict(workload.refused)}; "
          f"redelivered copies of an email (same Message-ID): {sum(copies.values()) - len(copies)}")
    assert len(workload.accepted["provider"]) > 20 and len(emails) > 20, "the workload barely ran"
    assert not failures, failures
    assert system.request("GET", "/ready").status_code == 200


def received(system):
    return {m["X-Envelope-To"].lower() for m in system.smtp.messages()}
