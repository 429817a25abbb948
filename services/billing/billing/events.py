"""What billing consumes, as (source service, event type), and what it publishes."""
ORGANIZATION_CREATED = ("identity", "organization_created")
USER_ACTIVATED = ("identity", "user_activated")
USER_DEACTIVATED = ("identity", "user_deactivated")

# Past due beyond the grace period: the program is read-only until a payment succeeds.
# data: subscription_id, past_due_since. Services (or the gateway) refuse the program's writes.
SUBSCRIPTION_RESTRICTED = "subscription_restricted"
# A payment succeeded after a restriction: writes are allowed again. data: subscription_id
SUBSCRIPTION_REINSTATED = "subscription_reinstated"
