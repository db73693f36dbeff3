"""What PaymentApi needs from the subgraphs that own it: a price tier's Stripe price and
status (ProductApi), a client's Stripe customer (UserApi).

Each is asked over HTTP GraphQL the way the gateway asks for a reference, with
``_entities``, carrying PaymentApi's own ``service`` token (Stripe ids are for staff and
services only): a fixed token when one is configured, else one of PaymentApi's machine
account (client credentials); the caller's token only when neither is.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol
from uuid import UUID

import httpx

from nudges_kit.logging import get_logger
from nudges_kit.service_auth import ServiceTokenError
from nudges_payment.domain.model import (
    ClientAccount,
    DependencyUnavailable,
    PriceTierOffer,
    PriceTierStatus,
)

log = get_logger(__name__)

ENTITY_QUERY = """
query PaymentLookup($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on %s { %s } }
}
"""

#: Errors that mean "there is no such entity" rather than "the lookup failed".
ABSENT_CODES = frozenset({"NOT_FOUND", "BAD_USER_INPUT"})


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


class SubgraphEntities:
    """Fetches single entities by ``id`` from subgraphs' ``/graphql`` endpoints."""

    def __init__(
        self,
        service_token: str = "",
        timeout: float = 5.0,
        machine_token: Callable[[], Awaitable[str]] | None = None,
    ) -> None:
        self._service_token = service_token
        self._machine_token = machine_token
        self._http = httpx.AsyncClient(timeout=timeout)

    async def _token(self, caller_token: str | None) -> str | None:
        if self._service_token:
            return self._service_token
        if self._machine_token is not None:
            try:
                return await self._machine_token()
            except ServiceTokenError as exc:
                log.warning("no service token", error=str(exc))
                raise DependencyUnavailable("PaymentApi could not get its service token") from exc
        return caller_token

    async def entity(
        self, url: str, typename: str, entity_id: UUID, fields: str, caller_token: str | None
    ) -> dict[str, Any] | None:
        """The entity's ``fields``; None when the subgraph says there is no such entity."""
        token = await self._token(caller_token)
        headers = {"authorization": f"Bearer {token}"} if token else {}
        body = {
            "query": ENTITY_QUERY % (typename, fields),
            "variables": {"representations": [{"__typename": typename, "id": str(entity_id)}]},
        }
        try:
            response = await self._http.post(url, json=body, headers=headers)
            payload = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("subgraph unreachable", url=url, typename=typename, error=str(exc))
            raise DependencyUnavailable(f"the {typename} lookup is not available") from exc
        return _entity(typename, payload)

    async def close(self) -> None:
        """Release connections."""
        await self._http.aclose()


def _entity(typename: str, payload: Any) -> dict[str, Any] | None:
    if not isinstance(payload, dict):
        raise DependencyUnavailable(f"the {typename} lookup answered something unexpected")
    errors = payload.get("errors") or []
    codes = {str((e.get("extensions") or {}).get("code")) for e in errors if isinstance(e, dict)}
    if not codes <= ABSENT_CODES:
        log.warning("subgraph refused a lookup", typename=typename, codes=sorted(codes))
        raise DependencyUnavailable(f"the {typename} lookup was refused")
    entities = (payload.get("data") or {}).get("_entities") or []
    entity = entities[0] if entities else None
    return entity if isinstance(entity, dict) and entity else None


class ProductApiCatalog:
    """:class:`PriceTierCatalog` on ProductApi."""

    def __init__(self, entities: SubgraphEntities, url: str) -> None:
        self._entities = entities
        self._url = url

    async def price_tier(
        self, price_tier_id: UUID, caller_token: str | None
    ) -> PriceTierOffer | None:
        found = await self._entities.entity(
            self._url, "PriceTier", price_tier_id, "id status stripePriceId", caller_token
        )
        if found is None:
            return None
        try:
            status = PriceTierStatus(str(found.get("status", "")).lower())
        except ValueError:
            raise DependencyUnavailable("ProductApi answered an unknown tier status") from None
        return PriceTierOffer(
            price_tier_id=price_tier_id,
            status=status,
            stripe_price_id=found.get("stripePriceId") or None,
        )


class UserApiDirectory:
    """:class:`ClientDirectory` on UserApi."""

    def __init__(self, entities: SubgraphEntities, url: str) -> None:
        self._entities = entities
        self._url = url

    async def client_account(
        self, client_id: UUID, caller_token: str | None
    ) -> ClientAccount | None:
        found = await self._entities.entity(
            self._url, "Client", client_id, "id stripeCustomerId", caller_token
        )
        if found is None:
            return None
        return ClientAccount(client_id, found.get("stripeCustomerId") or None)
