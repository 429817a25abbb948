"""TokenVerifier: the checks an access token must pass, without any service running."""
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.tokens import TokenVerifier
from shared.errors import Unauthorized


@pytest.fixture
def key():
    private = Ed25519PrivateKey.generate()
    jwk = jwt.algorithms.OKPAlgorithm.to_jwk(private.public_key(), as_dict=True)
    jwk.update(kid="k1", alg="EdDSA")
    return private, {"keys": [jwk]}


def token(private, kid="k1", **overrides):
    now = time.time()
    claims = {"iss": "handoff-identity", "aud": "handoff-api", "sub": "u1", "org": "o1",
              "role": "default", "perms": ["providers.read"], "iat": now, "exp": int(now) + 60,
              "jti": "j1", **overrides}
    return jwt.encode(claims, private, algorithm="EdDSA", headers={"kid": kid})


def test_valid_token_becomes_an_auth_context(key):
    private, jwks = key
    verifier = TokenVerifier()
    context = verifier.verify(token(private), lambda: jwks)
    assert (context.user_id, context.org_id, context.role) == ("u1", "o1", "default")
    assert context.has("providers.read") and not context.has("staff.manage")


def test_keys_are_fetched_once_and_unknown_kids_do_not_hammer_identity(key):
    private, jwks = key
    calls = []
    verifier = TokenVerifier()
    fetch = lambda: calls.append(1) or jwks  # noqa: E731
    verifier.verify(token(private), fetch)
    verifier.verify(token(private), fetch)
    with pytest.raises(Unauthorized):
        verifier.verify(token(private, kid="other"), fetch)
    assert len(calls) == 1


def test_revocation_voids_tokens_issued_before_it(key):
    private, jwks = key
    verifier = TokenVerifier()
    old = token(private, iat=time.time() - 5)
    verifier.revoke("u1", time.time() - 1)
    with pytest.raises(Unauthorized, match="revoked"):
        verifier.verify(old, lambda: jwks)
    assert verifier.verify(token(private), lambda: jwks).user_id == "u1"


@pytest.mark.parametrize("overrides", [{"aud": "x"}, {"iss": "x"}, {"exp": 1}])
def test_claims_are_checked(key, overrides):
    private, jwks = key
    with pytest.raises(Unauthorized):
        TokenVerifier().verify(token(private, **overrides), lambda: jwks)


def test_missing_required_claim_is_refused(key):
    private, jwks = key
    now = time.time()
    bare = jwt.encode({"iss": "handoff-identity", "aud": "handoff-api", "sub": "u1", "iat": now,
                       "exp": int(now) + 60}, private, algorithm="EdDSA", headers={"kid": "k1"})
    with pytest.raises(Unauthorized):
        TokenVerifier().verify(bare, lambda: jwks)
