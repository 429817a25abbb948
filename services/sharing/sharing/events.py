"""What sharing publishes (through its outbox) and consumes."""
CLIENT_SHARED = "client_shared"  # data: share_id, client_id, partner_id
SHARE_ENDED = "share_ended"      # data: share_id, client_id, partner_id, reason (revoked | expired)

# Consumed: referrals' changes to a client, for the cards of shared clients (cards.py).
CLIENT_UPDATED = ("referrals", "client_updated")
