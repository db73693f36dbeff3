"""The subgraph as the gateway sees it: its SDL, entity resolution, and batched loading."""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from nudges_devstack.testing import SubgraphClient

if TYPE_CHECKING:
    from conftest import Shop


def test_the_sdl_declares_the_entities_and_the_client_extension(api: SubgraphClient) -> None:
    sdl = api.ok("{ _service { sdl } }")["_service"]["sdl"]

    assert "specs.apollo.dev/federation/v2" in sdl
    for entity in ("Plan", "PriceTier", "PlanSubscription", "DiscountCode", "Client"):
        assert re.search(rf'type {entity} @key\(fields: "id"\)', sdl), entity
    client = re.search(r'type Client @key\(fields: "id"\) \{(.*?)\n\}', sdl, re.DOTALL)
    assert client is not None
    fields = set(re.findall(r"^\s+(\w+)[(:]", client.group(1), re.MULTILINE))
    assert fields == {"id", "subscription", "allowance"}
    assert re.search(r"subscription: PlanSubscription\b", client.group(1))
    assert re.search(r"type PlanSubscription[^{]*\{[^}]*client: Client!", sdl)
    assert "planUpdated" in sdl


def test_entities_resolve_plans_tiers_and_clients(api: SubgraphClient, shop: Shop) -> None:
    plan = shop.plan(name="Federated")
    client_id = str(uuid.uuid4())
    subscription = shop.subscribe(client_id, plan["tiers"][0])
    query = """
    query($r: [_Any!]!) {
      _entities(representations: $r) {
        __typename
        ... on Plan { id name tiers { id } }
        ... on PriceTier { id plan { id } }
        ... on Client { id subscription { id status priceTier { id } client { id } }
                        allowance { messagesPerPeriod } }
      }
    }
    """
    representations = [
        {"__typename": "Plan", "id": plan["id"]},
        {"__typename": "PriceTier", "id": plan["tiers"][0]},
        {"__typename": "Client", "id": client_id},
        {"__typename": "Plan", "id": str(uuid.uuid4())},
        {"__typename": "Client", "id": str(uuid.uuid4())},
    ]

    entities = api.ok(query, shop.admin, r=representations)["_entities"]

    assert entities[0] == {
        "__typename": "Plan",
        "id": plan["id"],
        "name": "Federated",
        "tiers": [{"id": plan["tiers"][0]}],
    }
    assert entities[1] == {
        "__typename": "PriceTier",
        "id": plan["tiers"][0],
        "plan": {"id": plan["id"]},
    }
    assert entities[2] == {
        "__typename": "Client",
        "id": client_id,
        "subscription": {
            "id": subscription["id"],
            "status": "ACTIVE",
            "priceTier": {"id": plan["tiers"][0]},
            "client": {"id": client_id},
        },
        "allowance": {"messagesPerPeriod": 100},
    }
    assert entities[3] is None
    assert entities[4]["subscription"] is None


class CountingPool:
    """Stands in for the service's pool and counts the statements sent through it."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool
        self.statements: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[Any]:
        async with self._pool.acquire() as conn:
            conn.add_query_logger(self._log)
            try:
                yield conn
            finally:
                conn.remove_query_logger(self._log)

    def _log(self, record: Any) -> None:
        self.statements.append(record.query)

    async def fetch(self, query: str, *args: Any) -> Any:
        self.statements.append(query)
        return await self._pool.fetch(query, *args)

    async def fetchrow(self, query: str, *args: Any) -> Any:
        self.statements.append(query)
        return await self._pool.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        self.statements.append(query)
        return await self._pool.fetchval(query, *args)

    async def execute(self, query: str, *args: Any) -> Any:
        self.statements.append(query)
        return await self._pool.execute(query, *args)


@contextlib.contextmanager
def counted(api: SubgraphClient) -> Iterator[CountingPool]:
    state = api.client.app.state
    real = state.pool
    state.pool = CountingPool(real)
    try:
        yield state.pool
    finally:
        state.pool = real


def test_nested_lists_load_in_a_constant_number_of_queries(api: SubgraphClient, shop: Shop) -> None:
    for _ in range(12):
        shop.plan(tiers=((500, "usd", "MONTH"), (5000, "usd", "YEAR")))
    query = """
    query($first: Int!) {
      allPlans(first: $first) {
        nodes { id features { messagesPerPeriod } tiers { id plan { id name } } }
      }
    }
    """

    statements = []
    for first in (2, 12):
        with counted(api) as pool:
            nodes = api.ok(query, shop.admin, first=first)["allPlans"]["nodes"]
        assert len(nodes) == first
        statements.append(len(pool.statements))

    # One page, one count, features, tiers, and the plans of the tiers: however many plans.
    assert statements[0] == statements[1] == 5
