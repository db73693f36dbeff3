"""The Nudges graph end to end through the gateway: subgraphs register with the registry,
the gateway composes them, and one query spans user, product and payment."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from nudges_devstack.platform import Platform

pytestmark = pytest.mark.slow


def _graph(platform: Platform, query: str, token: str | None = None, **variables: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        platform.url("gateway", "/graphql"),
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=20,
    )
    return response.json()


def test_the_composed_graph_serves_every_subgraph(platform: Platform) -> None:
    deadline = time.monotonic() + 60
    while True:
        sdl = httpx.get(platform.url("registry", "/supergraph")).json()
        names = str(sdl)
        if all(f'name: "{n}"' in names for n in ("user", "product", "payment")):
            break
        assert time.monotonic() < deadline, names[:500]
        time.sleep(0.5)
    time.sleep(2)  # the gateway polls the registry every second
    plans = _graph(platform, "{ plans { nodes { id name tiers { name amount } } } }")
    assert "errors" not in plans, plans
    anonymous = _graph(platform, '{ viewer { __typename } clientBySlug(slug: "nobody") { id } }')
    assert anonymous["data"] == {"viewer": None, "clientBySlug": None}
    typename = _graph(platform, "{ __schema { queryType { fields { name } } } }")
    fields = {f["name"] for f in typename["data"]["__schema"]["queryType"]["fields"]}
    assert {"viewer", "plans", "clientBySlug", "paymentConfirmations"} <= fields
    assert "_entities" not in fields
    # Fields meant for services are not part of the public graph.
    assert fields.isdisjoint({"phoneIdentity", "contact", "announcementRecipients"})
