"""A self-signed service token (AuthApi's own) is cached like a fetched one: reused until
shortly before it expires, signed once for concurrent callers, signed anew when dropped."""

from __future__ import annotations

import asyncio

from nudges_kit.service_auth import IssuedToken, ServiceTokenProvider


class Signer:
    def __init__(self, lifetime: float) -> None:
        self.lifetime = lifetime
        self.signed = 0

    def __call__(self) -> IssuedToken:
        self.signed += 1
        return f"signed-{self.signed}", self.lifetime


async def test_a_signed_token_is_reused_until_shortly_before_it_expires() -> None:
    now = [1000.0]
    sign = Signer(lifetime=900)
    tokens = ServiceTokenProvider.signed_by(sign, "auth", clock=lambda: now[0])
    assert tokens.client_id == "auth"
    tokens_seen = await asyncio.gather(*(tokens.token() for _ in range(10)))
    assert set(tokens_seen) == {"signed-1"}
    now[0] += 900 - 61
    assert await tokens.token() == "signed-1"
    now[0] += 2  # within the last minute of its life
    assert await tokens.token() == "signed-2"
    tokens.invalidate()
    assert await tokens.token() == "signed-3"
    assert sign.signed == tokens.fetches == 3


async def test_a_short_lived_token_is_still_reused_for_half_its_life() -> None:
    now = [0.0]
    sign = Signer(lifetime=60)
    tokens = ServiceTokenProvider.signed_by(sign, "auth", clock=lambda: now[0])
    await tokens.token()
    now[0] = 29.0
    assert await tokens.token() == "signed-1"
    now[0] = 30.0
    assert await tokens.token() == "signed-2"
