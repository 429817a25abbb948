"""Access tokens (EdDSA JWTs of 15 minutes at most) and opaque, rotating refresh tokens."""
import hashlib
import json
import secrets
import time
import uuid
from datetime import datetime, timedelta, timezone

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text, update

from identity.models import RefreshToken, Revocation, SigningKey
from identity.roles import effective_permissions
from identity.totp import enrolment_required
from shared.errors import Unauthorized

ISSUER = "handoff-identity"
AUDIENCE = "handoff-api"
ACCESS_TOKEN_SECONDS = 900
REFRESH_TOKEN_DAYS = 30
REVOCATION_HORIZON_SECONDS = 3600  # a revocation outlives every token it could void


def _hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def active_signing_key(session):
    """The current key, created on first use. The advisory lock makes concurrent first
    uses agree on one key."""
    key = session.scalars(select(SigningKey).where(SigningKey.active)
                          .order_by(SigningKey.created_at.desc())).first()
    if key is not None:
        return key
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('identity.signing_key'))"))
    key = session.scalars(select(SigningKey).where(SigningKey.active)).first()
    if key is None:
        private = Ed25519PrivateKey.generate()
        kid = uuid.uuid4().hex
        public_jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(private.public_key()))
        public_jwk.update({"kid": kid, "alg": "EdDSA", "use": "sig"})
        key = SigningKey(kid=kid, public_jwk=public_jwk, private_pem=private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode())
        session.add(key)
        session.flush()
    return key


def jwks(session):
    keys = session.scalars(select(SigningKey).order_by(SigningKey.created_at)).all()
    if not keys:
        keys = [active_signing_key(session)]
    return {"keys": [k.public_jwk for k in keys]}


def issue_access_token(session, user):
    key = active_signing_key(session)
    now = time.time()
    claims = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": str(user.id), "org": str(user.org_id),
        "role": user.role, "owner": user.is_owner,
        "perms": [] if enrolment_required(session, user) else sorted(effective_permissions(user)),
        "iat": round(now, 3), "exp": int(now) + ACCESS_TOKEN_SECONDS, "jti": uuid.uuid4().hex,
    }
    if user.linked_id:
        claims["lnk"] = str(user.linked_id)
    return jwt.encode(claims, key.private_pem, algorithm="EdDSA", headers={"kid": key.kid})


def issue_refresh_token(session, user, family_id=None):
    token = secrets.token_urlsafe(32)
    session.add(RefreshToken(
        family_id=family_id or uuid.uuid4(), user_id=user.id, token_hash=_hash(token),
        expires_at=datetime.now(timezone.utc) + timedelta(days=REFRESH_TOKEN_DAYS)))
    return token


def token_pair(session, user, family_id=None):
    return {"access_token": issue_access_token(session, user), "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_SECONDS,
            "refresh_token": issue_refresh_token(session, user, family_id)}


def rotate_refresh_token(session, token):
    """The stored token row for ``token``, marked replaced. A token that was already
    replaced means reuse: the family is revoked and the caller is refused."""
    row = session.scalars(select(RefreshToken).where(RefreshToken.token_hash == _hash(token))
                          .with_for_update()).first()
    now = datetime.now(timezone.utc)
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise Unauthorized("Invalid refresh token")
    if row.replaced_at is not None:
        revoke_family(session, row.family_id)
        session.commit()  # the revocation must outlive the error we answer with
        raise Unauthorized("Refresh token reuse detected; please sign in again")
    row.replaced_at = now
    return row


def revoke_family(session, family_id):
    session.execute(update(RefreshToken).where(RefreshToken.family_id == family_id,
                                               RefreshToken.revoked_at.is_(None))
                    .values(revoked_at=datetime.now(timezone.utc)))


def find_refresh_token(session, token):
    return session.scalars(select(RefreshToken).where(RefreshToken.token_hash == _hash(token))).first()


def record_revocation(session, user_id):
    """Void every access token of ``user_id`` issued until now; returns the instant."""
    not_before = round(time.time(), 3)
    row = session.get(Revocation, user_id)
    if row is None:
        session.add(Revocation(user_id=user_id, not_before=not_before))
    else:
        row.not_before = not_before
    return not_before


def active_revocations(session):
    horizon = time.time() - REVOCATION_HORIZON_SECONDS
    rows = session.scalars(select(Revocation).where(Revocation.not_before > horizon)).all()
    return {str(r.user_id): r.not_before for r in rows}
