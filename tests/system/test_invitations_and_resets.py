"""Joining a program by emailed invitation and recovering access by emailed reset link,
through the real mail path (identity -> outbox -> notify -> SMTP)."""
import uuid

import pytest

from identity.roles import ROLES
from shared.testing.api import PASSWORD, assert_problem, emailed_link, log_in, sign_up
from shared.testing.waiting import wait_until

pytestmark = pytest.mark.system


def an_invitation(system, role, first_name=""):
    """A new program, and an invitation of a new address to it with ``role``: the program, the
    address, the invitation and the token of the link emailed to the address."""
    program = sign_up(system)
    address = f"invitee-{uuid.uuid4().hex[:8]}@example.org"
    invited = system.request("POST", "/api/v1/staff/invitations", token=program.access_token,
                             json={"email": address, "role": role, "first_name": first_name})
    assert invited.status_code == 201, invited.text
    token = emailed_link(system, address, "/invitations/").rsplit("/", 1)[1]
    return program, address, invited.json(), token


def test_invited_staff_member_joins_with_the_permissions_of_their_role(system):
    program, address, _, token = an_invitation(system, "biller", "Bea")
    pending = system.request("GET", "/api/v1/staff/invitations", token=program.access_token).json()
    assert [i["email"] for i in pending["items"]] == [address]

    accepted = system.request("POST", f"/public/invitations/{token}/accept",
                              json={"first_name": "Bea", "last_name": "Biller", "password": PASSWORD})
    assert accepted.status_code == 201, accepted.text
    me = system.request("GET", "/api/v1/me", token=log_in(system, address)).json()
    assert me["user"]["role"] == "biller" and me["organization"]["id"] == program.org_id
    assert set(me["permissions"]) == ROLES["biller"]

    again = system.request("POST", f"/public/invitations/{token}/accept",
                           json={"first_name": "Eve", "last_name": "Evil", "password": PASSWORD})
    assert_problem(again, 404)
    assert_problem(system.request("POST", "/public/invitations/forged-token/accept",
                                  json={"first_name": "Eve", "last_name": "Evil", "password": PASSWORD}), 404)


def test_a_revoked_invitation_link_no_longer_works(system):
    program, _, invited, token = an_invitation(system, "default", "Wren")
    invitation = f"/api/v1/staff/invitations/{invited['id']}"

    assert system.request("DELETE", invitation, token=program.access_token).status_code == 204
    assert system.request("GET", "/api/v1/staff/invitations", token=program.access_token).json()["items"] == []
    assert_problem(system.request("POST", f"/public/invitations/{token}/accept",
                                  json={"first_name": "Wren", "last_name": "Wrong", "password": PASSWORD}), 404)
    assert system.request("DELETE", invitation, token=program.access_token).status_code == 204  # already ended
    assert_problem(system.request("DELETE", f"/api/v1/staff/invitations/{uuid.uuid4()}",
                                  token=program.access_token), 404)
    assert_problem(system.request("DELETE", "/api/v1/staff/invitations/not-an-id", token=program.access_token), 404)

    def revocations():
        items = system.request("GET", "/api/v1/audit-events", token=program.access_token,
                               params={"action": "staff.revoke_invitation"}).json()["items"]
        return [entry["resource_id"] for entry in items] or None

    assert wait_until(revocations) == [invited["id"]]


def test_an_accepted_invitation_cannot_be_revoked(system):
    program, _, invited, token = an_invitation(system, "default")
    assert system.request("POST", f"/public/invitations/{token}/accept",
                          json={"first_name": "Jo", "last_name": "Joined", "password": PASSWORD}).status_code == 201
    assert_problem(system.request("DELETE", f"/api/v1/staff/invitations/{invited['id']}",
                                  token=program.access_token), 409, "CONFLICT")


def test_inviting_an_existing_account_or_above_ones_rights_is_refused(system):
    program = sign_up(system)
    assert_problem(system.request("POST", "/api/v1/staff/invitations", token=program.access_token,
                                  json={"email": program.email, "role": "default"}), 409)
    assert_problem(system.request("POST", "/api/v1/staff/invitations", token=program.access_token,
                                  json={"email": "x@example.org", "role": "partner"}), 422)


def test_a_reset_link_works_once_and_ends_old_sessions(system):
    program = sign_up(system)
    unknown = system.request("POST", "/public/password-resets", json={"email": "nobody@example.org"})
    known = system.request("POST", "/public/password-resets", json={"email": program.email})
    assert unknown.status_code == known.status_code == 202 and unknown.content == known.content

    link = emailed_link(system, program.email, "/password-resets/")
    token = link.rsplit("/", 1)[1]
    new_password = "a completely new passphrase"
    assert system.request("POST", f"/public/password-resets/{token}", json={"password": new_password}).status_code == 204
    assert_problem(system.request("POST", f"/public/password-resets/{token}",
                                  json={"password": "another new passphrase"}), 404)
    assert_problem(system.request("POST", "/api/v1/auth/refresh",
                                  json={"refresh_token": program.refresh_token}), 401)
    assert_problem(system.request("POST", "/api/v1/auth/login",
                                  json={"email": program.email, "password": PASSWORD}), 401)
    assert log_in(system, program.email, new_password)


def test_an_invitation_past_the_plans_seats_is_refused(system):
    import uuid as uuid_module

    from shared.outbox import EventPublisher, envelope
    from shared.testing.waiting import wait_until

    program = sign_up(system)
    seats = lambda: system.request("GET", "/api/v1/billing/subscription",  # noqa: E731
                                   token=program.access_token).json()
    assert wait_until(lambda: seats().get("seats_in_use") == 1, timeout=15)
    publisher = EventPublisher(system.environment["AMQP_URI"], "identity")
    for _ in range(seats()["seat_limit"] - 1):  # what identity publishes as people join
        publisher.publish("user_activated", envelope("user_activated", program.org_id, {
            "user_id": str(uuid_module.uuid4()), "kind": "staff", "role": "default"}))
    assert wait_until(lambda: seats()["seats_in_use"] == seats()["seat_limit"], timeout=15)
    refused = system.request("POST", "/api/v1/staff/invitations", token=program.access_token,
                             json={"email": f"one-too-many-{uuid_module.uuid4().hex[:6]}@example.org",
                                   "role": "default"})
    body = assert_problem(refused, 409, "CONFLICT")
    assert "seat" in body["detail"].lower()
