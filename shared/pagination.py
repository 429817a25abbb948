"""Keyset pagination cursors: an opaque, tamper-evident encoding of the last sort key, tied to
the query (``scope``) that made it, so a cursor cannot be replayed against another query."""
import base64
import binascii
import hashlib
import hmac
import json
import os

from shared.errors import ValidationFailed

# Cursors are not secrets, only guarded against hand-editing; a per-deployment key is enough.
_KEY = os.environ.get("CURSOR_SIGNING_KEY", "handoff-cursor").encode()


def query_fingerprint(*parts):
    """A short digest of what a cursor's sort key depends on (filters, sort order)."""
    canonical = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def encode_cursor(sort_key, scope=""):
    raw = json.dumps({"s": scope, "k": sort_key}, separators=(",", ":"), default=str).encode()
    mac = hmac.new(_KEY, raw, hashlib.sha256).digest()[:8]
    return base64.urlsafe_b64encode(mac + raw).decode().rstrip("=")


def decode_cursor(cursor, scope="", key_length=None):
    if cursor is None:
        return None
    try:
        blob = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        mac, raw = blob[:8], blob[8:]
        payload = json.loads(raw)
        valid = (hmac.compare_digest(mac, hmac.new(_KEY, raw, hashlib.sha256).digest()[:8])
                 and payload["s"] == scope
                 and (key_length is None or len(payload["k"]) == key_length))
    except (binascii.Error, ValueError, KeyError, TypeError):
        valid = False
    if not valid:
        raise ValidationFailed("Invalid cursor",
                               errors={"cursor": ["Not a cursor of this query; start again without it."]})
    return payload["k"]


def page(rows, limit, sort_key, scope=""):
    """Given up to ``limit + 1`` rows, the page and the cursor of the next one."""
    items = rows[:limit]
    next_cursor = encode_cursor(sort_key(items[-1]), scope) if len(rows) > limit else None
    return items, next_cursor
