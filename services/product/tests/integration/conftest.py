"""ProductApi on a migrated database of its own, with tokens from a test issuer, and a ``Shop``
that sets up plans, tiers, subscriptions and discount codes through the graph."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from nudges_devstack.infra import Postgres, TansuBroker
from nudges_devstack.testing import (
    SubgraphClient,
    TokenIssuer,
    create_migrated_database,
    drop_database,
)
from nudges_kit.phone import PhoneVault
from nudges_kit.settings import with_database
from nudges_product.entrypoints.http import build_app
from nudges_product.migrations import migration_set
from nudges_product.settings import ProductSettings

CREATE_PLAN = """
mutation($input: CreatePlanInput!) { createPlan(input: $input) { id } }
"""
CREATE_TIER = """
mutation($planId: ID!, $input: CreatePriceTierInput!) {
  createPriceTier(planId: $planId, input: $input) { id }
}
"""
ACTIVATE = """
mutation($input: ActivatePlanSubscriptionInput!) {
  activatePlanSubscription(input: $input) { id }
}
"""
CREATE_DISCOUNT = """
mutation($input: CreateDiscountCodeInput!) { createDiscountCode(input: $input) { id code } }
"""


class Shop:
    """Sets up the catalogue as an admin and subscriptions as the consumers would."""

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

    def archived_plan(self) -> dict[str, Any]:
        plan = self.plan()
        self.api.ok("mutation($id: ID!) { archivePlan(id: $id) { id } }", self.admin, id=plan["id"])
        return plan

    def subscribe(
        self, client_id: str, tier_id: str, stripe_subscription_id: str | None = None
    ) -> dict[str, str]:
        """An active subscription of ``client_id`` to ``tier_id`` for the month around now."""
        now = datetime.now(UTC)
        stripe_id = stripe_subscription_id or f"sub_{uuid.uuid4().hex}"
        subscription_id = self.api.ok(
            ACTIVATE,
            self.service,
            input={
                "clientId": client_id,
                "priceTierId": tier_id,
                "stripeSubscriptionId": stripe_id,
                "currentPeriodStart": (now - timedelta(days=1)).isoformat(),
                "currentPeriodEnd": (now + timedelta(days=29)).isoformat(),
            },
        )["activatePlanSubscription"]["id"]
        return {"id": subscription_id, "stripe_subscription_id": stripe_id}

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
