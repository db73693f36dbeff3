"""Wires PaymentApi once: the database pool, the adapters the use cases need, and the
consumer of ``stripe.events`` that runs in the same process."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg

from nudges_kit.consumer import EventConsumer
from nudges_kit.operations import Subgraph
from nudges_kit.service_auth import ServiceTokenProvider
from nudges_kit.service_client import ServiceClient
from nudges_payment.adapters.stripe_gateway import PaymentProvider, StripeGateway
from nudges_payment.adapters.subgraphs import (
    ClientDirectory,
    EntityLookups,
    PriceTierCatalog,
    ProductApiCatalog,
    UserApiDirectory,
)
from nudges_payment.settings import PaymentSettings


@dataclass(frozen=True)
class Dependencies:
    """Everything a use case may touch besides its arguments."""

    pool: asyncpg.Pool
    payments: PaymentProvider
    price_tiers: PriceTierCatalog
    clients: ClientDirectory
    settings: PaymentSettings
    closers: tuple[Callable[[], Awaitable[None]], ...] = field(default=())

    async def close(self) -> None:
        """Release the adapters' connections (the pool belongs to the HTTP shell)."""
        for close in self.closers:
            await close()


def bootstrap(pool: asyncpg.Pool, settings: PaymentSettings) -> Dependencies:
    """The dependencies of a running PaymentApi, as its settings describe them."""
    # The stripe library logs every request at INFO; the gateway logs what matters.
    logging.getLogger("stripe").setLevel(logging.WARNING)
    gateway = StripeGateway(
        settings.stripe_api_key.get_secret_value(),
        settings.stripe_api_base,
        timeout=settings.stripe_timeout_seconds,
        max_network_retries=settings.stripe_max_network_retries,
    )
    service_token = settings.service_token.get_secret_value()
    machine = (
        ServiceTokenProvider(
            settings.auth_token_url,
            settings.machine_account,
            settings.service_client_secret.get_secret_value(),
            timeout=settings.subgraph_timeout_seconds,
        )
        if settings.auth_token_url and not service_token
        else None
    )
    subgraphs = ServiceClient(
        {Subgraph.PRODUCT: settings.product_url, Subgraph.USER: settings.user_url},
        machine,
        timeout=settings.subgraph_timeout_seconds,
    )
    lookups = EntityLookups(
        subgraphs, service_token, forward_caller=not service_token and machine is None
    )
    return Dependencies(
        pool=pool,
        payments=gateway,
        price_tiers=ProductApiCatalog(lookups),
        clients=UserApiDirectory(lookups),
        settings=settings,
        closers=(gateway.close, subgraphs.aclose, *((machine.aclose,) if machine else ())),
    )


def event_consumers(dependencies: Dependencies) -> list[EventConsumer]:
    """The consumer groups PaymentApi runs beside its HTTP app (its lifespan starts and
    stops them): Stripe's news about checkouts and invoices."""
    # Imported here: the entrypoint's use cases import this module's Dependencies.
    from nudges_payment.entrypoints.consumers import stripe_events_consumer

    return [stripe_events_consumer(dependencies)]
