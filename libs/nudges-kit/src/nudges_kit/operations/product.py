"""Operations on ProductApi (``services/product``), and who calls them."""

from __future__ import annotations

from nudges_kit.operations.declaration import CATALOG, EntitiesVars, OperationModel, Subgraph


class ClientIdVars(OperationModel):
    client_id: str


class Allowance(OperationModel):
    """Whether a client's plan lets them send now, and how many messages are left; ``state``
    GRACE (past due, still sending) comes with the days of sending left."""

    active: bool
    remaining: int
    state: str = "ACTIVE"
    grace_days_left: int | None = None


#: Webhooks (the SMS dialogue): may this client send a draft, and to how many.
client_allowance = CATALOG.declare(
    Subgraph.PRODUCT,
    """
    query ClientAllowance($clientId: ID!) {
      allowance(clientId: $clientId) { active remaining state graceDaysLeft }
    }""",
    ClientIdVars,
    Allowance,
)


class CadenceFeatures(OperationModel):
    messages_per_period: int


class CadencePlan(OperationModel):
    features: CadenceFeatures | None


class CadenceTier(OperationModel):
    #: ``WEEK``, ``MONTH`` or ``YEAR``: the billing period the allowance is counted over.
    interval: str
    plan: CadencePlan


class CadenceSubscription(OperationModel):
    status: str
    price_tier: CadenceTier


class ClientCadence(OperationModel):
    """How often a client may text: its plan's messages per billing period."""

    subscription: CadenceSubscription | None


#: Webhooks (the SMS dialogue): how often a client texts, told to whoever asks to join it.
client_cadence = CATALOG.declare(
    Subgraph.PRODUCT,
    """
    query ClientCadence($representations: [_Any!]!) {
      _entities(representations: $representations) {
        ... on Client {
          subscription {
            status priceTier { interval plan { features { messagesPerPeriod } } }
          }
        }
      }
    }""",
    EntitiesVars,
    list[ClientCadence | None],
)


class PriceTierOffer(OperationModel):
    id: str
    #: The GraphQL enum's name (``ACTIVE``, ``INACTIVE``, ``ARCHIVED``).
    status: str
    stripe_price_id: str | None
    trial_days: int = 0


#: PaymentApi (checkout): whether a tier is on sale, its Stripe price and its free trial
#: (None: no such tier).
price_tier_offer = CATALOG.declare(
    Subgraph.PRODUCT,
    """
    query PriceTierOffer($representations: [_Any!]!) {
      _entities(representations: $representations) {
        ... on PriceTier { id status stripePriceId trialDays }
      }
    }""",
    EntitiesVars,
    list[PriceTierOffer | None],
)


class PlanVars(OperationModel):
    id: str


class PlanStripeProduct(OperationModel):
    id: str
    stripe_product_id: str | None


#: Consumers (Stripe sync): the Stripe Product ProductApi recorded for a plan, if any (a plan
#: it does not know is refused with ``NOT_FOUND``).
plan_stripe_product = CATALOG.declare(
    Subgraph.PRODUCT,
    """
    query PlanStripeProduct($id: ID!) {
      plan(id: $id) { id stripeProductId }
    }""",
    PlanVars,
    PlanStripeProduct,
)


class PlanName(OperationModel):
    name: str


class PriceTierPlan(OperationModel):
    plan: PlanName


#: Consumers (notifications): the name of the plan a price tier belongs to (None: no such tier).
price_tier_plan = CATALOG.declare(
    Subgraph.PRODUCT,
    """
    query PriceTierPlan($representations: [_Any!]!) {
      _entities(representations: $representations) { ... on PriceTier { plan { name } } }
    }""",
    EntitiesVars,
    list[PriceTierPlan | None],
)
