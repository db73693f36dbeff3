"""ProductApi on a migrated database of its own (its consumers running on the session's
broker), with tokens from a test issuer, and a ``Shop`` that sets up plans, tiers and
discount codes through the graph, and subscriptions through the use case its consumers call."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from fastapi.testclient import TestClient

from nudges_devstack.infra import Postgres, TansuBroker
from nudges_devstack.testing import (
    SubgraphClient,
    TokenIssuer,
    create_migrated_database,
    drop_database,
)
from nudges_kit.db import create_pool
from nudges_kit.events import REGISTRY, Envelope
from nudges_kit.events.catalog.providers import StripeEventData, stripe_event
from nudges_kit.kafka import make_producer, start_client
from nudges_kit.phone import PhoneVault
from nudges_kit.settings import NudgesSettings, with_database
from nudges_product.domain.model import PlanSubscription
from nudges_product.domain.subscriptions import SubscriptionNews
from nudges_product.entrypoints.http import build_app
from nudges_product.migrations import migration_set
from nudges_product.service_layer.plans import set_price_tier_stripe_price
from nudges_product.service_layer.subscriptions import apply_subscription_news
from nudges_product.settings import ProductSettings

T = TypeVar("T")

CREATE_PLAN = """
mutation($input: CreatePlanInput!) { createPlan(input: $input) { id } }
"""
CREATE_TIER = """
mutation($planId: ID!, $input: CreatePriceTierInput!) {
  createPriceTier(planId: $planId, input: $input) { id }
}
"""
CREATE_DISCOUNT = """
mutation($input: CreateDiscountCodeInput!) { createDiscountCode(input: $input) { id code } }
"""


class Shop:
    """Sets up the catalogue as an admin, and subscriptions as ProductApi's consumers do."""

    def __init__(self, api: SubgraphClient) -> None:
        self.api = api
        self.admin = api.issuer.token("admin-1", "admin")
        self.service = api.service_token()
        self.subscriber = api.issuer.token("subscriber-1", "subscriber")

    def client_token(self, client_id: str) -> str:
        """A client's token: the ``client_id`` claim names the client it speaks for."""
        return self.api.issuer.token(f"user-of-{client_id}", "client", client_id=client_id)

    def plan(
        self,
        name: str | None = None,
        tiers: tuple[tuple[int, str, str], ...] = ((900, "usd", "MONTH"),),
        messages_per_period: int = 100,
    ) -> dict[str, Any]:
        """A new active plan with ``tiers`` of (amount, currency, interval); its id and tier ids."""
        plan_id = self.api.ok(
            CREATE_PLAN,
            self.admin,
            input={
                "name": name or f"Plan {uuid.uuid4().hex[:6]}",
                "description": "For tests",
                "features": {
                    "messagesPerPeriod": messages_per_period,
                    "supportTier": "STANDARD",
                    "aiAssist": False,
                },
            },
        )["createPlan"]["id"]
        tier_ids = [self.tier(plan_id, *tier) for tier in tiers]
        return {"id": plan_id, "tiers": tier_ids}

    def tier(
        self, plan_id: str, amount: int = 900, currency: str = "usd", interval: str = "MONTH"
    ) -> str:
        return str(
            self.api.ok(
                CREATE_TIER,
                self.admin,
                planId=plan_id,
                input={
                    "name": f"Tier {uuid.uuid4().hex[:6]}",
                    "amount": amount,
                    "currency": currency,
                    "interval": interval,
                },
            )["createPriceTier"]["id"]
        )

    def priced_tier(self, plan_id: str, amount: int = 900, interval: str = "MONTH") -> str:
        """A usd tier whose Stripe Price is recorded (as the catalog sync does)."""
        tier_id = self.tier(plan_id, amount, "usd", interval)
        self.run(set_price_tier_stripe_price, uuid.UUID(tier_id), f"price_{uuid.uuid4().hex}")
        return tier_id

    def archived_plan(self) -> dict[str, Any]:
        plan = self.plan()
        self.api.ok("mutation($id: ID!) { archivePlan(id: $id) { id } }", self.admin, id=plan["id"])
        return plan

    def run(self, use_case: Callable[..., Awaitable[T]], *args: Any) -> T:
        """``use_case(connection, *args)`` on ProductApi's database, as a consumer runs it."""

        async def run() -> T:
            pool = await create_pool(self.api.database_url, min_size=1, max_size=1)
            try:
                async with pool.acquire() as conn:
                    return await use_case(conn, *args)
            finally:
                await pool.close()

        return asyncio.run(run())

    def news(self, stripe_subscription_id: str, **said: Any) -> PlanSubscription:
        """The subscription after Stripe's news ``said`` about it (see ``SubscriptionNews``)."""
        return self.run(apply_subscription_news, SubscriptionNews(stripe_subscription_id, **said))

    def subscribe(
        self, client_id: str, tier_id: str, stripe_subscription_id: str | None = None
    ) -> dict[str, str]:
        """An active subscription of ``client_id`` to ``tier_id`` for the month around now,
        as a paid first invoice reports it."""
        now = datetime.now(UTC)
        stripe_id = stripe_subscription_id or f"sub_{uuid.uuid4().hex}"
        subscription = self.news(
            stripe_id,
            client_id=uuid.UUID(client_id),
            price_tier_id=uuid.UUID(tier_id),
            status="active",
            current_period_start=now - timedelta(days=1),
            current_period_end=now + timedelta(days=29),
        )
        return {"id": str(subscription.id), "stripe_subscription_id": stripe_id}

    def past_due(self, stripe_subscription_id: str) -> PlanSubscription:
        """The subscription past due: its next period's invoice failed."""
        current = self.news(stripe_subscription_id)
        assert current.current_period_end is not None
        return self.news(
            stripe_subscription_id,
            status="past_due",
            current_period_start=current.current_period_end,
            current_period_end=current.current_period_end + timedelta(days=30),
        )

    def discount(self) -> str:
        return str(
            self.api.ok(
                CREATE_DISCOUNT,
                self.admin,
                input={"code": f"SAVE{uuid.uuid4().hex[:8]}", "percentOff": 20, "duration": "ONCE"},
            )["createDiscountCode"]["id"]
        )

    def outbox(self, key: str) -> list[tuple[str, dict[str, Any]]]:
        """The events written for aggregate ``key``, in outbox order: (type, data)."""
        rows = self.api.sql(
            "SELECT event_type, payload FROM outbox WHERE key = %s ORDER BY id", key
        )
        return [(event_type, payload["data"]) for event_type, payload in rows]


