"""Wires UserApi once: the phone vault, the composer's clients of ProductApi and
LocalizationApi, and the consumers and scheduler that run in its process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg

from nudges_kit.consumer import EventConsumer
from nudges_kit.http import background
from nudges_kit.localization import LocalizationClient
from nudges_kit.operations import Subgraph
from nudges_kit.phone import PhoneVault
from nudges_kit.service_auth import ServiceTokenProvider
from nudges_kit.service_client import ServiceClient
from nudges_user.entrypoints.consumers import event_consumers
from nudges_user.service_layer.composer import Composer, run_scheduler
from nudges_user.settings import UserSettings


@dataclass(frozen=True)
class Dependencies:
    """Everything UserApi's entrypoints may touch besides the request."""

    pool: asyncpg.Pool
    settings: UserSettings
    vault: PhoneVault
    consumers: tuple[EventConsumer, ...]
    composer: Composer
    closers: tuple[Callable[[], Awaitable[None]], ...] = ()

    async def close(self) -> None:
        """Release the composer's connections."""
        for close in self.closers:
            await close()


def phone_vault(settings: UserSettings) -> PhoneVault:
    """The vault of phone numbers, with the platform keys of the settings."""
    return PhoneVault(
        settings.phone_encryption_key.get_secret_value(), settings.phone_hash_key.get_secret_value()
    )


def bootstrap(pool: asyncpg.Pool, settings: UserSettings) -> Dependencies:
    """The dependencies of a running UserApi, as its settings describe them."""
    tokens = ServiceTokenProvider(
        settings.auth_token_url,
        settings.machine_account,
        settings.service_client_secret.get_secret_value(),
        timeout=settings.composer_call_timeout,
    )
    subgraphs = ServiceClient(
        {Subgraph.PRODUCT: settings.product_url}, tokens, timeout=settings.composer_call_timeout
    )
    localization = LocalizationClient(
        settings.localization_url, timeout=settings.composer_call_timeout, attempts=2
    )
    vault = phone_vault(settings)
    return Dependencies(
        pool=pool,
        settings=settings,
        vault=vault,
        consumers=tuple(event_consumers(settings, pool)),
        composer=Composer(pool, subgraphs, localization, vault),
        closers=(localization.close, subgraphs.aclose, tokens.aclose),
    )


@asynccontextmanager
async def consuming(dependencies: Dependencies) -> AsyncIterator[None]:
    """Run UserApi's consumers and the scheduler of announcements while the block lasts
    (credentials the broker refuses end the service); on exit they commit what they
    handled and stop."""
    stop = asyncio.Event()
    scheduler = run_scheduler(
        dependencies.composer, stop, dependencies.settings.scheduler_poll_seconds
    )
    try:
        async with background(stop, scheduler, *(c.run(stop) for c in dependencies.consumers)):
            yield
    finally:
        await dependencies.close()
