"""Machine accounts: client credentials for a service token, and the kit's provider that
caches it."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import httpx
import pytest

from nudges_kit.service_auth import ServiceTokenError, ServiceTokenProvider

if TYPE_CHECKING:
    from conftest import Stack

SECRET = "dev-only-consumers-secret"


async def test_client_credentials_give_a_service_token(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    by_form = await http.post(
        "/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "consumers",
            "client_secret": SECRET,
        },
    )
    by_basic = await http.post(
        "/token",
        data={"grant_type": "client_credentials"},
        auth=("webhooks", "dev-only-webhooks-secret"),
    )
    assert by_form.status_code == by_basic.status_code == 200, by_form.text
    assert by_form.headers["cache-control"] == "no-store"
    body = by_form.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    consumers = await stack.verify(body["access_token"])
    webhooks = await stack.verify(by_basic.json()["access_token"])
    assert (consumers.subject, consumers.roles) == ("consumers", frozenset({"service"}))
    assert webhooks.subject == "webhooks"
    assert consumers.phone_hash is None
    assert "client_id" not in consumers.claims


async def test_subgraph_accounts_may_write_to_the_registry(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    for name in ("user", "product", "payment"):
        response = await http.post(
            "/token",
            data={"grant_type": "client_credentials"},
            auth=(name, f"dev-only-{name}-secret"),
        )
        assert response.status_code == 200, response.text
        principal = await stack.verify(response.json()["access_token"])
        assert (principal.subject, principal.roles) == (name, frozenset({"service"}))
        assert principal.scopes == {"registry:write"}
    consumers = await http.post(
        "/token", data={"grant_type": "client_credentials"}, auth=("consumers", SECRET)
    )
    assert (await stack.verify(consumers.json()["access_token"])).scopes == frozenset()


async def test_wrong_or_missing_credentials_are_refused(http: httpx.AsyncClient) -> None:
    wrong = await http.post(
        "/token",
        data={"grant_type": "client_credentials", "client_id": "consumers", "client_secret": "x"},
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    assert wrong.headers["www-authenticate"].startswith("Basic")
    unknown = await http.post("/token", data={"grant_type": "client_credentials"}, auth=("a", "b"))
    assert unknown.status_code == 401
    missing = await http.post("/token", data={"grant_type": "client_credentials"})
    assert missing.status_code == 401
    grant = await http.post(
        "/token", data={"grant_type": "password", "client_id": "consumers", "client_secret": SECRET}
    )
    assert grant.status_code == 400
    assert grant.json()["error"] == "unsupported_grant_type"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_the_service_token_provider_caches_and_refreshes_early(stack: Stack) -> None:
    clock = Clock()
    async with ServiceTokenProvider(
        f"{stack.auth_url}/token", "consumers", SECRET, clock=clock
    ) as provider:
        # Concurrent callers share one fetch.
        tokens = await asyncio.gather(*(provider.token() for _ in range(10)))
        assert len(set(tokens)) == 1
        assert provider.fetches == 1
        assert (await stack.verify(tokens[0])).subject == "consumers"

        clock.now += 900 - 61
        assert await provider.token() == tokens[0]
        assert provider.fetches == 1
        # Within 60 seconds of its expiry the token is replaced.
        clock.now += 2
        fresh = await provider.token()
        assert fresh != tokens[0]
        assert provider.fetches == 2
        assert await provider.headers() == {"Authorization": f"Bearer {fresh}"}

        provider.invalidate()
        await provider.token()
        assert provider.fetches == 3


async def test_the_provider_reports_refused_credentials(stack: Stack) -> None:
    async with ServiceTokenProvider(f"{stack.auth_url}/token", "consumers", "wrong") as provider:
        with pytest.raises(ServiceTokenError) as refused:
            await provider.token()
        assert refused.value.status_code == 401
