"""Runs the services and the gateway as their own ``nameko run`` processes: the same code
starts the system for ``make run`` and for the system tests."""
import os
import signal
import subprocess
import sys
import time

import requests


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVICE_CLASSES = {
    "identity": "IdentityService", "directory": "DirectoryService", "referrals": "ReferralsService",
    "sharing": "SharingService", "billing": "BillingService", "notify": "NotifyService",
}
COMPONENTS = {name: (os.path.join("services", name, "config.yml"), f"{name}.service:{cls}")
              for name, cls in SERVICE_CLASSES.items()}
COMPONENTS["gateway"] = (os.path.join("gateway", "config.yml"), "gateway.service:GatewayService")


class ProcessGroup:
    def __init__(self, environment, log_dir=None, gateway_port=8000):
        self.environment = {**os.environ, **environment, "GATEWAY_PORT": str(gateway_port),
                            "PYTHONWARNINGS": "ignore"}
        self.log_dir = log_dir
        self.base_url = f"http://127.0.0.1:{gateway_port}"
        self.processes = {}
        self.log_files = {}

    def start(self, name, instance=None):
        """Start component ``name`` as the process called ``instance`` (default: ``name``)."""
        instance = instance or name
        config, module = COMPONENTS[name]
        output = None
        if self.log_dir:
            output = open(os.path.join(self.log_dir, f"{instance}.log"), "ab")
            self.log_files[instance] = output
        self.processes[instance] = subprocess.Popen(
            [sys.executable, "-m", "nameko", "run", "--config", config, module],
            cwd=ROOT, env=self.environment, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True)

    def start_all(self):
        for name in COMPONENTS:
            self.start(name)

    def kill(self, name):
        """kill -9: no clean shutdown, as in a crash."""
        process = self.processes.pop(name)
        process.kill()
        process.wait()

    def stop(self, name, timeout=10):
        process = self.processes.pop(name, None)
        if process is None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop_all(self, timeout=15):
        """SIGTERM to all at once, so they shut down in parallel; SIGKILL any straggler."""
        for process in self.processes.values():
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for name, process in list(self.processes.items()):
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            del self.processes[name]
        for output in self.log_files.values():
            output.close()

    def exited(self):
        return {name: p.returncode for name, p in self.processes.items() if p.poll() is not None}

    def wait_ready(self, timeout=90):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.exited():
                raise RuntimeError(f"processes exited during start-up: {self.exited()}")
            try:
                response = requests.get(f"{self.base_url}/ready", timeout=5)
                if response.status_code == 200:
                    return
                last = response.text
            except requests.RequestException as exc:
                last = str(exc)
            time.sleep(0.5)
        raise RuntimeError(f"system not ready after {timeout}s: {last}")

    def logs(self):
        text = []
        for name in self.log_files:
            with open(os.path.join(self.log_dir, f"{name}.log"), errors="replace") as f:
                text.append(f.read())
        return "\n".join(text)
