"""JSON log lines carrying the request id that follows a request through every service.

The request id lives in a greenthread-local (threading.local is green once eventlet has
monkey-patched), set for each worker by ``RequestContext`` in ``shared.service``.
"""
import json
import logging
import threading
import time

_local = threading.local()

# Keys whose values must never reach a log line, whatever logs them.
REDACTED_KEYS = frozenset({
    "password", "new_password", "token", "access_token", "refresh_token", "secret",
    "authorization", "card_number", "totp_code", "recovery_code",
})


def set_request_id(request_id):
    _local.request_id = request_id


def current_request_id():
    return getattr(_local, "request_id", None)


def redact(value):
    if isinstance(value, dict):
        return {k: ("[redacted]" if k.lower() in REDACTED_KEYS else redact(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value


class JsonFormatter(logging.Formatter):
    def __init__(self, service=None, **kwargs):
        super().__init__(**kwargs)
        self.service = service

    def format(self, record):
        line = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": current_request_id(),
        }
        fields = getattr(record, "fields", None)
        if fields:
            line.update(redact(fields))
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def logging_config(service, level="INFO"):
    """A ``logging.config.dictConfig`` document; services put it under LOGGING in config."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "shared.logs.JsonFormatter", "service": service}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
        "root": {"level": level, "handlers": ["console"]},
        "loggers": {"amqp": {"level": "WARNING"}, "kombu": {"level": "WARNING"},
                    "nameko": {"level": "WARNING"}, "alembic": {"level": "WARNING"}},
    }
