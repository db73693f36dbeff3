"""Operations on ProductApi (``services/product``), and who calls them."""

from __future__ import annotations

from nudges_kit.operations.declaration import CATALOG, EntitiesVars, OperationModel, Subgraph


class ClientIdVars(OperationModel):
    client_id: str


class Allowance(OperationModel):
    """Whether a client's plan lets them send now, and how many messages are left."""

    active: bool
    remaining: int


#: Webhooks (the SMS dialogue): may this client send a draft, and to how many.
client_allowance = CATALOG.declare(
    Subgraph.PRODUCT,
    """
    query ClientAllowance($clientId: ID!) {
      allowance(clientId: $clientId) { active remaining }
    }""",
    ClientIdVars,
    Allowance,
)


class PriceTierOffer(OperationModel):
    id: str
    #: The GraphQL enum's name (``ACTIVE``, ``INACTIVE``, ``ARCHIVED``).
    status: str
    stripe_price_id: str | None


#: PaymentApi (checkout): whether a tier is on sale, and its Stripe price (None: no such tier).
price_tier_offer = CATALOG.declare(
    Subgraph.PRODUCT,
    """
    query PriceTierOffer($representations: [_Any!]!) {
      _entities(representations: $representations) {
        ... on PriceTier { id status stripePriceId }
      }
    }""",
    EntitiesVars,
    list[PriceTierOffer | None],
)
