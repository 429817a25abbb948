"""From an HTTP request to one RPC and back.

Order matters and is the same for every route: match the route, check the token (or the rate
limit of a public route), check the permission, read and validate the body and the query,
make one RPC with the caller's context, and turn the answer or the error into HTTP (or, for a
list streamed as NDJSON, stream the answer and ask for each further batch as the body is read).
"""
import base64
import json
import logging
import re
import time
import uuid
from urllib.parse import parse_qs

import eventlet
from marshmallow import fields as ma_fields
from nameko.exceptions import RemoteError, UnknownService
from werkzeug.exceptions import MethodNotAllowed, NotFound as RouteNotFound, RequestEntityTooLarge
from werkzeug.wrappers import Response

from shared.auth import AUTH_CONTEXT_KEY
from shared.errors import (
    BadRequest, Forbidden, PayloadTooLarge, PaymentRequired, RateLimited, ServiceError, Timeout, Unauthorized,
    Unavailable, ValidationFailed,
)
from shared.logs import set_request_id
from shared.schemas import UNSTORABLE_TEXT, unstorable_text
from gateway.problems import from_service_error, problem
from gateway.routing import NDJSON, UPLOAD_PART

log = logging.getLogger(__name__)

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
JSON_TYPES = ("application/json", "application/merge-patch+json")
FORM_TYPE = "application/x-www-form-urlencoded"
MULTIPART_TYPE = "multipart/form-data"


class StreamCutShort(Exception):
    """A streamed body could not be finished. Raised from the body, it makes the HTTP server drop
    the connection without chunked encoding's last chunk: the client sees a stream cut short,
    not one that looks complete (the status went out with the first batch)."""


