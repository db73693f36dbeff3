"""Plans, price tiers and discount codes as admins manage them and the public sees them."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from nudges_devstack.testing import SubgraphClient
from nudges_kit.errors import Conflict
from nudges_product.service_layer import plans

if TYPE_CHECKING:
    from conftest import Shop

PUBLIC_PLANS = """
query($first: Int, $after: String) {
  plans(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id name active features { messagesPerPeriod supportTier aiAssist }
            tiers { id amount currency interval status } }
  }
}
"""
UPDATE_TIER = """
mutation($id: ID!, $input: UpdatePriceTierInput!) {
  updatePriceTier(id: $id, input: $input) {
    id name amount currency interval status version replacesPriceTierId
  }
}
"""
TIERS_OF = """
query($id: ID!) {
  plan(id: $id) { tiers(includeArchived: true) { id name amount status version } }
}
"""


def all_public_plans(api: SubgraphClient) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = api.ok(PUBLIC_PLANS, None, first=100, after=after)["plans"]
        nodes += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


def test_the_public_sees_only_active_plans_with_their_active_tiers(
    api: SubgraphClient, shop: Shop
) -> None:
    offered = shop.plan(tiers=((900, "usd", "MONTH"), (9000, "USD", "YEAR")))
    retired = shop.archived_plan()
    api.ok(
        "mutation($id: ID!) { archivePriceTier(id: $id) { status } }",
        shop.admin,
        id=offered["tiers"][1],
    )

    plans = {plan["id"]: plan for plan in all_public_plans(api)}

    assert retired["id"] not in plans
    assert all(plan["active"] for plan in plans.values())
    tiers = plans[offered["id"]]["tiers"]
    assert [t["id"] for t in tiers] == [offered["tiers"][0]]
    assert tiers[0] == {
        "id": offered["tiers"][0],
        "amount": 900,
        "currency": "usd",
        "interval": "MONTH",
        "status": "ACTIVE",
    }
    assert plans[offered["id"]]["features"] == {
        "messagesPerPeriod": 100,
        "supportTier": "STANDARD",
        "aiAssist": False,
    }
    # One plan by id: public while active, hidden (NOT_FOUND) once archived, except to admins.
    query = "query($id: ID!) { plan(id: $id) { id active } }"
    assert api.ok(query, None, id=offered["id"])["plan"]["active"] is True
    assert api.error_code(query, None, id=retired["id"]) == "NOT_FOUND"
    assert api.ok(query, shop.admin, id=retired["id"])["plan"]["active"] is False


def test_a_new_price_makes_a_new_tier_version_and_archives_the_old(
    api: SubgraphClient, shop: Shop
) -> None:
    plan = shop.plan()
    old_id = plan["tiers"][0]
    shop.run(plans.set_price_tier_stripe_price, uuid.UUID(old_id), f"price_{old_id[:8]}")

    new = api.ok(UPDATE_TIER, shop.admin, id=old_id, input={"amount": 1200})["updatePriceTier"]

    assert new["id"] != old_id
    assert new["amount"] == 1200
    assert new["currency"] == "usd"
    assert new["interval"] == "MONTH"
    assert new["status"] == "ACTIVE"
    assert new["version"] == 2
    assert new["replacesPriceTierId"] == old_id
    tiers = {t["id"]: t for t in api.ok(TIERS_OF, shop.admin, id=plan["id"])["plan"]["tiers"]}
    assert tiers[old_id]["status"] == "ARCHIVED"
    assert tiers[old_id]["amount"] == 900
    # Both events, keyed by the plan, in order: the new version, then the old archived.
    tier_events = [
        (event_type, data)
        for event_type, data in shop.outbox(plan["id"])
        if event_type.startswith("product.price-tier.")
    ]
    assert [(t, d["price_tier_id"]) for t, d in tier_events] == [
        ("product.price-tier.created", old_id),
        ("product.price-tier.created", new["id"]),
        ("product.price-tier.archived", old_id),
    ]
    created, archived = tier_events[1][1], tier_events[2][1]
    assert created["replaces_price_tier_id"] == old_id
    assert created["stripe_price_id"] is None
    assert created["amount"] == 1200
    assert archived["status"] == "archived"
    assert archived["stripe_price_id"] == f"price_{old_id[:8]}"
    # The public sees only the new version.
    public = api.ok("query($id: ID!) { plan(id: $id) { tiers { id } } }", None, id=plan["id"])
    assert public["plan"]["tiers"] == [{"id": new["id"]}]


def test_a_new_name_alone_renames_the_tier_in_place(api: SubgraphClient, shop: Shop) -> None:
    plan = shop.plan()
    tier_id = plan["tiers"][0]

    renamed = api.ok(UPDATE_TIER, shop.admin, id=tier_id, input={"name": "Monthly"})
    same = api.ok(UPDATE_TIER, shop.admin, id=tier_id, input={"name": "Monthly", "amount": 900})

    assert renamed["updatePriceTier"]["id"] == tier_id
    assert renamed["updatePriceTier"]["name"] == "Monthly"
    assert renamed["updatePriceTier"]["version"] == 1
    assert same["updatePriceTier"]["id"] == tier_id
    types = [t for t, _ in shop.outbox(plan["id"]) if t.startswith("product.price-tier.")]
    assert types == ["product.price-tier.created", "product.price-tier.updated"]


def test_a_new_trial_changes_the_tier_in_place_and_a_new_version_keeps_it(
    api: SubgraphClient, shop: Shop
) -> None:
    plan = shop.plan()
    tier_id = plan["tiers"][0]
    trial = (
        "mutation($id: ID!, $input: UpdatePriceTierInput!) { updatePriceTier(id: $id,"
        " input: $input) { id version trialDays } }"
    )

    given = api.ok(trial, shop.admin, id=tier_id, input={"trialDays": 14})["updatePriceTier"]
    repriced = api.ok(trial, shop.admin, id=tier_id, input={"amount": 1200})["updatePriceTier"]
    too_long = api.gql(trial, shop.admin, id=repriced["id"], input={"trialDays": 731})
    removed = api.ok(trial, shop.admin, id=repriced["id"], input={"trialDays": 0})

    assert given == {"id": tier_id, "version": 1, "trialDays": 14}
    assert (repriced["version"], repriced["trialDays"]) == (2, 14)
    assert too_long["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "trialDays"}
    assert removed["updatePriceTier"] == {"id": repriced["id"], "version": 2, "trialDays": 0}
    types = [t for t, _ in shop.outbox(plan["id"]) if t.startswith("product.price-tier.")]
    assert types == [
        "product.price-tier.created",
        "product.price-tier.updated",
        "product.price-tier.created",
        "product.price-tier.archived",
        "product.price-tier.updated",
    ]


def test_an_archived_plan_is_offered_again_once_reactivated(
    api: SubgraphClient, shop: Shop
) -> None:
    plan = shop.plan(tiers=((900, "usd", "MONTH"),))
    api.ok("mutation($id: ID!) { archivePlan(id: $id) { id } }", shop.admin, id=plan["id"])
    assert plan["id"] not in {p["id"] for p in all_public_plans(api)}
    reactivate = "mutation($id: ID!) { reactivatePlan(id: $id) { id active } }"

    again = api.ok(reactivate, shop.admin, id=plan["id"])["reactivatePlan"]
    api.ok(reactivate, shop.admin, id=plan["id"])

    assert again == {"id": plan["id"], "active": True}
    public = {p["id"]: p for p in all_public_plans(api)}
    # Offered again, without the tier archived with it: prices come back only as new tiers.
    assert public[plan["id"]]["tiers"] == []
    tiers = api.ok(TIERS_OF, shop.admin, id=plan["id"])["plan"]["tiers"]
    assert [t["status"] for t in tiers] == ["ARCHIVED"]
    # One product.plan.updated with active true (the Stripe product goes back on sale).
    plan_events = [(t, d) for t, d in shop.outbox(plan["id"]) if t.startswith("product.plan.")]
    assert [t for t, _ in plan_events] == [
        "product.plan.created",
        "product.plan.archived",
        "product.plan.updated",
    ]
    assert plan_events[2][1]["active"] is True
    unknown = "00000000-0000-4000-8000-000000000000"
    assert api.error_code(reactivate, shop.admin, id=unknown) == "NOT_FOUND"


def test_an_archived_tier_does_not_change(api: SubgraphClient, shop: Shop) -> None:
    tier_id = shop.plan()["tiers"][0]
    api.ok("mutation($id: ID!) { archivePriceTier(id: $id) { id } }", shop.admin, id=tier_id)

    code = api.error_code(UPDATE_TIER, shop.admin, id=tier_id, input={"amount": 100})

    assert code == "CONFLICT"


def test_plan_changes_publish_events_only_when_something_changed(
    api: SubgraphClient, shop: Shop
) -> None:
    plan = shop.plan(name="Starter")
    update = """
    mutation($id: ID!, $input: UpdatePlanInput!) {
      updatePlan(id: $id, input: $input) { name iconUrl features { messagesPerPeriod } }
    }
    """
    changed = api.ok(
        update,
        shop.admin,
        id=plan["id"],
        input={
            "name": "Starter+",
            "iconUrl": "https://cdn.nudges.test/starter.png",
            "features": {"messagesPerPeriod": 500, "supportTier": "PREMIUM", "aiAssist": True},
        },
    )["updatePlan"]
    api.ok(update, shop.admin, id=plan["id"], input={"name": "Starter+"})
    cleared = api.ok(update, shop.admin, id=plan["id"], input={"iconUrl": None})["updatePlan"]
    api.ok("mutation($id: ID!) { archivePlan(id: $id) { id } }", shop.admin, id=plan["id"])
    api.ok("mutation($id: ID!) { archivePlan(id: $id) { id } }", shop.admin, id=plan["id"])
    # Recorded as ProductApi's consumer records it from Stripe's product.created, twice.
    for _ in range(2):
        shop.run(plans.set_plan_stripe_product, uuid.UUID(plan["id"]), "prod_1x")

    assert changed == {
        "name": "Starter+",
        "iconUrl": "https://cdn.nudges.test/starter.png",
        "features": {"messagesPerPeriod": 500},
    }
    assert cleared["iconUrl"] is None
    plan_events = [(t, d) for t, d in shop.outbox(plan["id"]) if t.startswith("product.plan.")]
    assert [t for t, _ in plan_events] == [
        "product.plan.created",
        "product.plan.updated",
        "product.plan.updated",
        "product.plan.archived",
    ]
    assert plan_events[1][1]["name"] == "Starter+"
    assert plan_events[3][1]["active"] is False
    # Archiving the plan took its tiers off sale too.
    tier_events = [(t, d) for t, d in shop.outbox(plan["id"]) if t.startswith("product.price-")]
    assert [(t, d["price_tier_id"]) for t, d in tier_events] == [
        ("product.price-tier.created", plan["tiers"][0]),
        ("product.price-tier.archived", plan["tiers"][0]),
    ]
    # Setting the Stripe id published nothing, and a different id later is a conflict.
    with pytest.raises(Conflict):
        shop.run(plans.set_plan_stripe_product, uuid.UUID(plan["id"]), "prod_2y")
    assert api.error_code(update, shop.admin, id=plan["id"], input={"name": "x"}) == "CONFLICT"


@pytest.mark.parametrize(
    ("tier_input", "field"),
    [
        ({"amount": -1}, "amount"),
        ({"amount": 100_000_000}, "amount"),
        ({"currency": "usdollars"}, "currency"),
        ({"currency": "xyz"}, "currency"),
        ({"name": "   "}, "name"),
    ],
)
def test_invalid_price_tiers_are_refused_naming_the_field(
    api: SubgraphClient, shop: Shop, tier_input: dict[str, Any], field: str
) -> None:
    plan = shop.plan(tiers=())
    tier = {"name": "Monthly", "amount": 500, "currency": "eur", "interval": "MONTH"}
    body = api.gql(
        "mutation($planId: ID!, $input: CreatePriceTierInput!) {"
        " createPriceTier(planId: $planId, input: $input) { id } }",
        shop.admin,
        planId=plan["id"],
        input={**tier, **tier_input},
    )

    error = body["errors"][0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert field in error["message"]
    assert api.sql("SELECT count(*) FROM price_tiers WHERE plan_id = %s", plan["id"]) == [(0,)]


@pytest.mark.parametrize(
    ("discount", "field"),
    [
        ({"percentOff": 0}, "percentOff"),
        ({"percentOff": 101}, "percentOff"),
        ({"percentOff": 10, "amountOff": 500, "currency": "usd"}, "percentOff"),
        ({}, "amountOff"),
        ({"amountOff": 500}, "currency"),
        ({"amountOff": -5, "currency": "usd"}, "amountOff"),
        ({"amountOff": 500, "currency": "dollars"}, "currency"),
        ({"percentOff": 10, "duration": "REPEATING"}, "durationInMonths"),
        ({"percentOff": 10, "durationInMonths": 3}, "durationInMonths"),
        ({"percentOff": 10, "maxRedemptions": 0}, "maxRedemptions"),
        ({"percentOff": 10, "expiresAt": "2001-01-01T00:00:00+00:00"}, "expiresAt"),
        ({"percentOff": 10, "code": "no spaces please"}, "code"),
    ],
)
def test_invalid_discount_codes_are_refused_naming_the_field(
    api: SubgraphClient, shop: Shop, discount: dict[str, Any], field: str
) -> None:
    body = api.gql(
        "mutation($input: CreateDiscountCodeInput!) { createDiscountCode(input: $input) { id } }",
        shop.admin,
        input={"code": "WELCOME10", "duration": "ONCE", **discount},
    )

    error = body["errors"][0]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}, error


def test_discount_codes_are_unique_whatever_the_case(api: SubgraphClient, shop: Shop) -> None:
    create = (
        "mutation($input: CreateDiscountCodeInput!) { createDiscountCode(input: $input) {"
        " id code percentOff amountOff currency duration durationInMonths active } }"
    )
    made = api.ok(
        create,
        shop.admin,
        input={
            "code": "Spring25",
            "amountOff": 250,
            "currency": "EUR",
            "duration": "REPEATING",
            "durationInMonths": 3,
        },
    )["createDiscountCode"]
    clash = api.gql(
        create, shop.admin, input={"code": "SPRING25", "percentOff": 5, "duration": "ONCE"}
    )
    archived = api.ok(
        "mutation($id: ID!) { archiveDiscountCode(id: $id) { active } }", shop.admin, id=made["id"]
    )

    assert made["code"] == "Spring25"
    assert made["currency"] == "eur"
    assert made["percentOff"] is None
    assert made["durationInMonths"] == 3
    assert clash["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "code"}
    assert archived["archiveDiscountCode"]["active"] is False


def test_lists_page_with_cursors(api: SubgraphClient, shop: Shop) -> None:
    created = {shop.plan(tiers=())["id"] for _ in range(5)}
    query = """
    query($first: Int, $after: String) {
      allPlans(first: $first, after: $after) {
        totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id } }
      }
    }
    """
    seen: list[str] = []
    pages = 0
    after = None
    while True:
        page = api.ok(query, shop.admin, first=2, after=after)["allPlans"]
        pages += 1
        assert len(page["edges"]) <= 2
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]

    assert pages >= 3
    assert len(seen) == len(set(seen)) == page["totalCount"]
    assert created <= set(seen)
    assert api.error_code(query, shop.admin, first=2, after="not-a-cursor") == "BAD_USER_INPUT"
    assert api.error_code(query, shop.admin, first=0) == "BAD_USER_INPUT"
    assert api.error_code(query, shop.admin, first=101) == "BAD_USER_INPUT"


def test_discount_codes_and_subscriptions_page_too(api: SubgraphClient, shop: Shop) -> None:
    for _ in range(3):
        shop.discount()
    discounts = """
    query($after: String) {
      discountCodes(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor }
                                              nodes { id } }
    }
    """
    first = api.ok(discounts, shop.admin)["discountCodes"]
    second = api.ok(discounts, shop.admin, after=first["pageInfo"]["endCursor"])["discountCodes"]

    assert first["pageInfo"]["hasNextPage"] is True
    assert len(first["nodes"]) == 2
    assert not {n["id"] for n in first["nodes"]} & {n["id"] for n in second["nodes"]}
