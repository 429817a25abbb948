"""What identity publishes (through its outbox) and consumes."""
ORGANIZATION_CREATED = "organization_created"   # data: organization_id, name, owner_user_id
ORGANIZATION_RENAMED = "organization_renamed"   # data: organization_id, name
USER_ACTIVATED = "user_activated"               # data: user_id, kind, role
USER_DEACTIVATED = "user_deactivated"           # data: user_id, kind, role
ACCESS_REVOKED = "access_revoked"               # data: user_id, not_before (epoch seconds)
