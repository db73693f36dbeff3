"""Sessions: the TokenId cookie, the session lookup, refresh rotation with reuse detection,
and logout."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from nudges_kit.sessions import (
    JWT_ID_CLAIM,
    LOGIN_CLAIM,
    revocation_keys,
    revoked_login_key,
    revoked_token_key,
)
from nudges_kit.settings import development_warpcache_token
from nudges_kit.warpcache import WarpCacheClient

if TYPE_CHECKING:
    from conftest import Stack


def _cookie(response: httpx.Response, name: str) -> str:
    return next(v for v in response.headers.get_list("set-cookie") if v.startswith(f"{name}="))


async def _session(http: httpx.AsyncClient, token_id: str) -> httpx.Response:
    return await http.get("/session", headers={"Cookie": f"TokenId={token_id}"})


async def test_the_token_id_cookie_is_httponly_lax_and_secure_over_https(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    verified = await stack.login(http, stack.new_phone())
    cookie = _cookie(verified, "TokenId").lower()
    for flag in ("httponly", "samesite=lax", "path=/;", "max-age=900"):
        assert flag in cookie + ";", cookie
    assert "secure" not in cookie
    refresh_cookie = _cookie(verified, "RefreshToken").lower()
    assert "httponly" in refresh_cookie
    assert "path=/auth" in refresh_cookie

    # Behind the TLS-terminating proxy the request was HTTPS: the cookies are Secure.
    phone = stack.new_phone()
    after = stack.sms_count()
    await http.post("/otp", json={"phone": phone, "role": "client"})
    code = await stack.code_sent_to(phone, after)
    secure = await http.post(
        "/otp/verify",
        json={"phone": phone, "code": code, "role": "client"},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert "; secure" in _cookie(secure, "TokenId").lower()


async def test_a_session_id_resolves_to_its_jwt(stack: Stack, http: httpx.AsyncClient) -> None:
    verified = await stack.login(http, stack.new_phone())
    token_id = verified.cookies["TokenId"]
    by_cookie = await _session(http, token_id)
    by_bearer = await http.get("/session", headers={"Authorization": f"Bearer {token_id}"})
    assert by_cookie.status_code == by_bearer.status_code == 200
    assert by_cookie.json() == {
        "access_token": verified.json()["access_token"],
        "token_type": "Bearer",
    }
    assert by_cookie.headers["cache-control"] == "no-store"
    assert (await http.get("/session")).status_code == 401
    jwt_as_id = await http.get(
        "/session", headers={"Authorization": f"Bearer {verified.json()['access_token']}"}
    )
    assert jwt_as_id.status_code == 401
    assert (await _session(http, "x" * 43)).status_code == 401


async def test_refresh_tokens_rotate_and_reuse_revokes_the_family(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    verified = await stack.login(http, stack.new_phone())
    first = verified.json()
    first_id = verified.cookies["TokenId"]

    rotated = await http.post("/refresh", json={"refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    second_id = rotated.cookies["TokenId"]
    assert second["refresh_token"] != first["refresh_token"]
    assert second_id != first_id
    old, new = await stack.verify(first["access_token"]), await stack.verify(second["access_token"])
    assert old.subject == new.subject
    assert old.claims["jti"] != new.claims["jti"]
    assert (await _session(http, first_id)).status_code == 401
    assert (await _session(http, second_id)).status_code == 200

    # The refresh token from the cookie works too.
    third = await http.post(
        "/refresh", headers={"Cookie": f"RefreshToken={second['refresh_token']}"}
    )
    assert third.status_code == 200
    third_id = third.cookies["TokenId"]

    # Someone replays the first refresh token: the whole login is revoked.
    replay = await http.post("/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    assert "revoked" in replay.json()["detail"]
    latest = await http.post("/refresh", json={"refresh_token": third.json()["refresh_token"]})
    assert latest.status_code == 401
    assert (await _session(http, third_id)).status_code == 401

    assert (await http.post("/refresh", json={"refresh_token": "made-up"})).status_code == 401
    assert (await http.post("/refresh")).status_code == 401


async def test_logout_revokes_the_session_and_its_refresh_tokens(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    verified = await stack.login(http, stack.new_phone())
    token_id = verified.cookies["TokenId"]
    refresh_token = verified.json()["refresh_token"]
    assert (await _session(http, token_id)).status_code == 200

    out = await http.post("/logout", headers={"Cookie": f"TokenId={token_id}"})
    assert out.status_code == 204
    assert any(c.startswith('TokenId=""') or "max-age=0" in c.lower() for c in
               out.headers.get_list("set-cookie"))  # fmt: skip
    assert (await _session(http, token_id)).status_code == 401
    assert (await http.post("/refresh", json={"refresh_token": refresh_token})).status_code == 401
    # Logging out twice is fine.
    assert (await http.post("/logout")).status_code == 204


async def test_logout_with_a_bearer_id_and_refresh_token(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    verified = await stack.login(http, stack.new_phone(), "subscriber")
    token_id = verified.cookies["TokenId"]
    out = await http.post(
        "/logout",
        json={"refresh_token": verified.json()["refresh_token"]},
        headers={"Authorization": f"Bearer {token_id}"},
    )
    assert out.status_code == 204
    assert (await _session(http, token_id)).status_code == 401


async def _revocation_marks(stack: Stack, claims: dict[str, Any]) -> set[str]:
    """The revocation keys of a token that are in WarpCache."""
    async with WarpCacheClient(stack.warpcache, token=development_warpcache_token("auth")) as cache:
        return {key for key in revocation_keys(claims) if await cache.get(key) is not None}


async def test_ending_a_login_revokes_its_access_tokens_in_warpcache(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    """What the gateway reads: a token names its login (``sid``), and logout and reuse mark
    the login revoked (and logout the session's own token) for the rest of its life."""
    signed_out = await stack.login(http, stack.new_phone())
    claims = (await stack.verify(signed_out.json()["access_token"])).claims
    assert isinstance(claims[LOGIN_CLAIM], str)
    assert claims[LOGIN_CLAIM]
    kept = await stack.login(http, stack.new_phone())
    kept_claims = (await stack.verify(kept.json()["access_token"])).claims
    assert kept_claims[LOGIN_CLAIM] != claims[LOGIN_CLAIM]
    assert await _revocation_marks(stack, claims) == set()

    out = await http.post("/logout", headers={"Cookie": f"TokenId={signed_out.cookies['TokenId']}"})
    assert out.status_code == 204
    assert await _revocation_marks(stack, claims) == {
        revoked_login_key(claims[LOGIN_CLAIM]),
        revoked_token_key(claims[JWT_ID_CLAIM]),
    }
    assert await _revocation_marks(stack, kept_claims) == set()

    # A reused refresh token revokes the login of every token issued in it.
    rotated = await http.post("/refresh", json={"refresh_token": kept.json()["refresh_token"]})
    renewed_claims = (await stack.verify(rotated.json()["access_token"])).claims
    assert renewed_claims[LOGIN_CLAIM] == kept_claims[LOGIN_CLAIM]
    replay = await http.post("/refresh", json={"refresh_token": kept.json()["refresh_token"]})
    assert replay.status_code == 401
    for revoked in (kept_claims, renewed_claims):
        assert revoked_login_key(revoked[LOGIN_CLAIM]) in await _revocation_marks(stack, revoked)
