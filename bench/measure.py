"""What the benchmarks share: percentiles, arrival times in a mail catcher's folder, and the
floor every email path is compared with (plain smtplib over one connection)."""
import os
import smtplib
import time
from email.message import EmailMessage


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


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
