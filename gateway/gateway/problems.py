"""Errors as RFC 9457 ``application/problem+json``."""
import json

from werkzeug.wrappers import Response

from shared.errors import HTTP_STATUS

PROBLEM_TYPE_BASE = "https://handoff.dev/problems/"


def problem(code, title, detail, status=None, errors=None, request_id=None, headers=None):
    status = status or HTTP_STATUS.get(code, 500)
    body = {"type": PROBLEM_TYPE_BASE + code.lower().replace("_", "-"), "title": title,
            "status": status, "code": code, "detail": detail, "errors": errors or {}}
    if request_id:
        body["request_id"] = request_id
    return Response(json.dumps(body), status=status, headers=headers,
                    mimetype="application/problem+json")


def from_service_error(error, request_id=None):
    headers = {"Retry-After": str(int(error.retry_after))} if error.retry_after else None
    return problem(error.code, error.title, error.detail, errors=error.errors,
                   request_id=request_id, headers=headers)
