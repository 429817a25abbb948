"""Clients: records, staff assignments, duplicates and their explicit merge.

Every read of a client is audited (ids only, never what the record says)."""
import unicodedata
import uuid
from collections import defaultdict
from datetime import datetime, timezone

from sqlalchemy import delete, func, select, tuple_, update

from referrals import events
from referrals.access import get_client, require_clients, sees_all, visible_clients
from referrals.models import Client, ClientAssignment, Referral, ReferralList
from referrals.schemas import ClientSchema
from shared import audit, permissions as p
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.outbox import emit
from shared.pagination import decode_cursor, page

COMPUTED_FIELDS = ("assigned_user_ids", "possible_duplicate_ids")
MERGEABLE_FIELDS = ("date_of_birth", "pronouns", "phone", "email", "language", "photo_url")
# What a partner organization may see of a shared client: name, photo, basic contact.
CARD_FIELDS = ("first_name", "last_name", "photo_url", "phone", "email", "preferred_contact")


def duplicate_key(first_name, last_name, date_of_birth):
    """The same person however the name was typed: accents, case and spacing do not count."""
    def fold(text):
        plain = unicodedata.normalize("NFKD", text or "")
        return " ".join("".join(c for c in plain if not unicodedata.combining(c)).casefold().split())
    return f"{fold(first_name)}|{fold(last_name)}|{date_of_birth.isoformat() if date_of_birth else ''}"


def find_duplicates(session, org_id, key, exclude_id=None):
    """Active clients with ``key``; a name alone (no date of birth) is not enough to say so."""
    if key.endswith("|"):
        return []
    statement = select(Client.id).where(Client.org_id == org_id, Client.duplicate_key == key,
                                        Client.status != "merged")
    if exclude_id is not None:
        statement = statement.where(Client.id != exclude_id)
    return list(session.scalars(statement.order_by(Client.created_at)))


def new_client(org_id, created_by, data):
    client = Client(id=uuid.uuid4(), org_id=org_id, created_by=created_by,
                    preferred_contact="email", language="en", address={}, status="active")
    _apply(client, data)
    return client


def _apply(client, data):
    for field, value in data.items():
        setattr(client, field, value)
    client.duplicate_key = duplicate_key(client.first_name, client.last_name, client.date_of_birth)


def create_client(session, caller, data):
    """A clinician who may only see assigned clients is assigned the client they create, or it
    would vanish from their view at once."""
    require_clients(caller)
    client = new_client(caller.org_uuid, caller.user_uuid, data)
    session.add(client)
    session.flush()
    if not sees_all(caller):
        assign_creator(session, client)
    audit.record_for(session, caller, "client.create", "client", client.id)
    session.commit()
    return present_one(session, client)


def assign_creator(session, client):
    session.add(ClientAssignment(client_id=client.id, user_id=client.created_by, org_id=client.org_id,
                                 assigned_by=client.created_by))


def get(session, caller, client_id):
    client = get_client(session, caller, client_id)
    audit.record_for(session, caller, "client.read", "client", client.id)
    session.commit()
    return present_one(session, client)


def list_clients(session, caller, query):
    require_clients(caller)
    statement = visible_clients(select(Client), caller)
    statement = statement.where(Client.status == query["status"]) if query.get("status") \
        else statement.where(Client.status != "merged")
    if query.get("q"):
        prefix = query["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(func.lower(Client.last_name).like(prefix.lower())
                                    | func.lower(Client.first_name).like(prefix.lower()))
    after = decode_cursor(query.get("cursor"), key_length=3)
    if after:
        statement = statement.where(tuple_(Client.last_name, Client.first_name, Client.id)
                                    > tuple_(after[0], after[1], uuid.UUID(after[2])))
    rows = session.scalars(statement.order_by(Client.last_name, Client.first_name, Client.id)
                           .limit(query["limit"] + 1)).all()
    items, next_cursor = page(rows, query["limit"], lambda c: [c.last_name, c.first_name, str(c.id)])
    if items:
        audit.record_for(session, caller, "client.list", "client",
                         details={"client_ids": [str(c.id) for c in items]})
    session.commit()
    return {"items": present(session, items), "next_cursor": next_cursor}


def update_client(session, caller, client_id, data):
    client = get_client(session, caller, client_id, lock=True)
    if client.status == "merged":
        raise Conflict("This client was merged into another record; change that one")
    _apply(client, data)
    audit.record_for(session, caller, "client.update", "client", client.id, details={"fields": sorted(data)})
    announce_update(session, client)
    session.commit()
    return present_one(session, client)


