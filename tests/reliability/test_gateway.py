"""The gateway over the real subgraphs: a subgraph killed gives partial data with errors at
the paths it owns, and full answers again when it is back; operations past the depth, cost,
alias, size and batch limits are refused before any subgraph is asked."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from reliability_support import Login, PayingClient, eventually, figure

from nudges_devstack.platform import Platform

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

#: One query over the three subgraphs: the client (user), its subscription (product, nullable)
#: and its payments (payment).
SPANNING = """query($id: ID!) {
  client(id: $id) { name slug subscription { status } }
  paymentConfirmations { totalCount }
}"""


def through_gateway(
    platform: Platform, token: str | None, query: str, **variables: Any
) -> dict[str, Any]:
    """The response body of ``query`` posted to the gateway."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        platform.url("gateway", "/graphql"),
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=30,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_killed_subgraph_gives_partial_data_then_full_answers_again(
    platform: Platform, paying_client: PayingClient
) -> None:
    token = paying_client.login.access_token
    ids = {"id": paying_client.client_id}
    whole = through_gateway(platform, token, SPANNING, **ids)
    assert "errors" not in whole, whole
    assert whole["data"]["client"]["subscription"] == {"status": "ACTIVE"}

    platform.kill_service("product")
    try:
        partial = through_gateway(platform, token, SPANNING, **ids)
    finally:
        platform.start_service("product")
    back_at = time.monotonic()

    assert partial["data"]["client"]["name"] == "Paying club"
    assert partial["data"]["client"]["subscription"] is None
    assert partial["data"]["paymentConfirmations"] == whole["data"]["paymentConfirmations"]
    paths = sorted(e["path"] for e in partial["errors"])
    assert paths == [["client", "subscription"]], partial["errors"]
    assert {e["extensions"]["code"] for e in partial["errors"]} == {"SUBGRAPH_UNAVAILABLE"}
    assert {e["extensions"].get("serviceName") for e in partial["errors"]} == {"product"}

    again = eventually(
        lambda: (
            (body := through_gateway(platform, token, SPANNING, **ids)).get("errors") is None
            and body
        ),
        within=60,
    )
    assert again["data"] == whole["data"]
    figure(
        "gateway: full answers again after ProductApi restarted",
        f"{time.monotonic() - back_at:.2f} s after it was ready",
    )


def _nested(levels: int) -> str:
    inner = "id"
    for _ in range(levels):
        inner = f"memberships {{ subscriber {{ {inner} }} }}"
    return f"{{ viewer {{ ... on Subscriber {{ {inner} }} }} }}"


def test_operations_past_the_limits_are_refused(platform: Platform, admin: Login) -> None:
    token = admin.access_token
    refused: dict[str, str] = {}
    started = time.monotonic()

    deep = through_gateway(platform, token, _nested(8))
    refused["depth 18"] = deep["errors"][0]["extensions"]["code"]
    wide = through_gateway(platform, token, _nested(4).replace("{ id }", "{ id locale }"))
    refused["nested lists, 10^4 objects"] = wide["errors"][0]["extensions"]["code"]
    aliases = "{ " + " ".join(f"a{i}: plans {{ nodes {{ id }} }}" for i in range(31)) + " }"
    refused["31 aliases"] = through_gateway(platform, token, aliases)["errors"][0]["extensions"][
        "code"
    ]
    huge = through_gateway(platform, token, "{ plans { nodes { id } } }" + " " * 70_000)
    refused["70 kB query"] = huge["errors"][0]["extensions"]["code"]
    batch = httpx.post(
        platform.url("gateway", "/graphql"), json=[{"query": "{ __typename }"}] * 11, timeout=30
    )
    assert batch.status_code == 400
    refused["batch of 11"] = batch.json()["errors"][0]["extensions"]["code"]
    elapsed = time.monotonic() - started

    assert refused == {
        "depth 18": "QUERY_TOO_DEEP",
        "nested lists, 10^4 objects": "QUERY_TOO_COMPLEX",
        "31 aliases": "TOO_MANY_ALIASES",
        "70 kB query": "QUERY_TOO_LARGE",
        "batch of 11": "BATCH_LIMIT_EXCEEDED",
    }
    assert "data" not in deep
    # Within the limits, the same shapes are served.
    assert "errors" not in through_gateway(platform, token, _nested(3))
    ten = [{"query": "{ __typename }"}] * 10
    assert httpx.post(platform.url("gateway", "/graphql"), json=ten, timeout=30).status_code == 200
    figure("gateway limits: 5 kinds refused", f"in {elapsed * 1000:.0f} ms together")


def test_page_sizes_of_connections_count_in_the_cost(platform: Platform, admin: Login) -> None:
    nested_pages = (
        "{ clients(first: 100) { nodes { announcements(first: 100) { nodes { id body } } } } }"
    )

    body = through_gateway(platform, admin.access_token, nested_pages)

    assert body.get("errors"), body
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX", body
