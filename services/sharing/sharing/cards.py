"""The read model of shared clients' cards (name, photo, basic contact), owned by referrals.

A card is written when a client is shared (from ``referrals.client_card``) and then kept
current by referrals' ``client_updated`` events, so the partner portal answers from this
database alone. Both carry a time taken while referrals held the client's row lock; a write
applies only when it is newer, so redelivered or reordered events are harmless."""
import uuid
from datetime import datetime

from sqlalchemy import update

from sharing.models import ClientCard
from shared.db import upsert_newer

CARD_FIELDS = ("first_name", "last_name", "photo_url", "phone", "email", "preferred_contact")


def store(session, org_id, card):
    """Keep the card read when sharing (``card`` is ``referrals.client_card``'s answer)."""
    upsert_newer(session, ClientCard, "client_id", {
        "client_id": uuid.UUID(card["id"]), "org_id": org_id, "as_of": datetime.fromisoformat(card["as_of"]),
        **{field: card[field] for field in CARD_FIELDS}}, as_of="as_of")


def apply_update(session, event):
    """A client changed in referrals: refresh the card if the client was ever shared. Clients
    never shared have no card and are not tracked."""
    data = event.data
    session.execute(update(ClientCard)
                    .where(ClientCard.client_id == uuid.UUID(data["client_id"]),
                           ClientCard.org_id == uuid.UUID(event.org_id),
                           ClientCard.as_of < datetime.fromisoformat(event.occurred_at))
                    .values(as_of=datetime.fromisoformat(event.occurred_at),
                            **{field: data[field] for field in CARD_FIELDS}))
