"""OpenAPI 3.1 built from the route table and the very schemas the gateway validates with."""
import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields

from shared.errors import HTTP_STATUS

PATH_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


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


def build_spec(routes, version="1.0.0"):
    spec = APISpec(title="Handoff API", version=version, openapi_version="3.1.0",
                   plugins=[MarshmallowPlugin()],
                   info={"description": "Referral network for behavioral-health and "
                                        "social-service programs."})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer",
                                               "bearerFormat": "JWT"})
    spec.components.schema("Problem", schema=ProblemSchema)
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
        if route.status == 204:
            operation["responses"]["204"] = {"description": "Done"}
        elif route.response is not None:
            operation["responses"][str(route.status)] = {
                "description": "Success",
                "content": {"application/json": {"schema": route.response}}}
        else:
            operation["responses"][str(route.status)] = {"description": "Success"}
        statuses = ["400", "422", "500", "504"]
        if route.public:
            operation["security"] = []
            statuses.append("429")
        else:
            operation["security"] = [{"bearer": []}]
            statuses += ["401", "403"]
        if "<" in route.path:
            statuses.append("404")
        for status in statuses:
            operation["responses"][status] = {"description": "Problem", **problem_ref}
        paths.setdefault(_openapi_path(route.path), {})[route.method.lower()] = operation
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
