"""How fast notify turns events into delivered email, measured in one run.

  (a) notify: N ``notification_requested`` events published to RabbitMQ (as identity's outbox
      would) → notify renders the template, logs the message, sends it over SMTP; measured from
      each event's publish to its arrival in the mail catcher's inbox;
  (b) the floor: the same N messages built and sent by plain ``smtplib`` from one process to
      the same SMTP server.

Prints messages/s for both, event-to-inbox p50/p99, and the ratio; writes
``bench/results/notify_throughput.json``. Not part of the test suite.

    .venv/bin/python bench/notify_throughput.py [--messages 1000]
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

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE.parent))

from measure import arrival_times, latency_summary, run_facts, smtplib_floor  # noqa: E402


def through_notify(infra, catcher, count, log_dir):
    from shared.outbox import EventPublisher, envelope
    from shared.processes import ProcessGroup
    from shared.testing.waiting import wait_until

    group = ProcessGroup({**infra.environment(), "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(catcher.port)},
                         log_dir=log_dir)
    group.start("notify")
    try:
        time.sleep(6)  # nameko start-up and queue declaration
        publisher = EventPublisher(infra.amqp_uri, "identity")
        org_id = "00000000-0000-4000-8000-000000000001"
        sent_at = {}
        started = time.time()
        for i in range(count):
            recipient = f"bench-{i}@example.org"
            body = envelope("notification_requested", org_id, {
                "kind": "password_reset", "channels": ["email"],
                "recipients": [{"address": recipient, "name": "Bench", "language": "en"}],
                "variables": {"recipient_name": "Bench", "expires_in_minutes": 60,
                              "link": f"https://handoff.example/password-resets/token-{i}"}})
            sent_at[recipient] = time.time()
            publisher.publish("notification_requested", body)
        wait_until(lambda: len(arrival_times(catcher)) >= count, timeout=600, interval=0.5)
        arrived = arrival_times(catcher)
    finally:
        group.stop_all()
    return latency_summary(sent_at, arrived, started)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    args = parser.parse_args()
    from shared.mail_catcher import MailCatcher
    from shared.testing.infrastructure import isolated_infrastructure
    from shared.testing.waiting import free_port

    RESULTS.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="notify-bench-"))
    with isolated_infrastructure() as infra:
        with MailCatcher(free_port(), str(work / "floor")) as floor_catcher:
            floor = smtplib_floor(floor_catcher.port, args.messages)
        with MailCatcher(free_port(), str(work / "notify")) as catcher:
            notify = through_notify(infra, catcher, args.messages, str(work))
    ratio = round(notify["per_second"] / floor["per_second"], 3)
    print(f"{'path':<34}{'msgs':>6}{'msg/s':>9}{'p50 ms':>9}{'p99 ms':>9}")
    print(f"{'event -> notify -> SMTP inbox':<34}{notify['delivered']:>6}{notify['per_second']:>9}"
          f"{notify['p50_ms']:>9}{notify['p99_ms']:>9}")
    print(f"{'smtplib floor (one connection)':<34}{floor['messages']:>6}{floor['per_second']:>9}")
    print(f"notify / floor throughput: {ratio}x")
    (RESULTS / "notify_throughput.json").write_text(json.dumps(
        {"benchmark": "notify_throughput", **run_facts(), "notify": notify, "smtplib_floor": floor,
         "throughput_ratio": ratio}, indent=2))


if __name__ == "__main__":
    main()
    import logging
    logging._removeHandlerRef = lambda ref: None  # quiet eventlet at interpreter exit
