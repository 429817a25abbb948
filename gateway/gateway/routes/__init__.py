"""The whole route table, one module per area."""
from gateway.routes import billing, directory, identity, notify, referrals, sharing

ROUTES = identity.ROUTES + directory.ROUTES + referrals.ROUTES + sharing.ROUTES + billing.ROUTES + notify.ROUTES
