"""The route table: every HTTP route, the RPC it becomes and the permission it needs.

Each area lists its routes in ``gateway/routes/<area>.py``; this module turns the table into a
werkzeug ``Map``. The permission walk in the tests and the OpenAPI document read the same
table, so a new route is checked and documented without further work.
"""
from dataclasses import dataclass

from werkzeug.routing import BaseConverter, Map, Rule

NDJSON = "application/x-ndjson"
UPLOAD_PART = "file"  # the part of a multipart/form-data body that carries an upload's file


@dataclass(frozen=True)
class Route:
    method: str
    path: str                       # werkzeug rule, e.g. /api/v1/staff/<uuid:user_id>
    rpc: str                        # "<service>.<method>"
    summary: str
    permissions: tuple = ()         # any one of these; () means any authenticated caller
    public: bool = False            # no token; rate-limited instead
    body: type | None = None        # marshmallow schema of the JSON body
    body_format: str = "json"       # "form": the urlencoded body goes to the RPC as ``form``;
                                    # "raw": the body's exact text goes as ``body`` (for signatures
                                    # computed over the bytes, e.g. Stripe-style webhooks)
    forward_headers: tuple = ()     # request headers the RPC receives as ``headers`` (e.g. a signature)
    query: type | None = None       # marshmallow schema of the query string
    response: type | None = None    # marshmallow schema of the answer (for OpenAPI)
    files: tuple = ()               # media types of file answers (a CSV, a PDF), beside or instead of it
    streams_ndjson: bool = False    # with format=ndjson in the query, every result streamed as NDJSON, the
                                    # RPC called once per batch (see dispatch.Dispatcher._ndjson_stream)
    status: int = 200
    max_body_bytes: int | None = None  # this route's body limit, when not the gateway's (uploads)
    upload_field: str | None = None  # the body may also come as multipart/form-data: its ``file`` part
                                     # becomes this field, base64-encoded (see dispatch._read_upload)
    rate_limit: str | None = None   # bucket for public routes (see ratelimit.BUCKETS)
    problems: tuple = ()            # statuses the service answers beyond those the route's shape
                                    # implies (see openapi.problem_statuses), e.g. 401 for a bad password
    tag: str = ""

    @property
    def service(self):
        return self.rpc.split(".", 1)[0]

    @property
    def rpc_method(self):
        return self.rpc.split(".", 1)[1]

    @property
    def name(self):
        return f"{self.method} {self.path}"


class StorableText(BaseConverter):
    """A ``<string:...>`` segment (a slug, a link's token): one with a NUL character names no
    record the database could hold, so it matches no route (404) rather than reaching a query."""

    regex = r"[^/\x00]+"


def build_map(routes):
    seen = set()
    rules = []
    for route in routes:
        if route.name in seen:
            raise ValueError(f"duplicate route {route.name}")
        seen.add(route.name)
        rules.append(Rule(route.path, methods=[route.method], endpoint=route, strict_slashes=False))
    return Map(rules, converters={"string": StorableText})
