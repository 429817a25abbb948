"""Permission codes: the vocabulary shared by identity (which grants them), the gateway's
route table (which demands them) and every service (which checks them again).
Which role bundles which codes is identity's business, not this module's."""

PROVIDERS_READ = "providers.read"
PROVIDERS_MANAGE = "providers.manage"          # seed 000: Manage External Providers
STAFF_MANAGE = "staff.manage"                  # seed 000: Manage Staff Permissions
SETTINGS_MANAGE = "settings.manage"            # seed 000: Manage Program Settings
BILLING_MANAGE = "billing.manage"              # the owner and the owner's delegates only
CLIENTS_ALL = "clients.all"                    # every client of the program
CLIENTS_ASSIGNED = "clients.assigned"          # only clients assigned to the user
REFERRALS_MANAGE = "referrals.manage"
SHARING_MANAGE = "sharing.manage"
INVOICING_READ = "invoicing.read"
INVOICING_MANAGE = "invoicing.manage"
REPORTS_VIEW = "reports.view"
AUDIT_VIEW = "audit.view"
REFERRERS_MANAGE = "referrers.manage"          # companies, business units, case managers
PARTNER_PORTAL = "partner.portal"
CASE_MANAGER_PORTAL = "case_manager.portal"

ALL = frozenset({
    PROVIDERS_READ, PROVIDERS_MANAGE, STAFF_MANAGE, SETTINGS_MANAGE, BILLING_MANAGE,
    CLIENTS_ALL, CLIENTS_ASSIGNED, REFERRALS_MANAGE, SHARING_MANAGE, INVOICING_READ,
    INVOICING_MANAGE, REPORTS_VIEW, AUDIT_VIEW, REFERRERS_MANAGE, PARTNER_PORTAL,
    CASE_MANAGER_PORTAL,
})
