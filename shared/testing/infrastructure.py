"""Real PostgreSQL and RabbitMQ for a test run, isolated from every other run.

The servers come from ``DATABASE_URL`` / ``AMQP_URI`` (default: the local ones). Where one is
not reachable and a Docker engine is, testcontainers starts it. Each run gets its own RabbitMQ
vhost and its own databases (``handoff_test_<run>_<service>``), created and dropped here, so
a running dev stack or a second run never sees this run's messages or rows.
"""
import contextlib
import json
import os
import shutil
import socket
import subprocess
import uuid
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg2
import requests

from shared import migrations
from shared.config import DEFAULT_AMQP_URI, DEFAULT_DATABASE_URL, SERVICES, service_database_url


@dataclass(frozen=True)
class Infrastructure:
    database_url: str
    amqp_uri: str
    database_prefix: str

    def config(self, **extra):
        """A nameko config for a service under test."""
        return {"AMQP_URI": self.amqp_uri, "DATABASE_URL": self.database_url,
                "DATABASE_PREFIX": self.database_prefix, "EVENT_RETRY_BASE_SECONDS": 0.2,
                **extra}

    def environment(self):
        """The same, as environment variables for services run as processes."""
        return {"AMQP_URI": self.amqp_uri, "DATABASE_URL": self.database_url,
                "DATABASE_PREFIX": self.database_prefix, "EVENT_RETRY_BASE_SECONDS": "0.2"}

    def database_url_of(self, service):
        return service_database_url(self.config(), service)


def _reachable(url, default_port):
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port),
                                 timeout=2).close()
        return True
    except OSError:
        return False


def _docker_available():
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True).returncode == 0


@contextlib.contextmanager
def _postgres(stack):
    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    if _reachable(url, 5432) or not _docker_available():
        yield url
        return
    from testcontainers.postgres import PostgresContainer
    container = stack.enter_context(PostgresContainer("postgres:15-alpine", driver=None))
    yield container.get_connection_url()


@contextlib.contextmanager
def _rabbit(stack):
    url = os.environ.get("AMQP_URI", DEFAULT_AMQP_URI)
    if _reachable(url, 5672) or not _docker_available():
        yield url
        return
    from testcontainers.rabbitmq import RabbitMqContainer
    container = stack.enter_context(RabbitMqContainer("rabbitmq:3.13-management"))
    host, port = container.get_container_host_ip(), container.get_exposed_port(5672)
    yield f"amqp://guest:guest@{host}:{port}/"


class _VhostAdmin:
    """Creates vhosts through the management API where it answers, else ``rabbitmqctl``."""

    def __init__(self, amqp_uri):
        parts = urlsplit(amqp_uri)
        self.auth = (parts.username or "guest", parts.password or "guest")
        self.api = f"http://{parts.hostname}:{os.environ.get('RABBIT_MANAGEMENT_PORT', '15672')}/api"

    def _api_up(self):
        try:
            return requests.get(f"{self.api}/overview", auth=self.auth, timeout=2).ok
        except requests.RequestException:
            return False

    def create(self, vhost):
        user = self.auth[0]
        if self._api_up():
            name = quote(vhost, safe="")
            requests.put(f"{self.api}/vhosts/{name}", auth=self.auth, timeout=10).raise_for_status()
            requests.put(f"{self.api}/permissions/{name}/{user}", auth=self.auth, timeout=10,
                         data=json.dumps({"configure": ".*", "write": ".*", "read": ".*"}),
                         headers={"content-type": "application/json"}).raise_for_status()
        else:
            subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True, capture_output=True)
            subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, user, ".*", ".*", ".*"],
                           check=True, capture_output=True)

    def delete(self, vhost):
        if self._api_up():
            requests.delete(f"{self.api}/vhosts/{quote(vhost, safe='')}", auth=self.auth, timeout=10)
        else:
            subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True)


def with_vhost(amqp_uri, vhost):
    parts = urlsplit(amqp_uri)
    return urlunsplit((parts.scheme, parts.netloc, "/" + quote(vhost, safe=""), "", ""))


@contextlib.contextmanager
def isolated_infrastructure():
    run = uuid.uuid4().hex[:10]
    with contextlib.ExitStack() as stack:
        database_url = stack.enter_context(_postgres(stack))
        amqp_root = stack.enter_context(_rabbit(stack))
        vhost = f"handoff-test-{run}"
        admin = _VhostAdmin(amqp_root)
        admin.create(vhost)
        stack.callback(admin.delete, vhost)
        infra = Infrastructure(database_url, with_vhost(amqp_root, vhost), f"handoff_test_{run}")
        for service in SERVICES:
            stack.callback(migrations.drop_database, infra.database_url_of(service))
            migrations.upgrade(service, infra.config())
        yield infra


def connect(infra, service):
    """A plain psycopg2 connection to a service's test database, for assertions."""
    return psycopg2.connect(infra.database_url_of(service))


def can_restart_servers():
    """The local servers' own control tools are here (not so for servers in containers)."""
    return all(shutil.which(tool) for tool in ("rabbitmqctl", "pg_ctlcluster")) and os.path.isdir("/etc/postgresql")


def restart_broker():
    """Stop and start RabbitMQ: every connection drops; durable queues and their persistent
    messages stay, as after a broker node's restart."""
    for action in ("stop_app", "start_app"):
        subprocess.run(["rabbitmqctl", "-q", action], check=True, capture_output=True, timeout=120)


def restart_database():
    """Restart the local PostgreSQL cluster (fast mode: sessions are cut, as in a failover)."""
    [version] = sorted(os.listdir("/etc/postgresql"))[-1:]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart", "-m", "fast"],
                   check=True, capture_output=True, timeout=120)
