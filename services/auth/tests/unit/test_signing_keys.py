"""The built-in issuer's keys: shared through the keys file, rotated on schedule, and the
previous key kept published so that tokens signed before a rotation still verify."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt
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
    assert all(k["alg"] == "EdDSA" and k["use"] == "sig" and "d" not in k for k in jwks["keys"])
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


async def test_a_key_file_of_rsa_keys_rotates_to_ed25519_and_both_verify_meanwhile(
    tmp_path: Path,
) -> None:
    clock = Clock(1_000_000.0)
    path = tmp_path / "keys.json"
    rsa_key = SigningKey.generate(not_before=clock.now, algorithm="RS256")
    path.write_text(json.dumps({"keys": [rsa_key.to_json()]}))
    ring = FileKeyRing(path, rotation_seconds=DAY, clock=clock)
    signed_rs256 = ring.sign(_claims(clock, "before"))
    assert jwt.get_unverified_header(signed_rs256)["alg"] == "RS256"

    clock.now += DAY
    signed_eddsa = ring.sign(_claims(clock, "after"))
    assert jwt.get_unverified_header(signed_eddsa) == {
        "alg": "EdDSA",
        "kid": ring.current_kid,
        "typ": "JWT",
    }
    jwks = ring.jwks()
    assert [(k["kid"], k["alg"], k["kty"]) for k in jwks["keys"]] == [
        (ring.current_kid, "EdDSA", "OKP"),
        (rsa_key.kid, "RS256", "RSA"),
    ]
    assert await _verify(signed_rs256, jwks) == "before"
    assert await _verify(signed_eddsa, jwks) == "after"


async def test_a_key_verifies_only_its_own_algorithm() -> None:
    clock = Clock(1_000_000.0)
    ed, rs = SigningKey.generate(0), SigningKey.generate(0, algorithm="RS256")
    jwks = {"keys": [ed.public_jwk(), rs.public_jwk()]}
    # Signed by the RSA key but naming the Ed25519 key, and the other way round.
    for signer, named in ((rs, ed), (ed, rs)):
        header = {"alg": signer.algorithm, "kid": named.kid}
        token = jwt.encode(_claims(clock), signer.private_key, signer.algorithm, header)
        with pytest.raises(InvalidToken):
            await _verify(token, jwks)


def test_production_keys_may_be_ed25519_or_rsa() -> None:
    clock = Clock(1_000_000.0)
    keys = [
        {**SigningKey.generate(0, algorithm="RS256").to_json(), "kid": "old"},
        {**SigningKey.generate(clock.now - 1).to_json(), "kid": "new"},
    ]
    ring = key_ring_for(json.dumps(keys), Path("/unused"), 30 * DAY, clock)
    assert [(k["kid"], k["alg"]) for k in ring.jwks()["keys"]] == [
        ("new", "EdDSA"),
        ("old", "RS256"),
    ]
