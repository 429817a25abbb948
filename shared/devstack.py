"""``make run``: the whole system on one machine for a newcomer.

Creates and migrates the databases, starts a local mail catcher when no ``SMTP_HOST`` is set,
starts every service and the gateway as their own processes, seeds a demo program (once), prints
where everything is, and stops it all on Ctrl-C. Running it again reuses what is there.
"""
import os
import signal
import socket
import sys
import time

import requests

from shared import migrations
from shared.config import SERVICES
from shared.mail_catcher import MailCatcher
from shared.processes import ROOT, ProcessGroup

RUN_DIR = os.path.join(ROOT, ".run")
DEMO_EMAIL = "owner@demo.handoff.local"
DEMO_PASSWORD = "handoff-demo-password"
DEMO_PROGRAM = "Riverside Counseling Center"
DEMO_PROVIDERS = 300


def port_free(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def seed_demo_program(base_url):
    """The demo program and its owner; a second run finds them and signs in instead."""
    login = requests.post(f"{base_url}/api/v1/auth/login",
                          json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD}, timeout=30)
    if login.status_code == 200:
        return login.json()["access_token"], False
    signup = requests.post(f"{base_url}/api/v1/signup", timeout=30, json={
        "organization_name": DEMO_PROGRAM, "email": DEMO_EMAIL, "password": DEMO_PASSWORD,
        "first_name": "Dana", "last_name": "Rivera"})
    signup.raise_for_status()
    return signup.json()["tokens"]["access_token"], True


def seed_demo_directory(base_url, token, count=DEMO_PROVIDERS):
    """A realistic directory around Boston, added through the API as staff would. Tops up an
    interrupted earlier seeding: providers already there answer 409 (same NPI) and are skipped."""
    from directory.demo import generate_providers
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    if _provider_count(session, base_url, stop_at=count) >= count:
        return 0
    added = 0
    for body in generate_providers(count):
        response = session.post(f"{base_url}/api/v1/providers", json=body, timeout=30)
        if response.status_code != 409:
            response.raise_for_status()
            added += 1
    return added


def _provider_count(session, base_url, stop_at):
    seen, cursor = 0, None
    while seen < stop_at:
        params = {"limit": 100, "facets": "false", **({"cursor": cursor} if cursor else {})}
        response = session.get(f"{base_url}/api/v1/providers", params=params, timeout=30)
        response.raise_for_status()
        page = response.json()
        seen += len(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    return seen


def main():
    gateway_port = int(os.environ.get("GATEWAY_PORT", 8000))
    if not port_free(gateway_port):
        sys.exit(f"Port {gateway_port} is in use (is `make run` already running?). "
                 "Set GATEWAY_PORT to use another.")
    os.makedirs(os.path.join(RUN_DIR, "logs"), exist_ok=True)
    print("Migrating databases ...", flush=True)
    for service in SERVICES:
        migrations.upgrade(service)

    environment = {"PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", f"http://localhost:{gateway_port}")}
    catcher = None
    if not os.environ.get("SMTP_HOST"):
        smtp_port = int(os.environ.get("SMTP_PORT", 1025))
        catcher = MailCatcher(smtp_port, os.path.join(RUN_DIR, "mail")).start()
        environment.update({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port)})

    payments = None
    if not os.environ.get("PAYMENTS_API_URL"):
        # A local processor of the same API shape, so cards and renewals work out of the box.
        from shared.testing.standins.payments_provider import PaymentsProviderStandIn
        payments = PaymentsProviderStandIn().start()
        payments.webhook_url = f"http://127.0.0.1:{gateway_port}/webhooks/payments"
        environment.update({"PAYMENTS_API_URL": payments.url, "PAYMENTS_API_KEY": payments.api_key,
                            "PAYMENTS_WEBHOOK_SECRET": payments.webhook_secret})

    group = ProcessGroup(environment, log_dir=os.path.join(RUN_DIR, "logs"), gateway_port=gateway_port)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        print("Starting services and the gateway ...", flush=True)
        group.start_all()
        group.wait_ready(timeout=120)
        token, created = seed_demo_program(group.base_url)
        print("Seeding the demo directory (first run only) ...", flush=True)
        added = seed_demo_directory(group.base_url, token)
        print(f"""
Handoff is running.
  Gateway    {group.base_url}
  API docs   {group.base_url}/docs
  Readiness  {group.base_url}/ready
  Demo login {DEMO_EMAIL} / {DEMO_PASSWORD}  ({'created' if created else 'existing'} program "{DEMO_PROGRAM}")
  Directory  {added or 'existing'} demo providers around Boston: GET /api/v1/providers?near=02139
  Logs       {os.path.join(RUN_DIR, 'logs')}/<service>.log""", flush=True)
        if catcher:
            print(f"  Mail       every email is saved in {catcher.folder}/ (SMTP on 127.0.0.1:{catcher.port})")
        if payments:
            print(f"  Payments   a local stand-in of the payment processor at {payments.url}")
        print("Press Ctrl-C to stop.", flush=True)
        while not stopping:
            crashed = group.exited()
            if crashed:
                print(f"Stopped: these processes exited: {crashed}; see their logs.", flush=True)
                return 1
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not orphan processes
        print("\nStopping ...", flush=True)
        group.stop_all()
        if catcher:
            catcher.stop()
        if payments:
            payments.stop()
        print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
