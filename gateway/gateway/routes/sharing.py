"""Partner organizations, consented shares of clients, the partner portal and Needs Review.

Administrators (``sharing.manage``) manage partners and shares. The partner portal is for
partner users only (``partner.portal``), who hold no other permission. Partner contacts are
reviewed by staff who see every client (``clients.all``): a contact belongs to a client's
record, and sharing cannot narrow the list to the clients assigned to a clinician."""
from sharing import schemas as s
from gateway.routing import Route
from shared.permissions import CLIENTS_ALL, PARTNER_PORTAL, SHARING_MANAGE
from shared.schemas import PageQuery

ADMINS = (SHARING_MANAGE,)
PARTNERS = (PARTNER_PORTAL,)
REVIEWERS = (CLIENTS_ALL,)
PARTNER = "/api/v1/partners/<uuid:partner_id>"
PORTAL_CLIENT = "/api/v1/partner/clients/<uuid:client_id>"

ROUTES = [
    Route("GET", "/api/v1/partners", "sharing.list_partners", "Partner organizations, by name",
          permissions=ADMINS, query=PageQuery, response=s.PartnerPageSchema, tag="partners"),
    Route("POST", "/api/v1/partners", "sharing.create_partner",
          "Add a partner organization with its primary point of contact",
          permissions=ADMINS, body=s.PartnerCreateSchema, response=s.PartnerSchema, status=201, tag="partners"),
    Route("GET", PARTNER, "sharing.get_partner", "One partner organization",
          permissions=ADMINS, response=s.PartnerSchema, tag="partners"),
    Route("PATCH", PARTNER, "sharing.update_partner",
          "Change a partner; sharing_enabled false suspends every share with it",
          permissions=ADMINS, body=s.PartnerUpdateSchema, response=s.PartnerSchema, tag="partners"),
    Route("POST", PARTNER + "/users", "sharing.invite_partner_user",
          "Invite a partner user by email (partner role, portal only; counts toward seats once accepted)",
          permissions=ADMINS, body=s.PartnerUserCreateSchema, response=s.PartnerInvitationSchema, status=201,
          tag="partners"),
]

ROUTES += [
    Route("GET", "/api/v1/clients/<uuid:client_id>/shares", "sharing.list_client_shares",
          "A client's shares, newest first, with their consent and status (the read is audited)",
          permissions=ADMINS, query=PageQuery, response=s.SharePageSchema, tag="shares"),
    Route("POST", "/api/v1/clients/<uuid:client_id>/shares", "sharing.share_client",
          "Share a client with a partner under a consent (42 CFR 2.31); the partner's contact is "
          "emailed, with no client detail", permissions=ADMINS, body=s.ShareCreateSchema,
          response=s.ShareSchema, status=201, tag="shares"),
    Route("DELETE", "/api/v1/shares/<uuid:share_id>", "sharing.revoke_share",
          "Revoke a share: the partner's access ends at once", permissions=ADMINS, status=204, tag="shares"),
]

ROUTES += [
    Route("GET", "/api/v1/partner/clients", "sharing.partner_clients",
          "Partner portal: the clients shared with your organization (name, photo, basic contact, share note)",
          permissions=PARTNERS, query=PageQuery, response=s.PartnerClientPageSchema, tag="partner portal"),
    Route("GET", PORTAL_CLIENT, "sharing.partner_client", "Partner portal: one shared client",
          permissions=PARTNERS, response=s.PartnerClientSchema, tag="partner portal"),
    Route("GET", PORTAL_CLIENT + "/contacts", "sharing.partner_contacts",
          "Partner portal: the contacts your organization recorded with the client, newest first",
          permissions=PARTNERS, query=PageQuery, response=s.PartnerContactPageSchema, tag="partner portal"),
    Route("POST", PORTAL_CLIENT + "/contacts", "sharing.record_partner_contact",
          "Partner portal: record a contact (sent again, it is recorded once)",
          permissions=PARTNERS, body=s.ContactCreateSchema, response=s.PartnerContactSchema, status=201,
          tag="partner portal"),
]

ROUTES += [
    Route("GET", "/api/v1/contacts", "sharing.list_contacts",
          "Partner contacts, newest first: review=needed is the Needs Review list, client_id a client's log",
          permissions=REVIEWERS, query=s.ContactQuerySchema, response=s.ContactPageSchema, tag="contacts"),
    Route("POST", "/api/v1/contacts/<uuid:contact_id>/review", "sharing.review_contact",
          "Mark a contact reviewed: it becomes actual, third-party, reviewed",
          permissions=REVIEWERS, response=s.ContactSchema, tag="contacts"),
    Route("POST", "/api/v1/contacts/review", "sharing.review_contacts",
          "Mark many contacts reviewed at once (all or none)",
          permissions=REVIEWERS, body=s.ContactReviewSchema, response=s.ContactListSchema, tag="contacts"),
]
