"""Wires UserApi once: the phone vault and the consumers that run in its process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg

from nudges_kit.consumer import EventConsumer
from nudges_kit.http import background
from nudges_kit.phone import PhoneVault
from nudges_user.entrypoints.consumers import event_consumers
from nudges_user.settings import UserSettings


@dataclass(frozen=True)
class Dependencies:
    """Everything UserApi's entrypoints may touch besides the request."""

    pool: asyncpg.Pool
    settings: UserSettings
    vault: PhoneVault
    consumers: tuple[EventConsumer, ...]


def phone_vault(settings: UserSettings) -> PhoneVault:
    """The vault of phone numbers, with the platform keys of the settings."""
    return PhoneVault(
        settings.phone_encryption_key.get_secret_value(), settings.phone_hash_key.get_secret_value()
    )


def bootstrap(pool: asyncpg.Pool, settings: UserSettings) -> Dependencies:
    """The dependencies of a running UserApi, as its settings describe them."""
    return Dependencies(
        pool=pool,
        settings=settings,
        vault=phone_vault(settings),
        consumers=tuple(event_consumers(settings, pool)),
    )


@asynccontextmanager
async def consuming(dependencies: Dependencies) -> AsyncIterator[None]:
    """Run UserApi's consumers while the block lasts (credentials the broker refuses end
    the service); on exit they commit what they handled and stop."""
    stop = asyncio.Event()
    async with background(stop, *(c.run(stop) for c in dependencies.consumers)):
        yield
