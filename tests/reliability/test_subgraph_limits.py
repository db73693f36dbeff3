"""Each subgraph, reached directly rather than through the gateway, refuses an operation nested
43 levels deep at once and without growing: UserApi, ProductApi and PaymentApi run as the
processes ``make dev`` starts, and their memory is read from /proc/<pid>/status.

Before the subgraphs had limits of their own, ProductApi answered this query over a catalogue
of two plans of four tiers by resolving 4^20 tiers, until the kernel killed it."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import websockets
from reliability_support import figure
from websockets.typing import Subprotocol

from nudges_devstack.infra import Postgres, TansuBroker, free_port
from nudges_devstack.platform import GRPC, ORDER, Platform
from nudges_kit.settings import with_database

pytestmark = [pytest.mark.reliability]

SUBGRAPHS = ("user", "product", "payment")
LEVELS = 43
#: Per subgraph: its root field, the fields that nest without end beneath it, and a leaf
#: field of the type where 43 levels end.
CHAINS = {
    "product": (["plans", "nodes"], ["tiers", "plan"], "id"),
    "user": (["clients", "nodes"], ["subscribers", "nodes", "client"], "totalCount"),
    "payment": (["paymentConfirmations", "nodes"], ["client", "payments", "nodes"], "id"),
}
#: Growth of the resident memory of a subgraph allowed while it refuses the deep queries.
RSS_GROWTH_KIB = 20 * 1024
#: Bounds a request on code that has no limits (it would otherwise run until killed).
REQUEST_TIMEOUT = 10.0


#: Per subgraph with subscriptions: the same, beneath a subscription field.
SUBSCRIPTION_CHAINS = {
    "product": (["planUpdated"], ["tiers", "plan"], "id"),
    "user": (
        ['clientUpdated(id: "00000000-0000-0000-0000-000000000000")'],
        ["subscribers", "nodes", "client"],
        "id",
    ),
}


def deep_query(subgraph: str, levels: int = LEVELS, chains: dict[str, Any] = CHAINS) -> str:
    """``plans { nodes { tiers { plan { tiers { plan ... { id } } } } } }``, ``levels`` deep."""
    start, cycle, leaf = chains[subgraph]
    fields = list(start)
    while len(fields) < levels - 1:
        fields += cycle
    fields = fields[: levels - 1]
    return "{ " + " { ".join(fields) + " { " + leaf + " }" * len(fields) + " }"


def deep_query_with_fragments(subgraph: str, levels: int = LEVELS) -> str:
    """The same depth, its fields spread from a named fragment."""
    plain = deep_query(subgraph, levels)
    return "query Deep { ...Root }\nfragment Root on Query " + plain


@pytest.fixture(scope="module")
def subgraphs(postgres: Postgres, kafka_broker: TansuBroker, state_dir: Path) -> Iterator[Platform]:
    """UserApi, ProductApi and PaymentApi as processes over fresh databases, ProductApi's
    catalogue holding two plans of four price tiers each."""
    running = Platform(
        postgres.url,
        kafka_broker.bootstrap_servers,
        state_dir / "subgraph-limits",
        services=SUBGRAPHS,
        overrides={"*": {"REGISTER_SUBGRAPH": "false"}},
    )
    running.state_dir.mkdir(parents=True, exist_ok=True)
    # The subgraphs' settings name every other service; none is needed to answer here.
    for name in ORDER:
        running.ports[name] = free_port()
        if name in GRPC:
            running.grpc_ports[name] = free_port()
    try:
        running.start()
        _seed_catalogue(with_database(postgres.url, running.databases["product"]))
        yield running
    finally:
        running.stop()


def _seed_catalogue(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as connection:
        for _ in range(2):
            plan = uuid.uuid4()
            connection.execute("INSERT INTO plans (id, name) VALUES (%s, 'Plan')", (plan,))
            connection.execute(
                "INSERT INTO plan_features (plan_id, messages_per_period, support_tier)"
                " VALUES (%s, 100, 'basic')",
                (plan,),
            )
            for n in range(4):
                connection.execute(
                    "INSERT INTO price_tiers (id, plan_id, name, amount, currency, interval)"
                    " VALUES (%s, %s, %s, 500, 'usd', 'month')",
                    (uuid.uuid4(), plan, f"Tier {n}"),
                )


@pytest.mark.timeout(300)
@pytest.mark.parametrize("subgraph", SUBGRAPHS)
def test_a_query_43_levels_deep_is_refused_at_once_and_memory_stays(
    subgraphs: Platform, subgraph: str
) -> None:
    url = subgraphs.url(subgraph, "/graphql")
    with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
        # A first request warms the process (imports, first connection) before measuring.
        assert client.post(url, json={"query": "{ __typename }"}).status_code == 200
        before = subgraphs.rss_kib(subgraph)
        took: list[float] = []
        for query in [deep_query(subgraph), deep_query_with_fragments(subgraph)] * 3:
            started = time.perf_counter()
            try:
                response = client.post(url, json={"query": query})
            except httpx.TimeoutException:
                pytest.fail(
                    f"{subgraph} had not answered after {REQUEST_TIMEOUT}s; its memory grew "
                    f"by {(subgraphs.rss_kib(subgraph) - before) // 1024} MiB"
                )
            took.append(time.perf_counter() - started)
            body = response.json()
            assert response.status_code == 200, body
            assert body["errors"][0]["extensions"] == {
                "code": "QUERY_TOO_DEEP",
                "depth": LEVELS,
                "limit": 15,
            }, body
            assert body.get("data") is None
        after = subgraphs.rss_kib(subgraph)
    figure(
        f"deep query refused by {subgraph}",
        f"median {statistics.median(took) * 1000:.1f} ms, slowest {max(took) * 1000:.1f} ms, "
        f"RSS {after - before:+d} KiB over {len(took)} requests",
    )
    # The median of six, so that one request delayed by a loaded machine does not decide.
    assert statistics.median(took) < 0.1, took
    assert max(took) < 1.0, took
    assert after - before < RSS_GROWTH_KIB, f"{subgraph} grew by {after - before} KiB"


def test_the_federation_sdl_and_normal_queries_still_answer(subgraphs: Platform) -> None:
    with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
        for subgraph in SUBGRAPHS:
            url = subgraphs.url(subgraph, "/graphql")
            sdl = client.post(url, json={"query": "{ _service { sdl } }"}).json()
            assert "type Query" in sdl["data"]["_service"]["sdl"]
        catalogue = client.post(
            subgraphs.url("product", "/graphql"),
            json={"query": "{ plans { nodes { tiers { plan { tiers { name } } } } } }"},
        ).json()
        assert "errors" not in catalogue, catalogue
        plans = catalogue["data"]["plans"]["nodes"]
        assert len(plans) == 2
        assert all(len(t["plan"]["tiers"]) == 4 for p in plans for t in p["tiers"])


@pytest.mark.timeout(120)
@pytest.mark.parametrize("subgraph", sorted(SUBSCRIPTION_CHAINS))
async def test_a_subscription_43_levels_deep_is_refused_over_websocket(
    subgraphs: Platform, subgraph: str
) -> None:
    query = "subscription " + deep_query(subgraph, chains=SUBSCRIPTION_CHAINS)
    before = subgraphs.rss_kib(subgraph)
    url = subgraphs.url(subgraph, "/graphql").replace("http://", "ws://")
    async with websockets.connect(
        url, subprotocols=[Subprotocol("graphql-transport-ws")], open_timeout=10
    ) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "connection_ack"
        subscribe = {"id": "1", "type": "subscribe", "payload": {"query": query}}
        await socket.send(json.dumps(subscribe))
        try:
            refused = json.loads(await asyncio.wait_for(socket.recv(), REQUEST_TIMEOUT))
        except TimeoutError:
            pytest.fail(f"{subgraph} accepted the subscription: nothing after {REQUEST_TIMEOUT}s")
    assert refused["type"] == "error", refused
    assert refused["payload"][0]["extensions"] == {
        "code": "QUERY_TOO_DEEP",
        "depth": LEVELS,
        "limit": 15,
    }
    assert subgraphs.rss_kib(subgraph) - before < RSS_GROWTH_KIB
