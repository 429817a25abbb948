"""Programs billing has made read-only (past due beyond the grace period): the gateway refuses
their writes, except those that let them pay or sign in, until billing reinstates them."""

# Writes a read-only program may still make: paying, and managing its own session.
ALLOWED_WRITE_PREFIXES = ("/api/v1/billing/", "/api/v1/auth/", "/api/v1/me")
READ_METHODS = ("GET", "HEAD")


def restrictable(method, route_path):
    """Whether a read-only program is refused this route (the OpenAPI document lists 402 for it)."""
    return method not in READ_METHODS and not route_path.startswith(ALLOWED_WRITE_PREFIXES)


class ReadOnlyPrograms:
    def __init__(self):
        self.org_ids = set()
        self.loaded = False

    def load(self, org_ids):
        self.org_ids.update(org_ids)
        self.loaded = True

    def restrict(self, org_id):
        self.org_ids.add(org_id)

    def reinstate(self, org_id):
        self.org_ids.discard(org_id)

    def refuses(self, org_id, method, route_path):
        return org_id in self.org_ids and restrictable(method, route_path)
