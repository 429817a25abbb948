"""What referrals publishes (through its outbox) and consumes."""
REFERRAL_LIST_SENT = "referral_list_sent"              # data: referral_list_id, send_id, channels, provider_ids
# data: referral_id, provider_id, from_status, to_status, actor_type
REFERRAL_STATUS_CHANGED = "referral_status_changed"
# data: inbound_request_id, provider_id (null for a case manager's referral), and case_manager_id when
# a case manager made it (the directory onboards them)
INBOUND_REQUEST_RECEIVED = "inbound_request_received"
# data: client_id and the client card's fields (clients.CARD_FIELDS); sharing keeps a read model of it
CLIENT_UPDATED = "client_updated"

# Consumed: a program's name, new or changed (for messages), and notify's report on each message of a list.
ORGANIZATION_CREATED = ("identity", "organization_created")
ORGANIZATION_RENAMED = ("identity", "organization_renamed")
MESSAGE_STATUS_CHANGED = ("notify", "message_status_changed")
