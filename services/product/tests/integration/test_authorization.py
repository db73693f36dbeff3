"""The authorization matrix: every root field against every kind of caller (queries and
mutations over HTTP, subscriptions over graphql-transport-ws).

Each operation builds its request from the module's ``world`` (a plan, a subscription of the
"own" client, ...) and, where a success would use something up (archiving, one-time Stripe
ids), from objects of its own made through ``shop``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from nudges_devstack.testing import SubgraphClient

if TYPE_CHECKING:
    from conftest import Shop

OK = "ok"
#: No error, and no entity: what ``_entities`` answers for an id the caller may not see, as
#: for one that does not exist.
ABSENT = "absent"
CALLERS = ["anonymous", "subscriber", "client_own", "client_other", "admin", "service"]


def only(*allowed: str, **others: str) -> dict[str, str]:
    """``allowed`` callers succeed; anonymous callers must sign in; the rest are forbidden
    (unless ``others`` says otherwise)."""
    expected = {
        caller: OK if caller in allowed else "FORBIDDEN"
        for caller in CALLERS
        if caller != "anonymous"
    }
    expected["anonymous"] = OK if "anonymous" in allowed else "UNAUTHENTICATED"
    return {**expected, **others}


EVERYONE = only(*CALLERS)
#: Stripe ids: admins and services only, not even the client they belong to.
STAFF = only("admin", "service")


@pytest.fixture(scope="module")
def world(shop: Shop) -> dict[str, str]:
    own, other = str(uuid.uuid4()), str(uuid.uuid4())
    plan = shop.plan()
    subscription = shop.subscribe(own, plan["tiers"][0])
    return {
        "client_own_id": own,
        "plan": plan["id"],
        "tier": plan["tiers"][0],
        "archived_plan": shop.archived_plan()["id"],
        "subscription": subscription["id"],
        "stripe_subscription": subscription["stripe_subscription_id"],
        "discount": shop.discount(),
        "anonymous": "",
        "subscriber": shop.subscriber,
        "client_own": shop.client_token(own),
        "client_other": shop.client_token(other),
        "admin": shop.admin,
        "service": shop.service,
    }


Request = tuple[str, dict[str, Any]]
Operation = Callable[["Shop", dict[str, str]], Request]


def entity(typename: str, selection: str, key: str) -> Operation:
    def request(shop: Shop, w: dict[str, str]) -> Request:
        return (
            "query($r: [_Any!]!) { _entities(representations: $r) {"
            f" ... on {typename} {{ {selection} }} }} }}",
            {"r": [{"__typename": typename, "id": w[key]}]},
        )

    return request


def touch_plan(shop: Shop, w: dict[str, str]) -> None:
    """Change the world's plan, so that its planUpdated subscribers get a push."""
    shop.api.ok(
        "mutation($id: ID!, $d: String!) { updatePlan(id: $id, input: {description: $d}) { id } }",
        shop.admin,
        id=w["plan"],
        d=f"For tests {uuid.uuid4().hex[:6]}",
    )


