"""The rabbitmq-setup Job: prepare the RabbitMQ vhost Handoff uses, before any Handoff process
connects to it, through the management HTTP API (stdlib only).

- the vhost of AMQP_URI, with default queue type **quorum**: every durable, non-exclusive,
  non-auto-delete queue nameko declares in it without an x-queue-type (the `rpc-<service>`
  queues, the `evt-<source>-<type>--<service>.<method>` event queues and their `.retry` and
  `.dead` queues, RPC reply queues) becomes a replicated quorum queue. Exclusive or auto-delete
  queues (the gateway's BROADCAST revocation queue) stay classic: RabbitMQ applies the default
  only where a quorum queue is possible. The application's declarations are unchanged.
- the user of AMQP_URI (when it is not the administrator) and its permissions on the vhost;
- policies: at-least-once dead-lettering for the `.retry` queues (their expired messages go
  back to the event queue; quorum queues otherwise dead-letter at most once), and a short
  expiry for the reply queues of standalone RPC proxies (the exec health checks make one per
  probe).

A vhost that already holds durable classic queues is not switched (a queue's type is fixed
when it is declared); the Job fails and says how to migrate (docs/operations.md).

Environment: AMQP_URI; RABBITMQ_MANAGEMENT_URL, RABBITMQ_ADMIN_USERNAME, RABBITMQ_ADMIN_PASSWORD.
"""
import base64
import json
import os
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import quote, unquote, urlsplit

POLICIES = {
    "handoff-event-retry": {
        "pattern": r"^evt-.*\.retry$", "apply-to": "queues", "priority": 1,
        "definition": {"dead-letter-strategy": "at-least-once", "overflow": "reject-publish"}},
    "handoff-probe-replies": {
        "pattern": r"^rpc\.reply-standalone_rpc_proxy-", "apply-to": "queues", "priority": 1,
        "definition": {"expires": 60000}},
}
START_TIMEOUT_SECONDS = 600


def amqp_target(uri):
    parts = urlsplit(uri)
    vhost = unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
    return vhost, unquote(parts.username or "guest"), unquote(parts.password or "guest")


class Management:
    def __init__(self, url, username, password):
        self.url = url.rstrip("/")
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}", "Content-Type": "application/json"}

    def request(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=self.headers)
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                text = response.read().decode()
                return json.loads(text) if text else None
        except urllib.error.HTTPError as exc:
            if exc.code == 404 and method == "GET":
                return None
            raise RuntimeError(f"{method} {path}: {exc.code} {exc.read().decode()[:300]}") from None


def wait_for_management(api):
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        try:
            return api.request("GET", "/api/overview")
        except (OSError, RuntimeError) as exc:
            if time.monotonic() > deadline:
                raise
            print(f"management API not ready: {exc}", flush=True)
            time.sleep(5)


def main():
    vhost, user, password = amqp_target(os.environ["AMQP_URI"])
    admin = os.environ["RABBITMQ_ADMIN_USERNAME"]
    api = Management(os.environ["RABBITMQ_MANAGEMENT_URL"], admin, os.environ["RABBITMQ_ADMIN_PASSWORD"])
    overview = wait_for_management(api)
    print(f"RabbitMQ {overview.get('rabbitmq_version')} at {api.url}; vhost {vhost!r}", flush=True)
    v = quote(vhost, safe="")

    existing = api.request("GET", f"/api/vhosts/{v}")
    if existing is not None and existing.get("default_queue_type") != "quorum":
        queues = api.request("GET", f"/api/queues/{v}?columns=name,type,durable,auto_delete,exclusive") or []
        classic = [q["name"] for q in queues if q.get("type", "classic") == "classic" and q.get("durable")
                   and not q.get("auto_delete") and not q.get("exclusive")]
        if classic:
            print(f"vhost {vhost!r} already holds {len(classic)} durable classic queues (e.g. "
                  f"{', '.join(sorted(classic)[:5])}); their type cannot change. Use a new vhost in "
                  "AMQP_URI and move over as docs/operations.md describes.", file=sys.stderr)
            return 1
    api.request("PUT", f"/api/vhosts/{v}", {
        "description": "Handoff", "tags": "handoff", "default_queue_type": "quorum"})

    if user != admin:
        api.request("PUT", f"/api/users/{quote(user, safe='')}", {"password": password, "tags": ""})
    api.request("PUT", f"/api/permissions/{v}/{quote(user, safe='')}",
                {"configure": ".*", "write": ".*", "read": ".*"})
    for name, policy in POLICIES.items():
        api.request("PUT", f"/api/policies/{v}/{name}", policy)

    created = api.request("GET", f"/api/vhosts/{v}")
    if created.get("default_queue_type") != "quorum":
        print(f"vhost {vhost!r} reports default queue type {created.get('default_queue_type')!r}; "
              "RabbitMQ 3.13 or later is required", file=sys.stderr)
        return 1
    print(f"vhost {vhost!r}: default queue type quorum; user {user!r} permitted; "
          f"policies {', '.join(POLICIES)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
