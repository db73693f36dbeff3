"""Wires the workers' dependencies once."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
import stripe

from nudges_consumers.adapters.graph import GraphClient
from nudges_consumers.adapters.stripe_api import stripe_client
from nudges_consumers.settings import ConsumersSettings
from nudges_kit.localization import LocalizationClient
from nudges_kit.phone import PhoneVault
from nudges_kit.service_auth import ServiceTokenProvider


@dataclass
class Deps:
    """Everything a consumer handler may need."""

    settings: ConsumersSettings
    pool: asyncpg.Pool
    graph: GraphClient
    stripe: stripe.StripeClient
    localization: LocalizationClient
    vault: PhoneVault

    async def close(self) -> None:
        await self.graph.close()
        await self.localization.close()


def build_deps(settings: ConsumersSettings, pool: asyncpg.Pool) -> Deps:
    """The dependencies of every consumer, from the settings."""
    tokens = ServiceTokenProvider(
        settings.auth_token_url,
        settings.service_client_id,
        settings.service_client_secret.get_secret_value(),
    )
    graph = GraphClient(
        {
            "user": settings.user_url,
            "product": settings.product_url,
            "payment": settings.payment_url,
        },
        tokens.token,
        timeout=settings.graph_timeout,
    )
    return Deps(
        settings=settings,
        pool=pool,
        graph=graph,
        stripe=stripe_client(settings),
        localization=LocalizationClient(settings.localization_url),
        vault=PhoneVault(
            settings.phone_encryption_key.get_secret_value(),
            settings.phone_hash_key.get_secret_value(),
        ),
    )
