"""Errors that cross RPC as stable codes.

Services raise these; nameko serialises them and, because every class is registered with
``deserialize_to_instance``, the caller gets the same class back (not a ``RemoteError``
naming a remote module). The gateway turns ``code`` into an HTTP status with ``HTTP_STATUS``.
"""
from amqp.exceptions import AMQPError
from kombu.exceptions import OperationalError as BrokerOperationalError
from nameko.exceptions import deserialize_to_instance
from sqlalchemy.exc import InterfaceError, OperationalError


class ServiceError(Exception):
    code = "INTERNAL"
    title = "Internal error"

    def __init__(self, detail="", errors=None, retry_after=None):
        # nameko turns every argument into text on the wire (None arrives as "None")
        retry_after = None if retry_after in (None, "None", "") else int(float(retry_after))
        errors = errors if isinstance(errors, dict) else {}
        super().__init__(detail, errors, retry_after)
        self.detail = detail or self.title
        self.errors = errors
        self.retry_after = retry_after

    def __str__(self):
        return f"{self.code}: {self.detail}"


def _register(cls):
    return deserialize_to_instance(cls)


@_register
class ValidationFailed(ServiceError):
    code = "VALIDATION_FAILED"
    title = "Validation failed"


@_register
class BadRequest(ServiceError):
    code = "BAD_REQUEST"
    title = "Bad request"


@_register
class Unauthorized(ServiceError):
    code = "UNAUTHORIZED"
    title = "Authentication required"


@_register
class Forbidden(ServiceError):
    code = "FORBIDDEN"
    title = "Permission denied"


@_register
class NotFound(ServiceError):
    code = "NOT_FOUND"
    title = "Not found"


@_register
class Conflict(ServiceError):
    code = "CONFLICT"
    title = "Conflict"


@_register
class Gone(ServiceError):
    code = "GONE"
    title = "No longer available"


@_register
class PayloadTooLarge(ServiceError):
    code = "PAYLOAD_TOO_LARGE"
    title = "Payload too large"


@_register
class RateLimited(ServiceError):
    code = "RATE_LIMITED"
    title = "Too many requests"


@_register
class PaymentRequired(ServiceError):
    code = "PAYMENT_REQUIRED"
    title = "Subscription restricts this action"


@_register
class Unavailable(ServiceError):
    code = "UNAVAILABLE"
    title = "Service unavailable"


@_register
class Timeout(ServiceError):
    code = "TIMEOUT"
    title = "A service did not answer in time"


_register(ServiceError)

HTTP_STATUS = {
    BadRequest.code: 400,
    Unauthorized.code: 401,
    PaymentRequired.code: 402,
    Forbidden.code: 403,
    NotFound.code: 404,
    Conflict.code: 409,
    Gone.code: 410,
    PayloadTooLarge.code: 413,
    ValidationFailed.code: 422,
    RateLimited.code: 429,
    ServiceError.code: 500,
    Unavailable.code: 503,
    Timeout.code: 504,
}


# The database away, overloaded or restarting: the request or event was not wrong, and the same
# work succeeds later. (SQLAlchemy wraps connection loss, "too many clients" and serialization
# failures as OperationalError; a connection dropped mid-use as InterfaceError.)
TRANSIENT_ERRORS = (OperationalError, InterfaceError)


def is_transient(exc_type):
    return exc_type is not None and issubclass(exc_type, TRANSIENT_ERRORS)


# The broker connection dropped under a worker (a broker restart or failover). Unacknowledged
# messages are delivered again, so a worker that cannot settle its message must not take its
# service down with it.
BROKER_CONNECTION_ERRORS = (OSError, AMQPError, BrokerOperationalError)
