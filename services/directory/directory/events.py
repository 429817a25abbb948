"""What the directory consumes. It publishes through its outbox only the platform's own
events: ``audit_recorded`` (shared.audit) and ``notification_requested`` (shared.notifications:
provider update links, promotions to case managers)."""

# A program's name, as it signs the emails the directory sends; data: organization_id, name.
ORGANIZATION_CREATED = ("identity", "organization_created")
ORGANIZATION_RENAMED = ("identity", "organization_renamed")
# Who is on the program's staff (business support officers), from identity; data: user_id, kind, role.
USER_ACTIVATED = ("identity", "user_activated")
USER_DEACTIVATED = ("identity", "user_deactivated")
# A referral reached the program; data: inbound_request_id, provider_id, and case_manager_id when a
# case manager made it (their first referral onboards them).
INBOUND_REQUEST_RECEIVED = ("referrals", "inbound_request_received")
# Someone used the unsubscribe link of a promotion; data: channel, address.
PROMOTIONS_UNSUBSCRIBED = ("notify", "promotions_unsubscribed")
