"""A route that streams NDJSON: with format=ndjson the first batch is asked before the status is
chosen, the body then asks for each next batch with the cursor the last one answered, and a
failure after the status went out cuts the stream short (logged) rather than ending it as if
complete."""
import json
import logging
from types import SimpleNamespace

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from directory.schemas import HsdsPage, HsdsPageQuery
from gateway.dispatch import Dispatcher, StreamCutShort
from gateway.metrics import GatewayMetrics
from gateway.openapi import build_spec
from gateway.ratelimit import RateLimiter
from gateway.restrictions import ReadOnlyPrograms
from gateway.routes import ROUTES
from gateway.routing import NDJSON, Route, build_map
from gateway.tokens import TokenVerifier
from shared.errors import NotFound, Unavailable

ROUTE = Route("GET", "/things", "directory.list_things", "things", public=True, rate_limit="public",
              query=HsdsPageQuery, response=HsdsPage, streams_ndjson=True)
SECRET_SEARCH = "private-search-words"


class BatchCluster:
    """The directory answering ``list_things`` from ``answers`` in turn (a dict, or an error to raise)."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.calls = []

    def __getattr__(self, service):
        def call_async(**kwargs):
            self.calls.append(kwargs)
            answer = self.answers.pop(0)

            def result():
                if isinstance(answer, Exception):
                    raise answer
                return answer
            return SimpleNamespace(result=result)
        return SimpleNamespace(list_things=SimpleNamespace(call_async=call_async))


def dispatch(cluster, **query):
    dispatcher = Dispatcher(build_map([ROUTE]), TokenVerifier(), RateLimiter(), GatewayMetrics(),
                            max_body_bytes=1024, rpc_timeout=5, read_only=ReadOnlyPrograms())
    environ = EnvironBuilder(method="GET", path="/things", query_string=query).get_environ()
    return dispatcher.dispatch(Request(environ), cluster, {})


def test_every_batch_is_streamed_as_lines_asking_with_the_last_cursor():
    cluster = BatchCluster({"contents": [{"n": 1}, {"n": 2}], "after": "c1"},
                           {"contents": [{"n": 3}], "after": "c2"},
                           {"contents": [], "after": None})
    response = dispatch(cluster, format="ndjson", search="x", per_page="2")
    assert (response.status_code, response.mimetype) == (200, NDJSON)
    assert len(cluster.calls) == 1  # the rest only as the body is read
    body = response.get_data(as_text=True)
    assert [json.loads(line) for line in body.splitlines()] == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert body.endswith("\n")
    query = {"format": "ndjson", "search": "x", "per_page": "2"}
    assert [call.get("after") for call in cluster.calls] == [None, "c1", "c2"]
    assert all(call["query"] == query for call in cluster.calls)


def test_without_ndjson_the_answer_is_the_json_page():
    cluster = BatchCluster({"contents": [], "total_items": 0})
    response = dispatch(cluster)
    assert (response.status_code, response.mimetype) == (200, "application/json")
    assert response.get_json() == {"contents": [], "total_items": 0}


def test_a_first_batch_refused_is_a_problem_response():
    response = dispatch(BatchCluster(NotFound("No such directory.")), format="ndjson")
    assert (response.status_code, response.mimetype) == (404, "application/problem+json")
    response = dispatch(BatchCluster(), format="csv")
    assert response.status_code == 422


def test_a_failure_mid_stream_cuts_it_short_and_is_logged_without_client_data(caplog):
    cluster = BatchCluster({"contents": [{"n": 1}], "after": "cursor-1"}, Unavailable("down"))
    response = dispatch(cluster, format="ndjson", search=SECRET_SEARCH)
    body = response.response
    assert json.loads(next(body)) == {"n": 1}
    with caplog.at_level(logging.ERROR, logger="gateway.dispatch"), pytest.raises(StreamCutShort):
        next(body)
    [record] = [record for record in caplog.records if record.getMessage() == "ndjson stream cut short"]
    assert record.fields == {"route": "/things", "error": "UNAVAILABLE"}
    assert SECRET_SEARCH not in str(record.__dict__) and "cursor-1" not in str(record.__dict__)


def test_openapi_documents_ndjson_beside_json_for_the_hsds_lists():
    paths = build_spec(ROUTES)["paths"]
    streamed = {route.path for route in ROUTES if route.streams_ndjson}
    assert {path.rsplit("/", 1)[1] for path in streamed} == {"services", "organizations", "taxonomies",
                                                              "taxonomy_terms"}
    hsds = "/public/directories/{slug}/hsds"
    for name in ("services", "organizations", "taxonomies", "taxonomy_terms"):
        assert paths[f"{hsds}/{name}"]["get"]["responses"]["200"]["content"].keys() == {"application/json", NDJSON}
    assert paths[hsds + "/services/{service_id}"]["get"]["responses"]["200"]["content"].keys() == {
        "application/json"}
