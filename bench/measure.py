"""What the benchmarks share: percentiles, arrival times in a mail catcher's folder, the
floor every email path is compared with (plain smtplib over one connection), and the facts a
result file records about its run."""
import datetime
import math
import os
import platform
import smtplib
import subprocess
import time
from email.message import EmailMessage

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def percentile(values, fraction):
    """Nearest-rank percentile (nan of no values)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def arrival_times(catcher):
    """Recipient → arrival time: the catcher names each file by the time it accepted it."""
    arrived = {}
    for name in os.listdir(catcher.folder):
        if name.endswith(".eml"):
            with open(os.path.join(catcher.folder, name), "rb") as f:
                recipient = f.readline().decode().split(":", 1)[1].strip()
            arrived[recipient] = float(name.split("-", 1)[0])
    return arrived


def smtplib_floor(port, count):
    """``count`` multipart messages sent by one process over one SMTP connection."""
    started = time.time()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for i in range(count):
            message = EmailMessage()
            message["From"], message["To"] = "no-reply@handoff.local", f"floor-{i}@example.org"
            message["Subject"] = "Your referral list"
            message.set_content("Providers chosen for you: https://handoff.example/r/x")
            message.add_alternative("<p>Providers chosen for you.</p>", subtype="html")
            smtp.send_message(message)
    elapsed = time.time() - started
    return {"messages": count, "seconds": round(elapsed, 2), "per_second": round(count / elapsed, 1)}


def latency_summary(sent_at, arrived, started):
    latencies = [arrived[r] - sent_at[r] for r in sent_at if r in arrived]
    elapsed = max(arrived.values()) - started
    return {"messages": len(sent_at), "delivered": len(latencies), "seconds": round(elapsed, 2),
            "per_second": round(len(latencies) / elapsed, 1),
            "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 1)}


def git_commit():
    """The commit checked out, ``-dirty`` when the working tree has changes beyond it."""
    try:
        return subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip() or None
    except OSError:
        return None


def run_facts():
    """When, on what and at which commit a benchmark ran: figures mean little without them."""
    return {"when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "commit": git_commit(),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "platform": platform.platform()}}
