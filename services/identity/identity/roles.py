"""Roles are named bundles of permissions (seed 001's Org Admin, Admin, Biller, Therapist,
Default; seed 003's partner; seed 002's case manager). A user's effective permissions are the
role's, plus explicit grants, minus explicit denials; billing comes from ownership or the
owner's delegation, never from a role."""
from shared import permissions as p

DEFAULT = frozenset({p.PROVIDERS_READ, p.CLIENTS_ASSIGNED, p.REFERRALS_MANAGE})
THERAPIST = DEFAULT
BILLER = DEFAULT | {p.INVOICING_READ, p.INVOICING_MANAGE}
ADMIN = DEFAULT | {p.SETTINGS_MANAGE, p.CLIENTS_ALL, p.SHARING_MANAGE, p.REPORTS_VIEW,
                   p.INVOICING_READ, p.PROVIDERS_MANAGE, p.REFERRERS_MANAGE}
ORG_ADMIN = p.ALL - {p.BILLING_MANAGE, p.PARTNER_PORTAL, p.CASE_MANAGER_PORTAL}

ROLES = {
    "org_admin": ORG_ADMIN,
    "admin": ADMIN,
    "biller": BILLER,
    "therapist": THERAPIST,
    "default": DEFAULT,
    "partner": frozenset({p.PARTNER_PORTAL}),
    "case_manager": frozenset({p.CASE_MANAGER_PORTAL}),
}
STAFF_ROLES = ("org_admin", "admin", "biller", "therapist", "default")
# Grants only ever add staff permissions; portal and billing permissions are not grantable.
GRANTABLE = ORG_ADMIN


def effective_permissions(user):
    permissions = (ROLES[user.role] | set(user.grants or ())) - set(user.denials or ())
    if user.is_owner or user.billing_delegate:
        permissions = permissions | {p.BILLING_MANAGE}
    return frozenset(permissions)