MATRIX: list[tuple[str, Operation, dict[str, str]]] = [
    # --- subscriptions (archived plans pushed to staff only: test_plan_updated) ---------
    (
        "planUpdated (active plan)",
        lambda s, w: (
            "subscription($id: ID) { planUpdated(id: $id) { id name } }",
            {"id": w["plan"]},
        ),
        EVERYONE,
    ),
    # --- queries ----------------------------------------------------------------------
    ("plans", lambda s, w: ("{ plans { nodes { id tiers { id } } } }", {}), EVERYONE),
    (
        "plan (active)",
        lambda s, w: (
            "query($id: ID!) { plan(id: $id) { name } }",
            {"id": w["plan"]},
        ),
        EVERYONE,
    ),
    (
        "plan.stripeProductId",
        lambda s, w: (
            "query($id: ID!) { plan(id: $id) { stripeProductId } }",
            {"id": w["plan"]},
        ),
        STAFF,
    ),
    (
        "plan.tiers.stripePriceId",
        lambda s, w: (
            "query($id: ID!) { plan(id: $id) { tiers { stripePriceId } } }",
            {"id": w["plan"]},
        ),
        STAFF,
    ),
    (
        "plan (archived)",
        lambda s, w: ("query($id: ID!) { plan(id: $id) { name } }", {"id": w["archived_plan"]}),
        only(
            "admin",
            "service",
            anonymous="NOT_FOUND",
            subscriber="NOT_FOUND",
            client_own="NOT_FOUND",
            client_other="NOT_FOUND",
        ),
    ),
    (
        "plan.tiers(includeArchived)",
        lambda s, w: (
            "query($id: ID!) { plan(id: $id) { tiers(includeArchived: true) { id } } }",
            {"id": w["plan"]},
        ),
        only("admin", "service"),
    ),
    ("allPlans", lambda s, w: ("{ allPlans { totalCount } }", {}), only("admin")),
    ("discountCodes", lambda s, w: ("{ discountCodes { totalCount } }", {}), only("admin")),
    (
        "planSubscriptions",
        lambda s, w: ("{ planSubscriptions(status: ACTIVE) { totalCount } }", {}),
        only("admin"),
    ),
    ("productTotals", lambda s, w: ("{ productTotals { activePlans } }", {}), only("admin")),
    (
        "allowance",
        lambda s, w: (
            "query($id: ID!) { allowance(clientId: $id) { remaining } }",
            {"id": w["client_own_id"]},
        ),
        only("admin", "service"),
    ),
    (
        "Client.subscription",
        entity("Client", "subscription { id status }", "client_own_id"),
        only("client_own", "admin", "service"),
    ),
    (
        "Client.subscription.stripeSubscriptionId",
        entity("Client", "subscription { stripeSubscriptionId }", "client_own_id"),
        STAFF,
    ),
    (
        "Client.allowance",
        entity("Client", "allowance { used }", "client_own_id"),
        only("client_own", "admin", "service"),
    ),
    ("Plan entity", entity("Plan", "id name", "plan"), EVERYONE),
    ("PriceTier entity", entity("PriceTier", "id amount", "tier"), EVERYONE),
    ("PriceTier.stripePriceId", entity("PriceTier", "stripePriceId", "tier"), STAFF),
    (
        "PlanSubscription entity",
        entity("PlanSubscription", "id status", "subscription"),
        # Another client's subscription is as absent as an unknown one.
        only("client_own", "admin", "service", subscriber=ABSENT, client_other=ABSENT),
    ),
    (
        "PlanSubscription.stripeSubscriptionId",
        entity("PlanSubscription", "stripeSubscriptionId", "subscription"),
        only("admin", "service", subscriber=ABSENT, client_other=ABSENT),
    ),
    (
        "DiscountCode Stripe ids",
        entity("DiscountCode", "stripeCouponId stripePromotionCodeId", "discount"),
        STAFF,
    ),
    (
        "DiscountCode entity",
        entity("DiscountCode", "id code", "discount"),
        only("admin", "service"),
    ),
    # --- admin mutations --------------------------------------------------------------
    (
        "createPlan",
        lambda s, w: (
            "mutation($i: CreatePlanInput!) { createPlan(input: $i) { id } }",
            {
                "i": {
                    "name": "Matrix",
                    "features": {"messagesPerPeriod": 1, "supportTier": "BASIC"},
                }
            },
        ),
        only("admin"),
    ),
    (
        "updatePlan",
        lambda s, w: (
            'mutation($id: ID!) { updatePlan(id: $id, input: {description: "Matrix"}) { id } }',
            {"id": w["plan"]},
        ),
        only("admin"),
    ),
    (
        "archivePlan",
        lambda s, w: (
            "mutation($id: ID!) { archivePlan(id: $id) { id } }",
            {"id": s.plan(tiers=())["id"]},
        ),
        only("admin"),
    ),
    (
        "reactivatePlan",
        lambda s, w: (
            "mutation($id: ID!) { reactivatePlan(id: $id) { id } }",
            {"id": s.archived_plan()["id"]},
        ),
        only("admin"),
    ),
    (
        "createPriceTier",
        lambda s, w: (
            'mutation($id: ID!) { createPriceTier(planId: $id, input: {name: "M", amount: 5,'
            ' currency: "usd", interval: MONTH}) { id } }',
            {"id": w["plan"]},
        ),
        only("admin"),
    ),
    (
        "updatePriceTier",
        lambda s, w: (
            "mutation($id: ID!) { updatePriceTier(id: $id, input: {amount: 700}) { id } }",
            {"id": s.tier(w["plan"])},
        ),
        only("admin"),
    ),
    (
        "archivePriceTier",
        lambda s, w: (
            "mutation($id: ID!) { archivePriceTier(id: $id) { id } }",
            {"id": s.tier(w["plan"])},
        ),
        only("admin"),
    ),
    (
        "createDiscountCode",
        lambda s, w: (
            "mutation($c: String!) { createDiscountCode(input: {code: $c, percentOff: 5,"
            " duration: FOREVER}) { id } }",
            {"c": f"M{uuid.uuid4().hex[:10]}"},
        ),
        only("admin"),
    ),
    (
        "archiveDiscountCode",
        lambda s, w: (
            "mutation($id: ID!) { archiveDiscountCode(id: $id) { id } }",
            {"id": s.discount()},
        ),
        only("admin"),
    ),
    # --- the client's own subscription --------------------------------------------------
    (
        "cancelPlanSubscription",
        lambda s, w: (
            "mutation($id: ID!) { cancelPlanSubscription(id: $id) { id } }",
            {"id": s.subscribe(w["client_own_id"], w["tier"])["id"]},
        ),
        # Another client's subscription is answered as an unknown one.
        only("client_own", "admin", client_other="NOT_FOUND"),
    ),
    (
        "changePlanSubscription",
        lambda s, w: (
            "mutation($id: ID!, $t: ID!) { changePlanSubscription(id: $id, priceTierId: $t)"
            " { id } }",
            {
                "id": s.subscribe(w["client_own_id"], w["tier"])["id"],
                "t": s.priced_tier(w["plan"], 2900),
            },
        ),
        only("client_own", "admin", client_other="NOT_FOUND"),
    ),
    (
        # Nothing pending: the subscription comes back unchanged to those who may ask.
        "cancelPlanChange",
        lambda s, w: (
            "mutation($id: ID!) { cancelPlanChange(id: $id) { id } }",
            {"id": s.subscribe(w["client_own_id"], w["tier"])["id"]},
        ),
        only("client_own", "admin", client_other="NOT_FOUND"),
    ),
]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(
    ("operation", "expected"),
    [pytest.param(op, expected, id=name) for name, op, expected in MATRIX],
)
def test_authorization_matrix(
    api: SubgraphClient,
    shop: Shop,
    world: dict[str, str],
    operation: Operation,
    expected: dict[str, str],
    caller: str,
) -> None:
    query, variables = operation(shop, world)

    if query.startswith("subscription"):
        token = world[caller] or None
        body = api.first_push(token, query, variables, lambda: touch_plan(shop, world))
    else:
        body = api.gql(query, world[caller] or None, **variables)

    if expected[caller] == OK:
        assert "errors" not in body, body["errors"]
        assert all(value is not None for value in body["data"].values()), body
        if "_entities" in body["data"]:
            assert body["data"]["_entities"][0], body
    elif expected[caller] == ABSENT:
        assert body == {"data": {"_entities": [None]}}, body
    else:
        assert body.get("errors"), body
        assert body["errors"][0]["extensions"]["code"] == expected[caller], body


