"""Reading payments: cursor pages, the dashboard totals, merchant services, one session."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from nudges_devstack.testing import SubgraphClient

if TYPE_CHECKING:
    from conftest import Checkout, RecordPayment

PAGE = """
query($first: Int, $after: String, $c: ID) {
  paymentConfirmations(first: $first, after: $after, clientId: $c) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id paidAt client { id } } }
  }
}"""
TOTALS = """
query($since: DateTime, $until: DateTime) {
  paymentTotals(since: $since, until: $until) {
    confirmations revenue { currency amount confirmations }
  }
}"""


def _all_pages(api: SubgraphClient, token: str, first: int, **variables: Any) -> list[str]:
    ids: list[str] = []
    after = None
    while True:
        page = api.ok(PAGE, token, first=first, after=after, **variables)["paymentConfirmations"]
        assert len(page["edges"]) <= first
        ids += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return ids
        after = page["pageInfo"]["endCursor"]


def test_pages_walk_a_clients_payments_newest_first(
    api: SubgraphClient, record_payment: RecordPayment
) -> None:
    client = api.person("client")
    admin = api.person("admin")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    # Two payments share a paid_at: the id breaks the tie, so no page repeats or skips one.
    moments = [
        start,
        start + timedelta(days=1),
        start + timedelta(days=1),
        start + timedelta(days=2),
    ]
    recorded = [
        record_payment(api, client.subject, at) for at in [*moments, start + timedelta(days=3)]
    ]
    record_payment(api, str(uuid.uuid4()), start)  # someone else's

    mine = _all_pages(api, client.token, first=2)
    assert sorted(mine) == sorted(recorded)
    assert len(mine) == len(set(mine)) == 5
    nodes = api.ok(PAGE, client.token, first=5)["paymentConfirmations"]
    paid = [edge["node"]["paidAt"] for edge in nodes["edges"]]
    assert paid == sorted(paid, reverse=True)
    assert nodes["totalCount"] == 5
    assert {edge["node"]["client"]["id"] for edge in nodes["edges"]} == {client.subject}

    as_admin = _all_pages(api, admin.token, first=3, c=client.subject)
    assert as_admin == mine


def test_an_admin_sees_every_clients_payments(
    api: SubgraphClient, record_payment: RecordPayment
) -> None:
    admin = api.person("admin")
    ids = {
        record_payment(api, str(uuid.uuid4()), datetime(2030, 1, 1, tzinfo=UTC)) for _ in range(2)
    }
    everything = api.ok(PAGE, admin.token, first=100)["paymentConfirmations"]
    assert ids <= {edge["node"]["id"] for edge in everything["edges"]}
    assert everything["totalCount"] >= 2


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"first": 0}, "first"),
        ({"first": 101}, "first"),
        ({"after": "not-a-cursor"}, "after"),
        ({"after": "WyJ4Il0="}, "after"),  # a cursor of ours, but of another shape
        ({"c": "not-an-id"}, "clientId"),
    ],
)
def test_bad_page_arguments_are_bad_user_input(
    api: SubgraphClient, variables: dict[str, Any], field: str
) -> None:
    body = api.gql(PAGE, api.person("admin").token, **variables)
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


def test_totals_sum_revenue_per_currency(
    api: SubgraphClient, record_payment: RecordPayment
) -> None:
    admin = api.person("admin")
    since = datetime(2031, 3, 1, tzinfo=UTC)
    until = since + timedelta(days=1)
    client_id = str(uuid.uuid4())
    record_payment(api, client_id, since, 900, "usd")
    record_payment(api, client_id, since + timedelta(hours=2), 2_500_000_000, "usd")  # past 32 bits
    record_payment(api, client_id, since + timedelta(hours=3), 1200, "EUR")
    record_payment(api, client_id, until, 5, "usd")  # the next day: outside

    totals = api.ok(TOTALS, admin.token, since=since.isoformat(), until=until.isoformat())
    assert totals["paymentTotals"] == {
        "confirmations": 3,
        "revenue": [
            {"currency": "eur", "amount": 1200, "confirmations": 1},
            {"currency": "usd", "amount": 2_500_000_900, "confirmations": 2},
        ],
    }


def test_totals_need_a_window_that_ends_after_it_starts(api: SubgraphClient) -> None:
    at = datetime(2031, 3, 1, tzinfo=UTC).isoformat()
    body = api.gql(TOTALS, api.person("admin").token, since=at, until=at)
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "until"}


def test_merchant_services_list_stripe(api: SubgraphClient) -> None:
    query = """query($after: String) { merchantServices(first: 1, after: $after) {
      totalCount pageInfo { hasNextPage endCursor } nodes { name active } } }"""
    page = api.ok(query, api.person("admin").token)["merchantServices"]
    assert page["nodes"] == [{"name": "stripe", "active": True}]
    assert page["totalCount"] == 1
    assert page["pageInfo"]["hasNextPage"] is False
    after = api.ok(query, api.person("admin").token, after=page["pageInfo"]["endCursor"])
    assert after["merchantServices"]["nodes"] == []


def test_a_client_reads_their_checkout_session(api: SubgraphClient, checkout: Checkout) -> None:
    caller = checkout.client()
    session = checkout.open(caller)
    query = "query($id: ID!) { checkoutSession(id: $id) { id status url client { id } } }"
    found = api.ok(query, caller.token, id=session["id"])["checkoutSession"]
    assert found == {
        "id": session["id"],
        "status": "OPEN",
        "url": session["url"],
        "client": {"id": caller.subject},
    }
    assert api.error_code(query, caller.token, id=str(uuid.uuid4())) == "NOT_FOUND"
    assert api.error_code(query, caller.token, id="nope") == "BAD_USER_INPUT"


ENTITY = "query($r: [_Any!]!) { _entities(representations: $r) { ... on %s { id } } }"


def test_another_clients_session_is_answered_like_a_missing_one(
    api: SubgraphClient, checkout: Checkout, record_payment: RecordPayment
) -> None:
    """Whether an id belongs to another client must not show: same code, same message."""
    owner, other = checkout.client(), checkout.client()
    session = checkout.open(owner)
    query = "query($id: ID!) { checkoutSession(id: $id) { id } }"
    theirs = api.gql(query, other.token, id=session["id"])["errors"][0]
    missing = api.gql(query, other.token, id=str(uuid.uuid4()))["errors"][0]
    assert theirs["extensions"] == missing["extensions"] == {"code": "NOT_FOUND"}
    assert theirs["message"] == missing["message"]

    payment = record_payment(api, owner.subject, datetime(2026, 3, 1, tzinfo=UTC))
    for typename, known in (("CheckoutSession", session["id"]), ("PaymentConfirmation", payment)):
        for wanted in (known, str(uuid.uuid4())):
            body = api.gql(
                ENTITY % typename, other.token, r=[{"__typename": typename, "id": wanted}]
            )
            assert body == {"data": {"_entities": [None]}}, (typename, body)


@pytest.mark.parametrize(
    ("typename", "field"),
    [
        ("CheckoutSession", "stripeSessionId"),
        ("CheckoutSession", "stripeSubscriptionId"),
        ("PaymentConfirmation", "stripeInvoiceId"),
    ],
)
def test_stripe_ids_are_for_admins_only(
    api: SubgraphClient,
    checkout: Checkout,
    typename: str,
    field: str,
    record_payment: RecordPayment,
) -> None:
    owner = checkout.client()
    if typename == "CheckoutSession":
        wanted = checkout.open(owner)["id"]
    else:
        wanted = record_payment(api, owner.subject, datetime(2026, 4, 1, tzinfo=UTC))
    query = ENTITY.replace("{ id }", f"{{ {field} }}") % typename
    representations = [{"__typename": typename, "id": wanted}]

    def code(token: str | None) -> str | None:
        errors = api.gql(query, token, r=representations).get("errors")
        return errors[0]["extensions"]["code"] if errors else None

    assert code(None) == "UNAUTHENTICATED"
    assert code(owner.token) == "FORBIDDEN"
    assert code(api.person("admin").token) is None
