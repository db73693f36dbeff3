"""The built-in issuer's keys: shared through the keys file, rotated on schedule, and the
previous key kept published so that tokens signed before a rotation still verify."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from nudges_auth.adapters.signing_keys import (
    FileKeyRing,
    InvalidSigningKeys,
    SigningKey,
    key_ring_for,
)
from nudges_kit.auth import InvalidToken, JwtVerifier

ISSUER = "http://auth.test/auth"
DAY = 86400.0


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _claims(clock: Clock, sub: str = "user-1") -> dict[str, Any]:
    return {
        "iss": ISSUER,
        "aud": "nudges",
        "sub": sub,
        "iat": int(clock.now),
        "exp": int(time.time()) + 600,
        "roles": ["client"],
    }


async def _verify(token: str, jwks: dict[str, Any]) -> str:
    verifier = JwtVerifier("http://unused.invalid/jwks", ISSUER, "nudges")
    verifier.use_jwks(jwks)
    return (await verifier.verify(token)).subject


async def test_a_token_signed_before_a_rotation_still_verifies(tmp_path: Path) -> None:
    clock = Clock(1_000_000.0)
    ring = FileKeyRing(tmp_path / "keys.json", rotation_seconds=30 * DAY, clock=clock)
    first_kid = ring.current_kid
    before = ring.sign(_claims(clock, "signed-before"))

    clock.now += 30 * DAY
    after = ring.sign(_claims(clock, "signed-after"))
    assert ring.current_kid != first_kid
    jwks = ring.jwks()
    assert [k["kid"] for k in jwks["keys"]] == [ring.current_kid, first_kid]
    assert all(k["alg"] == "RS256" and k["use"] == "sig" and "d" not in k for k in jwks["keys"])
    assert await _verify(before, jwks) == "signed-before"
    assert await _verify(after, jwks) == "signed-after"

    # A second rotation retires the first key: what it signed no longer verifies.
    clock.now += 30 * DAY
    ring.sign(_claims(clock))
    assert first_kid not in {k["kid"] for k in ring.jwks()["keys"]}
    with pytest.raises(InvalidToken):
        await _verify(before, ring.jwks())


def test_processes_share_the_keys_file_and_see_each_others_rotation(tmp_path: Path) -> None:
    clock = Clock(1_000_000.0)
    path = tmp_path / "nested" / "jwt-keys.json"
    one = FileKeyRing(path, rotation_seconds=DAY, clock=clock)
    two = FileKeyRing(path, rotation_seconds=DAY, clock=clock)
    assert one.current_kid == two.current_kid
    assert path.stat().st_mode & 0o777 == 0o600
    clock.now += DAY
    rotated = one.current_kid
    assert two.current_kid == rotated
    assert len(json.loads(path.read_text())["keys"]) == 2
    # A restart keeps the keys.
    assert FileKeyRing(path, rotation_seconds=DAY, clock=clock).current_kid == rotated


async def test_production_keys_come_from_the_setting_and_switch_on_schedule() -> None:
    clock = Clock(1_000_000.0)
    current = SigningKey.generate(not_before=0)
    upcoming = SigningKey.generate(not_before=clock.now + DAY)
    setting = json.dumps(
        [{**current.to_json(), "kid": "2026-10"}, {**upcoming.to_json(), "kid": "2026-11"}]
    )
    ring = key_ring_for(setting, Path("/nonexistent/keys.json"), 30 * DAY, clock)
    assert ring.current_kid == "2026-10"
    # The upcoming key is published ahead, so verifiers know it when it starts signing.
    assert [k["kid"] for k in ring.jwks()["keys"]] == ["2026-11", "2026-10"]
    before = ring.sign(_claims(clock))
    clock.now += DAY
    assert ring.current_kid == "2026-11"
    assert [k["kid"] for k in ring.jwks()["keys"]] == ["2026-11", "2026-10"]
    assert await _verify(before, ring.jwks()) == "user-1"


def test_unreadable_keys_are_refused_at_start() -> None:
    for bad in ("not json", "[]", '[{"kid": "x", "private_key": "nope"}]'):
        with pytest.raises(InvalidSigningKeys):
            key_ring_for(bad, Path("/unused"), DAY)
