"""Wires the workers' dependencies once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
import stripe

from nudges_consumers.adapters.stripe_api import stripe_client
from nudges_consumers.settings import ConsumersSettings
from nudges_kit.localization import LocalizationClient
from nudges_kit.operations import Subgraph
from nudges_kit.phone import PhoneVault
from nudges_kit.service_auth import ServiceTokenProvider
from nudges_kit.service_client import ServiceClient


def wall_clock() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


@dataclass
class Deps:
    """Everything a consumer handler may need."""

    settings: ConsumersSettings
    pool: asyncpg.Pool
    #: The declared operations (:mod:`nudges_kit.operations`) on UserApi and ProductApi, as
    #: the ``consumers`` machine account.
    subgraphs: ServiceClient
    tokens: ServiceTokenProvider
    stripe: stripe.StripeClient
    localization: LocalizationClient
    vault: PhoneVault
    #: The clock of quiet hours (when a copy is held, when a held copy goes out); tests set it.
    now: Callable[[], datetime] = field(default=wall_clock)

    async def close(self) -> None:
        await self.subgraphs.aclose()
        await self.tokens.aclose()
        await self.localization.close()


def build_deps(settings: ConsumersSettings, pool: asyncpg.Pool) -> Deps:
    """The dependencies of every consumer, from the settings."""
    tokens = ServiceTokenProvider(
        settings.auth_token_url,
        settings.service_client_id,
        settings.service_client_secret.get_secret_value(),
        timeout=settings.graph_timeout,
    )
    subgraphs = ServiceClient(
        {Subgraph.USER: settings.user_url, Subgraph.PRODUCT: settings.product_url},
        tokens,
        timeout=settings.graph_timeout,
    )
    return Deps(
        settings=settings,
        pool=pool,
        subgraphs=subgraphs,
        tokens=tokens,
        stripe=stripe_client(settings),
        localization=LocalizationClient(settings.localization_url),
        vault=PhoneVault(
            settings.phone_encryption_key.get_secret_value(),
            settings.phone_hash_key.get_secret_value(),
        ),
    )