def set_assignments(session, caller, client_id, user_ids):
    """Replace the staff assigned to the client. The ids are identity's users; an id that is no
    staff member of this program grants nothing, since every read is scoped by program."""
    caller.require(p.CLIENTS_ALL)
    client = get_client(session, caller, client_id, lock=True)
    wanted = set(user_ids)
    current = set(session.scalars(select(ClientAssignment.user_id)
                                  .where(ClientAssignment.client_id == client.id)))
    session.execute(delete(ClientAssignment).where(ClientAssignment.client_id == client.id,
                                                   ClientAssignment.user_id.in_(current - wanted)))
    session.add_all(ClientAssignment(client_id=client.id, user_id=user_id, org_id=client.org_id,
                                     assigned_by=caller.user_uuid)
                    for user_id in wanted - current)
    audit.record_for(session, caller, "client.assign", "client", client.id, details={
        "added": sorted(map(str, wanted - current)), "removed": sorted(map(str, current - wanted))})
    session.commit()
    return present_one(session, client)


def merge(session, caller, client_id, duplicate_id):
    """Fold ``duplicate_id`` into ``client_id``: its lists, referrals and assignments move over,
    the survivor takes the duplicate's details where it has none, and the duplicate stays on
    record as merged (nothing is deleted)."""
    caller.require(p.CLIENTS_ALL)
    survivor = get_client(session, caller, client_id, lock=True)
    duplicate = get_client(session, caller, duplicate_id, lock=True)
    if survivor.id == duplicate.id:
        raise Conflict("A client cannot be merged into itself")
    if "merged" in (survivor.status, duplicate.status):
        raise Conflict("A merged client cannot take part in another merge")
    for field in MERGEABLE_FIELDS:
        if getattr(survivor, field) in (None, "") and getattr(duplicate, field) not in (None, ""):
            setattr(survivor, field, getattr(duplicate, field))
    survivor.address = survivor.address or duplicate.address
    for model in (ReferralList, Referral):
        session.execute(update(model).where(model.client_id == duplicate.id).values(client_id=survivor.id))
    moved = set(session.scalars(select(ClientAssignment.user_id).where(ClientAssignment.client_id == duplicate.id)))
    kept = set(session.scalars(select(ClientAssignment.user_id).where(ClientAssignment.client_id == survivor.id)))
    session.add_all(ClientAssignment(client_id=survivor.id, user_id=user_id, org_id=survivor.org_id,
                                     assigned_by=caller.user_uuid) for user_id in moved - kept)
    duplicate.status, duplicate.merged_into_id = "merged", survivor.id
    audit.record_for(session, caller, "client.merge", "client", survivor.id,
                     details={"merged_client_id": str(duplicate.id)})
    announce_update(session, survivor)
    session.commit()
    return present_one(session, survivor)


def card(session, caller, client_id):
    """The client's card (``CARD_FIELDS``) for sharing, within the caller's view. The row is
    locked while it is read, and ``announce_update`` stamps its event under the same lock, so
    ``as_of`` orders this read against every ``client_updated`` event of the client."""
    client = get_client(session, caller, client_id, lock=True)
    if client.status == "merged":
        raise Conflict("This client was merged into another record; use that one")
    result = {"id": str(client.id), **{field: getattr(client, field) for field in CARD_FIELDS},
              "as_of": datetime.now(timezone.utc).isoformat()}
    session.commit()
    return result


def announce_update(session, client):
    """Tell sharing's read model the card may have changed (called with the client locked)."""
    emit(session, events.CLIENT_UPDATED, client.org_id,
         {"client_id": str(client.id), **{field: getattr(client, field) for field in CARD_FIELDS}})


def present_one(session, client):
    return present(session, [client])[0]


def present(session, clients):
    """Clients as the API shows them, with their assignments and possible duplicates (two
    queries for the whole page)."""
    if not clients:
        return []
    ids = [c.id for c in clients]
    assigned = defaultdict(list)
    for client_id, user_id in session.execute(select(ClientAssignment.client_id, ClientAssignment.user_id)
                                              .where(ClientAssignment.client_id.in_(ids))):
        assigned[client_id].append(user_id)
    keys = {c.duplicate_key for c in clients if c.date_of_birth}
    same_key = defaultdict(list)
    if keys:
        for client_id, key in session.execute(
                select(Client.id, Client.duplicate_key).where(Client.org_id == clients[0].org_id,
                                                              Client.duplicate_key.in_(keys),
                                                              Client.status != "merged")
                .order_by(Client.created_at)):
            same_key[key].append(client_id)
    schema = ClientSchema(exclude=COMPUTED_FIELDS)
    return [{**schema.dump(c), "assigned_user_ids": sorted(str(user_id) for user_id in assigned[c.id]),
             "possible_duplicate_ids": [str(other) for other in same_key.get(c.duplicate_key, ()) if other != c.id]}
            for c in clients]


def require_contactable(client):
    if client.preferred_contact == "do_not_contact":
        raise Conflict("The client asked not to be contacted")


def referenced_client(session, caller, client_id):
    """The client a new list or referral names, within the caller's view; one the caller
    cannot see is a field error, exactly like one that does not exist."""
    try:
        return get_client(session, caller, client_id)
    except NotFound:
        raise ValidationFailed("No such client", errors={"client_id": ["No such client"]}) from None
