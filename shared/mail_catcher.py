"""A real SMTP server that keeps every message it accepts as an ``.eml`` file in a folder.

``make run`` starts it when no ``SMTP_HOST`` is configured, and the system tests read the
folder. It runs as its own process (``python -m shared.mail_catcher --port N --dir D``) so
that asyncio never meets eventlet's monkey-patching.
"""
import argparse
import email
import email.policy
import os
import signal
import subprocess
import sys
import threading
import time
import uuid


class MaildirHandler:
    def __init__(self, folder):
        self.folder = folder

    async def handle_DATA(self, server, session, envelope):
        name = f"{time.time():.6f}-{uuid.uuid4().hex[:8]}"
        tmp = os.path.join(self.folder, f".{name}.tmp")
        with open(tmp, "wb") as f:
            f.write(b"X-Envelope-To: " + ", ".join(envelope.rcpt_tos).encode() + b"\r\n")
            f.write(envelope.original_content)
        os.rename(tmp, os.path.join(self.folder, f"{name}.eml"))  # readers never see half a file
        return "250 Message accepted for delivery"


def serve(port, folder):
    from aiosmtpd.controller import Controller
    os.makedirs(folder, exist_ok=True)
    controller = Controller(MaildirHandler(folder), hostname="127.0.0.1", port=port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


class MailCatcher:
    """Starts and stops the catcher process, and reads what it caught."""

    def __init__(self, port, folder):
        self.port = port
        self.folder = folder
        self.process = None

    def start(self):
        os.makedirs(self.folder, exist_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "shared.mail_catcher", "--port", str(self.port), "--dir", self.folder])
        _wait_for_port(self.port)
        return self

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def messages(self):
        names = sorted(n for n in os.listdir(self.folder) if n.endswith(".eml"))
        result = []
        for name in names:
            with open(os.path.join(self.folder, name), "rb") as f:
                result.append(email.message_from_binary_file(f, policy=email.policy.default))
        return result

    def messages_to(self, address):
        return [m for m in self.messages() if address.lower() in m["X-Envelope-To"].lower()]

    def wait_for(self, predicate, count=1, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.messages() if predicate(m)]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.1)


def _wait_for_port(port, timeout=15):
    import socket
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"mail catcher did not open port {port}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m shared.mail_catcher")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", default=".run/mail")
    args = parser.parse_args()
    serve(args.port, args.dir)