class Dispatcher:
    def __init__(self, url_map, verifier, limiter, metrics, max_body_bytes, rpc_timeout, read_only):
        self.url_map = url_map
        self.verifier = verifier
        self.read_only = read_only
        self.limiter = limiter
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.rpc_timeout = rpc_timeout

    def dispatch(self, request, cluster, context_data):
        """``cluster`` reaches services by name; ``context_data`` travels with every RPC."""
        started = time.perf_counter()
        request_id = request.headers.get("X-Request-ID", "")
        if not REQUEST_ID.match(request_id):
            request_id = uuid.uuid4().hex
        set_request_id(request_id)
        context_data["request_id"] = request_id
        route_label = "unmatched"
        try:
            adapter = self.url_map.bind_to_environ(request.environ)
            route, path_args = adapter.match()
            route_label = route.path
            response = self._handle(route, path_args, request, cluster, context_data)
        except RouteNotFound:
            response = problem("NOT_FOUND", "Not found", "No such route", status=404)
        except MethodNotAllowed as exc:
            response = problem("METHOD_NOT_ALLOWED", "Method not allowed",
                               f"{request.method} is not allowed here", status=405,
                               headers={"Allow": ", ".join(exc.valid_methods or [])})
        except ServiceError as exc:
            response = from_service_error(exc, request_id)
        except RemoteError as exc:
            log.error("unexpected service error", extra={"fields": {"exc_type": exc.exc_type}})
            response = problem("INTERNAL", "Internal error", "Something went wrong on our side",
                               request_id=request_id)
        response.headers["X-Request-ID"] = request_id
        elapsed = time.perf_counter() - started
        self.metrics.observe(request.method, route_label, response.status_code, elapsed)
        # The route's template, never the path or query: those can carry tokens and names.
        log.info("request", extra={"fields": {"method": request.method, "route": route_label,
                                              "status": response.status_code,
                                              "ms": round(elapsed * 1000, 1)}})
        return response

    def _handle(self, route, path_args, request, cluster, context_data):
        if route.public:
            self._rate_limit(route.rate_limit or "public", request)
        else:
            caller = self._authenticate(request, cluster)
            if route.permissions and not any(caller.has(p) for p in route.permissions):
                raise Forbidden(f"Requires permission {' or '.join(route.permissions)}")
            self._refuse_writes_of_read_only_programs(caller, route, cluster)
            context_data[AUTH_CONTEXT_KEY] = caller.to_header()
        kwargs = {name: str(value) for name, value in path_args.items()}
        if route.body_format == "form":
            kwargs["form"] = self._read_form(request)
        elif route.body_format == "raw":
            kwargs["body"] = self._read_text(request)
        elif route.body is not None:
            kwargs["payload"] = self._validated_body(route, request)
        if route.forward_headers:
            kwargs["headers"] = self._forwarded_headers(route, request)
        if route.query is not None:
            kwargs["query"] = self._validated_query(route, request)
        if route.public:
            kwargs.update(self._public_caller(request))
        result = self._call(cluster, route, kwargs)
        if route.streams_ndjson and kwargs["query"].get("format") == "ndjson":
            return self._ndjson_stream(route, cluster, kwargs, result, context_data["request_id"])
        return self._respond(route, result)

    def _refuse_writes_of_read_only_programs(self, caller, route, cluster):
        if not self.read_only.loaded:
            self.read_only.load(self._call_rpc(cluster, "billing", "restricted_programs", {}))
        if self.read_only.refuses(caller.org_id, route.method, route.path):
            raise PaymentRequired("This program is read-only until its subscription is paid; "
                                  "update the payment method under billing")

    def _public_caller(self, request):
        """Public routes tell the service where the request came from, for its own limits."""
        return {"client": {"ip": request.remote_addr or "",
                           "user_agent": request.headers.get("User-Agent", "")[:200]}}

    def _rate_limit(self, bucket, request):
        retry_after = self.limiter.check(bucket, request.remote_addr or "")
        if retry_after is not None:
            raise RateLimited("Too many requests; try again later", retry_after=retry_after)

    def _authenticate(self, request, cluster):
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("A bearer access token is required")
        if not self.verifier.revocations_loaded:
            for user_id, not_before in self._call_rpc(cluster, "identity", "active_revocations", {}).items():
                self.verifier.revoke(user_id, not_before)
            self.verifier.revocations_loaded = True
        return self.verifier.verify(token.strip(), lambda: self._call_rpc(cluster, "identity", "jwks", {}))

    def _forwarded_headers(self, route, request):
        """The route's forwarded headers, checked as a body's text is: a NUL cannot reach a query."""
        headers = {name: request.headers.get(name) for name in route.forward_headers}
        unstorable = {name: [UNSTORABLE_TEXT] for name, value in headers.items() if unstorable_text(value)}
        if unstorable:
            raise ValidationFailed("The request has invalid headers", errors=unstorable)
        return headers

    def _read_raw(self, request, limit=None):
        limit = limit or self.max_body_bytes
        # A chunked body (no Content-Length) is cut at werkzeug's limit, not refused: allow one
        # byte more, and a body that reaches it is too large.
        request.max_content_length = limit + 1
        try:
            body = request.get_data(cache=True)
        except RequestEntityTooLarge:
            body = None
        if body is None or len(body) > limit:
            raise PayloadTooLarge(f"The body is larger than {limit} bytes")
        return body

    def _read_text(self, request):
        """The body exactly as sent, as text: a signature over it must see every byte."""
        try:
            return self._read_raw(request).decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("The body must be UTF-8 text") from None

    def _read_form(self, request):
        """A urlencoded body (provider callbacks) as ``{name: value}``; a repeated field keeps
        all its values, in a list, because signatures cover every one of them."""
        raw = self._read_raw(request)
        if raw and request.mimetype != FORM_TYPE:
            raise BadRequest(f"The body must be {FORM_TYPE}")
        form = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
        return {name: values[0] if len(values) == 1 else values for name, values in form.items()}

    def _read_json(self, request, limit=None):
        raw = self._read_raw(request, limit)
        if not raw:
            return {}
        if request.mimetype not in JSON_TYPES:
            raise BadRequest("The body must be application/json")
        try:
            return json.loads(raw)
        except ValueError:
            raise BadRequest("The body is not valid JSON") from None
        except RecursionError:
            raise BadRequest("The body nests deeper than any request needs") from None

    def _read_upload(self, route, request):
        """A multipart/form-data body as the route's JSON body: the ``file`` part base64-encoded in
        ``route.upload_field`` (its name in the body's ``filename``, where the body has one), and
        each other part as the field of its name, an object or a list given as JSON text."""
        self._read_raw(request, route.max_body_bytes)  # bounded; werkzeug then parses the read bytes
        try:
            form, files = request.form, request.files
        except RequestEntityTooLarge:  # more parts than werkzeug parses (max_form_parts, 1,000)
            raise PayloadTooLarge("The form has more parts than any request needs") from None
        fields = route.body().fields
        body, errors = {}, {}
        for name, value in form.items():
            if isinstance(fields.get(name), (ma_fields.Dict, ma_fields.List)):
                try:
                    value = json.loads(value)
                except ValueError:
                    errors[name] = ["Not valid JSON."]
                except RecursionError:
                    errors[name] = ["Nests deeper than any request needs."]
            body[name] = value
        upload = files.get(UPLOAD_PART)
        content = upload.read() if upload is not None else b""
        if not content:
            errors[UPLOAD_PART] = [f"A multipart body carries the file, not empty, in a part named {UPLOAD_PART}."]
        if errors:
            raise ValidationFailed("The request has invalid fields", errors=errors)
        body[route.upload_field] = base64.b64encode(content).decode("ascii")
        if "filename" in fields and upload.filename:
            body.setdefault("filename", upload.filename)
        return body

    def _validated_body(self, route, request):
        if route.upload_field and request.mimetype == MULTIPART_TYPE:
            body = self._read_upload(route, request)
        else:
            body = self._read_json(request, route.max_body_bytes)
        errors = route.body().validate(body) if isinstance(body, dict) else {"_schema": ["Expected a JSON object"]}
        if errors:
            raise ValidationFailed("The request has invalid fields", errors=errors)
        return body

    def _validated_query(self, route, request):
        schema = route.query()
        query = {}
        for key in request.args:
            field = schema.fields.get(key)
            values = request.args.getlist(key)
            query[key] = values if isinstance(field, ma_fields.List) else values[-1]
        errors = schema.validate(query)
        if errors:
            raise ValidationFailed("The query has invalid parameters", errors=errors)
        return query

    def _call(self, cluster, route, kwargs):
        return self._call_rpc(cluster, route.service, route.rpc_method, kwargs)

    def _call_rpc(self, cluster, service, method, kwargs):
        try:
            reply = getattr(getattr(cluster, service), method).call_async(**kwargs)
            with eventlet.Timeout(self.rpc_timeout):
                return reply.result()
        except eventlet.Timeout:
            log.warning("rpc timed out", extra={"fields": {"rpc": f"{service}.{method}"}})
            raise Timeout(f"The {service} service did not answer in time") from None
        except UnknownService:
            raise Unavailable(f"The {service} service is not running") from None

    def _ndjson_stream(self, route, cluster, kwargs, first_batch, request_id):
        """Every result of a listing as NDJSON, one JSON object per line. The service answers a
        batch at a time, ``{"contents": [...], "after": cursor or None}``, and is asked for the next
        with ``after``: no RPC reply, and nothing here, holds a whole directory. The first batch was
        asked before the status was chosen, so an unknown directory or a bad query is still a
        problem response.

        The HTTP server iterates the body after the worker has returned, which ``cluster`` allows
        (nameko 2.14's rpc.MethodProxy): a call needs only the worker's context (its data, for the
        headers) and the container's reply listener, which lives as long as the container; the
        worker's end tears neither down. The worker's slot is free while the stream runs."""
        def lines():
            set_request_id(request_id)  # the server's greenthread runs this, not the worker's
            try:
                batch = first_batch
                while True:
                    yield "".join(json.dumps(item) + "\n" for item in batch["contents"])
                    if batch["after"] is None:
                        return
                    try:
                        batch = self._call(cluster, route, {**kwargs, "after": batch["after"]})
                    except Exception as exc:  # any failure: the status is sent and cannot say so
                        log.error("ndjson stream cut short", extra={"fields": {
                            "route": route.path, "error": getattr(exc, "code", type(exc).__name__)}})
                        raise StreamCutShort() from None
            finally:
                set_request_id(None)

        return Response(lines(), status=route.status, mimetype=NDJSON)

    def _respond(self, route, result):
        if result is None:
            return Response(status=202 if route.status == 202 else 204)
        if isinstance(result, dict) and "__file__" in result:
            file = result["__file__"]
            # content_type, not mimetype: werkzeug would add a second charset to "text/csv; charset=utf-8".
            return Response(base64.b64decode(file["content_b64"]), status=route.status,
                            content_type=file["content_type"],
                            headers={"Content-Disposition":
                                     f'{file.get("disposition", "attachment")}; filename="{file["filename"]}"'})
        return Response(json.dumps(result), status=route.status, mimetype="application/json")