@pytest.fixture(scope="session")
def api(postgres: Postgres, kafka_broker: TansuBroker) -> Iterator[SubgraphClient]:
    database = create_migrated_database(postgres.url, migration_set())
    settings = ProductSettings(
        environment="test",
        postgres_url=postgres.url,
        database_name=database,
        kafka_bootstrap_servers=kafka_broker.bootstrap_servers,
    )
    issuer = TokenIssuer()
    vault = PhoneVault(
        settings.phone_encryption_key.get_secret_value(), settings.phone_hash_key.get_secret_value()
    )
    try:
        with TestClient(build_app(settings, issuer.verifier())) as client:
            yield SubgraphClient(client, issuer, vault, with_database(postgres.url, database))
    finally:
        asyncio.run(drop_database(postgres.url, database))


@pytest.fixture(scope="session")
def shop(api: SubgraphClient) -> Shop:
    return Shop(api)


@dataclass(frozen=True)
class Publisher:
    """Puts events on the session's broker, as their producers (PaymentApi, Webhooks, UserApi)
    do, and waits for ProductApi's consumers to handle them."""

    api: SubgraphClient
    bootstrap_servers: str

    def send(self, *envelopes: Envelope) -> None:
        """Publish ``envelopes`` in order (the same one twice is a redelivery)."""

        async def publish() -> None:
            settings = NudgesSettings(kafka_bootstrap_servers=self.bootstrap_servers)
            producer = make_producer(settings)
            await start_client(producer, settings)
            try:
                for envelope in envelopes:
                    topic = REGISTRY.get(envelope.type).topic
                    await producer.send_and_wait(
                        topic, envelope.to_bytes(), key=envelope.key.encode()
                    )
            finally:
                await producer.stop()

        asyncio.run(publish())

    def handled(self, *envelopes: Envelope, within: float = 30.0) -> None:
        """Wait until ProductApi's consumers handled every one of ``envelopes``."""
        ids = list({e.id for e in envelopes})
        deadline = time.monotonic() + within
        query = "SELECT count(DISTINCT event_id) FROM handled_events WHERE event_id = ANY(%s)"
        while self.api.sql(query, ids) != [(len(ids),)]:
            assert time.monotonic() < deadline, f"not handled within {within}s"
            time.sleep(0.1)

    def stripe(self, stripe_type: str, obj: dict[str, Any]) -> Envelope:
        """A verified Stripe event about ``obj`` (its own Stripe event id)."""
        data = StripeEventData(
            stripe_event_id=f"evt_{uuid.uuid4().hex}", stripe_type=stripe_type, object=obj
        )
        return stripe_event.envelope(str(obj.get("id")), data)


@pytest.fixture(scope="session")
def publisher(api: SubgraphClient, kafka_broker: TansuBroker) -> Publisher:
    return Publisher(api, kafka_broker.bootstrap_servers)
