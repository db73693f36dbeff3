"""JWT verification: only tokens of our issuer, for our audience, unexpired and signed by a
published key become a principal."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from nudges_kit.auth import InvalidToken, JwtVerifier

ISSUER = "http://auth.test/auth"
AUDIENCE = "nudges"


def _key(kid: str) -> tuple[Any, dict[str, Any]]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    public.update(kid=kid, use="sig", alg="RS256")
    return private, public


KEY, JWK = _key("k1")
OTHER_KEY, _ = _key("k1")
NEW_KEY, NEW_JWK = _key("k2")


def _token(key: Any = KEY, kid: str = "k1", **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-1",
        "iat": now,
        "exp": now + 300,
        "roles": ["client", "not-a-role"],
        "locale": "es",
        "phone_hash": "abc",
    }
    claims.update(overrides)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def _verifier(keys: list[dict[str, Any]]) -> tuple[JwtVerifier, list[int]]:
    calls: list[int] = []

    def handler(_request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(200, json={"keys": keys})

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return JwtVerifier("http://auth.test/jwks", ISSUER, AUDIENCE, http=http), calls


async def test_a_valid_token_becomes_a_typed_principal() -> None:
    verifier, _ = _verifier([JWK])
    principal = await verifier.verify(_token())
    assert principal.subject == "user-1"
    assert principal.roles == frozenset({"client"})
    assert principal.locale == "es"
    assert principal.phone_hash == "abc"
    assert principal.has_role("admin", "client")
    assert not principal.has_role("admin")


async def test_keycloak_realm_roles_are_read() -> None:
    verifier, _ = _verifier([JWK])
    token = _token(roles=None, realm_access={"roles": ["admin", "offline_access"]})
    assert (await verifier.verify(token)).roles == frozenset({"admin"})


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (lambda: _token(exp=int(time.time()) - 60), "expired"),
        (lambda: _token(aud="someone-else"), "audience"),
        (lambda: _token(iss="http://evil.test"), "issuer"),
        (lambda: _token(key=OTHER_KEY), "forged signature"),
        (lambda: "not.a.token", "malformed"),
        (lambda: jwt.encode({"sub": "x"}, "s" * 32, algorithm="HS256"), "symmetric algorithm"),
    ],
)
async def test_bad_tokens_are_rejected(token: Any, reason: str) -> None:
    verifier, _ = _verifier([JWK])
    with pytest.raises(InvalidToken):
        await verifier.verify(token())


async def test_a_token_without_expiry_is_rejected() -> None:
    verifier, _ = _verifier([JWK])
    now = int(time.time())
    token = jwt.encode(
        {"iss": ISSUER, "aud": AUDIENCE, "sub": "u", "iat": now},
        KEY,
        algorithm="RS256",
        headers={"kid": "k1"},
    )
    with pytest.raises(InvalidToken, match="exp"):
        await verifier.verify(token)


async def test_keys_are_cached_and_refreshed_for_a_new_kid() -> None:
    keys = [JWK]
    verifier, calls = _verifier(keys)
    await verifier.verify(_token())
    await verifier.verify(_token())
    assert len(calls) == 1
    keys.append(NEW_JWK)  # the issuer rotated its signing key
    principal = await verifier.verify(_token(key=NEW_KEY, kid="k2"))
    assert principal.subject == "user-1"
    assert len(calls) == 2
    with pytest.raises(InvalidToken, match="unknown key"):
        await verifier.verify(_token(key=NEW_KEY, kid="k3"))


async def test_a_verified_token_is_remembered_until_it_expires_or_its_key_goes() -> None:
    verifier = JwtVerifier("http://unused.invalid/jwks", ISSUER, AUDIENCE, leeway=0)
    verifier.use_jwks({"keys": [JWK, NEW_JWK]})
    token = _token(exp=int(time.time()) + 2)
    first = await verifier.verify(token)
    assert await verifier.verify(token) is first
    # A token differing only in its signature is verified, and refused.
    forged = token.rsplit(".", 1)[0] + "." + _token(OTHER_KEY).rsplit(".", 1)[1]
    with pytest.raises(InvalidToken):
        await verifier.verify(forged)
    # Once its key is withdrawn, a remembered token is verified again, and refused.
    verifier.use_jwks({"keys": [NEW_JWK]})
    with pytest.raises(InvalidToken):
        await verifier.verify(token)
    # A remembered token stops being accepted when it expires.
    verifier.use_jwks({"keys": [JWK, NEW_JWK]})
    assert (await verifier.verify(token)).subject == "user-1"
    await asyncio.sleep(2.1)
    with pytest.raises(InvalidToken):
        await verifier.verify(token)
