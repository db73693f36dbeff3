"""The revocation keys AuthApi writes and the gateway reads: named from a token's login
(``sid``) and own id (``jti``), and a token is revoked when any of them is present."""

from __future__ import annotations

import jwt

from nudges_kit.sessions import (
    is_revoked,
    revocation_keys,
    revoked_login_key,
    revoked_token_key,
    unverified_claims,
)


class Present:
    """A cache holding only ``keys`` (the lookup logic is pure; WarpCache is tested elsewhere)."""

    def __init__(self, *keys: str) -> None:
        self.keys = set(keys)
        self.asked: list[str] = []

    async def get(self, key: str) -> bytes | None:
        self.asked.append(key)
        return b"1" if key in self.keys else None


def test_keys_share_the_revoked_prefix() -> None:
    assert revoked_login_key("f1") == "revoked:sid:f1"
    assert revoked_token_key("j1") == "revoked:jti:j1"
    assert revocation_keys({"sid": "f1", "jti": "j1", "sub": "u"}) == [
        "revoked:sid:f1",
        "revoked:jti:j1",
    ]
    assert revocation_keys({"sub": "u", "sid": "", "jti": 7}) == []


async def test_a_token_is_revoked_by_its_login_or_its_own_id() -> None:
    claims = {"sid": "f1", "jti": "j1"}
    assert not await is_revoked(Present(), claims)
    assert await is_revoked(Present("revoked:sid:f1"), claims)
    assert await is_revoked(Present("revoked:jti:j1"), claims)
    assert not await is_revoked(Present("revoked:sid:f2"), claims)
    nothing_asked = Present()
    assert not await is_revoked(nothing_asked, {"sub": "machine"})
    assert nothing_asked.asked == []


def test_claims_are_read_without_the_key() -> None:
    token = jwt.encode({"sid": "f1", "exp": 1}, "k" * 32, algorithm="HS256")
    assert unverified_claims(token) == {"sid": "f1", "exp": 1}
    assert unverified_claims("not.a.jwt") is None