def test_every_root_field_is_in_the_matrix(api: SubgraphClient) -> None:
    """A new query, mutation or subscription cannot slip in without its row."""
    schema = api.ok(
        "{ __schema { queryType { fields { name } } mutationType { fields { name } }"
        " subscriptionType { fields { name } } } }"
    )
    roots = {
        field["name"]
        for kind in ("queryType", "mutationType", "subscriptionType")
        for field in schema["__schema"][kind]["fields"]
    } - {"_entities", "_service"}
    covered = {name.split(" ")[0].split(".")[0] for name, _, _ in MATRIX}

    assert roots - covered == set()


def test_another_clients_subscription_is_answered_like_a_missing_one(
    api: SubgraphClient, shop: Shop, world: dict[str, str]
) -> None:
    """Whether an id belongs to another client must not show: same code, same message."""
    theirs = shop.subscribe(str(uuid.uuid4()), world["tier"])["id"]
    cancel = "mutation($id: ID!) { cancelPlanSubscription(id: $id) { id } }"
    answers = [
        api.gql(cancel, world["client_own"], id=wanted)["errors"][0]
        for wanted in (theirs, str(uuid.uuid4()))
    ]
    assert answers[0]["extensions"] == answers[1]["extensions"] == {"code": "NOT_FOUND"}
    assert answers[0]["message"] == answers[1]["message"]

    for wanted in (theirs, str(uuid.uuid4())):
        query, variables = entity("PlanSubscription", "id", "wanted")(shop, {"wanted": wanted})
        assert api.gql(query, world["client_own"], **variables) == {"data": {"_entities": [None]}}
