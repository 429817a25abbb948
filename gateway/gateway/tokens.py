"""Access-token verification: signature from identity's JWKS, algorithm pinned, ``exp``,
``iss``, ``aud`` and ``kid`` checked, and a small revocation set fed by identity's broadcasts
so that disabling a user takes effect within seconds instead of at token expiry."""
import time

import jwt

from shared.auth import AuthContext
from shared.errors import Unauthorized

ALGORITHM = "EdDSA"
ISSUER = "handoff-identity"
AUDIENCE = "handoff-api"
JWKS_REFRESH_MIN_SECONDS = 10
REVOCATION_KEEP_SECONDS = 24 * 3600  # longer than any access token lives


class TokenVerifier:
    def __init__(self, clock=time.time):
        self.clock = clock
        self.keys = {}
        self.keys_loaded_at = None
        self.revoked_before = {}  # user id -> tokens issued before this instant are void
        self.revocations_loaded = False

    def load_keys(self, jwks):
        self.keys = {jwk["kid"]: jwt.PyJWK(jwk, algorithm=ALGORITHM).key for jwk in jwks["keys"]}
        self.keys_loaded_at = self.clock()

    def keys_stale(self):
        return self.keys_loaded_at is None or self.clock() - self.keys_loaded_at > JWKS_REFRESH_MIN_SECONDS

    def revoke(self, user_id, not_before):
        self.revoked_before[user_id] = max(not_before, self.revoked_before.get(user_id, 0))
        horizon = self.clock() - REVOCATION_KEEP_SECONDS
        if len(self.revoked_before) > 10_000:
            self.revoked_before = {u: t for u, t in self.revoked_before.items() if t > horizon}

    def verify(self, token, fetch_jwks):
        """Claims of a valid token as an ``AuthContext``; ``Unauthorized`` for anything else.
        ``fetch_jwks`` is called when the key id is unknown (a rotated key)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("Malformed access token") from None
        if header.get("alg") != ALGORITHM:
            raise Unauthorized("Unsupported token algorithm")
        kid = header.get("kid")
        if kid not in self.keys and self.keys_stale():
            self.load_keys(fetch_jwks())
        key = self.keys.get(kid)
        if key is None:
            raise Unauthorized("Unknown signing key")
        try:
            claims = jwt.decode(token, key=key, algorithms=[ALGORITHM], audience=AUDIENCE,
                                issuer=ISSUER,
                                options={"require": ["exp", "iat", "sub", "jti", "org", "role"]})
        except jwt.ExpiredSignatureError:
            raise Unauthorized("Access token expired") from None
        except jwt.PyJWTError:
            raise Unauthorized("Invalid access token") from None
        if claims["iat"] < self.revoked_before.get(claims["sub"], 0):
            raise Unauthorized("Access token revoked")
        return AuthContext(user_id=claims["sub"], org_id=claims["org"], role=claims["role"],
                           permissions=frozenset(claims.get("perms", ())),
                           is_owner=bool(claims.get("owner")), token_id=claims["jti"],
                           linked_id=claims.get("lnk"))
