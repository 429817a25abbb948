"""The auth context: who is calling, for which program, with which permissions.

The gateway puts it in nameko context data under ``auth`` (a JSON string, so it survives AMQP
headers unchanged) and nameko forwards it on every onward RPC. Services read it through the
``Auth`` dependency and check permissions again: the gateway is not the only wall.
"""
import json
import uuid
from dataclasses import dataclass, field

from nameko.extensions import DependencyProvider

from shared.errors import Forbidden, Unauthorized

AUTH_CONTEXT_KEY = "auth"


@dataclass(frozen=True)
class AuthContext:
    user_id: str
    org_id: str
    role: str
    permissions: frozenset = field(default_factory=frozenset)
    is_owner: bool = False
    token_id: str | None = None
    linked_id: str | None = None  # a portal user's partner organization or case-manager record

    @property
    def org_uuid(self) -> uuid.UUID:
        return uuid.UUID(self.org_id)

    @property
    def user_uuid(self) -> uuid.UUID:
        return uuid.UUID(self.user_id)

    def has(self, permission):
        return permission in self.permissions

    def require(self, *permissions):
        """Pass when the caller holds any one of ``permissions``."""
        if not any(p in self.permissions for p in permissions):
            raise Forbidden(f"Requires permission {' or '.join(permissions)}")
        return self

    def to_header(self):
        return json.dumps({
            "user_id": self.user_id, "org_id": self.org_id, "role": self.role,
            "permissions": sorted(self.permissions), "is_owner": self.is_owner,
            "token_id": self.token_id, "linked_id": self.linked_id,
        }, separators=(",", ":"))

    @classmethod
    def from_header(cls, raw):
        data = json.loads(raw)
        return cls(user_id=data["user_id"], org_id=data["org_id"], role=data["role"],
                   permissions=frozenset(data["permissions"]), is_owner=data["is_owner"],
                   token_id=data.get("token_id"), linked_id=data.get("linked_id"))


class CallerContext:
    """What an entrypoint knows of its caller. ``current`` demands an authenticated caller;
    ``optional`` is for entrypoints that public routes and services also reach."""

    def __init__(self, raw):
        self._context = AuthContext.from_header(raw) if raw else None

    @property
    def optional(self):
        return self._context

    @property
    def current(self):
        if self._context is None:
            raise Unauthorized("No authenticated caller")
        return self._context

    def require(self, *permissions):
        return self.current.require(*permissions)


class Auth(DependencyProvider):
    def get_dependency(self, worker_ctx):
        return CallerContext(worker_ctx.data.get(AUTH_CONTEXT_KEY))
