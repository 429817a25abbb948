"""Helpers for tests that talk to the gateway: a new program with its owner, problem checks,
provider imports."""
import base64
import time
import uuid
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter

PASSWORD = "correct horse battery staple"


@dataclass
class Program:
    org_id: str
    owner_id: str
    email: str
    access_token: str
    refresh_token: str


def sign_up(system, name=None, email=None, password=PASSWORD):
    email = email or f"owner-{uuid.uuid4().hex[:10]}@example.org"
    response = system.request("POST", "/api/v1/signup", json={
        "organization_name": name or f"Program {uuid.uuid4().hex[:6]}", "email": email,
        "password": password, "first_name": "Olive", "last_name": "Owner"})
    assert response.status_code == 201, response.text
    body = response.json()
    return Program(org_id=body["organization"]["id"], owner_id=body["user"]["id"], email=email,
                   access_token=body["tokens"]["access_token"],
                   refresh_token=body["tokens"]["refresh_token"])


def assert_problem(response, status, code=None):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail", "code", "errors"} <= body.keys()
    if code:
        assert body["code"] == code, body
    return body


def add_staff_member(infra, program, role="default", password=PASSWORD, linked_id=None):
    """A staff member of ``program``, written straight into identity's database: the test
    set-up for flows that need a second person before invitations are exercised. A portal
    user (role partner or case_manager) is linked to its record with ``linked_id``."""
    from identity.passwords import hash_password
    from shared.testing.infrastructure import connect

    email = f"staff-{uuid.uuid4().hex[:10]}@example.org"
    user_id = str(uuid.uuid4())
    with connect(infra, "identity") as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO users (id, org_id, email, password_hash, first_name, last_name, kind, role, "
            "is_owner, billing_delegate, enabled, linked_id) "
            "VALUES (%s, %s, %s, %s, 'Sam', 'Staff', 'staff', %s, false, false, true, %s)",
            (user_id, program.org_id, email, hash_password(password), role, linked_id))
    return user_id, email


def upload_providers(system, token, content, **fields):
    """Start a provider import of ``content`` (a CSV unless ``fields`` say otherwise)."""
    return system.request("POST", "/api/v1/provider-imports", token=token, json={
        "format": "csv", "content_b64": base64.b64encode(content).decode(), **fields})


def finished_import(system, token, import_id, timeout=300, jobs="/api/v1/provider-imports"):
    """The import's job (a provider import, or one under ``jobs``) once it is done, and the
    progress seen on the way."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        response = system.request("GET", f"{jobs}/{import_id}", token=token)
        # A loaded test machine may keep the service past the gateway's RPC timeout: ask again.
        assert response.status_code in (200, 504), response.text
        if response.status_code == 504:
            continue
        job = response.json()
        seen.append(job["processed_rows"])
        if job["status"] in ("completed", "failed"):
            return job, seen
        time.sleep(0.2)
    raise AssertionError(f"import {import_id} did not finish; progress seen: {seen[-5:]}")


def log_in(system, email, password=PASSWORD):
    response = system.request("POST", "/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def emailed_link(system, address, marker):
    """The one-time link in the single email ``address`` received whose link contains ``marker``."""
    import re
    received = system.smtp.wait_for(lambda m: address.lower() in m["X-Envelope-To"].lower()
                                    and marker in m.get_body(("plain",)).get_content())
    assert len(received) == 1, f"expected one email to {address} with {marker}, got {len(received)}"
    text = received[0].get_body(("plain",)).get_content()
    return re.search(r"https?://\S*" + re.escape(marker) + r"[A-Za-z0-9_-]+", text).group(0)


class _FromAddress(HTTPAdapter):
    def __init__(self, address):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, source_address=(self.address, 0), **kwargs)


def client_at(address):
    """An HTTP session whose connections come from loopback ``address`` (any 127.x.y.z on
    Linux): the gateway and the services limit per address, and a test that floods one must not
    spend the budget of 127.0.0.1, which every other test of the run shares."""
    session = requests.Session()
    session.mount("http://", _FromAddress(address))
    return session
