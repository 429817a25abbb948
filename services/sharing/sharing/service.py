"""The sharing service's nameko entrypoints: decode, call the domain, encode."""
from nameko.rpc import RpcProxy
from nameko.timer import timer

from sharing import cards, events, partners, portal, review, schemas, shares
from shared.events import event_handler
from shared.rpc import rpc
from shared.schemas import PageQuery, load
from shared.service import ServiceBase

EXPIRY_INTERVAL_SECONDS = 60


class SharingService(ServiceBase):
    name = "sharing"

    identity = RpcProxy("identity")
    referrals = RpcProxy("referrals")

    # Partner organizations and their users (administrators)

    @rpc
    def create_partner(self, payload):
        return partners.create_partner(self.db, self.auth.current, load(schemas.PartnerCreateSchema(), payload))

    @rpc
    def list_partners(self, query):
        return partners.list_partners(self.db, self.auth.current, load(PageQuery(), query))

    @rpc
    def get_partner(self, partner_id):
        return partners.get(self.db, self.auth.current, partner_id)

    @rpc
    def update_partner(self, partner_id, payload):
        return partners.update_partner(self.db, self.auth.current, partner_id,
                                       load(schemas.PartnerUpdateSchema(), payload))

    @rpc
    def invite_partner_user(self, partner_id, payload):
        return partners.invite_user(self.db, self.auth.current, partner_id,
                                    load(schemas.PartnerUserCreateSchema(), payload), self.identity)

    # Shares

    @rpc
    def share_client(self, client_id, payload):
        return shares.share_client(self.db, self.auth.current, client_id, load(schemas.ShareCreateSchema(), payload),
                                   self.referrals.client_card, self.identity.me,
                                   self.config["PUBLIC_BASE_URL"].rstrip("/"))

    @rpc
    def list_client_shares(self, client_id, query):
        return shares.list_client_shares(self.db, self.auth.current, client_id, load(PageQuery(), query),
                                         self.referrals.client_card)

    @rpc
    def revoke_share(self, share_id):
        shares.revoke(self.db, self.auth.current, share_id)

    @timer(interval=EXPIRY_INTERVAL_SECONDS)
    def expire_lapsed_shares(self):
        shares.expire_lapsed(self.db)

    @event_handler(*events.CLIENT_UPDATED)
    def on_client_updated(self, event):
        # Idempotent without a claim: the card only ever moves forward in time (cards.py).
        cards.apply_update(self.db, event)
        self.db.commit()

    # The partner portal (partner users)

    @rpc
    def partner_clients(self, query):
        return portal.list_clients(self.db, self.auth.current, load(PageQuery(), query))

    @rpc
    def partner_client(self, client_id):
        return portal.get_client(self.db, self.auth.current, client_id)

    @rpc
    def partner_contacts(self, client_id, query):
        return portal.list_contacts(self.db, self.auth.current, client_id, load(PageQuery(), query))

    @rpc
    def record_partner_contact(self, client_id, payload):
        return portal.record_contact(self.db, self.auth.current, client_id,
                                     load(schemas.ContactCreateSchema(), payload))

    # Needs Review (staff)

    @rpc
    def list_contacts(self, query):
        return review.list_contacts(self.db, self.auth.current, load(schemas.ContactQuerySchema(), query))

    @rpc
    def review_contact(self, contact_id):
        return review.review_one(self.db, self.auth.current, contact_id)

    @rpc
    def review_contacts(self, payload):
        return review.review(self.db, self.auth.current, load(schemas.ContactReviewSchema(), payload)["ids"])
