"""The adapters at PaymentApi's edges, against real HTTP servers: the Stripe emulator through
the official library, and the subgraphs it asks for price tiers and Stripe customers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest
import stripe
from prometheus_client import REGISTRY

from nudges_devstack.infra import free_port
from nudges_kit.errors import PaymentProviderFailed, UpstreamUnavailable
from nudges_kit.operations import Subgraph
from nudges_kit.service_auth import ServiceTokenProvider
from nudges_kit.service_client import ServiceClient
from nudges_kit.stripe_version import STRIPE_API_VERSION
from nudges_payment.adapters.stripe_gateway import StripeGateway, SubscriptionCheckout
from nudges_payment.adapters.subgraphs import (
    EntityLookups,
    ProductApiCatalog,
    UserApiDirectory,
)
from nudges_payment.domain.model import (
    ClientAccount,
    PriceTierOffer,
    PriceTierStatus,
)

if TYPE_CHECKING:
    from conftest import OtherSubgraphs, StripeWorld


@pytest.fixture
async def gateway(stripe_world: StripeWorld) -> AsyncIterator[StripeGateway]:
    gateway = StripeGateway("sk_test_adapter", stripe_world.url, max_network_retries=0)
    yield gateway
    await gateway.close()


def _subgraphs(
    url: str, tokens: ServiceTokenProvider | None = None, timeout: float = 5.0
) -> ServiceClient:
    """The client PaymentApi calls ProductApi and UserApi with, on the stand-ins at ``url``."""
    return ServiceClient(
        {Subgraph.PRODUCT: f"{url}/product/graphql", Subgraph.USER: f"{url}/user/graphql"},
        tokens,
        timeout=timeout,
    )


def _checkout(stripe_world: StripeWorld, key: str) -> SubscriptionCheckout:
    return SubscriptionCheckout(
        customer_id=stripe_world.customer_id,
        price_id=stripe_world.price_id,
        promotion_code_id=None,
        success_url="https://nudges.test/ok",
        cancel_url="https://nudges.test/cancel",
        metadata={"client_id": str(uuid.uuid4())},
        idempotency_key=key,
    )


async def test_finds_a_promotion_code_by_its_code(
    gateway: StripeGateway, stripe_world: StripeWorld
) -> None:
    assert await gateway.promotion_code_id(stripe_world.promotion_code) == (
        stripe_world.promotion_code_id
    )
    assert await gateway.promotion_code_id(stripe_world.promotion_code.lower()) == (
        stripe_world.promotion_code_id
    )
    assert await gateway.promotion_code_id("NOSUCHCODE") is None


async def test_one_idempotency_key_opens_one_stripe_session(
    gateway: StripeGateway, stripe_world: StripeWorld
) -> None:
    key = f"test-{uuid.uuid4().hex}"
    request = _checkout(stripe_world, key)
    first = await gateway.open_subscription_checkout(request)
    again = await gateway.open_subscription_checkout(request)
    assert again == first
    assert first.url.startswith(stripe_world.url)
    assert first.expires_at is not None
    other = await gateway.open_subscription_checkout(_checkout(stripe_world, key + "-other"))
    assert other.stripe_session_id != first.stripe_session_id


async def test_a_price_stripe_does_not_know_says_to_try_again_in_a_moment(
    gateway: StripeGateway, stripe_world: StripeWorld
) -> None:
    # A price id of another Stripe account (or of an emulator whose state was wiped).
    request = replace(
        _checkout(stripe_world, f"test-{uuid.uuid4().hex}"), price_id="price_0000000000lost"
    )
    with pytest.raises(PaymentProviderFailed) as caught:
        await gateway.open_subscription_checkout(request)
    assert caught.value.reason == "resource_missing"
    assert "try again in a moment" in str(caught.value)
    assert "price_0000000000lost" not in str(caught.value)


async def test_an_unreachable_stripe_is_a_safe_provider_error(stripe_world: StripeWorld) -> None:
    gateway = StripeGateway(
        "sk_test_adapter", f"http://127.0.0.1:{free_port()}", timeout=2, max_network_retries=0
    )
    try:
        with pytest.raises(PaymentProviderFailed) as caught:
            await gateway.open_subscription_checkout(_checkout(stripe_world, "unreachable"))
    finally:
        await gateway.close()
    assert "127.0.0.1" not in str(caught.value)
    assert caught.value.reason == "APIConnectionError"


async def test_asks_product_api_for_a_price_tier(subgraphs: OtherSubgraphs) -> None:
    tier_id = uuid.uuid4()
    subgraphs.price_tiers[str(tier_id)] = {
        "id": str(tier_id),
        "status": "INACTIVE",
        "stripePriceId": "price_1",
    }
    client = _subgraphs(subgraphs.url)
    catalog = ProductApiCatalog(EntityLookups(client, service_token="service-token"))
    subgraphs.seen_tokens.clear()
    try:
        assert await catalog.price_tier(tier_id, "caller-token") == PriceTierOffer(
            tier_id, PriceTierStatus.INACTIVE, "price_1"
        )
        assert await catalog.price_tier(uuid.uuid4(), "caller-token") is None
    finally:
        await client.aclose()
    # A configured service token is used instead of the caller's.
    assert subgraphs.seen_tokens == [("product", "Bearer service-token")] * 2


async def test_asks_user_api_for_a_clients_stripe_customer(subgraphs: OtherSubgraphs) -> None:
    ready, pending = uuid.uuid4(), uuid.uuid4()
    subgraphs.clients[str(ready)] = {"id": str(ready), "stripeCustomerId": "cus_1"}
    subgraphs.clients[str(pending)] = {"id": str(pending), "stripeCustomerId": None}
    client = _subgraphs(subgraphs.url)
    directory = UserApiDirectory(EntityLookups(client, forward_caller=True))
    try:
        assert await directory.client_account(ready, None) == ClientAccount(ready, "cus_1")
        assert await directory.client_account(pending, None) == ClientAccount(pending, None)
        assert await directory.client_account(uuid.uuid4(), None) is None
    finally:
        await client.aclose()


@pytest.mark.parametrize("status", [500, 503])
async def test_a_failing_subgraph_is_unavailable(subgraphs: OtherSubgraphs, status: int) -> None:
    client = _subgraphs(subgraphs.url)
    catalog = ProductApiCatalog(EntityLookups(client, forward_caller=True))
    subgraphs.failing_status = status
    try:
        with pytest.raises(UpstreamUnavailable):
            await catalog.price_tier(uuid.uuid4(), None)
    finally:
        subgraphs.failing_status = None
        await client.aclose()


async def test_an_unreachable_subgraph_is_unavailable() -> None:
    client = _subgraphs(f"http://127.0.0.1:{free_port()}", timeout=2)
    catalog = ProductApiCatalog(EntityLookups(client, forward_caller=True))
    try:
        with pytest.raises(UpstreamUnavailable):
            await catalog.price_tier(uuid.uuid4(), None)
    finally:
        await client.aclose()


@pytest.mark.parametrize(("code", "absent"), [("NOT_FOUND", True), ("FORBIDDEN", False)])
async def test_a_refused_lookup_is_unavailable_and_a_missing_entity_is_absent(
    subgraphs: OtherSubgraphs, code: str, absent: bool
) -> None:
    client = _subgraphs(subgraphs.url)
    catalog = ProductApiCatalog(EntityLookups(client, forward_caller=True))
    subgraphs.refusing_code = code
    try:
        if absent:
            assert await catalog.price_tier(uuid.uuid4(), None) is None
        else:
            with pytest.raises(UpstreamUnavailable):
                await catalog.price_tier(uuid.uuid4(), None)
    finally:
        subgraphs.refusing_code = None
        await client.aclose()


async def test_the_gateway_speaks_the_pinned_stripe_api_version(
    gateway: StripeGateway, stripe_world: StripeWorld
) -> None:
    # The emulator refuses any other Stripe-Version, so a call that works proves the pin.
    assert stripe.api_version == STRIPE_API_VERSION
    assert await gateway.promotion_code_id(stripe_world.promotion_code) is not None
    other = StripeGateway("sk_test_adapter", stripe_world.url, max_network_retries=0)
    other._client._requestor._options.stripe_version = "2024-06-20"
    try:
        with pytest.raises(PaymentProviderFailed):
            await other.promotion_code_id(stripe_world.promotion_code)
    finally:
        await other.close()


async def test_a_refused_machine_account_makes_the_lookup_unavailable(
    subgraphs: OtherSubgraphs,
) -> None:
    """No silent fallback to the caller's token when PaymentApi cannot get its own."""
    tokens = ServiceTokenProvider(f"http://127.0.0.1:{free_port()}/auth/token", "payment", "x")
    client = _subgraphs(subgraphs.url, tokens)
    catalog = ProductApiCatalog(EntityLookups(client))
    subgraphs.seen_tokens.clear()
    try:
        with pytest.raises(UpstreamUnavailable):
            await catalog.price_tier(uuid.uuid4(), "caller-token")
    finally:
        await client.aclose()
        await tokens.aclose()
    assert subgraphs.seen_tokens == []


def _stripe_calls(operation: str, outcome: str) -> float:
    labels = {"provider": "stripe", "operation": operation, "outcome": outcome}
    return REGISTRY.get_sample_value("nudges_provider_calls_total", labels) or 0.0


async def test_stripe_call_outcomes_are_counted(
    gateway: StripeGateway, stripe_world: StripeWorld
) -> None:
    ok = _stripe_calls("create checkout session", "ok")
    await gateway.open_subscription_checkout(_checkout(stripe_world, f"m-{uuid.uuid4().hex}"))
    assert _stripe_calls("create checkout session", "ok") == ok + 1

    away = StripeGateway(
        "sk_test_adapter", f"http://127.0.0.1:{free_port()}", timeout=2, max_network_retries=0
    )
    unavailable = _stripe_calls("create checkout session", "unavailable")
    try:
        with pytest.raises(PaymentProviderFailed):
            await away.open_subscription_checkout(_checkout(stripe_world, "counted-unreachable"))
    finally:
        await away.close()
    assert _stripe_calls("create checkout session", "unavailable") == unavailable + 1
