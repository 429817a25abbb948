"""Walks the gateway's whole route table: every route that needs a permission refuses a
caller without it (403), and every non-public route refuses a caller without a token (401).
New routes are covered as soon as they are in the table."""
import re
import uuid

import pytest

from gateway.routes import ROUTES
from shared.testing.api import add_staff_member, log_in, sign_up

pytestmark = pytest.mark.system

PATH_PARAM = re.compile(r"<(?:\w+:)?\w+>")


def concrete(path):
    return PATH_PARAM.sub(lambda _: str(uuid.uuid4()), path)


@pytest.fixture(scope="module")
def callers(system, infrastructure):
    program = sign_up(system)
    tokens = {}
    for role in ("default", "partner", "case_manager"):
        _, email = add_staff_member(infrastructure, program, role=role)
        tokens[role] = log_in(system, email)
    return tokens


def caller_without(route, callers):
    from identity.roles import ROLES
    for role, token in callers.items():
        if not set(route.permissions) & ROLES[role]:
            return role, token
    raise AssertionError(f"every test role holds a permission of {route.name}")


@pytest.mark.parametrize("route", [r for r in ROUTES if r.permissions], ids=lambda r: r.name)
def test_route_refuses_a_caller_without_its_permission(system, callers, route):
    role, token = caller_without(route, callers)
    response = system.request(route.method, concrete(route.path), token=token, json={})
    assert response.status_code == 403, f"{role} got {response.status_code} on {route.name}"
    assert response.json()["code"] == "FORBIDDEN"


@pytest.mark.parametrize("route", [r for r in ROUTES if not r.public], ids=lambda r: r.name)
def test_route_refuses_a_caller_without_a_token(system, route):
    response = system.request(route.method, concrete(route.path), json={})
    assert response.status_code == 401, route.name
