"""The whole route table, one module per area."""
from gateway.routes import billing, directory, identity, notify, referrals, referrers, sharing

ROUTES = (identity.ROUTES + directory.ROUTES + referrers.ROUTES + referrals.ROUTES + sharing.ROUTES + billing.ROUTES
          + notify.ROUTES)
