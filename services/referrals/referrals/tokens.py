"""Single-purpose links (the hosted list, the provider's answer): a random token goes out in the
message, only its hash is stored."""
import hashlib
import secrets


def new_token():
    token = secrets.token_urlsafe(24)
    return token, hash_token(token)


def hash_token(token):
    return hashlib.sha256(str(token).encode()).hexdigest()
