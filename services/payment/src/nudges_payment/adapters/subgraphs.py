"""What PaymentApi needs from the subgraphs that own it: a price tier's Stripe price and
status (ProductApi), a client's Stripe customer (UserApi).

Each is an entity lookup (``_entities``, the way the gateway asks for a reference) declared in
:mod:`nudges_kit.operations` and called with :mod:`nudges_kit.service_client`, carrying
PaymentApi's own ``service`` token (Stripe ids are for staff and services only): a fixed token
when one is configured, else one of PaymentApi's machine account (client credentials); the
caller's token only when neither is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypeVar
from uuid import UUID

from nudges_kit.errors import UpstreamUnavailable
from nudges_kit.logging import get_logger
from nudges_kit.operations import EntitiesVars, Operation, Representation
from nudges_kit.operations import product as product_ops
from nudges_kit.operations import user as user_ops
from nudges_kit.service_client import ServiceCallError, ServiceClient, ServiceRefused
from nudges_payment.domain.model import (
    ClientAccount,
    PriceTierOffer,
    PriceTierStatus,
)

log = get_logger(__name__)

#: Errors that mean "there is no such entity" rather than "the lookup failed".
ABSENT_CODES = frozenset({"NOT_FOUND", "BAD_USER_INPUT"})

E = TypeVar("E")


class PriceTierCatalog(Protocol):
    """Where the service layer learns whether a price tier is on sale, and its Stripe price."""

    async def price_tier(
        self, price_tier_id: UUID, caller_token: str | None
    ) -> PriceTierOffer | None:
        """The tier, or None when ProductApi does not know it."""
        ...


class ClientDirectory(Protocol):
    """Where the service layer learns a client's Stripe customer."""

    async def client_account(
        self, client_id: UUID, caller_token: str | None
    ) -> ClientAccount | None:
        """The client's billing account, or None when UserApi knows no such client."""
        ...


@dataclass(frozen=True)
class EntityLookups:
    """Single entities by ``id`` through ``subgraphs``, with the token PaymentApi sends:
    ``service_token`` when set, else the machine account's of ``subgraphs``, else (with
    ``forward_caller``, when PaymentApi has no machine account) the caller's."""

    subgraphs: ServiceClient
    service_token: str = ""
    forward_caller: bool = False

    async def entity(
        self,
        operation: Operation[EntitiesVars, list[E | None]],
        typename: str,
        entity_id: UUID,
        caller_token: str | None,
    ) -> E | None:
        """The entity; None when the subgraph says there is no such entity."""
        token = self.service_token or (caller_token or "" if self.forward_caller else "")
        variables = EntitiesVars(representations=[Representation.of(typename, entity_id)])
        try:
            found = await self.subgraphs.call(operation, variables, token=token)
        except ServiceRefused as exc:
            if exc.code in ABSENT_CODES:
                return None
            log.warning("subgraph refused a lookup", typename=typename, code=exc.code)
            raise UpstreamUnavailable(f"the {typename} lookup was refused") from exc
        except ServiceCallError as exc:
            log.warning("subgraph lookup failed", typename=typename, error=str(exc))
            raise UpstreamUnavailable(f"the {typename} lookup is not available") from exc
        return found[0] if found else None


class ProductApiCatalog:
    """:class:`PriceTierCatalog` on ProductApi."""

    def __init__(self, lookups: EntityLookups) -> None:
        self._lookups = lookups

    async def price_tier(
        self, price_tier_id: UUID, caller_token: str | None
    ) -> PriceTierOffer | None:
        found = await self._lookups.entity(
            product_ops.price_tier_offer, "PriceTier", price_tier_id, caller_token
        )
        if found is None:
            return None
        try:
            status = PriceTierStatus(found.status.lower())
        except ValueError:
            raise UpstreamUnavailable("ProductApi answered an unknown tier status") from None
        return PriceTierOffer(
            price_tier_id=price_tier_id,
            status=status,
            stripe_price_id=found.stripe_price_id or None,
            trial_days=found.trial_days,
        )


class UserApiDirectory:
    """:class:`ClientDirectory` on UserApi."""

    def __init__(self, lookups: EntityLookups) -> None:
        self._lookups = lookups

    async def client_account(
        self, client_id: UUID, caller_token: str | None
    ) -> ClientAccount | None:
        found = await self._lookups.entity(
            user_ops.client_stripe_customer, "Client", client_id, caller_token
        )
        if found is None:
            return None
        return ClientAccount(client_id, found.stripe_customer_id or None)
