"""Admin login through Keycloak (authorization code with PKCE S256): the whole round trip
through AuthApi with real WarpCache and broker, Keycloak's HTTP answered by respx (Keycloak
cannot run here); and a clear 404 where Keycloak is not configured."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from nudges_kit.auth import user_id_for

if TYPE_CHECKING:
    from conftest import Stack

AppWith = Callable[..., Awaitable[httpx.AsyncClient]]
KC = "http://keycloak.test"
REALM = f"{KC}/realms/nudges"
TOKEN_URL = f"{REALM}/protocol/openid-connect/token"
ADMIN_UI = "http://admin.test/"
PHONE_HASH = "b" * 64

_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_JWK = {**json.loads(RSAAlgorithm.to_jwk(_KEY.public_key())), "kid": "kc", "alg": "RS256"}


def _keycloak_tokens(roles: list[str]) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "iss": REALM,
        "sub": "kc-admin",
        "iat": now,
        "exp": now + 300,
        "preferred_username": PHONE_HASH,
        "realm_access": {"roles": roles},
    }
    token = jwt.encode(claims, _KEY, algorithm="RS256", headers={"kid": "kc"})
    return {"access_token": token, "expires_in": 300, "token_type": "Bearer"}


@pytest.fixture
def keycloak() -> Iterator[respx.MockRouter]:
    # Only Keycloak's host is mocked; the real servers of the session are passed through.
    with respx.mock(assert_all_called=False) as router:
        router.route(host="127.0.0.1").pass_through()
        router.get(f"{REALM}/.well-known/openid-configuration").respond(
            json={"authorization_endpoint": f"{REALM}/protocol/openid-connect/auth"}
        )
        router.get(f"{REALM}/protocol/openid-connect/certs").respond(json={"keys": [_JWK]})
        yield router


async def _keycloak_app(app_with: AppWith) -> httpx.AsyncClient:
    return await app_with(
        keycloak_url=KC, keycloak_client_secret="auth-secret", admin_ui_url=ADMIN_UI
    )


async def _start(client: httpx.AsyncClient) -> dict[str, str]:
    started = await client.get("/login")
    assert started.status_code == 302, started.text
    location = urlsplit(started.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}".startswith(REALM)
    return {k: v[0] for k, v in parse_qs(location.query).items()}


async def test_an_admin_signs_in_through_keycloak(
    stack: Stack, app_with: AppWith, keycloak: respx.MockRouter
) -> None:
    client = await _keycloak_app(app_with)
    exchange = keycloak.post(TOKEN_URL).respond(
        json=_keycloak_tokens(["admin", "default-roles-nudges"])
    )
    query = await _start(client)
    assert query["code_challenge_method"] == "S256"
    assert query["redirect_uri"] == "http://127.0.0.1:80/auth/callback"

    back = await client.get("/callback", params={"code": "kc-code", "state": query["state"]})
    assert back.status_code == 303, back.text
    assert back.headers["location"] == ADMIN_UI
    sent = {k: v[0] for k, v in parse_qs(exchange.calls[0].request.content.decode()).items()}
    assert sent["code"] == "kc-code"
    digest = hashlib.sha256(sent["code_verifier"].encode()).digest()
    assert base64.urlsafe_b64encode(digest).decode().rstrip("=") == query["code_challenge"]

    token_id = back.cookies["TokenId"]
    session = await client.get("/session", headers={"Cookie": f"TokenId={token_id}"})
    principal = await stack.verify(session.json()["access_token"])
    assert principal.roles == frozenset({"admin"})
    assert principal.subject == user_id_for(PHONE_HASH)

    # The state was for one login only.
    again = await client.get("/callback", params={"code": "kc-code", "state": query["state"]})
    assert again.status_code == 400


async def test_keycloak_users_without_the_admin_role_are_refused(
    app_with: AppWith, keycloak: respx.MockRouter
) -> None:
    client = await _keycloak_app(app_with)
    keycloak.post(TOKEN_URL).respond(json=_keycloak_tokens(["client"]))
    query = await _start(client)
    back = await client.get("/callback", params={"code": "c", "state": query["state"]})
    assert back.status_code == 403
    assert "set-cookie" not in back.headers
    denied = await client.get("/callback", params={"error": "access_denied", "state": "x"})
    assert denied.status_code == 400
    forged = await client.get("/callback", params={"code": "c", "state": "never-issued"})
    assert forged.status_code == 400


async def test_without_keycloak_the_oidc_routes_say_so(http: httpx.AsyncClient) -> None:
    for path in ("/login", "/callback?code=c&state=s"):
        answer = await http.get(path)
        assert answer.status_code == 404
        assert "KEYCLOAK_URL" in answer.json()["detail"]


async def test_the_openapi_document_is_published(http: httpx.AsyncClient) -> None:
    spec = (await http.get("/openapi.json")).json()
    for path in ("/auth/otp", "/auth/otp/verify", "/auth/refresh", "/auth/logout",
                 "/auth/token", "/auth/session", "/auth/login", "/auth/callback",
                 "/auth/.well-known/jwks.json"):  # fmt: skip
        assert path in spec["paths"], path
    assert (await http.get("/docs")).status_code == 200
