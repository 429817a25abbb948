"""The whole system for system tests: every service and the gateway as processes, a real
SMTP server (the mail catcher), the SMS provider's and payment processor's stand-ins, and an
HTTP client for the gateway."""
import contextlib

import kombu
import requests

from shared.mail_catcher import MailCatcher
from shared.processes import ProcessGroup
from shared.testing.standins.payments_provider import PaymentsProviderStandIn
from shared.testing.standins.sms_provider import SmsProviderStandIn
from shared.testing.waiting import free_port, wait_until

SMS_FROM = "+15550000000"


class System(ProcessGroup):
    def __init__(self, *args, smtp=None, sms=None, payments=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.smtp = smtp
        self.sms = sms
        self.payments = payments
        self.http = requests.Session()

    def url(self, path):
        return self.base_url + path

    def request(self, method, path, token=None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, self.url(path), headers=headers, timeout=30, **kwargs)

    def restart(self, name):
        self.kill(name)
        self.start(name)
        self.wait_ready()

    def start_replica(self, name, timeout=60):
        """One more process of service ``name``, called ``<name>-2``, ``<name>-3``, ...: nameko
        names its queues after the service, so the new process consumes the same RPC and event
        queues as the first (competing consumers). Returns its process name once RabbitMQ counts
        it among the consumers of ``rpc-<name>``."""
        instances = 1 + sum(1 for process in self.processes if process.startswith(f"{name}-"))
        instance = f"{name}-{instances + 1}"
        self.start(name, instance)
        if not wait_until(lambda: self.exited() or self.rpc_consumers(name) > instances, timeout, 0.5):
            raise RuntimeError(f"{instance} not consuming after {timeout}s")
        if self.exited():
            raise RuntimeError(f"processes exited: {self.exited()}")
        return instance

    def rpc_consumers(self, name):
        with kombu.Connection(self.environment["AMQP_URI"]) as connection:
            return connection.default_channel.queue_declare(f"rpc-{name}", passive=True).consumer_count


@contextlib.contextmanager
def running_system(infra, log_dir, **environment):
    with MailCatcher(free_port(), str(log_dir / "mail")) as smtp, SmsProviderStandIn() as sms, \
            PaymentsProviderStandIn() as payments:
        env = {**infra.environment(), "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp.port),
               "SMS_API_URL": sms.url, "SMS_ACCOUNT_SID": sms.account_sid,
               "SMS_API_KEY": sms.auth_token, "SMS_FROM": SMS_FROM, "PAYMENTS_API_URL": payments.url,
               "PAYMENTS_API_KEY": payments.api_key, "PAYMENTS_WEBHOOK_SECRET": payments.webhook_secret,
               "RATE_LIMIT_AUTH_PER_MINUTE": "100000", "RATE_LIMIT_PUBLIC_PER_MINUTE": "100000",
               "RPC_TIMEOUT_SECONDS": "5", "LOGIN_THROTTLE_WINDOW_SECONDS": "4",
               "PROVIDER_STALE_SWEEP_SECONDS": "1", **environment}
        system = System(env, log_dir=str(log_dir), gateway_port=free_port(), smtp=smtp, sms=sms,
                        payments=payments)
        env["PUBLIC_BASE_URL"] = system.base_url
        system.environment["PUBLIC_BASE_URL"] = system.base_url
        payments.webhook_url = system.url("/webhooks/payments")
        try:
            system.start_all()
            system.wait_ready()
            yield system
        finally:
            system.stop_all()
