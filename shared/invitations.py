"""Portal logins (partner users, case managers) are invited by identity on behalf of the service
that holds the record they are linked to, inside that service's open transaction."""
from shared.db import Undo, claim_rpc_call


def invite_portal_user(session, identity, payload: dict) -> tuple[dict, Undo]:
    """identity's invitation of ``payload``'s person (nameko's ``identity`` proxy, called on the
    caller's behalf; its refusal raises, and the caller's change is then not saved), and the
    Undo that revokes it, for shared.db.commit_or_undo. The call is claimed first, so that a
    redelivered copy of it stops there and invites nobody a second time."""
    claim_rpc_call(session)
    invitation = identity.invite_portal_user(payload)
    return invitation, Undo(f"revoke invitation {invitation['id']}",
                            lambda: identity.revoke_invitation(invitation["id"]))
