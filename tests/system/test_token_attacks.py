"""Every forged, altered, expired or misdirected access token is refused with 401."""
import base64
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.testing.api import assert_problem, sign_up
from shared.testing.infrastructure import connect

pytestmark = pytest.mark.system


@pytest.fixture(scope="module")
def signing_key(system, infrastructure):
    sign_up(system)  # makes sure the key exists
    with connect(infrastructure, "identity") as conn, conn.cursor() as cur:
        cur.execute("SELECT kid, private_pem, public_jwk FROM signing_keys WHERE active")
        kid, pem, jwk = cur.fetchone()
    return kid, pem, jwk


@pytest.fixture(scope="module")
def program(system):
    return sign_up(system)


def claims_of(program, **overrides):
    now = time.time()
    claims = {"iss": "handoff-identity", "aud": "handoff-api", "sub": program.owner_id,
              "org": program.org_id, "role": "org_admin", "owner": True, "perms": ["billing.manage"],
              "iat": now, "exp": int(now) + 600, "jti": uuid.uuid4().hex}
    claims.update(overrides)
    return claims


def b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def assert_refused(system, token):
    assert_problem(system.request("GET", "/api/v1/me", token=token), 401, "UNAUTHORIZED")


def test_a_correctly_signed_token_is_accepted(system, signing_key, program):
    kid, pem, _ = signing_key
    token = jwt.encode(claims_of(program), pem, algorithm="EdDSA", headers={"kid": kid})
    assert system.request("GET", "/api/v1/me", token=token).status_code == 200


def test_no_token(system):
    assert_problem(system.request("GET", "/api/v1/me"), 401, "UNAUTHORIZED")


def test_alg_none(system, signing_key, program):
    kid = signing_key[0]
    token = f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{b64(claims_of(program))}."
    assert_refused(system, token)


def test_hs256_signed_with_the_public_key(system, signing_key, program):
    kid, _, jwk = signing_key
    public_key_bytes = base64.urlsafe_b64decode(jwk["x"] + "==")
    import hmac, hashlib
    signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{b64(claims_of(program))}"
    for secret in (public_key_bytes, json.dumps(jwk).encode(), jwk["x"].encode()):
        signature = base64.urlsafe_b64encode(
            hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()).rstrip(b"=").decode()
        assert_refused(system, f"{signing_input}.{signature}")


def test_tampered_payload(system, signing_key, program):
    kid, pem, _ = signing_key
    token = jwt.encode(claims_of(program), pem, algorithm="EdDSA", headers={"kid": kid})
    header, _, signature = token.split(".")
    forged = claims_of(program, role="org_admin", perms=["audit.view", "billing.manage", "staff.manage"])
    assert_refused(system, f"{header}.{b64(forged)}.{signature}")


def test_expired(system, signing_key, program):
    kid, pem, _ = signing_key
    past = time.time() - 3600
    token = jwt.encode(claims_of(program, iat=past, exp=int(past) + 900), pem, algorithm="EdDSA",
                       headers={"kid": kid})
    assert_refused(system, token)


@pytest.mark.parametrize("claim, value", [("aud", "someone-else"), ("iss", "evil-issuer")])
def test_wrong_audience_or_issuer(system, signing_key, program, claim, value):
    kid, pem, _ = signing_key
    token = jwt.encode(claims_of(program, **{claim: value}), pem, algorithm="EdDSA", headers={"kid": kid})
    assert_refused(system, token)


def test_unknown_kid_and_foreign_key(system, program):
    foreign = Ed25519PrivateKey.generate()
    token = jwt.encode(claims_of(program), foreign, algorithm="EdDSA", headers={"kid": "not-ours"})
    assert_refused(system, token)


def test_right_kid_wrong_key(system, signing_key, program):
    foreign = Ed25519PrivateKey.generate()
    token = jwt.encode(claims_of(program), foreign, algorithm="EdDSA", headers={"kid": signing_key[0]})
    assert_refused(system, token)


def test_garbage(system):
    for token in ("abc", "a.b.c", "eyJhbGciOiJFZERTQSJ9..", "x" * 5000):
        assert_refused(system, token)
