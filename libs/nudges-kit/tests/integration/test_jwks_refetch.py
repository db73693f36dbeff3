"""Tokens with unknown key ids against a real JWKS endpoint: they cannot make every request
fetch the keys again (at most one fetch per interval, shared by concurrent callers), and a key
the issuer rotated in is still picked up once the interval has passed."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from nudges_emulators.serving import serve_in_thread
from nudges_kit.auth import InvalidToken, JwtVerifier

ISSUER = "http://auth.test/auth"
AUDIENCE = "nudges"
#: Short enough for the test to wait it out, long enough to hold on a loaded machine.
REFETCH_SECONDS = 2.0


@dataclass
class Issuer:
    """Signing keys, of which the JWKS endpoint publishes ``published``."""

    keys: dict[str, Any] = field(default_factory=dict)
    published: list[str] = field(default_factory=list)
    fetches: int = 0

    def add_key(self, kid: str, publish: bool = True) -> None:
        self.keys[kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if publish:
            self.published.append(kid)

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid in self.published:
            public = json.loads(RSAAlgorithm.to_jwk(self.keys[kid].public_key()))
            public.update(kid=kid, use="sig", alg="RS256")
            keys.append(public)
        return {"keys": keys}

    def token(self, kid: str) -> str:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "iat": now, "exp": now + 300}
        return jwt.encode(claims, self.keys[kid], algorithm="RS256", headers={"kid": kid})


@pytest.fixture
def jwks_server() -> Iterator[tuple[Issuer, str]]:
    issuer = Issuer()
    issuer.add_key("current")

    async def jwks(_request: Request) -> JSONResponse:
        issuer.fetches += 1
        return JSONResponse(issuer.jwks())

    app = Starlette(routes=[Route("/auth/.well-known/jwks.json", jwks)])
    with serve_in_thread(app) as server:
        yield issuer, f"{server.url}/auth/.well-known/jwks.json"


async def test_unknown_kids_refetch_at_most_once_per_interval(
    jwks_server: tuple[Issuer, str],
) -> None:
    issuer, url = jwks_server
    verifier = JwtVerifier(url, ISSUER, AUDIENCE, refetch_seconds=REFETCH_SECONDS)
    assert (await verifier.verify(issuer.token("current"))).subject == "user-1"
    assert issuer.fetches == 1

    # Ten tokens signed with keys nobody published, five at once and five one after another.
    strangers = [f"unknown-{uuid.uuid4().hex[:8]}" for _ in range(10)]
    for kid in strangers:
        issuer.add_key(kid, publish=False)
    at_once = await asyncio.gather(
        *(verifier.verify(issuer.token(kid)) for kid in strangers[:5]), return_exceptions=True
    )
    assert all(isinstance(outcome, InvalidToken) for outcome in at_once), at_once
    for kid in strangers[5:]:
        with pytest.raises(InvalidToken, match="unknown key"):
            await verifier.verify(issuer.token(kid))
    assert issuer.fetches - 1 <= 1, f"{issuer.fetches - 1} fetches for 10 unknown kids"
    assert (await verifier.verify(issuer.token("current"))).subject == "user-1"

    # The issuer rotates: once the interval has passed, the first token of the new key is
    # accepted at once, and the tokens of concurrent callers share that one fetch.
    issuer.add_key("next")
    await asyncio.sleep(REFETCH_SECONDS + 0.2)
    before = issuer.fetches
    rotated = await asyncio.gather(*(verifier.verify(issuer.token("next")) for _ in range(5)))
    assert [principal.subject for principal in rotated] == ["user-1"] * 5
    assert issuer.fetches == before + 1
