"""Schemathesis over the whole API, as documented at /openapi.json: every operation gets a
bounded number of generated requests, valid and invalid (some without the token), with the
token of a program's owner (every staff permission). No answer may be a 5xx, and every answer
keeps the document's promises for its operation: a documented status, its content type, a body
its schema accepts and, on a 429, a Retry-After header.

Generated ids rarely name a record, so ids the API has answered with are handed back: a
well-formed id in a path or a body is, at even odds, swapped for one an earlier operation
returned under the same name (providers made by POST /api/v1/providers are read, changed and
deleted by the operations on one provider)."""
import collections
import re
import uuid

import hypothesis.strategies as st
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_headers_conformance, response_schema_conformance, status_code_conformance,
)

from gateway.openapi import build_spec
from gateway.routes import ROUTES

pytestmark = [pytest.mark.system, pytest.mark.security]

EXAMPLES_PER_OPERATION = 10
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
CONFIG = schemathesis.Config.from_dict({
    # Bounded: no shrinking of a failure, no example database, and neither the coverage phase
    # (hundreds of boundary cases per operation) nor the stateful one.
    "generation": {"max-examples": EXAMPLES_PER_OPERATION, "no-shrink": True, "database": "none"},
    "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
})
# The document the gateway serves (test_the_gateway_serves_the_fuzzed_document), loaded here so
# that each operation is a test of its own.
SPEC = build_spec(ROUTES)
schema = schemathesis.openapi.from_dict(SPEC, config=CONFIG)

ITEM_PATH = re.compile(r"^(?P<collection>.*)/\{(?P<name>\w+_id)\}$")
# /api/v1/providers -> provider_id: the ids a collection answers with name its items.
ID_OF_COLLECTION = {match["collection"]: match["name"] for match in map(ITEM_PATH.match, SPEC["paths"]) if match}


class IdsGivenOut:
    """Ids in the API's answers, by the parameter name that takes them. The fuzzing owner's own
    id is never handed back: an operation on it (disable, transfer ownership) would end the run's
    access rather than test anything."""

    def __init__(self):
        self.by_name = collections.defaultdict(set)
        self.withheld = set()

    def collect(self, path, body):
        item = ITEM_PATH.match(path)
        name_of_id = item["name"] if item else ID_OF_COLLECTION.get(path)
        records = body.get("items", [body]) if isinstance(body, dict) else []
        for record in records:
            for key, value in record.items() if isinstance(record, dict) else ():
                name = name_of_id if key == "id" else key
                if name and name.endswith("_id") and is_uuid(value) and value not in self.withheld:
                    self.by_name[name].add(value)

    def strategy(self, values):
        """Each well-formed id in ``values`` kept, or (even odds) swapped for one given out under its name."""
        if not isinstance(values, dict):
            return st.just(values)
        return st.fixed_dictionaries({
            name: st.one_of(st.just(value), st.sampled_from(sorted(self.by_name[name])))
            if is_uuid(value) and self.by_name.get(name) else st.just(value)
            for name, value in values.items()})


def is_uuid(value):
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


IDS = IdsGivenOut()


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    return IDS.strategy(path_parameters)


@schema.hook
def flatmap_body(context, body):
    return IDS.strategy(body)


@pytest.fixture(scope="module")
def owner(program):
    IDS.withheld.add(program.owner_id)
    return program


def test_the_gateway_serves_the_fuzzed_document(system):
    assert system.request("GET", "/openapi.json").json() == SPEC


@schema.parametrize()
def test_every_operation_keeps_its_documented_promises(case, system, owner, request):
    response = case.call(base_url=system.base_url, headers={"Authorization": f"Bearer {owner.access_token}"},
                         timeout=30)
    tally(request.node, response.status_code)
    # One JSON document (not application/x-ndjson's lines of them).
    if response.status_code < 300 and response.headers.get("content-type", [""])[0].startswith("application/json"):
        IDS.collect(case.operation.path, response.json())
    case.validate_response(response, checks=CHECKS)


def tally(item, status):
    """Counts the operation's answers by status on the test's report (docs/security.md reads them)."""
    for key, statuses in item.user_properties:
        if key == "statuses":
            statuses[status] += 1
            return
    item.user_properties.append(("statuses", collections.Counter({status: 1})))
