"""The mixed workload of the load benchmark, for locust. ``bench/load/run.py`` seeds a program
through the API, writes what it made (tokens, provider, client and shared-client ids) to the
JSON file named by ``HANDOFF_LOAD_SEED`` and runs this file with ``locust --headless``.

locust runs on gevent and the services on eventlet: this file is only ever loaded by locust's
own process, and imports nothing of the project's.

Every user picks its next operation at random by the fixed weights below and sends it as soon
as the last is answered (no think time): both runs execute the same mix, and the throughput
measured is what the system sustains at that many concurrent users.
"""
import json
import os
import random
from pathlib import Path

from locust import FastHttpUser, constant, task

SEED = json.loads(Path(os.environ["HANDOFF_LOAD_SEED"]).read_text())

SEARCH_TEXTS = ("anxiety", "trauma", "depression", "grief", "anxeity", "Margaret Chen", "couples counseling")
SEARCH_FILTERS = (
    {"insurance": "aetna", "specialty": "anxiety", "telehealth": "true"},
    {"language": "es", "age_group": "teen", "accepting_new_clients": "true"},
    {"gender": "woman", "insurance": "bcbs"},
)
SEARCH_RADII_KM = ("2", "5", "10")


class ProgramDay(FastHttpUser):
    """A program's working day: a staff member searching the directory, building referral lists
    and sending them by email, and reading clients; a partner organization's user reading, in the
    partner portal, the clients shared with it."""
    wait_time = constant(0)

    def staff(self):  # a new dict per request: locust adds its own headers to the one it is given
        return {"Authorization": f"Bearer {SEED['staff_token']}"}

    def partner(self):
        return {"Authorization": f"Bearer {SEED['partner_token']}"}

    @task(4)
    def search_text(self):
        self.client.get("/api/v1/providers", params={"q": random.choice(SEARCH_TEXTS)}, headers=self.staff(),
                        name="search: text")

    @task(3)
    def search_filters(self):
        self.client.get("/api/v1/providers", params=random.choice(SEARCH_FILTERS), headers=self.staff(),
                        name="search: filters")

    @task(3)
    def search_near_postcode(self):
        self.client.get("/api/v1/providers", headers=self.staff(), name="search: near a postcode",
                        params={"near": random.choice(SEED["postcodes"]), "radius_km": random.choice(SEARCH_RADII_KM)})

    @task(2)
    def build_and_send_list(self):
        items = [{"provider_id": pid} for pid in random.sample(SEED["provider_ids"], 3)]
        built = self.client.post("/api/v1/referral-lists", headers=self.staff(), name="referral list: build", json={
            "client_id": random.choice(SEED["client_ids"]), "title": "Counseling near campus", "items": items})
        if built.status_code == 201:
            self.client.post(f"/api/v1/referral-lists/{built.json()['id']}/send", json={"channels": ["email"]},
                             headers=self.staff(), name="referral list: send by email")

    @task(3)
    def read_client(self):
        self.client.get(f"/api/v1/clients/{random.choice(SEED['client_ids'])}", headers=self.staff(),
                        name="client: read")

    @task(1)
    def list_clients(self):
        self.client.get("/api/v1/clients", headers=self.staff(), name="clients: list page")

    @task(1)
    def list_shared_clients(self):
        self.client.get("/api/v1/partner/clients", headers=self.partner(), name="partner portal: client list")

    @task(3)
    def read_shared_client(self):
        self.client.get(f"/api/v1/partner/clients/{random.choice(SEED['shared_client_ids'])}",
                        headers=self.partner(), name="partner portal: client read")
