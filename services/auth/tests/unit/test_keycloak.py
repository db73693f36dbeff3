"""The Keycloak provider against the HTTP exchanges python-keycloak makes.

Keycloak cannot run on this machine, so this is the one place where HTTP is mocked (respx):
the routes below are Keycloak's admin and OpenID Connect endpoints as python-keycloak 7.1.1
calls them. Everything else in AuthApi's tests talks to real servers.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from nudges_auth.adapters.identity import (
    IdentityUnavailable,
    KeycloakIdentity,
    OidcLoginFailed,
)
from nudges_kit.auth import user_id_for

KC = "http://keycloak.test"
REALM = f"{KC}/realms/nudges"
ADMIN = f"{KC}/admin/realms/nudges"
TOKEN_URL = f"{REALM}/protocol/openid-connect/token"
PHONE_HASH = "a" * 64

_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_JWK = {**json.loads(RSAAlgorithm.to_jwk(_KEY.public_key())), "kid": "kc-1", "alg": "RS256"}


def keycloak_token(**claims: Any) -> str:
    now = int(time.time())
    body = {"iss": REALM, "iat": now, "exp": now + 300, "sub": "kc-user-1", **claims}
    return jwt.encode(body, _KEY, algorithm="RS256", headers={"kid": "kc-1"})


def _token_response(access_token: str) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "access_token": access_token,
            "expires_in": 300,
            "refresh_expires_in": 0,
            "token_type": "Bearer",
        },
    )


@pytest.fixture
def keycloak() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        router.get(f"{REALM}/protocol/openid-connect/certs").respond(json={"keys": [_JWK]})
        router.get(f"{REALM}/.well-known/openid-configuration").respond(
            json={
                "issuer": REALM,
                "authorization_endpoint": f"{REALM}/protocol/openid-connect/auth",
                "token_endpoint": TOKEN_URL,
            }
        )
        yield router


@pytest.fixture
async def provider() -> AsyncIterator[KeycloakIdentity]:
    identity = KeycloakIdentity(KC, "nudges", "nudges-auth", "auth-secret")
    yield identity
    await identity.close()


def _form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def _admin_token_route(router: respx.MockRouter) -> respx.Route:
    return router.post(TOKEN_URL, data__contains={"grant_type": "client_credentials"}).mock(
        return_value=_token_response("admin-token")
    )


async def test_a_new_number_becomes_a_keycloak_user_with_its_role(
    keycloak: respx.MockRouter, provider: KeycloakIdentity
) -> None:
    admin_token = _admin_token_route(keycloak)
    lookup = keycloak.get(f"{ADMIN}/users").respond(json=[])
    create = keycloak.post(f"{ADMIN}/users").respond(
        201, headers={"Location": f"{ADMIN}/users/kc-42"}
    )
    available = keycloak.get(f"{ADMIN}/users/kc-42/role-mappings/realm/available").respond(
        json=[{"id": "r-1", "name": "client"}, {"id": "r-9", "name": "admin"}]
    )
    assign = keycloak.post(f"{ADMIN}/users/kc-42/role-mappings/realm").respond(204)

    person = await provider.ensure_person(PHONE_HASH, "es", "client")

    assert person.user_id == user_id_for(PHONE_HASH)
    assert person.provider_id == "kc-42"
    assert _form(admin_token.calls[0].request)["client_id"] == "nudges-auth"
    query = parse_qs(urlsplit(str(lookup.calls[0].request.url)).query)
    assert query["username"] == [PHONE_HASH]
    assert query["exact"] == ["true"]
    assert lookup.calls[0].request.headers["authorization"] == "Bearer admin-token"
    assert json.loads(create.calls[0].request.content) == {
        "username": PHONE_HASH,
        "enabled": True,
        "attributes": {"phone_hash": [PHONE_HASH], "locale": ["es"]},
    }
    assert available.called
    assert json.loads(assign.calls[0].request.content) == [{"id": "r-1", "name": "client"}]


async def test_a_returning_user_keeps_their_keycloak_user(
    keycloak: respx.MockRouter, provider: KeycloakIdentity
) -> None:
    _admin_token_route(keycloak)
    existing = {
        "id": "kc-7",
        "username": PHONE_HASH,
        "attributes": {"phone_hash": [PHONE_HASH], "locale": ["en"]},
    }
    keycloak.get(f"{ADMIN}/users").respond(json=[existing])
    create = keycloak.post(f"{ADMIN}/users").respond(201)
    update = keycloak.put(f"{ADMIN}/users/kc-7").respond(204)
    # The user already holds "subscriber": it is not among the roles still available.
    keycloak.get(f"{ADMIN}/users/kc-7/role-mappings/realm/available").respond(
        json=[{"id": "r-1", "name": "client"}]
    )
    assign = keycloak.post(f"{ADMIN}/users/kc-7/role-mappings/realm").respond(204)

    person = await provider.ensure_person(PHONE_HASH, "fr", "subscriber")

    assert person.provider_id == "kc-7"
    assert not create.called
    assert not assign.called
    assert json.loads(update.calls[0].request.content)["attributes"]["locale"] == ["fr"]


async def test_an_unreachable_keycloak_is_unavailable_not_a_crash(
    keycloak: respx.MockRouter, provider: KeycloakIdentity
) -> None:
    keycloak.post(TOKEN_URL).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(IdentityUnavailable):
        await provider.ensure_person(PHONE_HASH, "en", "client")


async def test_the_login_url_carries_state_and_an_s256_challenge(
    keycloak: respx.MockRouter, provider: KeycloakIdentity
) -> None:
    url = await provider.authorization_url(
        state="st", code_challenge="ch", redirect_uri="http://127.0.0.1:4001/auth/callback"
    )
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{REALM}/protocol/openid-connect/auth"
    assert parse_qs(parts.query) == {
        "client_id": ["nudges-auth"],
        "response_type": ["code"],
        "redirect_uri": ["http://127.0.0.1:4001/auth/callback"],
        "scope": ["openid"],
        "state": ["st"],
        "code_challenge": ["ch"],
        "code_challenge_method": ["S256"],
    }


async def test_the_code_is_exchanged_with_its_verifier(
    keycloak: respx.MockRouter, provider: KeycloakIdentity
) -> None:
    token = keycloak_token(
        preferred_username=PHONE_HASH, realm_access={"roles": ["admin", "offline_access"]}
    )
    exchange = keycloak.post(TOKEN_URL).mock(return_value=_token_response(token))

    found = await provider.exchange_code(code="c0de", code_verifier="v" * 64, redirect_uri="r")

    sent = _form(exchange.calls[0].request)
    assert sent["grant_type"] == "authorization_code"
    assert (sent["code"], sent["code_verifier"], sent["redirect_uri"]) == ("c0de", "v" * 64, "r")
    assert sent["client_secret"] == "auth-secret"
    assert found.roles == frozenset({"admin"})
    assert found.user_id == user_id_for(PHONE_HASH)
    assert found.phone_hash == PHONE_HASH


async def test_staff_without_a_phone_keep_their_keycloak_subject(
    keycloak: respx.MockRouter, provider: KeycloakIdentity
) -> None:
    token = keycloak_token(preferred_username="ada", realm_access={"roles": ["admin"]})
    keycloak.post(TOKEN_URL).mock(return_value=_token_response(token))
    found = await provider.exchange_code(code="c", code_verifier="v", redirect_uri="r")
    assert (found.user_id, found.phone_hash) == ("kc-user-1", None)


async def test_a_refused_code_or_a_forged_token_fails_the_login(
    keycloak: respx.MockRouter, provider: KeycloakIdentity
) -> None:
    route = keycloak.post(TOKEN_URL)
    forged_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        {"sub": "x", "exp": int(time.time()) + 60}, forged_key, "RS256", headers={"kid": "kc-1"}
    )
    route.side_effect = [
        httpx.Response(400, json={"error": "invalid_grant"}),
        _token_response(forged),
    ]
    with pytest.raises(OidcLoginFailed):
        await provider.exchange_code(code="used", code_verifier="v", redirect_uri="r")
    with pytest.raises(OidcLoginFailed):
        await provider.exchange_code(code="c", code_verifier="v", redirect_uri="r")
