"""OpenAPI 3.1 built from the route table and the very schemas the gateway validates with."""
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields

from gateway.restrictions import restrictable
from gateway.routing import NDJSON, UPLOAD_PART
from shared.errors import HTTP_STATUS

PATH_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again", "required": True,
                               "schema": {"type": "integer", "minimum": 1}}}


class ProblemSchema(Schema):
    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    code = fields.String(required=True, metadata={"enum": sorted(HTTP_STATUS)})
    detail = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.Raw(), required=True)
    request_id = fields.String()


def _openapi_path(rule):
    return PATH_PARAM.sub(lambda m: "{%s}" % m.group(2), rule)


def _path_parameters(rule):
    params = []
    for converter, name in PATH_PARAM.findall(rule):
        schema = {"type": "string", "format": "uuid"} if converter == "uuid" else {"type": "string"}
        params.append({"in": "path", "name": name, "required": True, "schema": schema})
    return params


def _names_records(schema):
    """Whether a body or query schema carries a record's id (alone, listed or nested): one the
    service may not find."""
    def is_id(field):
        if isinstance(field, fields.List):
            return is_id(field.inner)
        if isinstance(field, fields.Nested):
            return any(is_id(inner) for inner in field.schema.fields.values())
        return isinstance(field, fields.UUID)
    return schema is not None and any(is_id(field) for field in schema().fields.values())


def problem_statuses(route):
    """Every problem status the route can answer: those its shape implies at the gateway and at
    the service, and those the route declares."""
    statuses = {422, 500, 503, 504}  # invalid input; a service failing, not running or not answering
    if route.body is not None or route.body_format != "json":
        statuses |= {400, 413}  # a malformed or oversize body
    if route.public:
        statuses.add(429)  # the address's rate limit
    else:
        statuses |= {401, 403}  # no valid token; a missing permission
        if route.method in WRITE_METHODS:
            statuses.add(409)  # the program's record is in a state that refuses the change
        if restrictable(route.method, route.path):
            statuses.add(402)  # the program is read-only until it pays
    if "<" in route.path or _names_records(route.body) or _names_records(route.query):
        statuses.add(404)
    return sorted(statuses | set(route.problems))


def build_spec(routes, version="1.0.0"):
    spec = APISpec(title="Handoff API", version=version, openapi_version="3.1.0",
                   plugins=[MarshmallowPlugin()],
                   info={"description": "Referral network for behavioral-health and "
                                        "social-service programs."})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer",
                                               "bearerFormat": "JWT"})
    spec.components.schema("Problem", schema=ProblemSchema)
    # Any operation's: the HTTP server refuses the request before the gateway sees it.
    spec.components.response("UriTooLong", {"description": "The request line is over 8 KiB (no body)"})
    problem_ref = {"content": {"application/problem+json": {"schema": "Problem"}}}
    paths = {}
    for route in routes:
        operation = {
            "summary": route.summary,
            "operationId": f"{route.service}_{route.rpc_method}_{route.method.lower()}",
            "tags": [route.tag or route.service],
            "parameters": _path_parameters(route.path),
            "responses": {},
        }
        if route.query is not None:
            operation["parameters"].append({"in": "query", "schema": route.query})
        if route.body_format == "form":
            operation["requestBody"] = {"required": True, "content": {
                "application/x-www-form-urlencoded": {"schema": {"type": "object"}}}}
        elif route.body_format == "raw":
            operation["requestBody"] = {"required": True, "content": {"*/*": {"schema": {"type": "string"}}}}
        elif route.body is not None:
            operation["requestBody"] = {"required": True,
                                        "content": {"application/json": {"schema": route.body}}}
            if route.upload_field:
                operation["requestBody"]["content"]["multipart/form-data"] = {"schema": {
                    "type": "object", "required": [UPLOAD_PART],
                    "properties": {UPLOAD_PART: {"type": "string", "format": "binary"}},
                    "description": f"The JSON body's fields as form parts (an object or a list as JSON text), "
                                   f"the file itself in the part `{UPLOAD_PART}` instead of `{route.upload_field}`."}}
        if route.status == 204:
            operation["responses"]["204"] = {"description": "Done"}
        else:
            content = {"application/json": {"schema": route.response}} if route.response is not None else {}
            content.update({media_type: {} for media_type in route.files})  # a file: bytes, no schema
            if route.streams_ndjson:  # lines of JSON objects, each as an item of the JSON answer's contents
                content[NDJSON] = {}
            operation["responses"][str(route.status)] = {"description": "Success",
                                                         **({"content": content} if content else {})}
        operation["security"] = [] if route.public else [{"bearer": []}]
        for status in problem_statuses(route):
            operation["responses"][str(status)] = {"description": "Problem", **problem_ref,
                                                   **({"headers": RETRY_AFTER} if status == 429 else {})}
        operation["responses"]["414"] = "UriTooLong"
        paths.setdefault(_openapi_path(route.path), {})[route.method.lower()] = operation
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
