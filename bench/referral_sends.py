"""Referral lists sent through the whole system, measured in one run.

  (a) N referral lists of three providers, built through the gateway, then each sent by email
      (``POST /api/v1/referral-lists/{id}/send``) from 8 concurrent clients: referrals records
      the send and writes a notification request to its outbox → notify renders and sends →
      SMTP inbox; measured from the send call to the email's arrival;
  (b) the floor: the same number of messages sent by plain smtplib over one connection.

Prints sends/s end to end, send-to-inbox p50/p99, and the ratio to the floor; writes
``bench/results/referral_sends.json``. Not part of the test suite.

    .venv/bin/python bench/referral_sends.py [--lists 1000]
"""
import warnings

warnings.filterwarnings("ignore", message="\nEventlet is deprecated")
import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import requests  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE.parent))

from measure import arrival_times, latency_summary, run_facts, smtplib_floor  # noqa: E402

CONCURRENCY = 8


def build_lists(system, token, count):
    headers = {"Authorization": f"Bearer {token}"}
    from directory.demo import generate_providers
    provider_ids = []
    for body in generate_providers(3):
        response = requests.post(system.url("/api/v1/providers"), json=body, headers=headers, timeout=30)
        response.raise_for_status()
        provider_ids.append(response.json()["id"])
    items = [{"provider_id": pid} for pid in provider_ids]
    pool, list_ids = eventlet.GreenPool(CONCURRENCY), []

    def create(_):
        with requests.Session() as session:
            response = session.post(system.url("/api/v1/referral-lists"), headers=headers, timeout=60,
                                    json={"title": "Counseling near campus", "items": items})
            response.raise_for_status()
            return response.json()["id"]

    started = time.time()
    list_ids = list(pool.imap(create, range(count)))
    return list_ids, round(count / (time.time() - started), 1)


def send_lists(system, token, list_ids, catcher):
    from shared.testing.waiting import wait_until
    headers = {"Authorization": f"Bearer {token}"}
    sent_at, errors = {}, []

    def send(indexed):
        i, list_id = indexed
        recipient = f"client-{i}@example.org"
        sent_at[recipient] = time.time()
        response = requests.post(system.url(f"/api/v1/referral-lists/{list_id}/send"), headers=headers,
                                 json={"channels": ["email"], "email": recipient}, timeout=60)
        if response.status_code >= 300:
            errors.append(response.status_code)

    started = time.time()
    for _ in eventlet.GreenPool(CONCURRENCY).imap(send, enumerate(list_ids)):
        pass
    calls_per_second = round(len(list_ids) / (time.time() - started), 1)
    wait_until(lambda: len(arrival_times(catcher)) >= len(list_ids), timeout=900, interval=0.5)
    summary = latency_summary(sent_at, arrival_times(catcher), started)
    return {**summary, "send_calls_per_second": calls_per_second, "errors": len(errors)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lists", type=int, default=1000)
    args = parser.parse_args()
    from shared.mail_catcher import MailCatcher
    from shared.testing.api import sign_up
    from shared.testing.infrastructure import isolated_infrastructure
    from shared.testing.system import running_system
    from shared.testing.waiting import free_port

    RESULTS.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="referral-bench-"))
    with isolated_infrastructure() as infra:
        with MailCatcher(free_port(), str(work / "floor")) as floor_catcher:
            floor = smtplib_floor(floor_catcher.port, args.lists)
        with running_system(infra, work) as system:
            program = sign_up(system)
            list_ids, builds_per_second = build_lists(system, program.access_token, args.lists)
            sends = send_lists(system, program.access_token, list_ids, system.smtp)
    ratio = round(sends["per_second"] / floor["per_second"], 3)
    print(f"built {args.lists} lists at {builds_per_second}/s (not in the ratio)")
    print(f"{'path':<38}{'msgs':>6}{'msg/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    print(f"{'send call -> referrals -> notify -> inbox':<38}{sends['delivered']:>6}{sends['per_second']:>9}"
          f"{sends['p50_ms']:>9}{sends['p99_ms']:>9}{sends['errors']:>8}")
    print(f"{'smtplib floor (one connection)':<38}{floor['messages']:>6}{floor['per_second']:>9}")
    print(f"end-to-end / floor throughput: {ratio}x (send calls answered at {sends['send_calls_per_second']}/s)")
    (RESULTS / "referral_sends.json").write_text(json.dumps(
        {"benchmark": "referral_sends", **run_facts(), "sends": sends, "smtplib_floor": floor, "throughput_ratio": ratio,
         "list_builds_per_second": builds_per_second}, indent=2))


if __name__ == "__main__":
    main()
    import logging
    logging._removeHandlerRef = lambda ref: None  # quiet eventlet at interpreter exit
